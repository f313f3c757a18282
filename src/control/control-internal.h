/*
 * control-internal.h - shared between the control layer's files.  They call
 * each other in one direction only (top to bottom; no file calls a file
 * above it, checked by tests/integration/lint/layers.sh):
 *
 *   control.c    open/close, the loop's entry points (tick, dispatch), metrics
 *   move.c       live moves of running VMs to another host (journal, recovery)
 *   history.c    metric history: the tick's samples, rings under the state folder
 *   route.c      per-instance calls for another host's instances (request
 *                records in the store) and the pool's choice of a host
 *   pending.c    queued instances: the leader's placement round, the owner's claim
 *   hosts.c      membership: host record and lease, leader lease, host list
 *   cluster.c    pool init/join/leave (the join token, pool.url)
 *   snapshot.c   instance snapshots (jobs on worker threads)
 *   recover.c    restart recovery, exits seen while running, restart policies
 *   lifecycle.c  create/start/stop/delete/config/exec/console: the state machine
 *   netforward.c port forwards: the API's add, list, delete
 *   network.c    networks and their addresses in the store, the NAT table's content
 *   netfwdrec.c  port forward records, this host's DNAT rules from them
 *   netdhcp.c    this host's dnsmasq per DHCP network (the reconciler)
 *   netvxlan.c   vxlan networks: VNIs in the store, each host's devices and FDB from it
 *   netlimit.c   instances' network rate limits (records, tc on their links)
 *   netmetrics.c per-NIC traffic counters for /metrics
 *   images.c     image calls (import/build jobs on worker threads)
 *   distrib.c    image distribution: the pool's image records, fetching a master
 *   snaprec.c    snapshot records in the store
 *   watch.c      pidfds of running instances
 *   index.c      the instance records: the store's and the in-memory index's
 *   place.c      admission through the scheduler, on the index's host usage
 *   ops.c        the operation journal
 *   backend.c    workload class -> backend (pure)
 *   instance.c   the typed instance: codec, validation, transitions (pure)
 *   core.c       name locks, events, worker threads, driver views
 */
#ifndef GR_CONTROL_INTERNAL_H
#define GR_CONTROL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "agent/driver.h"
#include "control/control.h"
#include "control/instance.h"
#include "image/image.h"
#include "store/records.h"

#define GR_KEY_INSTANCES "/gureum/instances/"
#define GR_KEY_OPS "/gureum/ops/"
#define GR_KEY_SNAPSHOTS "/gureum/snapshots/"
#define GR_KEY_HOSTS "/gureum/hosts/"          /* <name> record, <name>/alive on its lease */
#define GR_KEY_CLUSTER "/gureum/cluster"        /* the pool: id, join token's hash */
#define GR_KEY_LEADER "/gureum/leases/leader"  /* on the leader's host lease */
#define GR_KEY_CLUSTER_CONFIG "/gureum/cluster/config" /* pool settings: placement.policy */
#define GR_KEY_REQUESTS "/gureum/requests/"     /* <host>/<id>: calls routed to host's daemon */
#define GR_PLACE_POLICY_DEFAULT "least-instances"

struct gr__watch {
	char *name;
	pid_t pid;
	int pidfd;
};

struct gr__index;
struct gr__hosts;
struct gr__place_host;

struct gr_control {
	char *state_dir, *run_dir, *rt_root, *images_dir, *layers_dir, *inst_dir, *cgroup_prefix;
	char hostname[256];
	struct gr_store *store;
	struct gr_image_ctx img;
	struct gr_agent agent;
	struct gr__index *index;    /* index.c */
	/* the leader's pool-wide work after each membership round (hosts.c's
	 * thread calls it; set by control.c: pending.c sits below hosts.c) */
	void (*leader_work)(struct gr_control *c);
	struct gr__hosts *hosts;    /* hosts.c */
	int host_ttl;               /* host lease TTL, seconds */
	char *host_version, *host_address;
	double started;             /* epoch seconds */
	atomic_bool left_pool;      /* cluster leave done: the record is not rewritten */
	pthread_t route_thread;     /* route.c: runs the requests addressed to this host */
	bool route_running;
	int route_fd;               /* its store subscriber fd */
	json_t *peer;               /* the host record's "peer" object, or NULL */
	gr_control_peer_get_fn peer_get; /* distrib.c's fetches; NULL = masters stay per host */
	gr_control_peer_create_fn peer_create; /* route.c's creates on a host with a peer */
	void *peer_ud;
	gr_control_peer_post_fn peer_post; /* move.c's calls to the other host of a move */

