/*
 * routes.c - maps /v1/... requests onto the control layer (docs/API.md),
 * and answers GET /v1 itself (what this server is; see server_info()).
 *
 * Every handler parses its body with jansson (a body that is not a JSON
 * object is 400), lets the control layer validate fields (unknown fields and
 * wrong types are 400 naming the field) and answers JSON.  Streams (logs
 * with follow, events) are chunked responses whose reader callbacks may
 * block: each connection has its own thread.
 */
#include "api/api-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "api/peer.h"
#include "api/routes_hosts.h"
#include "api/routes_snapshot.h"
#include "api/routes_history.h"
#include "api/routes_network.h"
#include "control/control.h"
#include "util/alloc.h"
#include "util/fs.h"

int gr_api_split_path(char *buf, char **seg, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		seg[n++] = p;
	}
	return n;
}

json_t *gr__api_body(const char *body, size_t len, bool required, gr_error_t *err)
{
	if (len == 0) {
		if (required) {
			gr_error_set(err, EINVAL, "body: expected a JSON object");
			return NULL;
		}
		return json_object();
	}
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		gr_error_set(err, EINVAL, "body: invalid JSON at line %d column %d: %s", je.line,
			     je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		gr_error_set(err, EINVAL, "body: expected a JSON object");
		return NULL;
	}
	return j;
}

static const char *query(struct MHD_Connection *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

static bool query_true(struct MHD_Connection *conn, const char *key)
{
	const char *v = query(conn, key);
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !*v);
}

/* ---- streams ---- */

struct log_stream {
	struct gr_api *api;
	char *name;
	int fd;
	bool follow;
};

