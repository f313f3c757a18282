/*
 * state.c - the container's folder <root>/<id>/ and its state.json.
 *
 * state.json holds the spec's state (ociVersion, id, status, pid, bundle,
 * annotations) plus "created" and a private "gureum" object (cgroup path, the
 * init's start time to detect pid reuse, hook kinds present).  The status on
 * disk is only the one at create; the live status is computed on each read:
 * init alive and exec.fifo present = created, alive without fifo = running,
 * gone or a zombie = stopped.  Writes are rename()-atomic without fsync: the
 * root lives on tmpfs (/run) and a container does not survive a reboot.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *gr_rt_status_name(enum gr_rt_status s)
{
	switch (s) {
	case GR_RT_CREATING: return "creating";
	case GR_RT_CREATED: return "created";
	case GR_RT_RUNNING: return "running";
	case GR_RT_STOPPED: return "stopped";
	}
	return "unknown";
}

const char *gr__root(const struct gr_rt_opts *o)
{
	return o && o->root ? o->root : GR_RT_DEFAULT_ROOT;
}

int gr__check_id(const char *id, gr_error_t *err)
{
	if (!id || !*id)
		return gr_error_set(err, EINVAL, "container id is empty");
	if (strlen(id) > 128)
		return gr_error_set(err, EINVAL, "container id '%.20s...' is longer than 128 characters", id);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.') ||
		    (p == id && *p == '.'))
			return gr_error_set(err, EINVAL,
					    "container id '%s': only letters, digits, '-', '_' and '.' (not first)", id);
	return 0;
}

char *gr__dir(const struct gr_rt_opts *o, const char *id)
{
	return xasprintf("%s/%s", gr__root(o), id);
}

ssize_t gr__read_full(int fd, void *buf, size_t len)
{
	return gr_read_all(fd, buf, len);
}

unsigned long long gr__proc_starttime(pid_t pid, char *state_char)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* after ") ": field 3 state, ... field 22 starttime */
	char st;
	unsigned long long start = 0;
	if (sscanf(p + 2, "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   &st, &start) != 2)
		return 0;
	if (state_char)
		*state_char = st;
	return start;
}

int gr__state_write(const struct gr_rt_opts *o, const struct gr_rt_state *st,
		    const struct gr__meta *meta, gr_error_t *err)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "ociVersion",
			      st->oci_version ? st->oci_version : "1.0.2", "id", st->id, "status",
			      gr_rt_status_name(st->status), "pid", (int)st->pid, "bundle",
			      st->bundle ? st->bundle : "", "created", (json_int_t)st->created);
	json_t *ann = json_object();
	for (size_t i = 0; i < st->n_annotations; i++)
		json_object_set_new(ann, st->annotations[i].key, json_string(st->annotations[i].value));
	json_object_set_new(j, "annotations", ann);
	json_t *parents = json_object();
	for (size_t i = 0; i < meta->n_cg_parents; i++)
		json_object_set_new(parents, meta->cg_parents[i].name, json_integer(meta->cg_parents[i].levels));
	/* cgroup_parents names every hierarchy create made the cgroup in: later operations
	 * use those only (a hierarchy mounted since is not the container's) */
	json_object_set_new(j, "gureum",
			    json_pack("{s:s, s:I, s:b, s:i, s:o, s:i, s:i}", "cgroup", meta->cgroup, "starttime",
				      (json_int_t)meta->starttime, "userns", meta->userns, "hooks",
				      (int)meta->hooks, "cgroup_parents", parents, "cgroup_want",
				      (int)meta->cg_want, "ignore_unsupported", (int)meta->ignore_unsupported));
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	_cleanup_free_ char *dir = gr__dir(o, st->id);
	_cleanup_free_ char *tmp = xasprintf("%s/.state.json.tmp", dir);
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return gr_error_sys(err, "cannot write %s", tmp);
	if (gr_write_all(fd, text, strlen(text)) < 0) {
		gr_error_sys(err, "cannot write %s", tmp);
		close(fd);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return gr_error_sys(err, "cannot rename %s", tmp);
	return 0;
}