	pthread_mutex_t lock;       /* protects everything below */
	pthread_cond_t cond;        /* busy set, events, ops changed */
	char **busy;                /* names being worked on */
	size_t n_busy;
	json_t *events;             /* array of the last events */
	uint64_t ev_seq;
	struct gr__watch *watches;
	size_t n_watches;
	int epfd;                   /* pidfds of running instances, and the store's feed */
	int feed_fd;                /* the store's change notifications (in epfd) */
	unsigned ticks;             /* gr_control_tick calls (loop thread only) */
	int lock_fd;                /* flock on <state_dir>/gureumd.lock */
	atomic_bool closing;
	atomic_bool vxlan_dirty;    /* the store changed: netvxlan.c resyncs on the next tick */
	atomic_int workers;         /* detached worker threads alive */
};

/* ---- route.c ---- */
/* Start / stop the thread that claims and runs requests for this host. */
int gr__route_start(struct gr_control *c, gr_error_t *err);
void gr__route_stop(struct gr_control *c);

/* ---- cluster.c ---- */
/* The pool this state folder joined (malloc'd store URL), or NULL. */
char *gr__cluster_pool_url(const char *state_dir);
struct gr_sched_policy_ops;
/* The pool's placement policy (placement.policy, default least-instances). */
int gr__cluster_policy(struct gr_control *c, const struct gr_sched_policy_ops **out,
		       gr_error_t *err);
/* A policy by name: EINVAL naming it and listing the valid ones. */
int gr__cluster_policy_parse(const char *name, const struct gr_sched_policy_ops **out,
			     gr_error_t *err);

/* ---- hosts.c: membership ---- */
/* Put this host's record and take its name (alive key on a new lease):
 * EEXIST naming the name when another daemon holds it online. */
int gr__hosts_register(struct gr_control *c, gr_error_t *err);
/* Campaign once, then renew, refresh and lead on a thread of its own. */
int gr__hosts_start(struct gr_control *c, gr_error_t *err);
/* Stop the thread and revoke the lease (offline now, leadership released). */
void gr__hosts_stop(struct gr_control *c);
bool gr__is_leader(struct gr_control *c);
/* This host's lease (0 when none). */
int64_t gr__hosts_lease(struct gr_control *c);
/* (core.c) Host `name`: 1 with *online and *offline_since (0 unknown) / 0 no record / -1. */
int gr__host_state(struct gr_control *c, const char *name, bool *online, double *offline_since,
		   gr_error_t *err);
/* Every host record as the placer sees it; free with gr__place_hosts_free. */
int gr__hosts_for_placement(struct gr_control *c, struct gr__place_host **out, size_t *n,
			    gr_error_t *err);
void gr__place_hosts_free(struct gr__place_host *h, size_t n);
/* A leader's write: txn of cmps + "the leader key's mod_revision is the one we
 * won with", running ops on success.  1 applied / 0 a compare failed or we
 * are not (any more) the leader / -1 error. */
int gr__leader_txn(struct gr_control *c, const struct gr_store_cmp *cmps, size_t n_cmps,
		   const struct gr_store_op *ops, size_t n_ops, gr_error_t *err);

/* ---- pending.c: instances queued until a host has room ---- */
/* Record req (a create body the policy refused on every host: reasons) as a
 * pending instance; *out its document. */
int gr__pending_queue(struct gr_control *c, json_t *req, bool start, const char *reasons,
		      json_t **out, gr_error_t *err);
/* The leader's part of its round: assign pending instances, oldest first. */
void gr__pending_round(struct gr_control *c);
/* The request thread's part: create the pending instances assigned here. */
void gr__pending_claims(struct gr_control *c);

/* ---- core.c ---- */
void gr__lock_name(struct gr_control *c, const char *name);
void gr__unlock_name(struct gr_control *c, const char *name);
void gr__event(struct gr_control *c, const char *kind, const char *name, const char *state,
	       const char *detail);
