/*
 * config_linux.c - the "linux" object of config.json: namespaces, id mappings,
 * devices, resources (memory, cpu, pids, blockIO, hugepageLimits, device
 * rules, unified), cgroupsPath, sysctl, maskedPaths/readonlyPaths,
 * rootfsPropagation, mountLabel; seccomp is delegated to config_seccomp.c.
 *
 * Validation: namespace types known and not repeated, join paths absolute;
 * mappings non-empty, not overflowing 32 bits, only with a user namespace;
 * device nodes c/b/u/p with absolute paths;
 * resource values non-negative where the kernel wants that (-1 = unlimited for
 * memory, swap, cpu quota, pids); sysctl/unified keys without empty or ".."
 * components; network priorities name an interface.  linux.resources.rdma,
 * intelRdt, personality, timeOffsets, memoryPolicy and the cpu
 * realtime/idle/burst knobs are accepted and ignored.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/config-internal.h"
#include "util/alloc.h"

/* Iterate an optional array member: allocates *arr (zeroed, count set first)
 * and calls fn for each element at path key[i]. */
#define PARSE_ARRAY(c, obj, key, arr, n, fn, ...)                                         \
	({                                                                                \
		json_t *a__ = NULL;                                                       \
		int r__ = gr__opt_array(c, obj, key, &a__);                               \
		if (r__ == 0 && a__) {                                                    \
			size_t cnt__ = json_array_size(a__), old__ = gr__path_key(c, key); \
			(arr) = xcalloc(cnt__ ? cnt__ : 1, sizeof(*(arr)));               \
			(n) = cnt__;                                                      \
			for (size_t i__ = 0; r__ == 0 && i__ < cnt__; i__++) {            \
				size_t o2__ = gr__path_idx(c, i__);                       \
				json_t *e__ = json_array_get(a__, i__);                   \
				if (!json_is_object(e__))                                 \
					r__ = gr__fail(c, "expected an object, got %s",   \
						       gr__json_kind(e__));               \
				else                                                      \
					r__ = fn(c, e__, &(arr)[i__], ##__VA_ARGS__);     \
				if (r__ == 0)                                             \
					gr__path_pop(c, o2__);                            \
			}                                                                 \
			if (r__ == 0)                                                     \
				gr__path_pop(c, old__);                                   \
		}                                                                         \
		r__;                                                                      \
	})

static int parse_ns(struct gr__pctx *c, json_t *v, struct gr_oci_namespace *ns)
{
	_cleanup_free_ char *type = NULL;
	if (gr__req_str(c, v, "type", &type) < 0 || gr__opt_str(c, v, "path", &ns->path) < 0)
		return -1;
	int t = gr_ns_from_name(type);
	if (t < 0)
		return gr__fail_at(c, "type", "unknown namespace \"%s\"", type);
	ns->type = (enum gr_ns_type)t;
	if (ns->path && ns->path[0] != '/')
		return gr__fail_at(c, "path", "\"%s\" is not an absolute path", ns->path);
	return 0;
}

static int parse_idmap(struct gr__pctx *c, json_t *v, struct gr_oci_idmap *m)
{
	uint64_t cid = 0, hid = 0, size = 0;
	if (gr__req_u64(c, v, "containerID", UINT32_MAX, &cid) < 0 ||
	    gr__req_u64(c, v, "hostID", UINT32_MAX, &hid) < 0 ||
	    gr__req_u64(c, v, "size", UINT32_MAX, &size) < 0)
		return -1;
	if (size == 0)
		return gr__fail_at(c, "size", "must be greater than 0");
	if (cid + size > UINT64_C(1) << 32 || hid + size > UINT64_C(1) << 32)
		return gr__fail_at(c, "size", "range goes past 2^32");
	m->container_id = (uint32_t)cid;
	m->host_id = (uint32_t)hid;
	m->size = (uint32_t)size;
	return 0;
}

static int parse_device(struct gr__pctx *c, json_t *v, struct gr_oci_device *d)
{
	_cleanup_free_ char *type = NULL;
	uint64_t mode = 0, uid = 0, gid = 0;
	if (gr__req_str(c, v, "type", &type) < 0 || gr__req_str(c, v, "path", &d->path) < 0)
		return -1;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return gr__fail_at(c, "type", "unknown device type \"%s\" (c, b, u or p)", type);
	d->type = type[0];
	if (d->path[0] != '/')
		return gr__fail_at(c, "path", "\"%s\" is not an absolute path", d->path);
	if (gr__has_dotdot(d->path))
		return gr__fail_at(c, "path", "\"%s\" contains a \"..\" component", d->path);
	if (d->type == 'p') {
		if (gr__opt_i64(c, v, "major", 0, INT64_MAX, &d->major, NULL) < 0 ||
		    gr__opt_i64(c, v, "minor", 0, INT64_MAX, &d->minor, NULL) < 0)
			return -1;
	} else if (gr__req_i64(c, v, "major", 0, UINT32_MAX, &d->major) < 0 ||
		   gr__req_i64(c, v, "minor", 0, UINT32_MAX, &d->minor) < 0) {
		return -1;
	}
	if (gr__opt_u64(c, v, "fileMode", 07777, &mode, &d->has_file_mode) < 0 ||
	    gr__opt_u64(c, v, "uid", UINT32_MAX - 1, &uid, &d->has_uid) < 0 ||
	    gr__opt_u64(c, v, "gid", UINT32_MAX - 1, &gid, &d->has_gid) < 0)
		return -1;
	d->file_mode = (mode_t)mode;
	d->uid = (uid_t)uid;
	d->gid = (gid_t)gid;
	return 0;
}

/* ---- resources ---- */

static int parse_dev_rule(struct gr__pctx *c, json_t *v, struct gr_oci_device_rule *r)
{
	_cleanup_free_ char *type = NULL, *access = NULL;
	bool has_allow = false;
	r->major = r->minor = -1;
	if (gr__opt_bool(c, v, "allow", &r->allow, &has_allow) < 0)
		return -1;
	if (!has_allow)
		return gr__fail_at(c, "allow", "required boolean is missing");
	if (gr__opt_str(c, v, "type", &type) < 0 || gr__opt_str(c, v, "access", &access) < 0 ||
	    gr__opt_i64(c, v, "major", -1, UINT32_MAX, &r->major, NULL) < 0 ||
	    gr__opt_i64(c, v, "minor", -1, UINT32_MAX, &r->minor, NULL) < 0)
		return -1;
	r->type = 'a';
	if (type) {
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return gr__fail_at(c, "type", "unknown device type \"%s\" (a, c or b)", type);
		r->type = type[0];
	}
	if (!access || !*access) {
		memcpy(r->access, "rwm", 4);
		return 0;
	}
	size_t n = strlen(access);
	if (n > 3 || strspn(access, "rwm") != n)
		return gr__fail_at(c, "access", "\"%s\" is not a subset of \"rwm\"", access);
	for (size_t i = 0; i < n; i++)
		if (strchr(access + i + 1, access[i]))
			return gr__fail_at(c, "access", "\"%s\" repeats \"%c\"", access, access[i]);
	memcpy(r->access, access, n + 1);
	return 0;
}

static int check_blkio_weight(struct gr__pctx *c, json_t *v, const char *key, uint16_t *out,
			      bool *has)
{
	uint64_t w = 0;
	bool got = false;
	if (gr__opt_u64(c, v, key, 1000, &w, &got) < 0)
		return -1;
	if (got && w != 0 && w < 10)
		return gr__fail_at(c, key, "%" PRIu64 " is out of range (10..1000, or 0)", w);
	if (got) {
		*out = (uint16_t)w;
		if (has)
			*has = true;
	}
	return 0;
}

static int parse_weight_dev(struct gr__pctx *c, json_t *v, struct gr_oci_weight_device *d)
{
	if (gr__req_i64(c, v, "major", 0, UINT32_MAX, &d->major) < 0 ||
	    gr__req_i64(c, v, "minor", 0, UINT32_MAX, &d->minor) < 0 ||
	    check_blkio_weight(c, v, "weight", &d->weight, &d->has_weight) < 0 ||
	    check_blkio_weight(c, v, "leafWeight", &d->leaf_weight, &d->has_leaf_weight) < 0)
		return -1;
	return 0;
}

static int parse_throttle(struct gr__pctx *c, json_t *v, struct gr_oci_throttle *t)
{
	if (gr__req_i64(c, v, "major", 0, UINT32_MAX, &t->major) < 0 ||
	    gr__req_i64(c, v, "minor", 0, UINT32_MAX, &t->minor) < 0 ||
	    gr__req_u64(c, v, "rate", UINT64_MAX, &t->rate) < 0)
		return -1;
	return 0;
}

static int parse_hugepage(struct gr__pctx *c, json_t *v, struct gr_oci_hugepage_limit *h)
{
	if (gr__req_str(c, v, "pageSize", &h->page_size) < 0 ||
	    gr__req_u64(c, v, "limit", UINT64_MAX, &h->limit) < 0)
		return -1;
	const char *p = h->page_size;
	size_t digits = strspn(p, "0123456789");
	if (!digits || p[0] == '0' || strlen(p + digits) != 2 || !strchr("KMGTP", p[digits]) ||
	    p[digits + 1] != 'B')
		return gr__fail_at(c, "pageSize", "\"%s\" is not a page size like \"2MB\"", p);
	return 0;
}

static int parse_net_prio(struct gr__pctx *c, json_t *v, struct gr_oci_net_priority *p)
{
	uint64_t prio = 0;
	if (gr__req_str(c, v, "name", &p->name) < 0 || gr__req_u64(c, v, "priority", UINT32_MAX, &prio) < 0)
		return -1;
	/* written as "<name> <priority>" to net_prio.ifpriomap: one interface name, IFNAMSIZ */
	size_t n = strlen(p->name);
	if (!n || n > 15 || strpbrk(p->name, " \t\n/:"))
		return gr__fail_at(c, "name", "\"%s\" is not an interface name", p->name);
	p->priority = (uint32_t)prio;
	return 0;
}

/* "0-3,5" style list; empty is allowed (= not set). */
static int check_cpuset_list(struct gr__pctx *c, const char *key, const char *s)
{
	const char *p = s;
	while (*p) {
		char *end;
		if (*p < '0' || *p > '9')
			goto bad;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, &end, 10);
			p = end;
			if (b < a)
				goto bad;
		}
		if (a > 65535 || b > 65535)
			goto bad;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	return 0;
bad:
	return gr__fail_at(c, key, "\"%s\" is not a list like \"0-3,5\"", s);
}

