/*
 * control.h - lifecycle orchestration of one host's instances and images.
 *
 * The control layer owns the instance records in the store and the state
 * machine every lifecycle step walks through:
 *
 *   defining -> defined -> starting -> running -> stopping -> stopped
 *                  ^                                            |
 *                  +--------------------------------------------+   deleting -> (gone)
 *
 * Each transition is written to the store (instances/<name>, with the
 * operation doing it in "op") before the host work it announces, so a daemon
 * that dies at any point finds on restart what was half done and resumes or
 * rolls it back (gr_control_open() -> recovery).  Host work goes through the
 * driver table (src/agent/driver.h).  Requests and answers are JSON (jansson)
 * in the shapes documented in docs/API.md; bad input fails with EINVAL and a
 * message naming the field, before anything is stored.
 *
 * Threads: every function may be called from any thread; one instance is
 * worked on by one thread at a time (per-name lock), different instances in
 * parallel.  json_t results are new references owned by the caller.
 */
#ifndef GR_CONTROL_CONTROL_H
#define GR_CONTROL_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"

/* The daemon's peer channel (api/peer.h) as control sees it: GET path from host (its
 * record's "peer" object), the 200 body into fd.  Any thread. */
typedef int (*gr_control_peer_get_fn)(void *ud, const char *host, const json_t *peer, const char *path,
				      int fd, gr_error_t *err);

/* The same channel for a create placed on another host (from: this host's name): req is
 * the create body with "target" = host and "start"; host carries it out locally and *out (if out) is the
 * instance it answered (also on a failed launch's start, with -1).  Any thread. */
typedef int (*gr_control_peer_create_fn)(void *ud, const char *from, const char *host, const json_t *peer,
					 json_t *req, json_t **out, gr_error_t *err);

/* The same channel for a JSON call (POST path, req the body) another host serves for this
 * one (from: this host's name): 0 and *out (if out) the 2xx answer; else -1 with the
 * peer's error (its errno by code name).  Any thread. */
typedef int (*gr_control_peer_post_fn)(void *ud, const char *from, const char *host, const json_t *peer,
				       const char *path, json_t *req, json_t **out, gr_error_t *err);

struct gr_control_opts {
	const char *state_dir;      /* default /var/lib/gureum */
	const char *run_dir;        /* default /run/gureum */
	const char *cgroup_prefix;  /* default "gureum" */
	bool no_recover;            /* skip recovery (tests) */
	const char *store_url;      /* default sqlite://STATE_DIR/state.db */
	const char *host_name;      /* default the machine's hostname */
	int host_ttl;               /* host lease TTL in seconds, default 10 */
	const char *host_address;   /* the API's address for other hosts, or NULL */
	const char *version;        /* recorded in the host record */
	uint32_t idmap_base, idmap_size; /* unprivileged containers' host ID ranges (0 = defaults) */
	const json_t *peer;         /* the host record's "peer" object (address, fingerprint,
				     * pin, cert), or NULL: no peer channel */
	gr_control_peer_get_fn peer_get; /* with peer: fetch masters from other hosts */
	gr_control_peer_create_fn peer_create; /* with peer: creates placed on a host with a peer */
	void *peer_ud;
	gr_control_peer_post_fn peer_post; /* with peer: live moves (move.c) */
	const char *default_network; /* CIDR of the default network gr0 made at start, NULL/"none" = none */
};

struct gr_control;

/* Open the store and image module under state_dir, recover every instance
 * (reattach running ones, finish or roll back half-done operations, apply
 * restart policies).  Must be called before the API serves requests. */
/* This host's name in the pool. */
const char *gr_control_host_name(struct gr_control *c);
/* The master `name` in the image module's export form (gr_image_export) into fd. */
int gr_control_image_export(struct gr_control *c, const char *name, int fd, gr_error_t *err);

int gr_control_open(const struct gr_control_opts *o, struct gr_control **out, gr_error_t *err);
/* Stop background work and close; instances keep running. */
void gr_control_close(struct gr_control *c);

/* An fd that becomes readable when a watched instance process exited; the
 * daemon's loop then calls gr_control_dispatch() (non-blocking, on the loop;
 * it hands the follow-up work to a worker thread). */
int gr_control_watch_fd(struct gr_control *c);
void gr_control_dispatch(struct gr_control *c);
/* Once a second from the loop: store lease expiry and change notices. */
void gr_control_tick(struct gr_control *c);