/* Run fn(arg) on a detached worker thread (counted, so close can wait). */
void gr__spawn(struct gr_control *c, void *(*fn)(void *), void *arg);
/* The driver's view of an instance: pointers into in, and the instance folder
 * in dir (the caller's buffer of GR__DIR_MAX bytes). */
#define GR__DIR_MAX 4096
void gr__spec_of(const struct gr_control *c, const struct gr_instance *in, struct gr_inst_spec *s,
		 char *dir);
const struct gr_driver_ops *gr__driver(const struct gr_instance *in);
/* The driver's figures of a running instance: 0, or -1 when it is not running or has none. */
int gr__running_stats(struct gr_control *c, const struct gr_instance *in, struct gr_drv_stats *st);
/* Is host another pool member (not this daemon's name, and a host record
 * exists)?  "" or a name with no record (this machine renamed): no. */
bool gr__host_elsewhere(struct gr_control *c, const char *host);
/* 0 when in is this host's; EREMOTE naming its host and what (e.g. "exec
 * and console") when it is another pool member's. */
int gr__local_only(struct gr_control *c, const struct gr_instance *in, const char *what,
		   gr_error_t *err);

/* ---- instance.c: instance.h ---- */

/* ---- backend.c: the workload class and the backend it implies (pure) ---- */
struct gr__backend {
	enum gr_inst_class cls;
	enum gr_backend type;
	bool class_given, type_given, from_image;
	char reason[160];    /* why this type, e.g. "class critical: strong isolation by default" */
};
/* cls and type as the request gave them (NULL = not given); image_kind the
 * image's kind (GR_IMAGE_KIND_*), used when neither is given.  The image must
 * suit the result: EINVAL naming the image and its kind otherwise. */
int gr__backend_choose(const char *cls, const char *type, const char *image,
		       const char *image_kind, struct gr__backend *out, gr_error_t *err);

/* ---- ops.c: the operation journal ---- */
struct gr__op {
	char id[64];
	json_t *doc;         /* the record as written, owned */
};
/* Record a new operation (status "running") before the work it announces:
 * -1 (nothing to do then) when the journal cannot be written. */
int gr__op_begin(struct gr_control *c, const char *kind, const char *target, struct gr__op *op,
		 gr_error_t *err);
void gr__op_progress(struct gr_control *c, struct gr__op *op, json_t *progress);
/* Record the end (success when err is NULL) and release op. */
void gr__op_end(struct gr_control *c, struct gr__op *op, const gr_error_t *err, json_t *result);
int gr__ops_recover(struct gr_control *c, gr_error_t *err);
/* Wake waiters of gr_control_op_get. */
void gr__ops_changed(struct gr_control *c);

/* ---- place.c: admission, on the index's host usage (index lock held) ---- */
struct gr__placer;
/* A pool member as the placer sees it (hosts.c reads them from the records). */
struct gr__place_host {
	const char *name;
	bool online;
	bool excluded;  /* down for this one choice, even this host (pending.c) */
	uint32_t cores;
	uint64_t mem_mib;
};
struct gr__placer *gr__placer_new(const char *hostname, gr_error_t *err);
void gr__placer_free(struct gr__placer *p);
/* Learn the pool's hosts (capacity, online or not); unknown ones are added. */
void gr__placer_hosts(struct gr__placer *p, const struct gr__place_host *hosts, size_t n);
/* Choose a host for in with policy (or on target only, when not NULL) and
 * reserve its share there.  EAGAIN with the scheduler's reason. */
int gr__placer_choose(struct gr__placer *p, const struct gr_sched_policy_ops *policy,
		      const char *target, const struct gr_instance *in, char *host, size_t len,
		      gr_error_t *err);
/* Keep the host usage in step with an instance's record (NULL = removed). */
void gr__placer_track(struct gr__placer *p, const char *name, const struct gr_instance *in);
/* Admit in on this host and reserve its share there (until tracked out).
 * EAGAIN with the scheduler's reason when it does not fit now. */
int gr__placer_place(struct gr__placer *p, const struct gr_instance *in, char *host, size_t len,
		     gr_error_t *err);
/* EINVAL naming the field when in could never fit any host, even idle. */
int gr__placer_check(const struct gr__placer *p, const struct gr_instance *in, gr_error_t *err);
/* Per host: down, or memory and CPU free against what in needs. */
void gr__placer_why(const struct gr__placer *p, const struct gr_instance *in, char *buf, size_t len);

