/*
 * driver_container.c - the container driver: instances on our OCI runtime
 * (src/runtime) with overlayfs layers from the image module.
 *
 * An instance's folder <dir> holds config.json (generated here from the
 * runtime's hardened default spec), rootfs/ (the overlay mount of the user
 * layer, plus a run layer when ephemeral) and console.log (stdout+stderr of
 * the main process, O_APPEND, so it survives daemon restarts without a
 * holder).  The runtime's container id is the instance name, its state root
 * the agent's rt_root, its cgroup <cgroup_prefix>/<name>.
 *
 * Unprivileged (the default): the container gets a user namespace mapping
 * its IDs 0..size-1 to the instance's own host range (idrange.h, allocated
 * at define, freed at delete), and its user layer is shifted to that range
 * (gr_layer_shift: the master is seen through an idmapped mount, the user
 * layer holds host IDs).  Privileged instances run as before: no user
 * namespace, container root is host root.
 *
 * An instance with NICs (s->nics) gets a network namespace file
 * <run_dir>/netns/<name> (src/net) wired before the container is created
 * and joined through config.json, and <dir>/resolv.conf bound over
 * /etc/resolv.conf; cleanup removes the host ends and the file, the sweep
 * those of instances without a record.
 *
 * gr_rt_create() clones the container init from the calling process and the
 * init inherits the caller's stdio, so create and exec run in a short-lived
 * forked child that first points fds 0-2 at the right files; the daemon
 * (a child subreaper) inherits the init when that child exits.  The child
 * reports its error through a pipe.
 */
#include "agent/driver.h"
#include "agent/idrange.h"
#include "agent/lxcfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <sched.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "image/image.h"
#include "net/net.h"
#include "runtime/runtime.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

/* Default main process: idles until told to stop. */
static const char *const default_cmd[] = {
	"/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1000 & wait $!; done", NULL
};

static const struct gr_image_ctx *img(const struct gr_agent *a)
{
	return a->image;
}

static struct gr_rt_opts rt_opts(const struct gr_agent *a)
{
	return (struct gr_rt_opts){ .root = a->rt_root };
}

static struct gr_idrange_pool id_pool(const struct gr_agent *a, char *dir, size_t len)
{
	snprintf(dir, len, "%s/idranges", a->state_dir);
	return (struct gr_idrange_pool){ .dir = dir, .base = a->idmap_base, .size = a->idmap_size };
}

static uint32_t id_size(const struct gr_agent *a)
{
	return a->idmap_size ? a->idmap_size : GR_IDRANGE_SIZE;
}

/* The instance's range (allocated now if it has none yet) with its user
 * layer shifted to it: a no-op once done. */
static int unpriv_range(const struct gr_agent *a, const struct gr_inst_spec *s, uint32_t *start,
			gr_error_t *err)
{
	char dir[4096];
	struct gr_idrange_pool p = id_pool(a, dir, sizeof dir);
	if (gr_idrange_get(&p, s->name, start, err) < 0)
		return gr_error_prefix(err, "ID range of %s", s->name);
	if (gr_layer_shift(img(a), s->name, *start, *start, id_size(a), err) < 0)
		return gr_error_prefix(err, "shifting the user layer of %s", s->name);
	return 0;
}

/* The container's root (host uid/gid start) binds its root folder from
 * inside its user namespace, so every folder above it must be searchable
 * by that uid (others' x bit, as for Docker's 0711 root).  The instance
 * folder is the driver's: made 0711 (its files stay 0600). */
static int check_reachable(const struct gr_inst_spec *s, uint32_t start, gr_error_t *err)
{
	if (chmod(s->dir, 0711) < 0)
		return gr_error_sys(err, "cannot make %s searchable", s->dir);
	char path[4096];
	if (!realpath(s->dir, path))
		return gr_error_sys(err, "%s", s->dir);
	for (;;) {
		struct stat st;
		if (stat(path[0] ? path : "/", &st) < 0)
			return gr_error_sys(err, "%s", path);
		mode_t need = st.st_uid == start ? S_IXUSR : st.st_gid == start ? S_IXGRP : S_IXOTH;
		if (!(st.st_mode & need))
			return gr_error_set(err, EACCES, "%s (mode %04o) is not searchable by the unprivileged "
					    "container's root (host uid %u): unprivileged containers need every "
					    "folder above their root searchable ('chmod o+x %s'), or launch with "
					    "--privileged", path[0] ? path : "/", (unsigned)(st.st_mode & 07777),
					    start, path[0] ? path : "/");
		char *slash = strrchr(path, '/');
		if (!slash || !path[0])
			break;
		*slash = '\0';
	}
	return 0;
}