/* sysctl and unified keys: dot/slash separated, no empty component. */
static int check_knob_key(struct gr__pctx *c, const char *key, bool need_dot)
{
	size_t old = gr__path_key(c, key);
	const char *p = key;
	int r = 0;
	if (!*p || strchr("./", p[0]) || strchr("./", p[strlen(p) - 1]) || strstr(p, "..") ||
	    strstr(p, "//") || strstr(p, "./") || strstr(p, "/."))
		r = gr__fail(c, "invalid key");
	else if (need_dot && (strchr(p, '/') || !strchr(p, '.')))
		r = gr__fail(c, "invalid key (want <controller>.<file>)");
	if (r == 0)
		gr__path_pop(c, old);
	return r;
}

static int parse_resources(struct gr__pctx *c, json_t *v, struct gr_oci_resources *r)
{
	json_t *o = NULL;
	size_t old;
	if (PARSE_ARRAY(c, v, "devices", r->devices, r->n_devices, parse_dev_rule) < 0)
		return -1;

	if (gr__opt_obj(c, v, "memory", &o) < 0)
		return -1;
	if (o) {
		old = gr__path_key(c, "memory");
		if (gr__opt_i64(c, o, "limit", -1, INT64_MAX, &r->mem_limit, &r->has_mem_limit) < 0 ||
		    gr__opt_i64(c, o, "reservation", -1, INT64_MAX, &r->mem_reservation,
				&r->has_mem_reservation) < 0 ||
		    gr__opt_i64(c, o, "swap", -1, INT64_MAX, &r->mem_swap, &r->has_mem_swap) < 0 ||
		    gr__opt_i64(c, o, "kernel", -1, INT64_MAX, &r->mem_kernel, &r->has_mem_kernel) < 0 ||
		    gr__opt_i64(c, o, "kernelTCP", -1, INT64_MAX, &r->mem_kernel_tcp,
				&r->has_mem_kernel_tcp) < 0 ||
		    gr__opt_u64(c, o, "swappiness", 100, &r->mem_swappiness,
				&r->has_mem_swappiness) < 0 ||
		    gr__opt_bool(c, o, "disableOOMKiller", &r->disable_oom_killer, NULL) < 0)
			return -1;
		if (r->has_mem_limit && r->has_mem_swap && r->mem_limit > 0 && r->mem_swap > 0 &&
		    r->mem_swap < r->mem_limit)
			return gr__fail_at(c, "swap", "%" PRId64 " is below limit %" PRId64
					   " (swap counts memory+swap)", r->mem_swap, r->mem_limit);
		gr__path_pop(c, old);
	}

	o = NULL;
	if (gr__opt_obj(c, v, "cpu", &o) < 0)
		return -1;
	if (o) {
		old = gr__path_key(c, "cpu");
		if (gr__opt_u64(c, o, "shares", UINT64_MAX, &r->cpu_shares, &r->has_cpu_shares) < 0 ||
		    gr__opt_i64(c, o, "quota", -1, INT64_MAX, &r->cpu_quota, &r->has_cpu_quota) < 0 ||
		    gr__opt_u64(c, o, "period", UINT64_MAX, &r->cpu_period, &r->has_cpu_period) < 0 ||
		    gr__opt_str(c, o, "cpus", &r->cpu_cpus) < 0 ||
		    gr__opt_str(c, o, "mems", &r->cpu_mems) < 0)
			return -1;
		if ((r->cpu_cpus && check_cpuset_list(c, "cpus", r->cpu_cpus) < 0) ||
		    (r->cpu_mems && check_cpuset_list(c, "mems", r->cpu_mems) < 0))
			return -1;
		gr__path_pop(c, old);
	}

	o = NULL;
	if (gr__opt_obj(c, v, "pids", &o) < 0)
		return -1;
	if (o) {
		old = gr__path_key(c, "pids");
		if (gr__req_i64(c, o, "limit", -1, INT64_MAX, &r->pids_limit) < 0)
			return -1;
		r->has_pids_limit = true;
		gr__path_pop(c, old);
	}

	o = NULL;
	if (gr__opt_obj(c, v, "blockIO", &o) < 0)
		return -1;
	if (o) {
		old = gr__path_key(c, "blockIO");
		if (check_blkio_weight(c, o, "weight", &r->blkio_weight, &r->has_blkio_weight) < 0 ||
		    check_blkio_weight(c, o, "leafWeight", &r->blkio_leaf_weight,
				       &r->has_blkio_leaf_weight) < 0 ||
		    PARSE_ARRAY(c, o, "weightDevice", r->blkio_weight_devices,
				r->n_blkio_weight_devices, parse_weight_dev) < 0 ||
		    PARSE_ARRAY(c, o, "throttleReadBpsDevice", r->throttle_read_bps,
				r->n_throttle_read_bps, parse_throttle) < 0 ||
		    PARSE_ARRAY(c, o, "throttleWriteBpsDevice", r->throttle_write_bps,
				r->n_throttle_write_bps, parse_throttle) < 0 ||
		    PARSE_ARRAY(c, o, "throttleReadIOPSDevice", r->throttle_read_iops,
				r->n_throttle_read_iops, parse_throttle) < 0 ||
		    PARSE_ARRAY(c, o, "throttleWriteIOPSDevice", r->throttle_write_iops,
				r->n_throttle_write_iops, parse_throttle) < 0)
			return -1;
		gr__path_pop(c, old);
	}

	o = NULL;
	if (gr__opt_obj(c, v, "network", &o) < 0)
		return -1;
	if (o) {
		uint64_t id = 0;
		old = gr__path_key(c, "network");
		if (gr__opt_u64(c, o, "classID", UINT32_MAX, &id, &r->has_net_class_id) < 0 ||
		    PARSE_ARRAY(c, o, "priorities", r->net_priorities, r->n_net_priorities,
				parse_net_prio) < 0)
			return -1;
		r->net_class_id = (uint32_t)id;
		gr__path_pop(c, old);
	}

	if (PARSE_ARRAY(c, v, "hugepageLimits", r->hugepage_limits, r->n_hugepage_limits,
			parse_hugepage) < 0 ||
	    gr__opt_kv(c, v, "unified", &r->unified, &r->n_unified) < 0)
		return -1;
	old = gr__path_key(c, "unified");
	for (size_t i = 0; i < r->n_unified; i++)
		if (check_knob_key(c, r->unified[i].key, true) < 0)
			return -1;
	gr__path_pop(c, old);
	return 0;
}

