/*
 * config_mounts.c - "mounts" and "hooks" of config.json.
 *
 * A mount's options are split three ways (see struct gr_oci_mount): MS_* flags
 * set or cleared (the later option wins), one propagation setting (two
 * different ones are an error), and everything else joined into the data
 * string for the file system.  Options other runtimes implement with
 * mount_setattr or copy-up (rro, idmap, tmpcopyup, ...) are refused rather than
 * handed to mount(2) as data.  Destinations are absolute without "..";
 * a mount with no type must be a bind mount; bind mounts need a source;
 * overlay needs lowerdir=.  Hooks need an absolute path and a timeout > 0.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime/config-internal.h"
#include "util/alloc.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

static const struct mount_opt {
	const char *name;
	unsigned long flag;
	bool clear;
} mount_opts[] = {
	{ "ro", MS_RDONLY, false },         { "rw", MS_RDONLY, true },
	{ "nosuid", MS_NOSUID, false },     { "suid", MS_NOSUID, true },
	{ "nodev", MS_NODEV, false },       { "dev", MS_NODEV, true },
	{ "noexec", MS_NOEXEC, false },     { "exec", MS_NOEXEC, true },
	{ "sync", MS_SYNCHRONOUS, false },  { "async", MS_SYNCHRONOUS, true },
	{ "dirsync", MS_DIRSYNC, false },   { "remount", MS_REMOUNT, false },
	{ "mand", MS_MANDLOCK, false },     { "nomand", MS_MANDLOCK, true },
	{ "noatime", MS_NOATIME, false },   { "atime", MS_NOATIME, true },
	{ "nodiratime", MS_NODIRATIME, false }, { "diratime", MS_NODIRATIME, true },
	{ "relatime", MS_RELATIME, false }, { "norelatime", MS_RELATIME, true },
	{ "strictatime", MS_STRICTATIME, false }, { "nostrictatime", MS_STRICTATIME, true },
	{ "lazytime", MS_LAZYTIME, false }, { "nolazytime", MS_LAZYTIME, true },
	{ "silent", MS_SILENT, false },     { "loud", MS_SILENT, true },
	{ "nosymfollow", MS_NOSYMFOLLOW, false }, { "symfollow", MS_NOSYMFOLLOW, true },
	{ "bind", MS_BIND, false },         { "rbind", MS_BIND | MS_REC, false },
};

/* Options other runtimes accept that we do not implement: refuse them rather
 * than pass them to mount(2) as file-system data. */
static const char *const unsupported_opts[] = {
	"rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec",
	"rnosymfollow", "rsymfollow", "ratime", "rnoatime", "rdiratime", "rnodiratime",
	"rrelatime", "rnorelatime", "rstrictatime", "idmap", "ridmap", "tmpcopyup",
	"notmpcopyup", "copy-symlink",
};