static ssize_t log_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct log_stream *ls = cls;
	for (;;) {
		ssize_t n = read(ls->fd, buf, max);
		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (n < 0)
			continue;
		if (!ls->follow || atomic_load(&ls->api->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* at EOF: end when the instance is no longer running */
		json_t *inst = NULL;
		gr_error_t err;
		if (gr_control_instance_get(ls->api->control, ls->name, &inst, &err) < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		const char *st = json_string_value(json_object_get(inst, "state"));
		bool live = st && (!strcmp(st, "running") || !strcmp(st, "starting"));
		json_decref(inst);
		if (!live) {
			n = read(ls->fd, buf, max);
			return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
		}
		/* the daemon cut the log's oldest part (logcap.c): go on at its end */
		struct stat fst;
		off_t at = lseek(ls->fd, 0, SEEK_CUR);
		if (fstat(ls->fd, &fst) == 0 && at > fst.st_size)
			lseek(ls->fd, 0, SEEK_END);
		usleep(100 * 1000);
	}
}

static void log_free(void *cls)
{
	struct log_stream *ls = cls;
	close(ls->fd);
	free(ls->name);
	free(ls);
}

static enum MHD_Result serve_logs(struct gr_api *a, struct MHD_Connection *conn, const char *name,
				  bool follow)
{
	gr_error_t err;
	_cleanup_free_ char *path = NULL;
	if (gr_control_instance_log_path(a->control, name, &path, &err) < 0)
		return gr__api_reply_error(conn, &err);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct log_stream *ls = xcalloc(1, sizeof *ls);
	ls->api = a;
	ls->name = xstrdup(name);
	ls->fd = fd;
	ls->follow = follow;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, log_read,
								   ls, log_free);
	MHD_add_response_header(r, "Content-Type", "text/plain");
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

struct ev_stream {
	struct gr_api *api;
	uint64_t after;
	char *pending;
	size_t len, off;
};

static ssize_t ev_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ev_stream *es = cls;
	while (es->off == es->len) {
		free(es->pending);
		es->pending = NULL;
		es->len = es->off = 0;
		if (atomic_load(&es->api->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		json_t *evs = gr_control_events(es->api->control, es->after, 2000);
		size_t i;
		json_t *ev;
		if (json_array_size(evs) == 0) {
			json_decref(evs);
			buf[0] = '\n'; /* keep-alive: also notices a client that left */
			return 1;
		}
		json_array_foreach(evs, i, ev) {
			char *line = json_dumps(ev, JSON_COMPACT);
			size_t n = strlen(line);
			es->pending = xrealloc(es->pending, es->len + n + 1);
			memcpy(es->pending + es->len, line, n);
			es->pending[es->len + n] = '\n';
			es->len += n + 1;
			free(line);
			es->after = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
		}
		json_decref(evs);
	}
	size_t n = es->len - es->off < max ? es->len - es->off : max;
	memcpy(buf, es->pending + es->off, n);
	es->off += n;
	return (ssize_t)n;
}

static void ev_free(void *cls)
{
	struct ev_stream *es = cls;
	free(es->pending);
	free(es);
}

static enum MHD_Result serve_events(struct gr_api *a, struct MHD_Connection *conn)
{
	const char *after = query(conn, "after");
	uint64_t from = after ? strtoull(after, NULL, 10) : 0;
	if (query(conn, "follow") && !query_true(conn, "follow"))
		return gr__api_reply_json(conn, 200, gr_control_events(a->control, from, 0));
	struct ev_stream *es = xcalloc(1, sizeof *es);
	es->api = a;
	es->after = from;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, ev_read,
								   es, ev_free);
	MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- exec ---- */

static json_t *text_json(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		size = 0;
	size_t cap = (size_t)size > (16u << 20) ? (16u << 20) : (size_t)size;
	char *buf = xmalloc(cap + 1);
	ssize_t n = pread(fd, buf, cap, 0);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	json_t *j = json_stringn(buf, (size_t)n);
	if (!j) { /* not UTF-8: keep ASCII, mark the rest */
		for (ssize_t i = 0; i < n; i++)
			if ((unsigned char)buf[i] >= 0x80 || buf[i] == 0)
				buf[i] = '?';
		j = json_stringn(buf, (size_t)n);
	}
	free(buf);
	return j;
}

static enum MHD_Result serve_exec(struct gr_api *a, struct MHD_Connection *conn, const char *name,
				  json_t *req)
{
	gr_error_t err;
	json_t *in = json_object_get(req, "stdin");
	if (in && !json_is_string(in)) {
		json_decref(req);
		return gr__api_fail(conn, EINVAL, "stdin: expected a string");
	}
	_cleanup_close_ int fin = memfd_create("exec-stdin", MFD_CLOEXEC);
	_cleanup_close_ int fout = memfd_create("exec-stdout", MFD_CLOEXEC);
	_cleanup_close_ int ferr = memfd_create("exec-stderr", MFD_CLOEXEC);
	if (fin < 0 || fout < 0 || ferr < 0) {
		json_decref(req);
		return gr__api_fail(conn, EIO, "memfd_create: %s", strerror(errno));
	}
	if (in) {
		const char *s = json_string_value(in);
		size_t n = json_string_length(in);
		if (write(fin, s, n) != (ssize_t)n) {
			json_decref(req);
			return gr__api_fail(conn, EIO, "stdin: %s", strerror(errno));
		}
		lseek(fin, 0, SEEK_SET);
		json_object_del(req, "stdin");
	}
	int status = -1;
	int r = gr_control_instance_exec(a->control, name, req, fin, fout, ferr, &status, &err);
	json_decref(req);
	if (r < 0)
		return gr__api_reply_error(conn, &err);
	json_t *out = json_object();
	json_object_set_new(out, "exit_code", json_integer(status));
	json_object_set_new(out, "stdout", text_json(fout));
	json_object_set_new(out, "stderr", text_json(ferr));
	return gr__api_reply_json(conn, 200, out);
}

/* ---- GET /v1: what this server is ---- */

/* What the host can run is probed once per process (as the VM back-end
 * probes KVM once), with cheap checks only: statfs, access, and for KVM an
 * open, two ioctls and /proc/cpuinfo; nothing is started.  Every request
 * after the first costs a deep copy. */
static pthread_once_t caps_once = PTHREAD_ONCE_INIT;
static json_t *caps_backends;

static const char *cgroup_layout(void)
{
	struct statfs fs;
	if (statfs("/sys/fs/cgroup", &fs) < 0)
		return NULL;
	if (fs.f_type == CGROUP2_SUPER_MAGIC)
		return "v2";
	if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return "hybrid";
	if (statfs("/sys/fs/cgroup/memory", &fs) == 0 && fs.f_type == CGROUP_SUPER_MAGIC)
		return "v1";
	return NULL;
}

static json_t *container_caps(void)
{
	static const char *const ns[] = { "mnt", "pid", "ipc", "uts", "net", NULL };
	const char *layout = cgroup_layout();
	if (!layout)
		return json_pack("{s:b,s:s}", "available", 0, "reason", "no cgroup hierarchy under /sys/fs/cgroup");
	for (int i = 0; ns[i]; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
		if (access(path, F_OK) < 0)
			return json_pack("{s:b,s:s,s:s+}", "available", 0, "cgroup", layout, "reason",
					 "the kernel has no namespaces of kind ", ns[i]);
	}
	return json_pack("{s:b,s:s}", "available", 1, "cgroup", layout);
}

/* The QEMU binary the VM back-end runs (GR_QEMU or qemu-system-x86_64) on PATH. */
static bool find_qemu(char *out, size_t n)
{
	const char *q = getenv("GR_QEMU");
	const char *name = q && *q ? q : "qemu-system-x86_64";
	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, n, "%s/%s", d, name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static bool cpu_has_virt(void)
{
	_cleanup_free_ char *info = NULL;
	if (gr_read_file("/proc/cpuinfo", 8 << 20, &info, NULL, NULL) < 0)
		return false;
	char *flags = strstr(info, "\nflags");
	char *end = flags ? strchr(flags + 1, '\n') : NULL;
	if (end)
		*end = 0;
	return flags && (strstr(flags, " vmx") || strstr(flags, " svm"));
}

/* KVM as the VM back-end judges it (src/vm/host.c): the device opens, speaks
 * the API, creates a VM, and the CPU has vmx/svm.  NULL = usable, else why not. */
static const char *kvm_unusable(char *why, size_t n)
{
	const char *force = getenv("GR_VM_KVM");
	if (force)
		return atoi(force) > 0 ? NULL : "GR_VM_KVM=0 turns KVM off";
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, errno == ENOENT ? "no /dev/kvm" : "/dev/kvm: %s", strerror(errno));
		return why;
	}
	const char *r = NULL;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		r = "/dev/kvm speaks another KVM API version";
	} else {
		int vm = ioctl(fd, KVM_CREATE_VM, 0);
		if (vm < 0) {
			snprintf(why, n, "/dev/kvm cannot create a VM: %s", strerror(errno));
			r = why;
		} else {
			close(vm);
			if (!cpu_has_virt())
				r = "the CPU shows no hardware virtualization (vmx/svm)";
		}
	}
	close(fd);
	return r;
}

static json_t *vm_caps(void)
{
	char qemu[PATH_MAX], why[256];
	if (!find_qemu(qemu, sizeof qemu))
		return json_pack("{s:b,s:n,s:n,s:s}", "available", 0, "accel", "qemu", "reason",
				 "QEMU (qemu-system-x86_64) is not installed");
	const char *no_kvm = kvm_unusable(why, sizeof why);
	json_t *o = json_pack("{s:b,s:s,s:s}", "available", 1, "accel", no_kvm ? "tcg" : "kvm", "qemu", qemu);
	json_object_set_new(o, "reason", no_kvm ? json_string(no_kvm) : json_null());
	return o;
}

static void probe_backends(void)
{
	caps_backends = json_pack("{s:o,s:o}", "container", container_caps(), "vm", vm_caps());
}

static enum MHD_Result serve_server_info(struct MHD_Connection *conn)
{
	pthread_once(&caps_once, probe_backends);
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof u);
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	json_t *j = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:o}}", "api_version", GR_API_VERSION,
			      "server", "gureumd", "server_version", GR_VERSION, "environment",
			      "server_name", host, "kernel", u.sysname, "kernel_version", u.release,
			      "kernel_architecture", u.machine, "backends", json_deep_copy(caps_backends));
	if (!j)
		return gr__api_fail(conn, EIO, "server information is not valid UTF-8");
	return gr__api_reply_json(conn, 200, j);
}