void gr__resources_clear(struct gr_oci_resources *r)
{
	free(r->cpu_cpus);
	free(r->cpu_mems);
	free(r->blkio_weight_devices);
	free(r->throttle_read_bps);
	free(r->throttle_write_bps);
	free(r->throttle_read_iops);
	free(r->throttle_write_iops);
	for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	free(r->devices);
	gr__kv_free(r->unified, r->n_unified);
	for (size_t i = 0; r->net_priorities && i < r->n_net_priorities; i++)
		free(r->net_priorities[i].name);
	free(r->net_priorities);
}

/* ---- linux ---- */

static int check_namespaces(struct gr__pctx *c, struct gr_oci_config *cfg)
{
	for (size_t i = 0; i < cfg->n_namespaces; i++)
		for (size_t k = 0; k < i; k++)
			if (cfg->namespaces[k].type == cfg->namespaces[i].type) {
				size_t old = gr__path_key(c, "namespaces");
				gr__path_idx(c, i);
				gr__fail_at(c, "type", "duplicate namespace \"%s\" (also at [%zu])",
					    gr_ns_name(cfg->namespaces[i].type), k);
				gr__path_pop(c, old);
				return -1;
			}
	/* A new user namespace without mappings is allowed (crun's rootless spec
	 * has none; the engine picks them); mappings without one are an error. */
	const struct gr_oci_namespace *user = gr_oci_config_ns(cfg, GR_NS_USER);
	if (!user && cfg->n_uid_mappings)
		return gr__fail_at(c, "uidMappings", "given, but there is no user namespace");
	if (!user && cfg->n_gid_mappings)
		return gr__fail_at(c, "gidMappings", "given, but there is no user namespace");
	return 0;
}

