/*
 * container.c - create, start, run, kill, delete: the parent side of the lifecycle.
 *
 * create: state folder -> cgroup (+ limits) -> seccomp compiled -> clone(init
 * with its namespaces) -> init joins the cgroup, gets its id maps -> sync with
 * init.c until it is ready -> state.json -> 'd' to the init, which then waits
 * on exec.fifo.  One process is created (no re-exec, no intermediate); the init
 * is a child of the caller.  Any failure kills the init and removes the cgroup
 * and the folder, so a failed create leaves nothing behind; should the caller
 * die instead, the init sees its sync socket close before 'd' and exits.
 * start writes one byte into exec.fifo.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *default_cgroup_path(const struct gr_oci_config *cfg, const char *id)
{
	if (cfg->cgroups_path && cfg->cgroups_path[0] == '/')
		return xstrdup(cfg->cgroups_path);
	if (cfg->cgroups_path && cfg->cgroups_path[0])
		return xasprintf("/gureum/%s", cfg->cgroups_path);
	return xasprintf("/gureum/%s", id);
}

static int write_idmap(pid_t pid, const char *file, const struct gr_oci_idmap *m, size_t n,
		       gr_error_t *err)
{
	char buf[4096];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%u %u %u\n", m[i].container_id,
				      m[i].host_id, m[i].size);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, o) < 0)
		return gr_error_sys(err, "linux.%s: cannot write %s",
				    !strcmp(file, "uid_map") ? "uidMappings" : "gidMappings", path);
	return 0;
}

static char *state_json_for_hooks(const struct gr_oci_config *cfg, const char *id,
				  const char *bundle, pid_t pid, enum gr_rt_status status)
{
	struct gr_rt_state st = { .id = (char *)id, .bundle = (char *)bundle,
				  .oci_version = cfg->oci_version, .status = status, .pid = pid,
				  .annotations = cfg->annotations, .n_annotations = cfg->n_annotations };
	return gr_rt_state_json(&st);
}

static void plan_free(struct gr__plan *plan)
{
	for (int i = 0; i < GR_NS_COUNT; i++)
		if (plan->join_fds[i] >= 0)
			close(plan->join_fds[i]);
	for (size_t i = 0; plan->mounts && i < plan->n_mounts; i++)
		free(plan->mounts[i].data);
	free(plan->mounts);
	free(plan->mount_context);
	gr__lsm_free(&plan->proc.lsm);
	gr__bpf_free(&plan->proc.bpf);
	if (plan->proc.console_fd >= 0)
		close(plan->proc.console_fd);
	if (plan->fifo_fd >= 0)
		close(plan->fifo_fd);
	if (plan->sync_fd >= 0)
		close(plan->sync_fd);
	free(plan->hook_state);
	free(plan->cg);
}

static char *default_env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       NULL };

/* Everything the child needs, prepared while allocation is still allowed. */
static int make_plan(struct gr__plan *plan, const struct gr_rt_opts *o, const char *bundle,
		     const struct gr_oci_config *cfg, gr_error_t *err)
{
	plan->cfg = cfg;
	plan->preserve_fds = o ? o->preserve_fds : 0;
	snprintf(plan->bundle, sizeof plan->bundle, "%s", bundle);
	if (!cfg->process)
		return gr_error_set(err, EINVAL, "process: missing (create needs a process to run)");
	if (!cfg->root_path)
		return gr_error_set(err, EINVAL, "root.path: missing");
	char root[PATH_MAX * 2];
	if (cfg->root_path[0] == '/')
		snprintf(root, sizeof root, "%s", cfg->root_path);
	else
		snprintf(root, sizeof root, "%s/%s", bundle, cfg->root_path);
	if (!realpath(root, plan->rootfs))
		return gr_error_sys(err, "root.path: %s", root);
	/* not listed = inherited from the runtime (config-linux.md, Namespaces) */
	plan->host_mnt = !gr_oci_config_ns(cfg, GR_NS_MNT);
	for (size_t i = 0; i < cfg->n_namespaces; i++) {
		const struct gr_oci_namespace *ns = &cfg->namespaces[i];
		if (!ns->path) {
			plan->clone_flags |= gr__ns_flag(ns->type);
			continue;
		}
		plan->join_fds[ns->type] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (plan->join_fds[ns->type] < 0)
			return gr_error_sys(err, "linux.namespaces[%zu].path: %s", i, ns->path);
	}
	plan->userns = plan->clone_flags & CLONE_NEWUSER;
	/* a new cgroup namespace is made by the init once it is in its cgroup (init.c) */
	plan->new_cgroupns = plan->clone_flags & CLONE_NEWCGROUP;
	plan->clone_flags &= ~CLONE_NEWCGROUP;
	/* CLONE_NEWTIME shares its bit with clone()'s exit signal: the init unshares it */
	plan->new_timens = plan->clone_flags & gr__ns_flag(GR_NS_TIME);
	plan->clone_flags &= ~gr__ns_flag(GR_NS_TIME);
	if (plan->userns && (!cfg->n_uid_mappings || !cfg->n_gid_mappings))
		return gr_error_set(err, EINVAL, "linux.uidMappings: a new user namespace needs uid and gid mappings");
	if ((cfg->hostname || cfg->domainname) && !(plan->clone_flags & CLONE_NEWUTS) &&
	    plan->join_fds[GR_NS_UTS] < 0)
		return gr_error_set(err, EINVAL, "hostname: needs a uts namespace");
	if (gr__lsm_mount_label(cfg, &plan->mount_context, err) < 0 || gr__plan_mounts(plan, err) < 0)
		return -1;
	if (gr__check_caps_known(cfg->process, err) < 0 ||
	    gr__lsm_plan(cfg->process, cfg->ignore_unsupported, &plan->proc.lsm, err) < 0)
		return -1;
	plan->proc.p = cfg->process;
	for (int i = 0; o && i < 3; i++)
		plan->proc.stdio[i] = o->stdio[i];
	plan->proc.env = cfg->process->env ? cfg->process->env : default_env;
	if (cfg->seccomp) {
		_cleanup_free_ char *cache = xasprintf("%s/.cache", gr__root(o));
		if (gr__seccomp_compile_cached(cfg->seccomp, cache, &plan->proc.bpf, err) < 0)
			return -1;
		plan->proc.has_bpf = true;
	}
	if (cfg->process->terminal) {
		if (!o || !o->console_socket)
			return gr_error_set(err, EINVAL, "process.terminal is true: --console-socket is required");
		plan->proc.console_fd = gr__console_connect(o->console_socket, err);
		if (plan->proc.console_fd < 0)
			return -1;
	}
	plan->has_runtime_hooks = cfg->n_hooks[GR_HOOK_PRESTART] || cfg->n_hooks[GR_HOOK_CREATE_RUNTIME];
	plan->has_container_hooks = cfg->n_hooks[GR_HOOK_CREATE_CONTAINER] ||
				    cfg->n_hooks[GR_HOOK_START_CONTAINER];
	plan->hook_state = xmalloc(GR__HOOK_STATE_MAX + 1);
	return 0;
}