static json_t *idmap_json(uint32_t start, uint32_t size)
{
	return json_pack("[{s:i,s:I,s:I}]", "containerID", 0, "hostID", (json_int_t)start, "size",
			 (json_int_t)size);
}

/* The CPUs a container limited to `cpu` CPUs may run on: ceil(cpu) of the
 * daemon's allowed CPUs, starting at one picked by the name's hash (so
 * instances spread), or NULL when that is all of them.  With the CFS quota
 * this makes `nproc` (sched_getaffinity) and lxcfs agree with the limit.
 * malloc'd "1,3"-style list. */
static char *cpu_list(const struct gr_inst_spec *s)
{
	cpu_set_t set;
	if (s->cpu <= 0 || sched_getaffinity(0, sizeof set, &set) < 0)
		return NULL;
	int ids[CPU_SETSIZE], n = 0;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			ids[n++] = i;
	int want = (int)ceil(s->cpu);
	if (want >= n)
		return NULL;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *c = s->name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	char buf[4096] = "";
	size_t o = 0;
	for (int k = 0; k < want && o < sizeof buf - 16; k++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%d", k ? "," : "", ids[(h + k) % (uint32_t)n]);
	return xstrdup(buf);
}

/* All CPUs the daemon may use ("0,1,..." list), for lifting a pin. */
static char *cpu_all(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) < 0)
		return NULL;
	char buf[4096] = "";
	size_t o = 0;
	for (int i = 0; i < CPU_SETSIZE && o < sizeof buf - 16; i++)
		if (CPU_ISSET(i, &set))
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%d", o ? "," : "", i);
	return xstrdup(buf);
}

/* lxcfs files bound over the container's own (lxcfs.h), when its mount is live. */
static const char *const lxcfs_files[] = {
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/sys/devices/system/cpu/online", NULL,
};

static void add_lxcfs_mounts(const struct gr_agent *a, const struct gr_inst_spec *s, json_t *cfg)
{
	_cleanup_free_ char *dir = gr_lxcfs_mount_dir(a->state_dir);
	if (!gr_lxcfs_live(dir)) {
		gr_log_warn("%s: lxcfs is not running (no live mount at %s): the container sees the host's "
			    "/proc/meminfo, cpuinfo, stat and uptime, not its limits", s->name, dir);
		return;
	}
	json_t *mounts = json_object_get(cfg, "mounts");
	for (size_t i = 0; lxcfs_files[i]; i++) {
		_cleanup_free_ char *src = xasprintf("%s%s", dir, lxcfs_files[i]);
		if (access(src, R_OK) < 0)
			continue;
		json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s,s,s]}", "destination",
							lxcfs_files[i], "type", "bind", "source", src,
							"options", "bind", "nosuid", "nodev", "noexec"));
	}
}

static json_t *resources_json(const struct gr_inst_spec *s)
{
	json_t *r = json_object();
	if (s->memory)
		json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)s->memory));
	if (s->cpu > 0) {
		json_t *c = json_pack("{s:I,s:I}", "quota", (json_int_t)(s->cpu * 100000), "period",
				      (json_int_t)100000);
		_cleanup_free_ char *cpus = cpu_list(s);
		if (cpus)
			json_object_set_new(c, "cpus", json_string(cpus));
		json_object_set_new(r, "cpu", c);
	}
	if (s->pids > 0)
		json_object_set_new(r, "pids", json_pack("{s:I}", "limit", (json_int_t)s->pids));
	return r;
}

/* ---- networking (src/net): a namespace file per instance with NICs ---- */

/* <run_dir>/netns/<name>: the instance's network namespace (malloc'd). */
static char *netns_path(const struct gr_agent *a, const char *name)
{
	return xasprintf("%s/netns/%s", a->run_dir, name);
}

/* The namespace file, each NIC wired into it, and <dir>/resolv.conf
 * (nameserver: the first NIC's gateway, where dnsmasq will answer). */