/* ---- dispatch ---- */


/* A call on instance name held by another pool member: forwarded to it over the peer
 * channel when it publishes one (then *ret is the answer and true is returned); without
 * one the local calls act (request records, or EREMOTE for streams).  A forwarded call
 * whose instance is not held here is refused: the sender's view was stale. */
static bool held_elsewhere(struct gr_api *a, struct MHD_Connection *conn, const char *m, const char *url,
			   const char *name, const char *body, size_t len, bool forwarded,
			   enum MHD_Result *ret)
{
	char host[256];
	json_t *peer = NULL;
	gr_error_t err;
	int o = gr_control_instance_owner(a->control, name, host, sizeof host, &peer, &err);
	if (forwarded) {
		const char *from = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, GR_PEER_FORWARDED);
		json_decref(peer);
		if (o < 0 && err.code != EHOSTDOWN)
			return false; /* the local call answers (404 and the like) */
		if (o == 0)
			return false;
		*ret = gr__api_fail(conn, EREMOTE, "instance '%s' is not held by host %s any more (its "
				    "record names host %s); forwarded by %s, nothing was done", name,
				    gr_control_host_name(a->control), host, from ? from : "a pool host");
		return true;
	}
	if (o < 0) {
		/* show of an offline host's instance: its record, as the pool last saw it */
		bool show = !strcmp(m, "GET") && !strchr(url + strlen("/v1/instances/"), '/');
		if (err.code != EHOSTDOWN || show)
			return false;
		*ret = gr__api_reply_error(conn, &err);
		return true;
	}
	if (o == 0 || !peer || !a->peer_id) {
		json_decref(peer);
		return false;
	}
	*ret = gr__api_forward(a, conn, m, url, body, len, host, peer);
	json_decref(peer);
	return true;
}