int gr__parse_linux(struct gr__pctx *c, json_t *v, struct gr_oci_config *cfg)
{
	json_t *o = NULL;
	_cleanup_free_ char *prop = NULL;
	if (PARSE_ARRAY(c, v, "namespaces", cfg->namespaces, cfg->n_namespaces, parse_ns) < 0 ||
	    PARSE_ARRAY(c, v, "uidMappings", cfg->uid_mappings, cfg->n_uid_mappings,
			parse_idmap) < 0 ||
	    PARSE_ARRAY(c, v, "gidMappings", cfg->gid_mappings, cfg->n_gid_mappings,
			parse_idmap) < 0 ||
	    check_namespaces(c, cfg) < 0 ||
	    PARSE_ARRAY(c, v, "devices", cfg->devices, cfg->n_devices, parse_device) < 0)
		return -1;

	if (gr__opt_obj(c, v, "resources", &o) < 0)
		return -1;
	if (o) {
		size_t old = gr__path_key(c, "resources");
		cfg->has_resources = true;
		if (parse_resources(c, o, &cfg->resources) < 0)
			return -1;
		gr__path_pop(c, old);
	}

	if (gr__opt_str(c, v, "cgroupsPath", &cfg->cgroups_path) < 0)
		return -1;
	if (cfg->cgroups_path) {
		const char *p = cfg->cgroups_path;
		for (const char *s = p; (s = strstr(s, "..")); s += 2)
			if ((s == p || strchr("/:", s[-1])) && (!s[2] || strchr("/:", s[2])))
				return gr__fail_at(c, "cgroupsPath", "\"%s\" contains a \"..\" component",
						   p);
	}

	if (gr__opt_kv(c, v, "sysctl", &cfg->sysctl, &cfg->n_sysctl) < 0)
		return -1;
	size_t old = gr__path_key(c, "sysctl");
	for (size_t i = 0; i < cfg->n_sysctl; i++)
		if (check_knob_key(c, cfg->sysctl[i].key, false) < 0)
			return -1;
	gr__path_pop(c, old);

	o = NULL;
	if (gr__opt_obj(c, v, "seccomp", &o) < 0)
		return -1;
	if (o) {
		old = gr__path_key(c, "seccomp");
		if (gr__parse_seccomp(c, o, &cfg->seccomp) < 0)
			return -1;
		gr__path_pop(c, old);
	}

	if (gr__opt_strv(c, v, "maskedPaths", true, &cfg->masked_paths) < 0 ||
	    gr__opt_strv(c, v, "readonlyPaths", true, &cfg->readonly_paths) < 0 ||
	    gr__opt_str(c, v, "rootfsPropagation", &prop) < 0 ||
	    gr__opt_str(c, v, "mountLabel", &cfg->mount_label) < 0)
		return -1;
	if (prop) {
		cfg->rootfs_propagation = gr__propagation_flags(prop);
		if (!cfg->rootfs_propagation)
			return gr__fail_at(c, "rootfsPropagation", "unknown propagation \"%s\"", prop);
	}
	return 0;
}