static int net_up(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/netns", a->run_dir);
	_cleanup_free_ char *ns = netns_path(a, s->name);
	if (gr_mkdir_p(dir, 0711, err) < 0 || gr_netns_create(ns, err) < 0)
		return -1;
	for (unsigned i = 0; i < s->n_nics; i++)
		if (gr_net_bridge_ensure(&s->nics[i], err) < 0 ||
		    gr_net_attach(s->name, i, &s->nics[i], ns, err) < 0)
			return -1;
	char gw[GR_NET_IP_MAX];
	_cleanup_free_ char *text = xasprintf("# written by gureum\nnameserver %s\n",
					      gr_net_ip_format(gr_net_gateway(&s->nics[0].subnet), gw));
	_cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", s->dir);
	if (gr_write_file_atomic(resolv, text, strlen(text), 0644, err) < 0)
		return -1;
	return 0;
}

/* Undo net_up; every step tried.  NICs named by index: n_nics of the spec,
 * and the namespace file whatever the spec says (a sweep knows no NICs). */
static int net_down(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	int rc = 0;
	gr_error_t e;
	if (s->n_nics && gr_net_detach(s->name, s->n_nics, &e) < 0) {
		rc = -1;
		if (err)
			*err = e;
	}
	_cleanup_free_ char *ns = netns_path(a, s->name);
	if (gr_netns_remove(ns, &e) < 0 && rc == 0) {
		rc = -1;
		if (err)
			*err = e;
	}
	return rc;
}

/* The container joins the namespace file and sees its resolv.conf. */
static void add_net_config(const struct gr_agent *a, const struct gr_inst_spec *s, json_t *cfg,
			   json_t *lin)
{
	_cleanup_free_ char *ns = netns_path(a, s->name);
	json_t *nss = json_object_get(lin, "namespaces");
	size_t i;
	json_t *n;
	bool found = false;
	json_array_foreach(nss, i, n) {
		if (!strcmp(json_string_value(json_object_get(n, "type")) ?: "", "network")) {
			json_object_set_new(n, "path", json_string(ns));
			found = true;
		}
	}
	if (!found)
		json_array_append_new(nss, json_pack("{s:s,s:s}", "type", "network", "path", ns));
	_cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", s->dir);
	json_array_append_new(json_object_get(cfg, "mounts"),
			      json_pack("{s:s,s:s,s:s,s:[s,s,s,s]}", "destination", "/etc/resolv.conf",
					"type", "bind", "source", resolv, "options", "bind", "ro",
					"nosuid", "nodev"));
}

/* "NAME" or "ID" of the user or group file of the master's rootfs -> id; -1 unknown. */
static long lookup_id(const char *rootfs, const char *file, const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);
	if (*name && !*end && v >= 0)
		return v;
	_cleanup_free_ char *path = xasprintf("%s/etc/%s", rootfs, file);
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, 1 << 20, &text, NULL, NULL) < 0)
		return -1;
	size_t n = strlen(name);
	for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (!strncmp(line, name, n) && line[n] == ':') {
			char *f = strchr(line + n + 1, ':'); /* past the password field */
			return f ? strtol(f + 1, NULL, 10) : -1;
		}
	}
	return -1;
}

/* An OCI image's defaults (image/oci.c) into the process: the entrypoint + cmd when the
 * instance has no command of its own, the image's env under the instance's, the working
 * folder and the user ("user", "uid", "user:group", "uid:gid"). */
