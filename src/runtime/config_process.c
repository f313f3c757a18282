/*
 * config_process.c - the "process" object of config.json (also the whole
 * document for `exec --process`): args, env, cwd, user, capabilities, rlimits,
 * terminal, oomScoreAdj, noNewPrivileges, apparmor/selinux (kept, not applied).
 *
 * Validation: args non-empty with a non-empty args[0]; env entries "K=V" with
 * a non-empty K; cwd absolute; uid/gid/additionalGids 32-bit ids other than
 * (uid_t)-1; umask <= 0777; every capability name known; rlimit types known,
 * not repeated, soft <= hard; oomScoreAdj in -1000..1000.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "runtime/config-internal.h"
#include "util/alloc.h"

#define ID_MAX 4294967294u   /* (uid_t)-1 means "no change" to the kernel */

static const struct { const char *name; int resource; } rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static const char *const cap_set_names[GR_CAP_NSETS] = {
	[GR_CAP_BOUNDING] = "bounding",       [GR_CAP_EFFECTIVE] = "effective",
	[GR_CAP_INHERITABLE] = "inheritable", [GR_CAP_PERMITTED] = "permitted",
	[GR_CAP_AMBIENT] = "ambient",
};

static int parse_user(struct gr__pctx *c, json_t *u, struct gr_oci_user *user)
{
	uint64_t uid = 0, gid = 0, umask = 0;
	if (gr__req_u64(c, u, "uid", ID_MAX, &uid) < 0 || gr__req_u64(c, u, "gid", ID_MAX, &gid) < 0 ||
	    gr__opt_u64(c, u, "umask", 0777, &umask, &user->has_umask) < 0)
		return -1;
	user->uid = (uid_t)uid;
	user->gid = (gid_t)gid;
	user->umask = (mode_t)umask;
	json_t *arr = NULL;
	if (gr__opt_array(c, u, "additionalGids", &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	size_t n = json_array_size(arr), old = gr__path_key(c, "additionalGids");
	user->additional_gids = xcalloc(n ? n : 1, sizeof(gid_t));
	user->n_additional_gids = n;
	for (size_t i = 0; i < n; i++) {
		size_t o2 = gr__path_idx(c, i);
		if (gr__val_u64(c, json_array_get(arr, i), ID_MAX, &gid) < 0)
			return -1;
		user->additional_gids[i] = (gid_t)gid;
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	return 0;
}

static int parse_caps(struct gr__pctx *c, json_t *caps, struct gr_oci_process *p)
{
	p->has_caps = true;
	for (int s = 0; s < GR_CAP_NSETS; s++) {
		json_t *arr = NULL;
		if (gr__opt_array(c, caps, cap_set_names[s], &arr) < 0)
			return -1;
		if (!arr)
			continue;
		size_t old = gr__path_key(c, cap_set_names[s]);
		for (size_t i = 0; i < json_array_size(arr); i++) {
			size_t o2 = gr__path_idx(c, i);
			_cleanup_free_ char *name = NULL;
			if (gr__val_str(c, json_array_get(arr, i), &name) < 0)
				return -1;
			int cap = gr_cap_from_name(name);
			if (cap < 0)
				return gr__fail(c, "unknown capability \"%s\"", name);
			p->caps[s] |= UINT64_C(1) << cap;
			gr__path_pop(c, o2);
		}
		gr__path_pop(c, old);
	}
	return 0;
}

static int parse_rlimits(struct gr__pctx *c, json_t *arr, struct gr_oci_process *p)
{
	size_t n = json_array_size(arr);
	p->rlimits = xcalloc(n ? n : 1, sizeof(*p->rlimits));
	p->n_rlimits = n;
	for (size_t i = 0; i < n; i++) {
		size_t o2 = gr__path_idx(c, i);
		json_t *v = json_array_get(arr, i);
		struct gr_oci_rlimit *rl = &p->rlimits[i];
		_cleanup_free_ char *type = NULL;
		if (!json_is_object(v))
			return gr__fail(c, "expected an object, got %s", gr__json_kind(v));
		if (gr__req_str(c, v, "type", &type) < 0 ||
		    gr__req_u64(c, v, "soft", UINT64_MAX, &rl->soft) < 0 ||
		    gr__req_u64(c, v, "hard", UINT64_MAX, &rl->hard) < 0)
			return -1;
		rl->resource = -1;
		for (size_t k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (!strcmp(rlimit_names[k].name, type))
				rl->resource = rlimit_names[k].resource;
		if (rl->resource < 0)
			return gr__fail_at(c, "type", "unknown rlimit \"%s\"", type);
		for (size_t k = 0; k < i; k++)
			if (p->rlimits[k].resource == rl->resource)
				return gr__fail_at(c, "type", "duplicate rlimit \"%s\"", type);
		if (rl->soft > rl->hard)
			return gr__fail_at(c, "soft", "%" PRIu64 " is above the hard limit %" PRIu64,
					   rl->soft, rl->hard);
		gr__path_pop(c, o2);
	}
	return 0;
}

int gr__parse_process(struct gr__pctx *c, json_t *v, struct gr_oci_process **out)
{
	struct gr_oci_process *p = xcalloc(1, sizeof(*p));
	json_t *obj = NULL;
	int64_t oom = 0;
	size_t old;

	if (gr__opt_bool(c, v, "terminal", &p->terminal, NULL) < 0 ||
	    gr__opt_obj(c, v, "consoleSize", &obj) < 0)
		goto fail;
	if (obj) {
		uint64_t h = 0, w = 0;
		old = gr__path_key(c, "consoleSize");
		if (gr__req_u64(c, obj, "height", UINT16_MAX, &h) < 0 ||
		    gr__req_u64(c, obj, "width", UINT16_MAX, &w) < 0)
			goto fail;
		gr__path_pop(c, old);
		p->console_height = (unsigned)h;
		p->console_width = (unsigned)w;
	}

	obj = NULL;
	if (gr__req_obj(c, v, "user", &obj) < 0)
		goto fail;
	old = gr__path_key(c, "user");
	if (parse_user(c, obj, &p->user) < 0)
		goto fail;
	gr__path_pop(c, old);

	if (gr__opt_strv(c, v, "args", false, &p->args) < 0)
		goto fail;
	if (!p->args) {
		gr__fail_at(c, "args", "required array is missing");
		goto fail;
	}
	if (!p->args[0]) {
		gr__fail_at(c, "args", "must name at least the program to run");
		goto fail;
	}
	if (!*p->args[0]) {
		gr__path_key(c, "args");
		gr__path_idx(c, 0);
		gr__fail(c, "the program name must not be empty");
		goto fail;
	}

	if (gr__opt_strv(c, v, "env", false, &p->env) < 0)
		goto fail;
	for (size_t i = 0; p->env && p->env[i]; i++) {
		char *eq = strchr(p->env[i], '=');
		if (!eq || eq == p->env[i]) {
			old = gr__path_key(c, "env");
			gr__path_idx(c, i);
			gr__fail(c, "\"%s\" is not of the form KEY=value", p->env[i]);
			goto fail;
		}
	}

	if (gr__req_str(c, v, "cwd", &p->cwd) < 0)
		goto fail;
	if (p->cwd[0] != '/') {
		gr__fail_at(c, "cwd", "\"%s\" is not an absolute path", p->cwd);
		goto fail;
	}

	obj = NULL;
	if (gr__opt_obj(c, v, "capabilities", &obj) < 0)
		goto fail;
	if (obj) {
		old = gr__path_key(c, "capabilities");
		if (parse_caps(c, obj, p) < 0)
			goto fail;
		gr__path_pop(c, old);
	}

	obj = NULL;
	if (gr__opt_array(c, v, "rlimits", &obj) < 0)
		goto fail;
	if (obj) {
		old = gr__path_key(c, "rlimits");
		if (parse_rlimits(c, obj, p) < 0)
			goto fail;
		gr__path_pop(c, old);
	}

	if (gr__opt_bool(c, v, "noNewPrivileges", &p->no_new_privileges, NULL) < 0 ||
	    gr__opt_i64(c, v, "oomScoreAdj", -1000, 1000, &oom, &p->has_oom_score_adj) < 0 ||
	    gr__opt_str(c, v, "apparmorProfile", &p->apparmor_profile) < 0 ||
	    gr__opt_str(c, v, "selinuxLabel", &p->selinux_label) < 0)
		goto fail;
	p->oom_score_adj = (int)oom;
	*out = p;
	return 0;
fail:
	gr_oci_process_free(p);
	return -1;
}

void gr_oci_process_free(struct gr_oci_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	gr_strv_free(p->args);
	gr_strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}