/* Instances.  req: {"name","image","type","class","cpu","memory","pids","env","cmd",
 * "ephemeral","restart","options","target"}; start: also start it (launch).
 * In a pool the host is target or the pool policy's choice; another host
 * defines (and starts) it, over the peer channel (opts.peer_create) when it
 * publishes a peer address, else through a request record (route.c).  The
 * calls on one instance (action, delete, config) act through the daemon of
 * the host its record names (the API forwards them over the peer channel
 * first, see gr_control_instance_owner); without a peer channel exec,
 * console, logs and snapshots of another host's instance are refused
 * (EREMOTE naming the host).  When the
 * start of a launch fails the instance is kept at rest: -1, err says so, and
 * *out (if out) is the kept record. */
int gr_control_instance_create(struct gr_control *c, json_t *req, bool start, json_t **out,
			       gr_error_t *err);
int gr_control_instance_list(struct gr_control *c, json_t **out, gr_error_t *err);
/* Who holds instance name: 0 this host (or no other pool member: act here);
 * 1 another pool member, its name in host and *peer its record's "peer" object
 * (new reference) or NULL when it publishes none.  An owner with a peer object
 * that is offline: -1 EHOSTDOWN naming it (nothing was changed).  ENOENT: no
 * such instance.  For the API's forwarding; control itself never forwards. */
int gr_control_instance_owner(struct gr_control *c, const char *name, char *host, size_t len,
			      json_t **peer, gr_error_t *err);
/* The same list as JSON text, straight from the stored documents (no
 * parse/serialize round: the hot path of GET /v1/instances).  malloc'd. */
int gr_control_instance_list_text(struct gr_control *c, char **out, size_t *len, gr_error_t *err);
int gr_control_instance_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err);
/* action: "start", "stop", "restart", "kill"; opts: {"force","timeout","signal"} or NULL. */
int gr_control_instance_action(struct gr_control *c, const char *name, const char *action,
			       json_t *opts, json_t **out, gr_error_t *err);
int gr_control_instance_delete(struct gr_control *c, const char *name, bool force, gr_error_t *err);
/* changes: {"memory","cpu","pids","restart","ephemeral","env"}; applied live when running. */
int gr_control_instance_config(struct gr_control *c, const char *name, json_t *changes,
			       json_t **out, gr_error_t *err);
/* req: {"cmd":[..],"env":[..],"cwd","tty"}; runs with the given fds, waits. */
int gr_control_instance_exec(struct gr_control *c, const char *name, json_t *req, int fd_in,
			     int fd_out, int fd_err, int *exit_status, gr_error_t *err);
/* Same with a terminal: the pty master is sent to the unix socket
 * console_socket (the caller listens there).  req may hold "cols", "rows". */
int gr_control_instance_exec_tty(struct gr_control *c, const char *name, json_t *req,
				 const char *console_socket, int *exit_status, gr_error_t *err);
/* Live move of a running VM to another pool host (move.c, docs/MIGRATION.md).  req:
 * {"target", "bandwidth" (bytes/s or "100M"), "max_downtime_ms"}.  Everything checkable is
 * checked before anything starts (EINVAL/ENOENT/EHOSTDOWN/ENOTSUP/EAGAIN naming what);
 * then *op is the running operation ("move"), the work goes on in a worker thread. */
int gr_control_instance_move(struct gr_control *c, const char *name, json_t *req, json_t **op, gr_error_t *err);
/* The target's part, called over the peer channel by the source: prepare ({"source"}:
 * define, start the paused destination; *out {"address","nbd_port","mig_port","pid"}),
 * finish (after the switch-over: resume and watch), abort (remove this host's copy). */
int gr_control_move_prepare(struct gr_control *c, const char *name, json_t *req, json_t **out, gr_error_t *err);
int gr_control_move_finish(struct gr_control *c, const char *name, json_t *req, json_t **out, gr_error_t *err);
int gr_control_move_abort(struct gr_control *c, const char *name, json_t *req, json_t **out, gr_error_t *err);
/* The daemon's run folder (sockets live there). */
const char *gr_control_run_dir(const struct gr_control *c);
/* Console: *out_path the output log; *in_path (may be NULL) a unix socket
 * taking console input when the driver has one and the instance runs
 * (VM serial port), else NULL.  Both malloc'd. */
int gr_control_instance_console(struct gr_control *c, const char *name, char **out_path,
				char **in_path, gr_error_t *err);
/* Path of the instance's output log (malloc'd). */
int gr_control_instance_log_path(struct gr_control *c, const char *name, char **out,
				 gr_error_t *err);

/* Networks (network.c, docs/NETWORK.md).  create req: {"name", "subnet",
 * "nat", "type": "bridge"}: EINVAL naming the field (a CIDR that does not
 * parse, a subnet overlapping another network's), EEXIST a taken name;
 * delete: EBUSY naming the instances that still hold addresses in it.
 * Each document carries "addresses": {ip: instance}. */