static int apply_image_defaults(const struct gr_agent *a, const struct gr_inst_spec *s, json_t *proc,
				gr_error_t *err)
{
	if (!img(a) || !s->image)
		return 0;
	struct gr_image_info info = {0};
	gr_error_t ierr = {0};
	if (gr_image_get(img(a), s->image, &info, &ierr) < 0 || !info.defaults) {
		gr_image_info_clear(&info);
		return 0;
	}
	const json_t *d = info.defaults;
	int rc = 0;
	if (!s->cmd) {
		json_t *args = json_array();
		json_array_extend(args, json_object_get(d, "entrypoint") ? json_object_get(d, "entrypoint") : json_array());
		if (json_object_get(d, "cmd"))
			json_array_extend(args, json_object_get(d, "cmd"));
		if (json_array_size(args) > 0)
			json_object_set(proc, "args", args);
		json_decref(args);
	}
	json_t *env = json_object_get(proc, "env");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(d, "env"), i, v) {
		const char *kv = json_string_value(v), *eq = strchr(kv, '=');
		size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
		bool overridden = false;
		for (size_t j = 0; s->env && s->env[j] && !overridden; j++)
			overridden = !strncmp(s->env[j], kv, klen) && s->env[j][klen] == '=';
		size_t k;
		json_t *have;
		json_array_foreach(env, k, have) {
			const char *h = json_string_value(have);
			if (h && !strncmp(h, kv, klen) && h[klen] == '=') {
				json_array_remove(env, k);
				break;
			}
		}
		if (!overridden)
			json_array_append(env, v);
	}
	const char *wd = json_string_value(json_object_get(d, "working_dir"));
	if (wd && wd[0] == '/')
		json_object_set_new(proc, "cwd", json_string(wd));
	const char *user = json_string_value(json_object_get(d, "user"));
	if (user && *user) {
		_cleanup_free_ char *u = xstrdup(user);
		char *g = strchr(u, ':');
		if (g)
			*g++ = 0;
		long uid = lookup_id(info.path, "passwd", u);
		long gid = g ? lookup_id(info.path, "group", g) : -1;
		if (!g && uid >= 0) { /* the user's primary group */
			_cleanup_free_ char *pw = xasprintf("%s/etc/passwd", info.path);
			_cleanup_free_ char *text = NULL;
			gid = 0;
			if (gr_read_file(pw, 1 << 20, &text, NULL, NULL) == 0) {
				for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
					char name[256];
					long pu, pg;
					if (sscanf(line, "%255[^:]:%*[^:]:%ld:%ld:", name, &pu, &pg) == 3 && pu == uid) {
						gid = pg;
						break;
					}
				}
			}
		}
		if (uid < 0 || gid < 0)
			rc = gr_error_set(err, EINVAL, "image '%s': user '%s' is not in its /etc/passwd or "
						       "/etc/group", s->image, user);
		else
			json_object_set_new(proc, "user", json_pack("{s:I,s:I}", "uid", (json_int_t)uid, "gid",
								    (json_int_t)gid));
	}
	gr_image_info_clear(&info);
	return rc;
}

static int write_config(const struct gr_agent *a, const struct gr_inst_spec *s, uint32_t idstart,
			gr_error_t *err)
{
	_cleanup_free_ char *def = gr_oci_spec_default(0);
	json_error_t je;
	json_t *cfg = json_loads(def, 0, &je);
	if (!cfg)
		return gr_error_set(err, EIO, "runtime default spec: %s", je.text);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", s->dir);
	json_object_set_new(cfg, "root", json_pack("{s:s,s:b}", "path", rootfs, "readonly", 0));
	json_object_set_new(cfg, "hostname", json_string(s->name));
	json_t *proc = json_object_get(cfg, "process");
	json_object_set_new(proc, "terminal", json_false());
	json_t *args = json_array();
	for (size_t i = 0; s->cmd ? s->cmd[i] != NULL : default_cmd[i] != NULL; i++)
		json_array_append_new(args, json_string(s->cmd ? s->cmd[i] : default_cmd[i]));
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "cwd", json_string("/"));
	json_t *env = json_object_get(proc, "env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(proc, "env", env);
	}
	if (apply_image_defaults(a, s, proc, err) < 0) {
		json_decref(cfg);
		return -1;
	}
	for (size_t i = 0; s->env && s->env[i]; i++)
		json_array_append_new(env, json_string(s->env[i]));
	json_t *lin = json_object_get(cfg, "linux");
	if (!lin) {
		lin = json_object();
		json_object_set_new(cfg, "linux", lin);
	}
	if (!s->privileged) {
		json_array_append_new(json_object_get(lin, "namespaces"), json_pack("{s:s}", "type", "user"));
		json_object_set_new(lin, "uidMappings", idmap_json(idstart, id_size(a)));
		json_object_set_new(lin, "gidMappings", idmap_json(idstart, id_size(a)));
	}
	_cleanup_free_ char *cg = xasprintf("/%s/%s", a->cgroup_prefix, s->name);
	json_object_set_new(lin, "cgroupsPath", json_string(cg));
	json_t *res = json_object_get(lin, "resources");
	if (!json_is_object(res)) {
		res = json_object();
		json_object_set_new(lin, "resources", res);
	}
	json_t *limits = resources_json(s);
	json_object_update(res, limits);
	json_decref(limits);
	add_lxcfs_mounts(a, s, cfg);
	if (s->n_nics)
		add_net_config(a, s, cfg, lin);
	char *text = json_dumps(cfg, JSON_INDENT(2));
	json_decref(cfg);
	_cleanup_free_ char *path = xasprintf("%s/config.json", s->dir);
	int r = gr_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