/* Talk to the init until it is ready; on error fill err. */
static int sync_with_init(struct gr__plan *plan, int fd, pid_t pid, const char *id, const char *bundle,
			  gr_error_t *err)
{
	const struct gr_oci_config *cfg = plan->cfg;
	_cleanup_free_ char *state = NULL;
	size_t slen = 0;
	if (plan->has_runtime_hooks || plan->has_container_hooks) {
		state = state_json_for_hooks(cfg, id, bundle, pid, GR_RT_CREATED);
		slen = strlen(state);
		if (slen >= GR__HOOK_STATE_MAX - 1)
			return gr_error_set(err, E2BIG, "state JSON too large for hooks");
	}
	_cleanup_free_ char *go = xmalloc(slen + 2);
	go[0] = GR__SYNC_GO;
	if (state)
		memcpy(go + 1, state, slen);
	if (send(fd, go, slen + 1, MSG_NOSIGNAL) < 0)
		return gr_error_sys(err, "sync with the container init");
	/* joining the cgroup costs an RCU grace period (cgroup_threadgroup_rwsem); the
	 * init does its mounts meanwhile and waits for 'c' only before it reports ready */
	char cgmsg = GR__SYNC_CGROUP;
	gr_error_t cgerr = { 0 };
	int cgrc = gr__cgroup_enter(plan->cg, pid, &cgerr);
	if (cgrc == 0)
		send(fd, &cgmsg, 1, MSG_NOSIGNAL); /* a failed init has its error queued for us */
	for (;;) {
		struct {
			char type;
			struct gr__sync_err e;
		} msg;
		ssize_t n;
		int resets = 0;
		/* after a cgroup failure only take what the init already said.  An init that
		 * exits with our 'c' unread makes the kernel report ECONNRESET once, ahead of
		 * the error message it queued: read on to get the message. */
		do
			n = recv(fd, &msg, sizeof msg, cgrc < 0 ? MSG_DONTWAIT : 0);
		while (n < 0 && (errno == EINTR || (errno == ECONNRESET && ++resets < 3)));
		if (n <= 0 || (cgrc < 0 && msg.type != GR__SYNC_ERROR)) {
			if (cgrc < 0) {
				*err = cgerr;
				return -1;
			}
			return gr_error_set(err, EIO, "the container init exited during setup");
		}
		if (msg.type == GR__SYNC_READY)
			return 0;
		if (msg.type == GR__SYNC_ERROR) {
			msg.e.msg[sizeof msg.e.msg - 1] = '\0';
			return gr_error_set(err, msg.e.code, "%s", msg.e.msg);
		}
		if (msg.type == GR__SYNC_PREPIVOT) {
			if (gr__run_hooks(cfg->hooks[GR_HOOK_PRESTART], cfg->n_hooks[GR_HOOK_PRESTART], state,
					  "prestart", err) < 0 ||
			    gr__run_hooks(cfg->hooks[GR_HOOK_CREATE_RUNTIME],
					  cfg->n_hooks[GR_HOOK_CREATE_RUNTIME], state, "createRuntime",
					  err) < 0)
				return -1;
			if (send(fd, go, slen + 1, MSG_NOSIGNAL) < 0)
				return gr_error_sys(err, "sync with the container init");
			continue;
		}
		return gr_error_set(err, EPROTO, "sync: unexpected message '%c'", msg.type);
	}
}

