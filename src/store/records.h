/*
 * records.h - the daemon's records on top of the generic store: the key layout,
 * JSON documents (jansson) as values, and CAS-guarded state transitions.
 *
 * Key layout (see docs/ARCHITECTURE.md "store"):
 *   /gureum/instances/<name>   instance document ({"state": ..., ...})
 *   /gureum/images/<name>      image document
 *   /gureum/hosts/<name>       host document (attached to the host's lease)
 *   /gureum/ops/<id>           operation journal: one record per lifecycle operation,
 *                              its "state" advanced by gr_store_transition()
 *   /gureum/leases/<name>      named leases (e.g. "leader"), value = holder
 * Everything here is a thin layer over store.h and keeps its conventions:
 * -1 + err on failure, 1 applied / 0 compare failed for conditional writes.
 * Same thread-safety as the store.
 */
#ifndef GR_STORE_RECORDS_H
#define GR_STORE_RECORDS_H

#include <jansson.h>
#include <stdint.h>
#include "store/store.h"

#define GR_KEY_ROOT "/gureum/"
#define GR_KEY_INSTANCES "/gureum/instances/"
#define GR_KEY_IMAGES "/gureum/images/"
#define GR_KEY_HOSTS "/gureum/hosts/"
#define GR_KEY_OPS "/gureum/ops/"
#define GR_KEY_LEASES "/gureum/leases/"

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

/* The lifecycle primitive: move the document at key from state `from` to state
 * `to` (its "state" string member), merging the members of `patch` (may be
 * NULL) into it, in one CAS.  from NULL = the key must not exist yet (creates
 * {"state": to} + patch).  1 applied / 0 the record is not in `from` (someone
 * else moved it: *current, if not NULL, gets its state as a new malloc'd string,
 * or NULL when absent) / -1 error.  Two actors racing on the same transition:
 * exactly one gets 1, so an instance is never started twice. */
int gr_store_transition(struct gr_store *s, const char *key, const char *from, const char *to,
			const json_t *patch, int64_t *rev, char **current, gr_error_t *err);

#endif