/* Run fn in a forked child with stdio on (in, out, errfd); the child's error
 * comes back through a pipe.  *status gets what fn put there. */
typedef int (*child_fn)(const struct gr_agent *a, const struct gr_inst_spec *s, const void *arg,
			int *status, gr_error_t *err);

/* Runs fn in a child process (gr_proc_call: stdio in/out/errfd, nothing else of the
 * daemon's fds, dies with the daemon, waited for by pid so the stray reaper leaves it);
 * *status gets what fn put there. */
struct child_call {
	const struct gr_agent *a;
	const struct gr_inst_spec *s;
	child_fn fn;
	const void *arg;
};

static int child_trampoline(void *ud, void *reply, gr_error_t *err)
{
	struct child_call *c = ud;
	int *status = reply;
	*status = -1;
	return c->fn(c->a, c->s, c->arg, status, err);
}

static int run_in_child(const struct gr_agent *a, const struct gr_inst_spec *s, child_fn fn,
			const void *arg, int in, int out, int errfd, int *status, gr_error_t *err)
{
	struct child_call c = { a, s, fn, arg };
	int st = -1;
	int rc = gr_proc_call(s->name, child_trampoline, &c, in >= 0 ? in : GR_PROC_NULL,
			      out >= 0 ? out : GR_PROC_NULL, errfd >= 0 ? errfd : GR_PROC_NULL, &st, sizeof st, err);
	if (status)
		*status = st;
	return rc;
}

static int child_create(const struct gr_agent *a, const struct gr_inst_spec *s, const void *arg,
			int *status, gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	return gr_rt_create(&o, s->name, s->dir, NULL, err);
}

static int c_define(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	if (gr_layer_create_user(img(a), s->image, s->name, err) < 0)
		return gr_error_prefix(err, "user layer of %s", s->name);
	uint32_t start;
	if (!s->privileged && unpriv_range(a, s, &start, err) < 0) {
		char dir[4096];
		struct gr_idrange_pool p = id_pool(a, dir, sizeof dir);
		gr_idrange_release(&p, s->name, NULL);
		gr_layer_delete(img(a), s->name, NULL);
		return -1;
	}
	return 0;
}

static int wait_stopped(const struct gr_agent *a, const char *id, int ms)
{
	struct gr_rt_opts o = rt_opts(a);
	for (int waited = 0;; waited += 20) {
		struct gr_rt_state st = { 0 };
		if (gr_rt_state(&o, id, &st, NULL) < 0)
			return 0;
		bool stopped = st.status == GR_RT_STOPPED;
		gr_rt_state_clear(&st);
		if (stopped)
			return 0;
		if (waited >= ms)
			return -1;
		usleep(20 * 1000);
	}
}

/* Every step is tried, whatever failed before it (a daemon killed at any
 * point may have left any subset of these behind); the first error is
 * reported. */
static int c_cleanup(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	struct gr_rt_state st = { 0 };
	gr_error_t e;
	int rc = 0;
	if (gr_rt_state(&o, s->name, &st, NULL) == 0) {
		gr_rt_state_clear(&st);
		if (gr_rt_delete(&o, s->name, true, &e) < 0)
			rc = gr_error_set(err, e.code, "removing container %s: %s", s->name, e.msg);
	}
	/* no usable runtime record (a create cut short), or a delete that left
	 * parts: the cgroup and the runtime folder go anyway */
	_cleanup_free_ char *rdir = xasprintf("%s/%s", a->rt_root, s->name);
	if (gr_agent_cgroup_remove(a, s->name, &e) < 0 && rc == 0)
		rc = gr_error_set(err, e.code, "removing container %s: %s", s->name, e.msg);
	gr_rm_rf(rdir, NULL);
	/* the root is unmounted wherever it is mounted: the layer's record of
	 * the mount may be missing (a crash between mount and record) */
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", s->dir);
	struct gr_layer_info li = { 0 };
	if (gr_layer_get(img(a), s->name, &li, NULL) == 0) {
		gr_layer_info_clear(&li);
		if (gr_layer_umount_root(img(a), s->name, rootfs, s->ephemeral, &e) < 0 && rc == 0)
			rc = gr_error_set(err, e.code, "unmounting the root of %s: %s", s->name, e.msg);
	}
	/* after the container: its links and namespace go with it */
	if (net_down(a, s, &e) < 0 && rc == 0)
		rc = gr_error_set(err, e.code, "network of %s: %s", s->name, e.msg);
	return rc;
}