/* clone() into the new namespaces; a pid namespace to join is entered by this
 * thread's pid_for_children just around the clone.  With a new user namespace,
 * a network namespace to join is entered here too, around the clone (as runc
 * does): the init, already in its new user namespace, may not enter one owned
 * by ours (a namespace file made by the daemon for the container's NICs). */
static pid_t clone_init(struct gr__plan *plan, gr_error_t *err)
{
	int saved_pidns = -1, saved_netns = -1, netfd = -1;
	if (plan->join_fds[GR_NS_NET] >= 0 && (plan->clone_flags & CLONE_NEWUSER)) {
		saved_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (saved_netns < 0 || setns(plan->join_fds[GR_NS_NET], CLONE_NEWNET) < 0) {
			if (saved_netns >= 0)
				close(saved_netns);
			return gr_error_sys(err, "linux.namespaces: cannot join the network namespace");
		}
		netfd = plan->join_fds[GR_NS_NET];
		plan->join_fds[GR_NS_NET] = -1; /* the init inherits it: no second join */
	}
	if (plan->join_fds[GR_NS_PID] >= 0) {
		saved_pidns = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (saved_pidns < 0 || setns(plan->join_fds[GR_NS_PID], CLONE_NEWPID) < 0) {
			if (saved_pidns >= 0)
				close(saved_pidns);
			return gr_error_sys(err, "linux.namespaces: cannot join the pid namespace");
		}
	}
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)plan->clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		gr__init_main(plan);
	int saved_errno = errno;
	if (saved_netns >= 0) {
		setns(saved_netns, CLONE_NEWNET);
		close(saved_netns);
		plan->join_fds[GR_NS_NET] = netfd;
	}
	if (saved_pidns >= 0) {
		setns(saved_pidns, CLONE_NEWPID);
		close(saved_pidns);
	}
	if (pid < 0) {
		errno = saved_errno;
		return gr_error_sys(err, "clone");
	}
	return pid;
}

