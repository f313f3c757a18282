/*
 * instance.h - the typed instance: what the control layer knows of one
 * instance, its states and the one table of the state changes allowed.
 *
 * An instance is parsed once from outside input (an API body,
 * gr__inst_from_request) or from its stored record (gr__inst_decode), moved
 * through the lifecycle as this struct, and turned into JSON once on the way
 * out (gr__inst_encode: the store record and the API document are the same
 * text).  Nothing else in control reads or writes instance JSON.
 *
 * Ownership: a struct gr_instance owns env, cmd, options, error and pending;
 * gr__inst_clear frees them, gr__inst_copy deep-copies.  The pure functions
 * here touch no store and no host: any thread.
 */
#ifndef GR_CONTROL_INSTANCE_H
#define GR_CONTROL_INSTANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "agent/driver.h"
#include "util/error.h"

/* Lifecycle states (control.h has the picture).  Resting: defined, running,
 * stopped.  The others announce host work under way (written before it). */
enum gr_inst_state {
	GR_ST_DEFINING,
	GR_ST_DEFINED,
	GR_ST_STARTING,
	GR_ST_RUNNING,
	GR_ST_STOPPING,
	GR_ST_STOPPED,
	GR_ST_DELETING,
	GR_ST_PENDING,      /* queued: no host had room (pending.c); no host work done */
	GR_ST__COUNT
};

/* Workload class (seed 004): critical wants strong isolation, elastic wants
 * speed, density and live resizing. */
enum gr_inst_class { GR_CLASS_ELASTIC, GR_CLASS_CRITICAL };

enum gr_restart_policy { GR_RESTART_NO, GR_RESTART_ALWAYS, GR_RESTART_ON_FAILURE };

#define GR_INST_NAME_MAX 64   /* 63 characters + NUL */
#define GR_INST_IMAGE_MAX 64
#define GR_INST_HOST_MAX 256

struct gr_instance {
	/* configuration (fixed at creation: name, image, backend, cls) */
	char name[GR_INST_NAME_MAX];
	char image[GR_INST_IMAGE_MAX];
	enum gr_backend backend;        /* JSON "type" */
	enum gr_inst_class cls;         /* JSON "class" */
	char backend_reason[160];       /* why this backend, for `gureum show` */
	double cpu;                     /* CPUs; 0 = no limit (containers) */
	uint64_t memory;                /* bytes; 0 = no limit (containers) */
	int64_t pids;                   /* 0 = no limit */
	char **env;                     /* "K=V", NULL-terminated, never NULL */
	char **cmd;                     /* NULL = the image's default */
	bool ephemeral;
	bool privileged;                /* containers: no user namespace (fixed at creation) */
	enum gr_restart_policy restart;
	json_t *options;                /* driver options object, never NULL */
	struct gr_net_nic nics[GR_NET_NICS_MAX]; /* JSON "nics"; fixed at creation (network.c
					 * fills address and MAC) */
	unsigned n_nics;
	/* lifecycle (written by the state machine) */
	enum gr_inst_state state;
	char op_id[64];                 /* operation under way, "" = none */
	char op_kind[32];
	pid_t pid;                      /* main process while running, else 0 */
	int exit_code;                  /* last exit status, -1 = none or unknown */
	int64_t restart_count;
	int64_t created, updated;       /* seconds since the epoch */
	char host[GR_INST_HOST_MAX];    /* where it runs or last ran, "" = nowhere yet */
	char *error;                    /* last failure, NULL = none */
	/* state pending only: {"request","start","queued","reasons"} (pending.c);
	 * NULL otherwise.  host "" while unassigned, the chosen host once the
	 * leader assigned it. */
	json_t *pending;
	/* store metadata (never encoded) */
	int64_t mod_revision;           /* of the record this was read from / written as */
	int64_t create_revision;
};

const char *gr__state_name(enum gr_inst_state st);
/* -1 when unknown. */
int gr__state_parse(const char *s);
const char *gr__class_name(enum gr_inst_class c);
const char *gr__backend_name(enum gr_backend b);
const char *gr__restart_name(enum gr_restart_policy p);
/* The transition table: may an instance in `from` be recorded in `to`?
 * (A same-state write, e.g. a config change, is a transition too.) */
bool gr__state_may(enum gr_inst_state from, enum gr_inst_state to);
static inline bool gr__state_resting(enum gr_inst_state st)
{
	return st == GR_ST_DEFINED || st == GR_ST_RUNNING || st == GR_ST_STOPPED;
}
/* Does it hold (or is it about to hold) host resources? */
static inline bool gr__state_active(enum gr_inst_state st)
{
	return st == GR_ST_STARTING || st == GR_ST_RUNNING || st == GR_ST_STOPPING;
}

void gr__inst_clear(struct gr_instance *in);
void gr__inst_copy(struct gr_instance *dst, const struct gr_instance *src);
/* Set/clear the error text (printf-style; NULL fmt clears). */
void gr__inst_set_error(struct gr_instance *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The JSON text of an instance (record and API document alike; compact,
 * sorted keys).  malloc'd; *len may be NULL. */
char *gr__inst_encode(const struct gr_instance *in, size_t *len);
/* A JSON object of the instance (new reference). */
json_t *gr__inst_to_json(const struct gr_instance *in);
/* Parse a stored record.  EBADMSG naming the field when it is not an
 * instance record.  Counts in gr__inst_decodes. */
int gr__inst_decode(const char *text, size_t len, struct gr_instance *out, gr_error_t *err);
/* Records parsed since start (a debug counter, for the launch benchmark). */
extern _Atomic unsigned long long gr__inst_decodes;

/* Validate a create request (API body) into an instance: every field named on
 * error (EINVAL), nothing stored.  Class and backend are chosen later
 * (gr__backend_choose, which needs the image's kind): req's "class" and
 * "type" are only checked for shape here and returned in *cls / *type
 * (borrowed from req, NULL when absent). */
int gr__inst_from_request(json_t *req, struct gr_instance *out, const char **cls,
			  const char **type, gr_error_t *err);
/* Apply config changes ({"memory","cpu","pids","env","restart","ephemeral",
 * "options"}) to a copy of in: *out is the changed instance.  EINVAL naming
 * the field; fields fixed at creation are refused. */
int gr__inst_apply_config(const struct gr_instance *in, json_t *changes, struct gr_instance *out,
			  gr_error_t *err);

/* Name rule shared with the CLI (control.h: gr_name_valid). */

#endif