static enum MHD_Result instances(struct gr_api *a, struct MHD_Connection *conn, const char *m,
				 const char *url, char **seg, int n, const char *body, size_t len,
				 bool forwarded)
{
	struct gr_control *c = a->control;
	gr_error_t err;
	json_t *out = NULL;
	if (n == 2) {
		if (!strcmp(m, "GET")) {
			char *text = NULL;
			size_t tlen = 0;
			if (gr_control_instance_list_text(c, &text, &tlen, &err) < 0)
				return gr__api_reply_error(conn, &err);
			return gr__api_reply(conn, 200, "application/json", text, tlen);
		}
		if (!strcmp(m, "POST")) {
			json_t *req = gr__api_body(body, len, true, &err);
			if (!req)
				return gr__api_reply_error(conn, &err);
			json_t *st = json_object_get(req, "start");
			if (st && !json_is_boolean(st)) {
				json_decref(req);
				return gr__api_fail(conn, EINVAL, "start: expected true or false");
			}
			bool start = st && json_is_true(st);
			json_object_del(req, "start");
			int r = gr_control_instance_create(c, req, start, &out, &err);
			json_decref(req);
			if (r < 0) /* out: the instance a launch kept when its start failed */
				return gr__api_reply_error_with(conn, &err, "instance", out);
			/* "queue": true and no host had room: accepted, placed later */
			const char *state = json_string_value(json_object_get(out, "state"));
			return gr__api_reply_json(conn, state && !strcmp(state, "pending") ? 202 : 201, out);
		}
		return gr__api_fail(conn, EINVAL, "%s /v1/instances: method not allowed", m);
	}
	const char *name = seg[2];
	enum MHD_Result fret;
	if (held_elsewhere(a, conn, m, url, name, body, len, forwarded, &fret))
		return fret;
	if (n == 3) {
		if (!strcmp(m, "GET")) {
			if (gr_control_instance_get(c, name, &out, &err) < 0)
				return gr__api_reply_error(conn, &err);
			return gr__api_reply_json(conn, 200, out);
		}
		if (!strcmp(m, "DELETE")) {
			if (gr_control_instance_delete(c, name, query_true(conn, "force"), &err) < 0)
				return gr__api_reply_error(conn, &err);
			return gr__api_reply_json(conn, 200, json_pack("{s:s}", "deleted", name));
		}
		return gr__api_fail(conn, EINVAL, "%s /v1/instances/NAME: method not allowed", m);
	}
	if (n >= 4 && !strcmp(seg[3], "snapshots"))
		return gr__api_snapshots(a, conn, m, seg, n, body, len);
	if (n == 5 && !strcmp(seg[3], "metrics") && !strcmp(seg[4], "history"))
		return gr__api_history(a, conn, m, "instance", name);
	if (n == 4 && !strcmp(seg[3], "net-limit"))
		return gr__api_instance_net_limit(a, conn, m, name, body, len);
	if (n != 4)
		return gr__api_fail(conn, ENOENT, "no such resource");
	const char *sub = seg[3];
	if (!strcmp(sub, "move"))
		return gr__api_move(a, conn, m, name, body, len);
	if (!strcmp(sub, "state") && (!strcmp(m, "PUT") || !strcmp(m, "POST"))) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		json_t *act = json_object_get(req, "action");
		if (!json_is_string(act)) {
			json_decref(req);
			return gr__api_fail(conn, EINVAL, "action: expected one of start, stop, restart, kill");
		}
		_cleanup_free_ char *action = xstrdup(json_string_value(act));
		json_object_del(req, "action");
		int r = gr_control_instance_action(c, name, action, req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (!strcmp(sub, "config") && (!strcmp(m, "PATCH") || !strcmp(m, "POST"))) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = gr_control_instance_config(c, name, req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (!strcmp(sub, "exec") && !strcmp(m, "GET")) {
		const char *up = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
		if (!up || strcasecmp(up, "websocket"))
			return gr__api_fail(conn, EINVAL, "GET .../exec needs Upgrade: websocket "
					    "(or POST for exec without a terminal)");
		return gr__api_exec_upgrade(a, conn, name);
	}
	if (!strcmp(sub, "exec") && !strcmp(m, "POST")) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		return serve_exec(a, conn, name, req);
	}
	if (!strcmp(sub, "console") && !strcmp(m, "GET") &&
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade"))
		return gr__api_console_upgrade(a, conn, name);
	if ((!strcmp(sub, "logs") || !strcmp(sub, "console")) && !strcmp(m, "GET"))
		return serve_logs(a, conn, name, !strcmp(sub, "console") || query_true(conn, "follow"));
	return gr__api_fail(conn, ENOENT, "no such resource: %s %s", m, sub);
}

static enum MHD_Result images(struct gr_api *a, struct MHD_Connection *conn, const char *m,
			      char **seg, int n, const char *body, size_t len)
{
	struct gr_control *c = a->control;
	gr_error_t err;
	json_t *out = NULL;
	if (n == 2 && !strcmp(m, "GET")) {
		if (gr_control_image_list(c, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 2 && !strcmp(m, "POST")) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = json_object_get(req, "recipe") ? gr_control_image_build(c, req, &out, &err)
						       : gr_control_image_import(c, req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 202, out);
	}
	if (n == 3 && !strcmp(m, "GET")) {
		if (gr_control_image_get(c, seg[2], &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 3 && !strcmp(m, "DELETE")) {
		if (gr_control_image_delete(c, seg[2], &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, json_pack("{s:s}", "deleted", seg[2]));
	}
	return gr__api_fail(conn, ENOENT, "no such resource: %s /v1/images/...", m);
}

/* /v1/networks[/NAME] (docs/API.md) */
static enum MHD_Result networks(struct gr_api *a, struct MHD_Connection *conn, const char *m,
				char **seg, int n, const char *body, size_t len)
{
	struct gr_control *c = a->control;
	gr_error_t err;
	json_t *out = NULL;
	if (n == 2 && !strcmp(m, "GET")) {
		if (gr_control_network_list(c, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 2 && !strcmp(m, "POST")) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = gr_control_network_create(c, req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 201, out);
	}
	if (n == 3 && !strcmp(m, "GET")) {
		if (gr_control_network_get(c, seg[2], &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 3 && !strcmp(m, "PATCH")) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = gr_control_network_set(c, seg[2], req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n >= 4 && !strcmp(seg[3], "forwards"))
		return gr__api_network_forwards(a, conn, m, seg, n, body, len);
	if (n == 3 && !strcmp(m, "DELETE")) {
		if (gr_control_network_delete(c, seg[2], &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, json_pack("{s:s}", "deleted", seg[2]));
	}
	return gr__api_fail(conn, ENOENT, "no such resource: %s /v1/networks/...", m);
}

static enum MHD_Result operations(struct gr_api *a, struct MHD_Connection *conn, const char *m,
				  char **seg, int n)
{
	gr_error_t err;
	json_t *out = NULL;
	if (strcmp(m, "GET"))
		return gr__api_fail(conn, EINVAL, "%s /v1/operations: method not allowed", m);
	if (n == 2) {
		if (gr_control_op_list(a->control, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 3) {
		const char *w = query(conn, "wait");
		int wait_ms = w ? atoi(w) : 0;
		if (wait_ms < 0 || wait_ms > 3600 * 1000)
			return gr__api_fail(conn, EINVAL, "wait: expected 0..3600000 (milliseconds)");
		if (gr_control_op_get(a->control, seg[2], wait_ms, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	return gr__api_fail(conn, ENOENT, "no such resource");
}

enum MHD_Result gr__api_route(struct gr_api *a, struct MHD_Connection *conn, const char *method,
			      const char *url, const char *body, size_t len, bool forwarded)
{
	if (strlen(url) > 1024)
		return gr__api_fail(conn, EINVAL, "URL too long");
	char buf[1025];
	strcpy(buf, url);
	char *seg[8];
	int n = gr_api_split_path(buf, seg, 8);
	if (n == 1 && !strcmp(seg[0], "metrics") && !strcmp(method, "GET")) {
		char *c = gr_control_metrics(a->control);
		char *l = gr__api_latency_metrics(a);
		char *all = xasprintf("%s%s", c, l);
		free(c);
		free(l);
		return gr__api_reply(conn, 200, "text/plain; version=0.0.4", all, strlen(all));
	}
	if (n == 1 && !strcmp(seg[0], "v1"))
		return !strcmp(method, "GET") || !strcmp(method, "HEAD")
			       ? serve_server_info(conn)
			       : gr__api_fail(conn, EINVAL, "%s /v1: method not allowed", method);
	if (n < 2 || strcmp(seg[0], "v1"))
		return gr__api_fail(conn, ENOENT, "no such resource: %s (the API lives under /v1/)", url);
	if (!strcmp(seg[1], "instances"))
		return instances(a, conn, method, url, seg, n, body, len, forwarded);
	if (!strcmp(seg[1], "images"))
		return images(a, conn, method, seg, n, body, len);
	if (!strcmp(seg[1], "operations"))
		return operations(a, conn, method, seg, n);
	if (!strcmp(seg[1], "networks"))
		return networks(a, conn, method, seg, n, body, len);
	if (!strcmp(seg[1], "hosts"))
		return gr__api_hosts(a, conn, method, seg, n);
	if (!strcmp(seg[1], "cluster"))
		return gr__api_cluster(a, conn, method, seg, n, body, len);
	if (!strcmp(seg[1], "events") && n == 2 && !strcmp(method, "GET"))
		return serve_events(a, conn);
	return gr__api_fail(conn, ENOENT, "no such resource: %s", url);
}