/* Without a mount namespace the init mounted in ours: note which mounts are new. */
static int record_host_mounts(const char *rootfs, const struct gr__mnts *before, const char *file,
			      gr_error_t *err)
{
	struct gr__mnts after, mine;
	if (gr__mounts_under(rootfs, &after, err) < 0)
		return -1;
	gr__mnts_diff(before, &after, &mine);
	int rc = gr__mnts_save(file, &mine, err);
	gr__mnts_free(&after);
	gr__mnts_free(&mine);
	return rc;
}

/* A failed create: unmount what the (dead) init mounted in our namespace. */
static void undo_host_mounts(const char *rootfs, const struct gr__mnts *before)
{
	struct gr__mnts after, mine;
	if (gr__mounts_under(rootfs, &after, NULL) < 0)
		return;
	gr__mnts_diff(before, &after, &mine);
	gr_error_t e = { 0 };
	if (gr__mnts_unmount(&mine, &e) < 0)
		gr_log_warn("%s", e.msg);
	gr__mnts_free(&after);
	gr__mnts_free(&mine);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int gr_rt_create(const struct gr_rt_opts *o, const char *id, const char *bundle_in,
		 const struct gr_oci_config *cfg_in, gr_error_t *err)
{
	if (gr__check_id(id, err) < 0)
		return -1;
	char bundle[PATH_MAX];
	if (!realpath(bundle_in ? bundle_in : ".", bundle))
		return gr_error_sys(err, "--bundle: %s", bundle_in ? bundle_in : ".");
	struct gr_oci_config *owned = NULL;
	if (!cfg_in && gr_oci_config_load(bundle, &owned, err) < 0)
		return -1;
	const struct gr_oci_config *cfg = cfg_in ? cfg_in : owned;

	struct gr__plan plan;
	memset(&plan, 0, sizeof plan);
	for (int i = 0; i < GR_NS_COUNT; i++)
		plan.join_fds[i] = -1;
	plan.proc.console_fd = plan.fifo_fd = plan.sync_fd = plan.parent_sync_fd = -1;
	plan.proc.lsm.apparmor_fd = plan.proc.lsm.selinux_fd = -1;
	int rc = -1, sv[2] = { -1, -1 };
	pid_t pid = -1;
	bool dir_made = false;
	_cleanup_free_ char *dir = gr__dir(o, id);
	_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", dir);
	_cleanup_free_ char *cgpath = default_cgroup_path(cfg, id);
	_cleanup_free_ char *mntfile = xasprintf("%s/host-mounts", dir);
	struct gr__mnts mnt_before = { 0 };

	if (make_plan(&plan, o, bundle, cfg, err) < 0)
		goto out;
	if (mkdir(gr__root(o), 0700) < 0 && errno != EEXIST) {
		if (errno != ENOENT || gr_mkdir_p(gr__root(o), 0700, err) < 0) {
			gr_error_sys(err, "--root: cannot create %s", gr__root(o));
			goto out;
		}
	}
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			gr_error_set(err, EEXIST, "container '%s' already exists", id);
		else
			gr_error_sys(err, "cannot create %s", dir);
		goto out;
	}
	dir_made = true;
	if (mkfifo(fifo, 0600) < 0) {
		gr_error_sys(err, "cannot create %s", fifo);
		goto out;
	}
	plan.fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (plan.fifo_fd < 0) {
		gr_error_sys(err, "cannot open %s", fifo);
		goto out;
	}
	plan.cg = xcalloc(1, sizeof *plan.cg);
	if (gr__cgroup_init(plan.cg, cgpath, err) < 0 ||
	    gr__cgroup_create(plan.cg, cfg->has_resources ? &cfg->resources : NULL, err) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		gr_error_sys(err, "socketpair");
		goto out;
	}
	plan.sync_fd = sv[1];
	plan.parent_sync_fd = sv[0];
	if (plan.host_mnt && gr__mounts_under(plan.rootfs, &mnt_before, err) < 0)
		goto out;
	pid = clone_init(&plan, err);
	close(sv[1]);
	plan.sync_fd = -1;
	if (pid < 0)
		goto out;
	if (plan.userns && (write_idmap(pid, "uid_map", cfg->uid_mappings, cfg->n_uid_mappings, err) < 0 ||
			    write_idmap(pid, "gid_map", cfg->gid_mappings, cfg->n_gid_mappings, err) < 0))
		goto out;
	if (cfg->process->has_oom_score_adj) {
		char p[64], v[16];
		snprintf(p, sizeof p, "/proc/%d/oom_score_adj", (int)pid);
		snprintf(v, sizeof v, "%d", cfg->process->oom_score_adj);
		if (gr_write_str(p, v, err) < 0) {
			gr_error_prefix(err, "process.oomScoreAdj");
			goto out;
		}
	}
	if (sync_with_init(&plan, sv[0], pid, id, bundle, err) < 0)
		goto out;
	if (plan.host_mnt && record_host_mounts(plan.rootfs, &mnt_before, mntfile, err) < 0)
		goto out;

	struct gr__meta meta = { .starttime = gr__proc_starttime(pid, NULL), .userns = plan.userns };
	for (size_t i = 0; i < plan.cg->n_hier; i++) { /* per hierarchy: delete removes only these */
		snprintf(meta.cg_parents[i].name, sizeof meta.cg_parents[i].name, "%s", plan.cg->hier[i].name);
		meta.cg_parents[i].levels = plan.cg->own_parents[i];
	}
	meta.n_cg_parents = plan.cg->n_hier;
	meta.cg_want = plan.cg->want;
	meta.ignore_unsupported = cfg->ignore_unsupported;
	snprintf(meta.cgroup, sizeof meta.cgroup, "%s", cgpath);
	for (int k = 0; k < GR_HOOK_NKINDS; k++)
		if (cfg->n_hooks[k])
			meta.hooks |= 1u << k;
	struct gr_rt_state st = { .id = (char *)id, .bundle = bundle, .oci_version = cfg->oci_version,
				  .status = GR_RT_CREATED, .pid = pid, .created = now_ns(),
				  .annotations = cfg->annotations, .n_annotations = cfg->n_annotations };
	if (gr__state_write(o, &st, &meta, err) < 0)
		goto out;
	if (o && o->pid_file) {
		char v[24];
		snprintf(v, sizeof v, "%d", (int)pid);
		if (gr_write_file_atomic(o->pid_file, v, strlen(v), 0644, err) < 0) {
			gr_error_prefix(err, "--pid-file");
			goto out;
		}
	}
	/* until this arrives the init exits when the socket closes: a create that fails
	 * (or dies) at any point before here leaves no init waiting for a start */
	char done = GR__SYNC_DONE;
	if (send(sv[0], &done, 1, MSG_NOSIGNAL) < 0) {
		gr_error_sys(err, "sync with the container init");
		goto out;
	}
	rc = 0;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (rc < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		if (plan.cg && plan.cg->created_mask)
			gr__cgroup_destroy(plan.cg, NULL);
		if (plan.host_mnt && pid > 0)
			undo_host_mounts(plan.rootfs, &mnt_before);
		if (dir_made)
			gr_rm_rf(dir, NULL);
	}
	plan_free(&plan);
	gr__mnts_free(&mnt_before);
	gr_oci_config_free(owned);
	if (rc < 0)
		gr_error_prefix(err, "creating container '%s'", id);
	return rc;
}