int gr__state_read(const struct gr_rt_opts *o, const char *id, struct gr_rt_state *st,
		   struct gr__meta *meta, gr_error_t *err)
{
	memset(st, 0, sizeof *st);
	if (meta)
		memset(meta, 0, sizeof *meta);
	if (gr__check_id(id, err) < 0)
		return -1;
	_cleanup_free_ char *dir = gr__dir(o, id);
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	_cleanup_free_ char *text = NULL;
	gr_error_t e;
	if (gr_read_file(path, 1 << 20, &text, NULL, &e) < 0) {
		if (e.code == ENOENT)
			return gr_error_set(err, ENOENT, "container '%s' does not exist", id);
		*err = e;
		return -1;
	}
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		return gr_error_set(err, EIO, "%s: %s", path, je.text);
	const char *ver = NULL, *bundle = NULL;
	json_int_t pid = 0, created = 0;
	json_t *ann = NULL, *g = NULL;
	json_unpack(j, "{s?s, s?s, s?I, s?I, s?o, s?o}", "ociVersion", &ver, "bundle", &bundle, "pid",
		    &pid, "created", &created, "annotations", &ann, "gureum", &g);
	st->id = xstrdup(id);
	st->oci_version = xstrdup(ver ? ver : "1.0.2");
	st->bundle = xstrdup(bundle ? bundle : "");
	st->created = created;
	if (json_is_object(ann) && json_object_size(ann)) {
		st->annotations = xcalloc(json_object_size(ann), sizeof *st->annotations);
		const char *k;
		json_t *v;
		json_object_foreach(ann, k, v) {
			st->annotations[st->n_annotations].key = xstrdup(k);
			st->annotations[st->n_annotations++].value =
				xstrdup(json_is_string(v) ? json_string_value(v) : "");
		}
	}
	json_int_t starttime = 0;
	int userns = 0, hooks = 0, own = 0, want = 0, ignore = 0;
	const char *cgroup = "";
	json_t *parents = NULL;
	if (g)
		json_unpack(g, "{s?s, s?I, s?b, s?i, s?i, s?o, s?i, s?i}", "cgroup", &cgroup, "starttime",
			    &starttime, "userns", &userns, "hooks", &hooks, "cgroup_own_parents", &own,
			    "cgroup_parents", &parents, "cgroup_want", &want, "ignore_unsupported", &ignore);
	if (meta) {
		snprintf(meta->cgroup, sizeof meta->cgroup, "%s", cgroup);
		meta->cg_want = (unsigned)want;
		meta->ignore_unsupported = (unsigned)ignore;
		meta->starttime = (unsigned long long)starttime;
		meta->userns = userns;
		meta->hooks = (unsigned)hooks;
		if (json_is_object(parents)) {
			const char *k;
			json_t *v;
			json_object_foreach(parents, k, v) {
				if (meta->n_cg_parents == GR_CG_MAX_HIER || !json_is_integer(v))
					continue;
				snprintf(meta->cg_parents[meta->n_cg_parents].name,
					 sizeof meta->cg_parents[0].name, "%s", k);
				meta->cg_parents[meta->n_cg_parents++].levels = (int)json_integer_value(v);
			}
		} else if (own > 0) { /* a state from before the per-hierarchy count */
			snprintf(meta->cg_parents[0].name, sizeof meta->cg_parents[0].name, "*");
			meta->cg_parents[0].levels = own;
			meta->n_cg_parents = 1;
		}
	}
	json_decref(j);
	char sc = 0;
	unsigned long long now = pid > 0 ? gr__proc_starttime((pid_t)pid, &sc) : 0;
	if (pid > 0 && now && now == (unsigned long long)starttime && sc != 'Z' && sc != 'X') {
		st->pid = (pid_t)pid;
		_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", dir);
		st->status = access(fifo, F_OK) == 0 ? GR_RT_CREATED : GR_RT_RUNNING;
	} else {
		st->pid = 0;
		st->status = GR_RT_STOPPED;
	}
	return 0;
}

void gr_rt_state_clear(struct gr_rt_state *st)
{
	free(st->id);
	free(st->bundle);
	free(st->oci_version);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	memset(st, 0, sizeof *st);
}

char *gr_rt_state_json(const struct gr_rt_state *st)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion",
			      st->oci_version ? st->oci_version : "1.0.2", "id", st->id ? st->id : "",
			      "status", gr_rt_status_name(st->status), "pid", (int)st->pid, "bundle",
			      st->bundle ? st->bundle : "");
	if (st->n_annotations) {
		json_t *ann = json_object();
		for (size_t i = 0; i < st->n_annotations; i++)
			json_object_set_new(ann, st->annotations[i].key,
					    json_string(st->annotations[i].value));
		json_object_set_new(j, "annotations", ann);
	}
	if (st->created) {
		char buf[64];
		time_t s = (time_t)(st->created / 1000000000);
		struct tm tm;
		gmtime_r(&s, &tm);
		size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + n, sizeof buf - n, ".%09lldZ", st->created % 1000000000);
		json_object_set_new(j, "created", json_string(buf));
	}
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s ? s : xstrdup("{}");
}

int gr_rt_list(const struct gr_rt_opts *o, struct gr_rt_state **out, size_t *n, gr_error_t *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(gr__root(o));
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return gr_error_sys(err, "cannot read %s", gr__root(o));
	}
	struct dirent *de;
	size_t cap = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct gr_rt_state st;
		if (gr__state_read(o, de->d_name, &st, NULL, NULL) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = st;
	}
	closedir(d);
	return 0;
}