/* ---- index.c: instance records (the only reader and writer of them) ---- */
int gr__index_open(struct gr_control *c, gr_error_t *err);
void gr__index_close(struct gr_control *c);
/* Apply the store's changes since the index last looked (the loop, after the
 * feed fd fired; also at open). */
void gr__index_feed(struct gr_control *c);
/* A copy of the instance (caller clears it).  ENOENT naming it when absent. */
int gr__inst_get(struct gr_control *c, const char *name, struct gr_instance *out, gr_error_t *err);
/* Write a new record (in->state set by the caller): EEXIST when the name is
 * taken.  in->mod_revision/create_revision are updated. */
int gr__inst_create(struct gr_control *c, struct gr_instance *in, gr_error_t *err);
/* The same over the pending record at pending_rev (pending.c's claim):
 * EALREADY when that record changed (deleted, or claimed already). */
int gr__inst_replace_pending(struct gr_control *c, struct gr_instance *in, int64_t pending_rev,
			     gr_error_t *err);
/* Record in in state `to` (checked against the transition table), with the
 * other fields as in holds them, by compare-and-swap on in->mod_revision:
 * EBUSY naming the current state when someone else wrote it meanwhile (in
 * then holds the current record).  updated is stamped; op is cleared unless
 * the caller set op_id for this step. */
int gr__inst_move(struct gr_control *c, struct gr_instance *in, enum gr_inst_state to,
		  gr_error_t *err);
/* Remove the record (a define rolled back, a delete done). */
int gr__inst_remove(struct gr_control *c, const struct gr_instance *in, gr_error_t *err);
/* Sorted names of every instance (NULL-terminated strv). */
char **gr__index_names(struct gr_control *c);
/* {"instances":[...]} from the records as stored (no parse).  malloc'd. */
void gr__index_list_text(struct gr_control *c, char **out, size_t *len);
/* Instances by state, and per running instance fn(in, ud) on a copy. */
void gr__index_count(struct gr_control *c, size_t counts[GR_ST__COUNT]);
/* Names of the instances using image, ", "-separated, into who; 0 none. */
size_t gr__index_image_users(struct gr_control *c, const char *image, char *who, size_t len);
/* Admission for in (placer under the index lock). */
int gr__index_place(struct gr_control *c, const struct gr_instance *in, char *host, size_t len,
		    gr_error_t *err);
int gr__index_check_fits(struct gr_control *c, const struct gr_instance *in, gr_error_t *err);
/* The pool's choice of a host for in (gr__placer_choose on the given hosts). */
int gr__index_choose(struct gr_control *c, const struct gr_sched_policy_ops *policy,
		     const char *target, const struct gr__place_host *hosts, size_t n_hosts,
		     const struct gr_instance *in, char *host, size_t len, gr_error_t *err);
/* The same, with the hosts named in `except` (a JSON array of names, may be
 * NULL) down for this choice only: the snapshot is back as hosts say when it
 * returns (one hold of the index lock). */
int gr__index_choose_except(struct gr_control *c, const struct gr_sched_policy_ops *policy,
			    const struct gr__place_host *hosts, size_t n_hosts, const json_t *except,
			    const struct gr_instance *in, char *host, size_t len, gr_error_t *err);
/* Per host, what the placer sees for in: "h1: down; h2: 128 of 24105 MiB
 * free (too little), 1.50 of 16 CPUs free" (the text of a pending record). */
void gr__index_why(struct gr_control *c, const struct gr_instance *in, char *buf, size_t len);
/* The placer follows name's record again (drops a reservation none backs). */
void gr__index_retrack(struct gr_control *c, const char *name);
/* Is there a record of name (for sweeps)? */
bool gr__index_known(const char *name, void *c);
/* CLOCK_REALTIME ms milliseconds from now, for pthread_cond_timedwait (core.c). */
struct timespec gr__deadline_ms(int ms);

/* ---- watch.c: pidfds of running instances ---- */
void gr__watch_add(struct gr_control *c, const char *name, pid_t pid);
struct gr__exited {
	char *name;
	pid_t pid;
	int status;   /* exit status (128+signal), -1 unknown */
};
/* Exits seen on c->epfd's events (fd the readable pidfd); the caller frees names. */
bool gr__watch_take(struct gr_control *c, int fd, struct gr__exited *out);
/* Names being watched (running instances), NULL-terminated strv. */
char **gr__watch_names(struct gr_control *c);
/* Is pid the main process of a watched instance? (the stray reaper leaves it) */
bool gr__watch_has_pid(pid_t pid, void *c);