static int c_start(const struct gr_agent *a, const struct gr_inst_spec *s, pid_t *pid,
		   gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", s->dir);
	_cleanup_free_ char *logp = gr_inst_log_path(s);
	uint32_t idstart = 0;
	if (!s->privileged && (unpriv_range(a, s, &idstart, err) < 0 || check_reachable(s, idstart, err) < 0))
		return -1;
	if (s->n_nics && net_up(a, s, err) < 0) {
		gr_error_t e;
		net_down(a, s, &e);
		return -1;
	}
	if (gr_mkdir_p(rootfs, 0755, err) < 0 || write_config(a, s, idstart, err) < 0) {
		gr_error_t e;
		net_down(a, s, &e);
		return -1;
	}
	if (gr_layer_mount_root(img(a), s->image, s->name, s->ephemeral, rootfs, err) < 0)
		return gr_error_prefix(err, "mounting the root of %s", s->name);
	gr_error_t e2;
	if (gr_inst_log_rotate(logp, GR_INST_LOG_MAX, &e2) < 0)
		gr_log_warn("%s: %s", s->name, e2.msg);
	_cleanup_close_ int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		gr_error_sys(err, "%s", logp);
		goto fail;
	}
	if (run_in_child(a, s, child_create, NULL, -1, logfd, logfd, NULL, err) < 0)
		goto fail; /* the runtime's message names the container */
	/* the init's pid, taken while "created": a main process that ends at
	 * once is still reported (and reaped) through it */
	struct gr_rt_state st = { 0 };
	if (gr_rt_state(&o, s->name, &st, err) < 0)
		goto fail;
	*pid = st.pid;
	gr_rt_state_clear(&st);
	if (*pid <= 0) {
		gr_error_set(err, EIO, "container %s has no init process (see 'gureum logs %s')",
			     s->name, s->name);
		goto fail;
	}
	/* the init is ours (re-parented to the daemon) and blocked until
	 * start: owned from here, so no reaper takes its exit status */
	gr_proc_own(*pid);
	if (gr_rt_start(&o, s->name, err) < 0) {
		gr_proc_disown(*pid);
		gr_error_prefix(err, "starting container %s", s->name);
		goto fail;
	}
	return 0;
fail:
	c_cleanup(a, s, &e2);
	return -1;
}

static int c_stop(const struct gr_agent *a, const struct gr_inst_spec *s, int timeout_s, bool force,
		  gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	struct gr_rt_state st = { 0 };
	if (gr_rt_state(&o, s->name, &st, NULL) == 0) {
		bool running = st.status == GR_RT_RUNNING || st.status == GR_RT_CREATED;
		gr_rt_state_clear(&st);
		if (running && !force) {
			gr_rt_kill(&o, s->name, SIGTERM, false, NULL);
			if (wait_stopped(a, s->name, timeout_s * 1000) == 0)
				running = false;
		}
		if (running) {
			gr_rt_kill(&o, s->name, SIGKILL, true, NULL);
			wait_stopped(a, s->name, 5000);
		}
	}
	return c_cleanup(a, s, err);
}

static int c_kill(const struct gr_agent *a, const struct gr_inst_spec *s, int sig, gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	return gr_rt_kill(&o, s->name, sig, false, err);
}

static int c_delete(const struct gr_agent *a, const struct gr_inst_spec *s, bool force,
		    gr_error_t *err)
{
	if (c_stop(a, s, 0, true, err) < 0)
		return -1;
	if (gr_layer_delete(img(a), s->name, err) < 0)
		return gr_error_prefix(err, "removing the layers of %s", s->name);
	/* after the layers: a range is never handed out while files hold its IDs */
	char dir[4096];
	struct gr_idrange_pool p = id_pool(a, dir, sizeof dir);
	if (gr_idrange_release(&p, s->name, err) < 0)
		return gr_error_prefix(err, "freeing the ID range of %s", s->name);
	return 0;
}

