/*
 * records.h - JSON documents (jansson) as values of the generic store: record
 * names and keys, reads, writes, compare-and-swap read-modify-write.  What a
 * record means (the key layout, an instance's schema and states) belongs to
 * the store's users (src/control).
 * Everything here is a thin layer over store.h and keeps its conventions:
 * -1 + err on failure, 1 applied / 0 compare failed for conditional writes.
 * Same thread-safety as the store.
 */
#ifndef GR_STORE_RECORDS_H
#define GR_STORE_RECORDS_H

#include <jansson.h>
#include <stdint.h>
#include "store/store.h"

#define GR_STORE_NAME_MAX 128

/* A record name: 1..128 of [A-Za-z0-9_.-], not starting with '.' or '-'.
 * 0 ok / -1 EINVAL naming `what` (e.g. "instance name"). */
int gr_store_name_check(const char *name, const char *what, gr_error_t *err);
/* prefix + name, after gr_store_name_check.  malloc'd, or NULL with err set. */
char *gr_store_key(const char *prefix, const char *name, gr_error_t *err);

/* Read a JSON document.  1 found (*doc a new reference; *mod_revision may be
 * NULL) / 0 absent / -1 error (EBADMSG when the stored value is not JSON). */
int gr_store_get_json(struct gr_store *s, const char *key, json_t **doc, int64_t *mod_revision,
		      gr_error_t *err);
/* Write a JSON document (compact encoding, keys sorted).  doc is not stolen. */
int gr_store_put_json(struct gr_store *s, const char *key, const json_t *doc, int64_t lease,
		      int64_t *rev, gr_error_t *err);
/* Conditional on mod_revision (0 = must not exist).  1 / 0 / -1. */
int gr_store_put_json_if(struct gr_store *s, const char *key, const json_t *doc, int64_t lease,
			 int64_t mod_revision, int64_t *rev, gr_error_t *err);
/* Documents under prefix as a JSON array of {"key", "mod_revision", "value"} (new
 * reference).  A value that is not JSON is an error naming its key. */
int gr_store_list_json(struct gr_store *s, const char *prefix, json_t **array, gr_error_t *err);

/* Read-modify-write with compare-and-swap, retried up to `tries` times when
 * someone else wrote in between.  fn gets *doc (a document it may modify, or
 * NULL when the key is absent; it may replace it) and returns 0 to write *doc,
 * 1 to leave the record alone, -1 (err set) to abort.  A NULL *doc after fn
 * returns 0 deletes the key.  Returns 1 written / 0 left alone / -1 error
 * (EAGAIN when every try lost the race). */
typedef int (*gr_store_update_fn)(json_t **doc, void *ctx, gr_error_t *err);
int gr_store_update_json(struct gr_store *s, const char *key, gr_store_update_fn fn, void *ctx,
			 int tries, int64_t *rev, gr_error_t *err);

#endif