/* Run the poststart or poststop hooks, with the config loaded from the bundle:
 * every hook runs and a failure is a warning (config.md, POSIX hooks). */
static void run_saved_hooks(const struct gr_rt_state *st, enum gr_hook_kind kind)
{
	struct gr_oci_config *cfg = NULL;
	gr_error_t err = { 0 };
	if (gr_oci_config_load(st->bundle, &cfg, &err) < 0) {
		gr_log_warn("container '%s': loading its %s hooks: %s", st->id, gr__hook_kind_name(kind), err.msg);
		return;
	}
	_cleanup_free_ char *json = gr_rt_state_json(st);
	gr__run_hooks_warn(cfg->hooks[kind], cfg->n_hooks[kind], json, gr__hook_kind_name(kind), st->id);
	gr_oci_config_free(cfg);
}

int gr_rt_start(const struct gr_rt_opts *o, const char *id, gr_error_t *err)
{
	struct gr_rt_state st;
	struct gr__meta meta;
	if (gr__state_read(o, id, &st, &meta, err) < 0)
		return -1;
	int rc = -1;
	_cleanup_free_ char *dir = gr__dir(o, id);
	_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", dir);
	if (st.status != GR_RT_CREATED) {
		gr_error_set(err, EBUSY, "container '%s' is %s, not created", id, gr_rt_status_name(st.status));
		goto out;
	}
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		gr_error_sys(err, "container '%s' is not waiting to start (%s)", id, fifo);
		goto out;
	}
	unlink(fifo);
	char c = 0;
	ssize_t w = write(fd, &c, 1);
	if (w != 1) {
		gr_error_sys(err, "cannot start container '%s'", id);
		close(fd);
		goto out;
	}
	rc = 0;
	if (meta.hooks & (1u << GR_HOOK_POSTSTART)) {
		/* poststart runs after the program is exec'd: the init's end of the fifo is
		 * close-on-exec, so the writer sees POLLERR once no reader is left */
		struct pollfd p = { fd, 0, 0 };
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	close(fd);
	if (meta.hooks & (1u << GR_HOOK_POSTSTART)) {
		st.status = GR_RT_RUNNING;
		run_saved_hooks(&st, GR_HOOK_POSTSTART);
	}
out:
	gr_rt_state_clear(&st);
	return rc;
}