static int c_state(const struct gr_agent *a, const struct gr_inst_spec *s, struct gr_drv_state *out,
		   gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	struct gr_rt_state st = { 0 };
	gr_error_t e;
	*out = (struct gr_drv_state){ GR_DRV_ABSENT, 0 };
	if (gr_rt_state(&o, s->name, &st, &e) < 0) {
		if (e.code == ENOENT)
			return 0;
		if (err)
			*err = e;
		return -1;
	}
	out->status = st.status == GR_RT_RUNNING ? GR_DRV_RUNNING
		      : st.status == GR_RT_STOPPED ? GR_DRV_STOPPED : GR_DRV_CREATED;
	out->pid = out->status == GR_DRV_RUNNING ? st.pid : 0;
	gr_rt_state_clear(&st);
	return 0;
}

struct exec_arg {
	const struct gr_exec_req *req;
};

static int child_exec(const struct gr_agent *a, const struct gr_inst_spec *s, const void *arg,
		      int *status, gr_error_t *err)
{
	const struct gr_exec_req *req = ((const struct exec_arg *)arg)->req;
	struct gr_rt_opts o = rt_opts(a);
	size_t ne = gr_strv_len(req->env);
	char **env = xcalloc(ne + 3, sizeof *env);
	env[0] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	env[1] = req->tty ? "TERM=xterm" : "TERM=dumb";
	for (size_t i = 0; i < ne; i++)
		env[i + 2] = req->env[i];
	/* same hardening as the container's own process */
	_cleanup_free_ char *def = gr_oci_spec_default(0);
	struct gr_oci_config *cfg = NULL;
	if (gr_oci_config_parse(def, strlen(def), &cfg, err) < 0)
		return -1;
	struct gr_oci_process *p = cfg->process;
	p->terminal = req->tty;
	if (req->tty) {
		o.console_socket = req->console_socket;
		p->console_width = req->cols ? req->cols : 80;
		p->console_height = req->rows ? req->rows : 24;
	}
	char **old_args = p->args, **old_env = p->env, *old_cwd = p->cwd;
	p->args = req->cmd;
	p->env = env;
	p->cwd = (char *)(req->cwd ? req->cwd : "/");
	int r = gr_rt_exec(&o, s->name, p, false, NULL, status, err);
	p->args = old_args;
	p->env = old_env;
	p->cwd = old_cwd;
	gr_oci_config_free(cfg);
	free(env);
	return r;
}

static int c_exec(const struct gr_agent *a, const struct gr_inst_spec *s, const struct gr_exec_req *req,
		  int *exit_status, gr_error_t *err)
{
	if (req->tty && !req->console_socket)
		return gr_error_set(err, EINVAL, "tty: needs a console socket");
	struct exec_arg ea = { req };
	return run_in_child(a, s, child_exec, &ea, req->fd_in, req->fd_out, req->fd_err, exit_status,
			    err);
}

static int c_console(const struct gr_agent *a, const struct gr_inst_spec *s, char **out_path,
		     char **in_path, gr_error_t *err)
{
	*out_path = gr_inst_log_path(s);
	if (in_path) /* NULL: the caller only follows the output */
		*in_path = NULL;
	return 0;
}

static int c_update(const struct gr_agent *a, const struct gr_inst_spec *old,
		    const struct gr_inst_spec *s, gr_error_t *err)
{
	struct gr_oci_resources res = { 0 };
	if (s->memory != old->memory) {
		res.has_mem_limit = true;
		res.mem_limit = s->memory ? (int64_t)s->memory : -1;
	}
	_cleanup_free_ char *cpus = NULL;
	if (s->cpu != old->cpu) {
		res.has_cpu_quota = res.has_cpu_period = true;
		res.cpu_period = 100000;
		res.cpu_quota = s->cpu > 0 ? (int64_t)(s->cpu * 100000) : -1;
		cpus = cpu_list(s); /* the pin follows the limit */
		if (!cpus)
			cpus = cpu_all();
		res.cpu_cpus = cpus;
	}
	if (s->pids != old->pids) {
		res.has_pids_limit = true;
		res.pids_limit = s->pids > 0 ? s->pids : -1;
	}
	struct gr_rt_opts o = rt_opts(a);
	if (gr_rt_update(&o, s->name, &res, err) < 0)
		return gr_error_prefix(err, "updating %s", s->name);
	/* keep config.json in step, so the next start uses the new limits */
	char dir[4096];
	struct gr_idrange_pool p = id_pool(a, dir, sizeof dir);
	uint32_t idstart = 0;
	if (!s->privileged && gr_idrange_find(&p, s->name, &idstart, err) < 0)
		return -1;
	return write_config(a, s, idstart, err);
}