/* ---- distrib.c: masters across the pool ---- */
/* Before defining an instance here from `name`: fetch the master from an online
 * holder if this host lacks it.  0 when it is here now (or distribution is off). */
int gr__distrib_ensure(struct gr_control *c, const char *name, gr_error_t *err);
/* This host now holds / no longer holds master `name`; publish all at start. */
void gr__distrib_published(struct gr_control *c, const char *name);
void gr__distrib_deleted(struct gr_control *c, const char *name);
void gr__distrib_publish_all(struct gr_control *c);

/* ---- snaprec.c: snapshot records (irev: the instance's create_revision) ---- */
/* 1 found (*rec a new reference) / 0 none or stale (a stale one is dropped) / -1. */
int gr__snaprec_get(struct gr_control *c, int64_t irev, const char *inst, const char *snap,
		    json_t **rec, gr_error_t *err);
/* Like get, ENOENT naming both when there is none. */
int gr__snaprec_need(struct gr_control *c, int64_t irev, const char *inst, const char *snap,
		     json_t **rec, gr_error_t *err);
int gr__snaprec_put(struct gr_control *c, const char *inst, const char *snap, const json_t *rec,
		    gr_error_t *err);
int gr__snaprec_delete(struct gr_control *c, const char *inst, const char *snap, gr_error_t *err);
/* Every current record of inst as a JSON array (new reference), sorted by name. */
int gr__snaprec_list(struct gr_control *c, int64_t irev, const char *inst, json_t **out,
		     gr_error_t *err);
/* Drop every record of inst (its layers, holding the host snapshots, are gone). */
int gr__snaprec_forget(struct gr_control *c, const char *inst, gr_error_t *err);

/* ---- lifecycle.c (the caller holds the name lock for the __locked ones) ---- */
/* The public calls of the same names without routing: they act on this host
 * (route.c calls them for this host's instances and for requests it owns). */
/* hold: record this host as the instance's from its definition (a pool). */
int gr__instance_create(struct gr_control *c, json_t *req, bool start, bool hold, json_t **out,
			gr_error_t *err);
int gr__instance_action(struct gr_control *c, const char *name, const char *action,
			json_t *opts, json_t **out, gr_error_t *err);
int gr__instance_delete(struct gr_control *c, const char *name, bool force, gr_error_t *err);
/* The create of a pending instance assigned to this host: its defining
 * record replaces the pending record at pending_rev (the claim; EALREADY
 * when the record changed, i.e. deleted or claimed already). */
int gr__instance_create_claim(struct gr_control *c, json_t *req, bool start, int64_t pending_rev,
			      json_t **out, gr_error_t *err);
int gr__instance_config(struct gr_control *c, const char *name, json_t *changes,
			json_t **out, gr_error_t *err);
int gr__start_locked(struct gr_control *c, const char *name, gr_error_t *err);
int gr__stop_locked(struct gr_control *c, const char *name, int timeout_s, bool force,
		    gr_error_t *err);
/* Remove what is left of an instance that no longer runs (cleanup through
 * the driver) and record it stopped with status (-1 unknown) and why; 1 when
 * the restart policy wants it started again (*rev = the record's revision). */
int gr__settle_stopped(struct gr_control *c, struct gr_instance *in, int status, const char *why,
		       int64_t *rev);

/* ---- network.c ---- */
/* Check in's NICs against their networks and take an address for each
 * (the given one, or the lowest free), a MAC when it has none, and copy
 * bridge and subnet into the NIC: in the store before in's record is
 * written.  On failure nothing stays taken.  EINVAL/ENOENT/EEXIST/ENOSPC
 * naming the field. */
int gr__net_alloc(struct gr_control *c, struct gr_instance *in, gr_error_t *err);
/* Release in's addresses (those still recorded as in's). */
void gr__net_release(struct gr_control *c, const struct gr_instance *in);
/* Address keys whose instance has no record: released.  Returns how many. */
int gr__net_sweep(struct gr_control *c);
/* Rebuild this host's NAT table from the network records. */
int gr__net_sync(struct gr_control *c, gr_error_t *err);
/* Create the default network gr0 on cidr ("none"/NULL: nothing) when absent. */
int gr__net_default(struct gr_control *c, const char *cidr, gr_error_t *err);
/* A create request without "nics" joins gr0 when that network exists ("nics":
 * [] asks for none). */