int gr_rt_state(const struct gr_rt_opts *o, const char *id, struct gr_rt_state *out, gr_error_t *err)
{
	struct gr__meta meta;
	if (gr__state_read(o, id, out, &meta, err) < 0)
		return -1;
	struct gr_cgroup cg;
	if (meta.cgroup[0] && gr__cgroup_load(&cg, &meta, NULL) == 0) {
		long long ooms = gr__cgroup_oom_kills(&cg);
		if (ooms > 0) {
			out->annotations = xrealloc(out->annotations,
						    (out->n_annotations + 1) * sizeof *out->annotations);
			out->annotations[out->n_annotations].key = xstrdup(GR_RT_OOM_ANNOTATION);
			out->annotations[out->n_annotations++].value = xasprintf("%lld", ooms);
		}
	}
	return 0;
}

/* The recorded metadata of container id and its cgroup (the hierarchies of create). */
static int cgroup_of(const struct gr_rt_opts *o, const char *id, struct gr__meta *meta, struct gr_cgroup *cg,
		     gr_error_t *err)
{
	struct gr_rt_state st;
	if (gr__state_read(o, id, &st, meta, err) < 0)
		return -1;
	gr_rt_state_clear(&st);
	return gr__cgroup_load(cg, meta, err);
}

int gr_rt_oom_kills(const struct gr_rt_opts *o, const char *id, long long *count, gr_error_t *err)
{
	struct gr__meta meta;
	struct gr_cgroup cg;
	if (cgroup_of(o, id, &meta, &cg, err) < 0)
		return -1;
	*count = gr__cgroup_oom_kills(&cg);
	if (*count < 0)
		return gr_error_set(err, ENOTSUP, "container '%s': no memory controller to read OOM kills from", id);
	return 0;
}

int gr_rt_kill(const struct gr_rt_opts *o, const char *id, int sig, bool all, gr_error_t *err)
{
	struct gr_rt_state st;
	struct gr__meta meta;
	if (gr__state_read(o, id, &st, &meta, err) < 0)
		return -1;
	int rc = 0;
	if (st.status == GR_RT_STOPPED) {
		rc = gr_error_set(err, ESRCH, "container '%s' is not running", id);
	} else if (all) {
		struct gr_cgroup cg;
		rc = gr__cgroup_load(&cg, &meta, err);
		if (rc == 0)
			rc = gr__cgroup_signal_all(&cg, sig, err);
	} else if (kill(st.pid, sig) < 0) {
		rc = gr_error_sys(err, "cannot signal container '%s'", id);
	}
	gr_rt_state_clear(&st);
	return rc;
}