unsigned long gr__propagation_flags(const char *w)
{
	static const struct { const char *name; unsigned long flags; } t[] = {
		{ "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
		{ "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
		{ "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, w))
			return t[i].flags;
	return 0;
}


static int mount_option(struct gr__pctx *c, struct gr_oci_mount *m, const char *o,
			char **data, size_t *data_len)
{
	if (!*o)
		return gr__fail(c, "empty mount option");
	if (!strcmp(o, "defaults"))
		return 0;
	for (size_t i = 0; i < sizeof(mount_opts) / sizeof(mount_opts[0]); i++) {
		if (strcmp(o, mount_opts[i].name))
			continue;
		unsigned long f = mount_opts[i].flag;
		if (mount_opts[i].clear) {
			m->clear_flags |= f;
			m->flags &= ~f;
		} else {
			m->flags |= f;
			m->clear_flags &= ~f;
		}
		return 0;
	}
	unsigned long prop = gr__propagation_flags(o);
	if (prop) {
		if (m->propagation && m->propagation != prop)
			return gr__fail(c, "propagation \"%s\" conflicts with an earlier one", o);
		m->propagation = prop;
		return 0;
	}
	for (size_t i = 0; i < sizeof(unsupported_opts) / sizeof(unsupported_opts[0]); i++)
		if (!strcmp(o, unsupported_opts[i]))
			return gr__fail(c, "mount option \"%s\" is not supported", o);
	size_t n = strlen(o);
	*data = xrealloc(*data, *data_len + n + 2);
	if (*data_len)
		(*data)[(*data_len)++] = ',';
	memcpy(*data + *data_len, o, n + 1);
	*data_len += n;
	return 0;
}

static int parse_mount(struct gr__pctx *c, json_t *v, struct gr_oci_mount *m)
{
	if (!json_is_object(v))
		return gr__fail(c, "expected an object, got %s", gr__json_kind(v));
	if (gr__req_str(c, v, "destination", &m->destination) < 0 ||
	    gr__opt_str(c, v, "source", &m->source) < 0 || gr__opt_str(c, v, "type", &m->type) < 0 ||
	    gr__opt_strv(c, v, "options", false, &m->options) < 0)
		return -1;
	if (m->destination[0] != '/')
		return gr__fail_at(c, "destination", "\"%s\" is not an absolute path", m->destination);
	if (gr__has_dotdot(m->destination))
		return gr__fail_at(c, "destination", "\"%s\" contains a \"..\" component",
				   m->destination);
	if (m->type) {
		if (!*m->type)
			return gr__fail_at(c, "type", "empty mount type");
		for (const char *p = m->type; *p; p++)
			if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
			    !(*p >= '0' && *p <= '9') && !strchr("._-", *p))
				return gr__fail_at(c, "type", "invalid mount type \"%s\"", m->type);
	}
	size_t data_len = 0;
	size_t old = gr__path_key(c, "options");
	for (size_t i = 0; m->options && m->options[i]; i++) {
		size_t o2 = gr__path_idx(c, i);
		if (mount_option(c, m, m->options[i], &m->data, &data_len) < 0)
			return -1;
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	if (m->type && !strcmp(m->type, "bind"))
		m->flags |= MS_BIND;
	if (m->flags & MS_BIND) {
		if (!m->source || !*m->source)
			return gr__fail_at(c, "source", "a bind mount needs a source");
	} else if (!m->type) {
		return gr__fail_at(c, "type", "required for a mount that is not a bind mount");
	}
	if (m->type && !strcmp(m->type, "overlay") &&
	    (!m->data || (strncmp(m->data, "lowerdir=", 9) && !strstr(m->data, ",lowerdir="))))
		return gr__fail_at(c, "options", "an overlay mount needs a lowerdir= option");
	return 0;
}

void gr__mount_clear(struct gr_oci_mount *m)
{
	free(m->destination);
	free(m->source);
	free(m->type);
	gr_strv_free(m->options);
	free(m->data);
}

int gr__parse_mounts(struct gr__pctx *c, json_t *root, struct gr_oci_config *cfg)
{
	json_t *arr = NULL;
	if (gr__opt_array(c, root, "mounts", &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	size_t n = json_array_size(arr), old = gr__path_key(c, "mounts");
	cfg->mounts = xcalloc(n ? n : 1, sizeof(*cfg->mounts));
	cfg->n_mounts = n;
	for (size_t i = 0; i < n; i++) {
		size_t o2 = gr__path_idx(c, i);
		if (parse_mount(c, json_array_get(arr, i), &cfg->mounts[i]) < 0)
			return -1;
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	return 0;
}

/* ---- hooks ---- */

static const char *const hook_names[GR_HOOK_NKINDS] = {
	[GR_HOOK_PRESTART] = "prestart",
	[GR_HOOK_CREATE_RUNTIME] = "createRuntime",
	[GR_HOOK_CREATE_CONTAINER] = "createContainer",
	[GR_HOOK_START_CONTAINER] = "startContainer",
	[GR_HOOK_POSTSTART] = "poststart",
	[GR_HOOK_POSTSTOP] = "poststop",
};

static int parse_hook(struct gr__pctx *c, json_t *v, struct gr_oci_hook *h)
{
	if (!json_is_object(v))
		return gr__fail(c, "expected an object, got %s", gr__json_kind(v));
	int64_t timeout = 0;
	bool has_timeout = false;
	if (gr__req_str(c, v, "path", &h->path) < 0 ||
	    gr__opt_strv(c, v, "args", false, &h->args) < 0 ||
	    gr__opt_strv(c, v, "env", false, &h->env) < 0 ||
	    gr__opt_i64(c, v, "timeout", INT64_MIN, INT_MAX, &timeout, &has_timeout) < 0)
		return -1;
	if (h->path[0] != '/')
		return gr__fail_at(c, "path", "\"%s\" is not an absolute path", h->path);
	if (has_timeout && timeout <= 0)
		return gr__fail_at(c, "timeout", "must be greater than 0, got %" PRId64, timeout);
	h->timeout = (int)timeout;
	return 0;
}

void gr__hook_clear(struct gr_oci_hook *h)
{
	free(h->path);
	gr_strv_free(h->args);
	gr_strv_free(h->env);
}

int gr__parse_hooks(struct gr__pctx *c, json_t *root, struct gr_oci_config *cfg)
{
	json_t *hooks = NULL;
	if (gr__opt_obj(c, root, "hooks", &hooks) < 0)
		return -1;
	if (!hooks)
		return 0;
	size_t old = gr__path_key(c, "hooks");
	for (int k = 0; k < GR_HOOK_NKINDS; k++) {
		json_t *arr = NULL;
		if (gr__opt_array(c, hooks, hook_names[k], &arr) < 0)
			return -1;
		if (!arr)
			continue;
		size_t n = json_array_size(arr), o2 = gr__path_key(c, hook_names[k]);
		cfg->hooks[k] = xcalloc(n ? n : 1, sizeof(*cfg->hooks[k]));
		cfg->n_hooks[k] = n;
		for (size_t i = 0; i < n; i++) {
			size_t o3 = gr__path_idx(c, i);
			if (parse_hook(c, json_array_get(arr, i), &cfg->hooks[k][i]) < 0)
				return -1;
			gr__path_pop(c, o3);
		}
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	return 0;
}