static int c_stats(const struct gr_agent *a, const struct gr_inst_spec *s, struct gr_drv_stats *out,
		   gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	struct gr_rt_stats st;
	memset(out, 0, sizeof *out);
	if (gr_rt_stats(&o, s->name, &st, err) < 0)
		return -1;
	out->cpu_ns = st.cpu_ns;
	out->memory_bytes = st.memory_bytes;
	out->memory_limit = st.memory_limit;
	out->pids = st.pids;
	return 0;
}

static int c_check_options(const json_t *options, gr_error_t *err)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)options, key, v)
		return gr_error_set(err, EINVAL, "options.%s: unknown container option (containers take "
				    "no options)", key);
	return 0;
}

static int c_reattach(const struct gr_agent *a, const struct gr_inst_spec *s, pid_t *pid,
		      gr_error_t *err)
{
	struct gr_drv_state st;
	*pid = 0;
	if (c_state(a, s, &st, err) < 0)
		return -1;
	if (st.status == GR_DRV_RUNNING)
		*pid = st.pid;
	return 0;
}

/* Runtime state folders (and their containers) without a record. */
static int c_sweep(const struct gr_agent *a, gr_known_fn known, void *ud, gr_error_t *err)
{
	struct gr_rt_opts o = rt_opts(a);
	struct gr_rt_state *sts = NULL;
	size_t n = 0;
	int removed = 0;
	if (gr_rt_list(&o, &sts, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!known(sts[i].id, ud)) {
			gr_log_info("sweep: removing container %s (no record)", sts[i].id);
			gr_error_t e;
			if (gr_rt_delete(&o, sts[i].id, true, &e) < 0)
				gr_log_warn("sweep: %s", e.msg);
			else
				removed++;
		}
		gr_rt_state_clear(&sts[i]);
	}
	free(sts);
	/* host ends of veth pairs and namespace files without a record */
	removed += gr_net_sweep_links(known, ud);
	_cleanup_free_ char *nsdir = xasprintf("%s/netns", a->run_dir);
	DIR *d = opendir(nsdir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || known(de->d_name, ud))
			continue;
		_cleanup_free_ char *ns = xasprintf("%s/%s", nsdir, de->d_name);
		gr_error_t e;
		gr_log_info("sweep: removing network namespace %s (no record)", ns);
		if (gr_netns_remove(ns, &e) < 0)
			gr_log_warn("sweep: %s", e.msg);
		else
			removed++;
	}
	if (d)
		closedir(d);
	/* ID ranges of instances without a record (a define cut short) */
	char dir[4096];
	struct gr_idrange_pool p = id_pool(a, dir, sizeof dir);
	return removed + gr_idrange_sweep(&p, known, ud);
}

/* Snapshots of a container are copies of its user layer, taken and restored
 * while the root is unmounted (the control layer stops it first). */
static int c_snap_create(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
			 gr_error_t *err)
{
	return gr_layer_snapshot_create(img(a), s->name, snap, err);
}

static int c_snap_restore(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
			  gr_error_t *err)
{
	return gr_layer_snapshot_restore(img(a), s->name, snap, err);
}

static int c_snap_delete(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
			 gr_error_t *err)
{
	return gr_layer_snapshot_delete(img(a), s->name, snap, err);
}

const struct gr_driver_ops gr_driver_container = {
	.name = "container",
	.backend = GR_BACKEND_CONTAINER,
	.check_options = c_check_options,
	.reattach = c_reattach,
	.sweep = c_sweep,
	.snapshot_create = c_snap_create,
	.snapshot_restore = c_snap_restore,
	.snapshot_delete = c_snap_delete,
	.define = c_define,
	.start = c_start,
	.stop = c_stop,
	.kill = c_kill,
	.cleanup = c_cleanup,
	.delete = c_delete,
	.state = c_state,
	.exec = c_exec,
	.console = c_console,
	.update = c_update,
	.stats = c_stats,
};