int gr_rt_delete(const struct gr_rt_opts *o, const char *id, bool force, gr_error_t *err)
{
	struct gr_rt_state st;
	struct gr__meta meta;
	if (gr__state_read(o, id, &st, &meta, err) < 0)
		return -1;
	int rc = -1;
	_cleanup_free_ char *dir = gr__dir(o, id);
	_cleanup_free_ char *mntfile = xasprintf("%s/host-mounts", dir);
	if (st.status != GR_RT_STOPPED && !force) { /* spec: only a stopped container */
		gr_error_set(err, EBUSY, "container '%s' is %s; stop it or use --force", id,
			     gr_rt_status_name(st.status));
		goto out;
	}
	struct gr_cgroup cg; /* the hierarchies create used, with the parent levels it made */
	if (gr__cgroup_load(&cg, &meta, err) < 0)
		goto out;
	if (st.pid > 0)
		kill(st.pid, SIGKILL);
	if (gr__cgroup_destroy(&cg, err) < 0)
		goto out;
	if (cg.gone[0])
		gr_log_warn("container '%s': cgroup hierarchy %s is no longer mounted: the cgroup %s there stays "
			    "until it is mounted again", id, cg.gone, meta.cgroup);
	/* mounts a container without a mount namespace made in ours (host_mounts.c) */
	struct gr__mnts mnts;
	if (gr__mnts_load(mntfile, &mnts, err) < 0)
		goto out;
	int urc = gr__mnts_unmount(&mnts, err);
	gr__mnts_free(&mnts);
	if (urc < 0)
		goto out;
	if (meta.hooks & (1u << GR_HOOK_POSTSTOP)) {
		st.status = GR_RT_STOPPED;
		st.pid = 0;
		run_saved_hooks(&st, GR_HOOK_POSTSTOP);
	}
	if (gr_rm_rf(dir, err) < 0)
		goto out;
	rc = 0;
out:
	gr_rt_state_clear(&st);
	return rc;
}

int gr_rt_run(const struct gr_rt_opts *o, const char *id, const char *bundle, bool detach,
	      int *exit_status, gr_error_t *err)
{
	if (gr_rt_create(o, id, bundle, NULL, err) < 0)
		return -1;
	struct gr_rt_state st;
	if (gr__state_read(o, id, &st, NULL, err) < 0)
		return -1;
	pid_t pid = st.pid;
	gr_rt_state_clear(&st);
	if (gr_rt_start(o, id, err) < 0) {
		gr_rt_delete(o, id, true, NULL);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	if (detach)
		return 0;
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			gr_error_sys(err, "waiting for container '%s'", id);
			return -1;
		}
	}
	if (exit_status)
		*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return gr_rt_delete(o, id, true, err);
}

int gr_rt_update(const struct gr_rt_opts *o, const char *id, const struct gr_oci_resources *res,
		 gr_error_t *err)
{
	struct gr__meta meta;
	struct gr_cgroup cg;
	if (cgroup_of(o, id, &meta, &cg, err) < 0)
		return -1;
	struct gr_oci_resources r = *res; /* the config's opt-outs hold for updates too */
	r.ignore_unsupported |= meta.ignore_unsupported;
	return gr__cgroup_apply(&cg, &r, err);
}

int gr_rt_stats(const struct gr_rt_opts *o, const char *id, struct gr_rt_stats *out, gr_error_t *err)
{
	struct gr__meta meta;
	struct gr_cgroup cg;
	if (cgroup_of(o, id, &meta, &cg, err) < 0)
		return -1;
	gr__cgroup_stats(&cg, out);
	return 0;
}

int gr_rt_cgroup_path(const struct gr_rt_opts *o, const char *id, char **out, gr_error_t *err)
{
	struct gr_rt_state st;
	struct gr__meta meta;
	if (gr__state_read(o, id, &st, &meta, err) < 0)
		return -1;
	gr_rt_state_clear(&st);
	*out = xstrdup(meta.cgroup);
	return 0;
}
