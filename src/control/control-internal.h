/*
 * control-internal.h - shared between the control layer's files:
 *   control.c    open/close, per-name locks, events, metrics
 *   instance.c   request validation, the instance document, doc -> driver spec
 *   lifecycle.c  create/start/stop/delete/config/exec (the state machine)
 *   recover.c    restart recovery, exit watching, restart policies
 *   ops.c        operation records and image work on worker threads
 */
#ifndef GR_CONTROL_INTERNAL_H
#define GR_CONTROL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include "agent/driver.h"
#include "control/control.h"
#include "image/image.h"
#include "store/records.h"

struct gr__watch {
	char *name;
	pid_t pid;
	int pidfd;
};

struct gr_control {
	char *state_dir, *run_dir, *rt_root, *images_dir, *layers_dir, *inst_dir, *cgroup_prefix;
	struct gr_store *store;
	struct gr_image_ctx img;
	struct gr_agent agent;

	pthread_mutex_t lock;       /* protects everything below */
	pthread_cond_t cond;        /* busy set, events, ops changed */
	char **busy;                /* names being worked on */
	size_t n_busy;
	json_t *events;             /* array of the last events */
	uint64_t ev_seq;
	struct gr__watch *watches;
	size_t n_watches;
	int epfd;                   /* pidfds of running instances */
	unsigned ticks;             /* gr_control_tick calls (loop thread only) */
	int lock_fd;                /* flock on <state_dir>/gureumd.lock */
	atomic_bool closing;
	atomic_int workers;         /* detached worker threads alive */
};

/* control.c */
void gr__lock_name(struct gr_control *c, const char *name);
void gr__unlock_name(struct gr_control *c, const char *name);
void gr__event(struct gr_control *c, const char *kind, const char *name, const char *state,
	       const char *detail);
/* Run fn(arg) on a detached worker thread (counted, so close can wait). */
void gr__spawn(struct gr_control *c, void *(*fn)(void *), void *arg);
char *gr__inst_key(const char *name);

/* instance.c */
/* Validate a create request into a full instance document (new reference). */
int gr__inst_from_request(json_t *req, json_t **doc, gr_error_t *err);
/* Validate config changes against doc; *merged is the updated doc. */
int gr__inst_apply_config(const json_t *doc, json_t *changes, json_t **merged, gr_error_t *err);
/* Fill spec from doc (copies; doc may be released after). */
struct gr__spec_holder {
	struct gr_inst_spec spec;
	char *dir, *name, *type, *image;
	char **env, **cmd;
	char *extra;
};
void gr__spec_from_doc(struct gr_control *c, const json_t *doc, struct gr__spec_holder *h);
void gr__spec_clear(struct gr__spec_holder *h);
const struct gr_driver_ops *gr__driver_of(const json_t *doc, gr_error_t *err);

/* backend.c: the workload class and the backend it implies (pure).  cls and
 * type as the request gave them (NULL = not given). */
struct gr__backend {
	const char *cls;     /* "critical" | "elastic" (static strings) */
	const char *type;    /* "vm" | "container" */
	bool class_given, type_given;
	char reason[160];    /* why this type, e.g. "class critical: strong isolation by default" */
};
int gr__backend_choose(const char *cls, const char *type, struct gr__backend *out, gr_error_t *err);
/* EINVAL naming the image and its kind when it cannot serve b->type. */
int gr__backend_check_image(const struct gr__backend *b, const char *image, const char *kind,
			    gr_error_t *err);

/* lifecycle.c (the caller holds the name lock for the __locked ones) */
int gr__start_locked(struct gr_control *c, const char *name, json_t **out, gr_error_t *err);
int gr__stop_locked(struct gr_control *c, const char *name, int timeout_s, bool force,
		    gr_error_t *err);
int gr__transition(struct gr_control *c, const char *name, const char *from, const char *to,
		   json_t *patch, gr_error_t *err);
int gr__get_doc(struct gr_control *c, const char *name, json_t **doc, gr_error_t *err);

/* place.c: admission through the scheduler; *host = the chosen host's name. */
int gr__place(struct gr_control *c, const json_t *doc, char **host, gr_error_t *err);

/* recover.c */
int gr__recover(struct gr_control *c, gr_error_t *err);
void gr__watch_add(struct gr_control *c, const char *name, pid_t pid);

/* ops.c */
/* Record a new operation (status "running"); returns its id (malloc'd). */
char *gr__op_begin(struct gr_control *c, const char *kind, const char *target);
void gr__op_progress(struct gr_control *c, const char *id, json_t *progress);
void gr__op_end(struct gr_control *c, const char *id, const gr_error_t *err, json_t *result);
int gr__ops_recover(struct gr_control *c, gr_error_t *err);

/* {"<field>": [the values of every record under prefix]} (ops.c). */
int gr__list_values(struct gr_control *c, const char *prefix, const char *field, json_t **out,
		    gr_error_t *err);

#endif