int gr_control_network_create(struct gr_control *c, json_t *req, json_t **out, gr_error_t *err);
int gr_control_network_list(struct gr_control *c, json_t **out, gr_error_t *err);
int gr_control_network_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err);
int gr_control_network_delete(struct gr_control *c, const char *name, gr_error_t *err);
/* Port forwards of a network (netforward.c, docs/NETWORK.md): add from
 * {"hostport","instance","port"[,"proto"]}, list as {"forwards":[...]},
 * delete by host port (proto NULL: tcp and udp). */
/* An instance's network rate limits (netlimit.c): {"instance","in","out"}
 * (rates as "10mbit", null = none); set from {"limit"?, "in"?, "out"?}. */
int gr_control_instance_net_limit_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err);
int gr_control_instance_net_limit_set(struct gr_control *c, const char *name, json_t *req, json_t **out,
				      gr_error_t *err);
/* Change what can change of a live network: {"nat"?, "dhcp"?} (network.c);
 * the other fields are refused naming them. */
int gr_control_network_set(struct gr_control *c, const char *name, json_t *req, json_t **out,
			   gr_error_t *err);
int gr_control_network_forward_add(struct gr_control *c, const char *net, json_t *req, json_t **out,
				   gr_error_t *err);
int gr_control_network_forward_list(struct gr_control *c, const char *net, json_t **out, gr_error_t *err);
int gr_control_network_forward_delete(struct gr_control *c, const char *net, const char *hostport,
				      const char *proto, gr_error_t *err);

/* Hosts (hosts.c): {"hosts":[...]} and one host; each with state
 * online|offline (its lease alive or not), leader, lease, capacity, load,
 * instances, version, started, updated, offline_since. */
int gr_control_host_list(struct gr_control *c, json_t **out, gr_error_t *err);
int gr_control_host_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err);
/* Metric history (history.c, docs/API.md): kind "instance" or "host", range NULL/"hour"
 * or "day"; a host's history is kept by that host only (EREMOTE for another one). */
int gr_control_history(struct gr_control *c, const char *kind, const char *name, const char *range,
		       json_t **out, gr_error_t *err);

/* Pools (cluster.c, docs/CLUSTER.md).  init: {"id","token"} (the token is
 * shown this once); get: the pool record without the token's hash; join
 * {"address","token"}: checks the token against the pool's store and records
 * it for the next start (EACCES wrong token, nothing changed); leave. */
int gr_control_cluster_init(struct gr_control *c, json_t **out, gr_error_t *err);
int gr_control_cluster_get(struct gr_control *c, json_t **out, gr_error_t *err);
int gr_control_cluster_join(struct gr_control *c, json_t *req, json_t **out, gr_error_t *err);
int gr_control_cluster_leave(struct gr_control *c, json_t **out, gr_error_t *err);
/* Pool settings (/gureum/cluster/config): req NULL reads them, else merges
 * req ({"placement.policy": NAME}; EINVAL naming an unknown setting or
 * policy, listing the valid ones).  *out: the settings in force. */
int gr_control_cluster_settings(struct gr_control *c, json_t *req, json_t **out, gr_error_t *err);

/* Images (the image module, in the daemon).  import/build return an operation
 * ({"id",...}) at once and do the work on a worker thread. */
int gr_control_image_list(struct gr_control *c, json_t **out, gr_error_t *err);
int gr_control_image_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err);
int gr_control_image_delete(struct gr_control *c, const char *name, gr_error_t *err);
int gr_control_image_import(struct gr_control *c, json_t *req, json_t **op, gr_error_t *err);
int gr_control_image_build(struct gr_control *c, json_t *req, json_t **op, gr_error_t *err);

/* Operations: long work with progress.  wait_ms > 0 blocks until the
 * operation ends or the time passes. */
int gr_control_op_get(struct gr_control *c, const char *id, int wait_ms, json_t **out,
		      gr_error_t *err);
int gr_control_op_list(struct gr_control *c, json_t **out, gr_error_t *err);

/* Events: state changes, numbered from 1.  Returns the events with seq >
 * after (a JSON array, possibly empty after waiting up to wait_ms). */
json_t *gr_control_events(struct gr_control *c, uint64_t after, int wait_ms);

/* Prometheus text for instances by state, per-instance CPU and memory
 * (malloc'd, appended to by the API with its own latency figures). */
char *gr_control_metrics(struct gr_control *c);

/* Name rule shared with the CLI: [a-z0-9][a-z0-9-]{0,62}, no trailing '-'. */
int gr_name_valid(const char *field, const char *name, gr_error_t *err);
/* "512M", "2G", "1048576" -> bytes; EINVAL naming field otherwise. */
int gr_parse_size(const char *field, const char *s, uint64_t *out, gr_error_t *err);

#endif
