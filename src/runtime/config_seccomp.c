/*
 * config_seccomp.c - linux.seccomp of config.json: defaultAction,
 * defaultErrnoRet, architectures, flags, listenerPath/listenerMetadata and the
 * syscall rules (names, action, errnoRet, args with index/value/valueTwo/op).
 *
 * Validation: every action, operator, architecture and flag name must be one
 * the spec defines; errnoRet only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE; an
 * argument index is 0..5; SCMP_ACT_NOTIFY needs an absolute listenerPath.
 * Syscall names are only checked to be non-empty strings: profiles list calls
 * newer than the running kernel or libseccomp, and the engine skips those.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/config-internal.h"
#include "util/alloc.h"

static const char *const action_names[] = {
	[GR_SCMP_KILL] = "SCMP_ACT_KILL",       [GR_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[GR_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [GR_SCMP_TRAP] = "SCMP_ACT_TRAP",
	[GR_SCMP_ERRNO] = "SCMP_ACT_ERRNO",     [GR_SCMP_TRACE] = "SCMP_ACT_TRACE",
	[GR_SCMP_ALLOW] = "SCMP_ACT_ALLOW",     [GR_SCMP_LOG] = "SCMP_ACT_LOG",
	[GR_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const op_names[] = {
	[GR_SCMP_NE] = "SCMP_CMP_NE", [GR_SCMP_LT] = "SCMP_CMP_LT", [GR_SCMP_LE] = "SCMP_CMP_LE",
	[GR_SCMP_EQ] = "SCMP_CMP_EQ", [GR_SCMP_GE] = "SCMP_CMP_GE", [GR_SCMP_GT] = "SCMP_CMP_GT",
	[GR_SCMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const arch_names[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

static const char *const flag_names[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int lookup(const char *const *tab, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i] && !strcmp(tab[i], name))
			return (int)i;
	return -1;
}

static int parse_action(struct gr__pctx *c, json_t *obj, const char *key,
			enum gr_seccomp_action *out)
{
	_cleanup_free_ char *name = NULL;
	if (gr__req_str(c, obj, key, &name) < 0)
		return -1;
	int a = lookup(action_names, NELEM(action_names), name);
	if (a < 0)
		return gr__fail_at(c, key, "unknown seccomp action \"%s\"", name);
	*out = (enum gr_seccomp_action)a;
	return 0;
}

static int parse_errno(struct gr__pctx *c, json_t *obj, const char *key,
		       enum gr_seccomp_action action, unsigned *out, bool *has)
{
	uint64_t e = 0;
	if (gr__opt_u64(c, obj, key, UINT16_MAX, &e, has) < 0)
		return -1;
	if (*has && action != GR_SCMP_ERRNO && action != GR_SCMP_TRACE)
		return gr__fail_at(c, key, "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
	*out = (unsigned)e;
	return 0;
}

static int check_names(struct gr__pctx *c, json_t *obj, const char *key,
		       const char *const *tab, size_t n, const char *what, char ***out)
{
	if (gr__opt_strv(c, obj, key, false, out) < 0)
		return -1;
	if (!*out)
		*out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; (*out)[i]; i++)
		if (lookup(tab, n, (*out)[i]) < 0) {
			size_t old = gr__path_key(c, key);
			gr__path_idx(c, i);
			gr__fail(c, "unknown seccomp %s \"%s\"", what, (*out)[i]);
			gr__path_pop(c, old);
			return -1;
		}
	return 0;
}

static int parse_arg(struct gr__pctx *c, json_t *v, struct gr_oci_seccomp_arg *a)
{
	uint64_t idx = 0;
	_cleanup_free_ char *op = NULL;
	if (!json_is_object(v))
		return gr__fail(c, "expected an object, got %s", gr__json_kind(v));
	if (gr__req_u64(c, v, "index", 5, &idx) < 0 ||
	    gr__req_u64(c, v, "value", UINT64_MAX, &a->value) < 0 ||
	    gr__opt_u64(c, v, "valueTwo", UINT64_MAX, &a->value_two, NULL) < 0 ||
	    gr__req_str(c, v, "op", &op) < 0)
		return -1;
	a->index = (unsigned)idx;
	int o = lookup(op_names, NELEM(op_names), op);
	if (o < 0)
		return gr__fail_at(c, "op", "unknown seccomp operator \"%s\"", op);
	a->op = (enum gr_seccomp_op)o;
	return 0;
}

static int parse_rule(struct gr__pctx *c, json_t *v, struct gr_oci_seccomp_rule *r)
{
	if (!json_is_object(v))
		return gr__fail(c, "expected an object, got %s", gr__json_kind(v));
	if (gr__opt_strv(c, v, "names", false, &r->names) < 0)
		return -1;
	if (!r->names)
		return gr__fail_at(c, "names", "required array is missing");
	if (!r->names[0])
		return gr__fail_at(c, "names", "must list at least one syscall");
	for (size_t i = 0; r->names[i]; i++)
		if (!*r->names[i]) {
			size_t old = gr__path_key(c, "names");
			gr__path_idx(c, i);
			gr__fail(c, "empty syscall name");
			gr__path_pop(c, old);
			return -1;
		}
	if (parse_action(c, v, "action", &r->action) < 0 ||
	    parse_errno(c, v, "errnoRet", r->action, &r->errno_ret, &r->has_errno_ret) < 0)
		return -1;
	json_t *args = NULL;
	if (gr__opt_array(c, v, "args", &args) < 0)
		return -1;
	if (!args)
		return 0;
	size_t n = json_array_size(args), old = gr__path_key(c, "args");
	r->args = xcalloc(n ? n : 1, sizeof(*r->args));
	r->n_args = n;
	for (size_t i = 0; i < n; i++) {
		size_t o2 = gr__path_idx(c, i);
		if (parse_arg(c, json_array_get(args, i), &r->args[i]) < 0)
			return -1;
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	return 0;
}

int gr__parse_seccomp(struct gr__pctx *c, json_t *v, struct gr_oci_seccomp **out)
{
	struct gr_oci_seccomp *s = xcalloc(1, sizeof(*s));
	*out = s;   /* owned by the config from here on, freed with it on error */
	if (parse_action(c, v, "defaultAction", &s->default_action) < 0 ||
	    parse_errno(c, v, "defaultErrnoRet", s->default_action, &s->default_errno,
			&s->has_default_errno) < 0 ||
	    check_names(c, v, "architectures", arch_names, NELEM(arch_names), "architecture",
			&s->architectures) < 0 ||
	    check_names(c, v, "flags", flag_names, NELEM(flag_names), "flag", &s->flags) < 0 ||
	    gr__opt_str(c, v, "listenerPath", &s->listener_path) < 0 ||
	    gr__opt_str(c, v, "listenerMetadata", &s->listener_metadata) < 0)
		return -1;
	if (s->listener_path && s->listener_path[0] != '/')
		return gr__fail_at(c, "listenerPath", "\"%s\" is not an absolute path",
				   s->listener_path);

	json_t *rules = NULL;
	if (gr__opt_array(c, v, "syscalls", &rules) < 0)
		return -1;
	bool notify = s->default_action == GR_SCMP_NOTIFY;
	if (rules) {
		size_t n = json_array_size(rules), old = gr__path_key(c, "syscalls");
		s->syscalls = xcalloc(n ? n : 1, sizeof(*s->syscalls));
		s->n_syscalls = n;
		for (size_t i = 0; i < n; i++) {
			size_t o2 = gr__path_idx(c, i);
			if (parse_rule(c, json_array_get(rules, i), &s->syscalls[i]) < 0)
				return -1;
			notify = notify || s->syscalls[i].action == GR_SCMP_NOTIFY;
			gr__path_pop(c, o2);
		}
		gr__path_pop(c, old);
	}
	if (notify && !s->listener_path)
		return gr__fail_at(c, "listenerPath", "required when SCMP_ACT_NOTIFY is used");
	return 0;
}

void gr__seccomp_free(struct gr_oci_seccomp *s)
{
	if (!s)
		return;
	gr_strv_free(s->architectures);
	gr_strv_free(s->flags);
	for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
		gr_strv_free(s->syscalls[i].names);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
	free(s->listener_path);
	free(s->listener_metadata);
	free(s);
}

const char *gr_seccomp_action_name(enum gr_seccomp_action a)
{
	return (unsigned)a < NELEM(action_names) ? action_names[a] : NULL;
}