void gr__net_default_nic(struct gr_control *c, const json_t *req, struct gr_instance *in);

/* ---- netfwdrec.c ---- */
/* A forward record as read: its key, document and revision. */
struct fwd_rec {
	char *key;
	json_t *doc;
	int64_t mod_revision;
};
/* "tcp"/"udp" (static strings) for s, else NULL. */
const char *gr__fwd_proto(const char *s);
/* Every readable forward record of net (NULL: of all networks); free with
 * gr__fwd_free. */
int gr__fwd_read(struct gr_control *c, const char *net, struct fwd_rec **out, size_t *n, gr_error_t *err);
void gr__fwd_free(struct fwd_rec *r, size_t n);
/* The DNAT rules of this host: forwards whose instance has an address on
 * the forward's network and runs (or may run) here (malloc'd array). */
int gr__fwd_rules(struct gr_control *c, struct gr_net_fwd **out, size_t *n, gr_error_t *err);
/* Remove the forwards to in / of network net / whose instance has no
 * record (the start-up sweep): how many.  Best effort: logs. */
int gr__fwd_forget_instance(struct gr_control *c, const struct gr_instance *in);
int gr__fwd_forget_network(struct gr_control *c, const char *net);
int gr__fwd_sweep(struct gr_control *c);

/* ---- netlimit.c ---- */
/* Put the rate limits back on the links of limited instances running here
 * whose host link is not the one last limited (a restart, a daemon start).
 * The loop thread; best effort: logs. */
void gr__netlimit_sync(struct gr_control *c);
/* The instance is gone: its limit record too. */
void gr__netlimit_forget(struct gr_control *c, const char *name);

/* ---- netmetrics.c ---- */
/* The per-NIC counters of this host's running instances, as metrics text
 * (malloc'd). */
char *gr__net_metrics(struct gr_control *c);

/* ---- netdhcp.c ---- */
/* Make this host's dnsmasq processes match the network records: one per
 * network with "dhcp" (bridge made, reservations written, started when none
 * runs, SIGHUP when a reservation changed), none for any other (stopped,
 * folder removed).  Any thread; serialised inside.  Best effort: logs. */
void gr__netdhcp_sync(struct gr_control *c);

/* ---- netvxlan.c ---- */
/* The request's vni/type pair is acceptable (EINVAL naming "vni"). */
int gr__vxlan_check(const json_t *req, gr_error_t *err);
/* Write the vxlan network doc at key with its VNI (req's "vni", else the
 * lowest free) in one txn with the VNI's key: 1 written / 0 the name is
 * taken / -1 (EEXIST naming the VNI's holder when the given VNI is taken). */
int gr__vxlan_put(struct gr_control *c, const char *key, json_t *doc, const json_t *req,
		  gr_error_t *err);
/* The network (its record doc, already deleted) is gone: release its VNI
 * key and remove its devices here. */
void gr__vxlan_deleted(struct gr_control *c, const char *name, const json_t *doc);
/* This host's underlay address (EADDRNOTAVAIL saying how to give one). */
int gr__vxlan_local(struct gr_control *c, uint32_t *out, gr_error_t *err);
/* Make this host's vxlan devices and FDB match the records (idempotent;
 * any thread). */
void gr__vxlan_sync(struct gr_control *c);
/* Before an instance joins vxlan network net here: this host can carry it,
 * and its devices exist. */
int gr__vxlan_ready(struct gr_control *c, const char *net, gr_error_t *err);

/* ---- recover.c ---- */
int gr__recover(struct gr_control *c, gr_error_t *err);
/* move.c: resolve the live moves a daemon death interrupted (after gr__recover). */
void gr__move_recover(struct gr_control *c);
/* An exit seen by the loop: follow it up on a worker thread. */
void gr__exit_seen(struct gr_control *c, const char *name, pid_t pid, int status);

/* history.c: a sample of the running instances and the host (every GR_HIST_SAMPLE ticks) */
#define GR_HIST_SAMPLE 5
void gr__history_tick(struct gr_control *c);

#endif
