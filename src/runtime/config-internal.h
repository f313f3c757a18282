/*
 * config-internal.h - shared by the config.json parser's files (config.c,
 * config_mounts.c, config_process.c, config_linux.c, config_seccomp.c); not
 * for other modules.
 *
 * A struct gr__pctx carries the error sink and the JSON path of the value
 * being parsed ("linux.namespaces[2].type").  Every helper that fails sets
 * err to "<path>: <what is wrong>" and returns -1; the path is restored by the
 * caller with gr__path_pop().  Helpers treat a JSON null like an absent key.
 *
 * Integers above INT64_MAX cannot be held by jansson, so config.c rewrites such
 * literals before parsing into marker strings ("\0u64:<digits>") that only the
 * number helpers here accept; see gr__json_uint().
 */
#ifndef GR_RUNTIME_CONFIG_INTERNAL_H
#define GR_RUNTIME_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "runtime/config.h"
#include "util/error.h"

#define GR__PATH_MAX 384

struct gr__pctx {
	gr_error_t *err;
	size_t len;
	char path[GR__PATH_MAX];
};

/* Path handling: push returns the old length to give back to pop. */
size_t gr__path_key(struct gr__pctx *c, const char *key);
size_t gr__path_idx(struct gr__pctx *c, size_t i);
static inline void gr__path_pop(struct gr__pctx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}
/* "<path>: <msg>" with code EINVAL.  Returns -1. */
int gr__fail(struct gr__pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, for the member `key` of the current object. */
int gr__fail_at(struct gr__pctx *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "string", "number", ... for error messages. */
const char *gr__json_kind(const json_t *v);

/* The value for key, NULL when absent or null. */
json_t *gr__get(json_t *obj, const char *key);

/* Typed members of the object `obj` at the current path.  The req_ forms
 * fail when the key is absent; the opt_ forms leave *out alone then.  *has
 * (may be NULL) is set to true when a value was stored. */
int gr__req_obj(struct gr__pctx *c, json_t *obj, const char *key, json_t **out);
int gr__opt_obj(struct gr__pctx *c, json_t *obj, const char *key, json_t **out);
int gr__opt_array(struct gr__pctx *c, json_t *obj, const char *key, json_t **out);
int gr__req_array(struct gr__pctx *c, json_t *obj, const char *key, json_t **out);
int gr__req_str(struct gr__pctx *c, json_t *obj, const char *key, char **out);
int gr__opt_str(struct gr__pctx *c, json_t *obj, const char *key, char **out);
int gr__opt_bool(struct gr__pctx *c, json_t *obj, const char *key, bool *out, bool *has);
int gr__req_u64(struct gr__pctx *c, json_t *obj, const char *key, uint64_t max, uint64_t *out);
int gr__opt_u64(struct gr__pctx *c, json_t *obj, const char *key, uint64_t max, uint64_t *out,
		bool *has);
int gr__req_i64(struct gr__pctx *c, json_t *obj, const char *key, int64_t min, int64_t max,
		int64_t *out);
int gr__opt_i64(struct gr__pctx *c, json_t *obj, const char *key, int64_t min, int64_t max,
		int64_t *out, bool *has);
/* An array of strings -> NULL-terminated vector (empty array -> empty vector).
 * abs_paths: every element must be an absolute path without "..". */
int gr__opt_strv(struct gr__pctx *c, json_t *obj, const char *key, bool abs_paths, char ***out);
/* An object of string values -> key/value array. */
int gr__opt_kv(struct gr__pctx *c, json_t *obj, const char *key, struct gr_oci_kv **out,
	       size_t *n);
/* Value-level forms (the value itself is at the current path). */
int gr__val_str(struct gr__pctx *c, json_t *v, char **out);
int gr__val_u64(struct gr__pctx *c, json_t *v, uint64_t max, uint64_t *out);
int gr__val_i64(struct gr__pctx *c, json_t *v, int64_t min, int64_t max, int64_t *out);
/* Fail unless p is an absolute path (the current path names the value). */
int gr__check_path_abs(struct gr__pctx *c, const char *p);
/* p has a ".." path component. */
bool gr__has_dotdot(const char *p);

void gr__kv_free(struct gr_oci_kv *kv, size_t n);

/* Sections, one per file. */
int gr__parse_mounts(struct gr__pctx *c, json_t *root, struct gr_oci_config *cfg);
int gr__parse_hooks(struct gr__pctx *c, json_t *root, struct gr_oci_config *cfg);
void gr__mount_clear(struct gr_oci_mount *m);
void gr__hook_clear(struct gr_oci_hook *h);
int gr__parse_process(struct gr__pctx *c, json_t *v, struct gr_oci_process **out);
int gr__parse_linux(struct gr__pctx *c, json_t *linux_obj, struct gr_oci_config *cfg);
int gr__parse_seccomp(struct gr__pctx *c, json_t *v, struct gr_oci_seccomp **out);
void gr__seccomp_free(struct gr_oci_seccomp *s);
void gr__resources_clear(struct gr_oci_resources *r);
/* Mount propagation word ("rprivate", ...) -> MS_* flags; 0 if unknown. */
unsigned long gr__propagation_flags(const char *word);

#endif
