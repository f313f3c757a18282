/*
 * Unit tests for the config.json parser: a well-formed config that sets every
 * field Linux uses, checked field by field; mount option splitting; uint64
 * values beyond INT64_MAX; null/unknown members; process-only parsing; the
 * name tables; and gr_oci_config_load() on a real bundle folder.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sched.h>
#include <unistd.h>

#include "tap.h"
#include "test_config_util.h"
#include "runtime/config.h"
#include "util/alloc.h"
#include "util/fs.h"

static const char *full_json =
"{'ociVersion':'1.1.0',"
" 'process':{'terminal':true,'consoleSize':{'height':25,'width':80},"
"  'user':{'uid':1000,'gid':100,'umask':18,'additionalGids':[5,6,7]},"
"  'args':['/bin/sh','-c','echo hi'],'env':['PATH=/bin','EMPTY='],'cwd':'/work',"
"  'capabilities':{'bounding':['CAP_CHOWN','CAP_SYS_ADMIN'],'effective':['CAP_KILL'],"
"   'inheritable':[],'permitted':['CAP_CHOWN','cap_kill'],'ambient':['CAP_CHECKPOINT_RESTORE']},"
"  'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
"             {'type':'RLIMIT_CORE','soft':18446744073709551615,'hard':18446744073709551615}],"
"  'noNewPrivileges':true,'oomScoreAdj':-500,'apparmorProfile':'p','selinuxLabel':'l',"
"  'someFutureField':{'x':[1,2]}},"
" 'root':{'path':'/bundles/x/rootfs','readonly':true},"
" 'hostname':'box','domainname':'example.org',"
" 'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
"   {'destination':'/data','type':'bind','source':'/srv/data','options':['rbind','ro','nosuid','rslave']},"
"   {'destination':'/tmp','type':'tmpfs','source':'tmpfs','options':['nodev','mode=1777','size=10m','noexec','exec']},"
"   {'destination':'/merged','type':'overlay','source':'overlay','options':['lowerdir=/a:/b','upperdir=/u','workdir=/w','rw']},"
"   {'destination':'/dev/pts','type':'devpts','source':'devpts','options':['newinstance','ptmxmode=0666','gid=5','relatime','defaults']},"
"   {'destination':'/sys/fs/cgroup','type':'cgroup','source':'cgroup','options':['ro','private']},"
"   {'destination':'/dev/mqueue','type':'mqueue','source':'mqueue'},"
"   {'destination':'/sys','type':'sysfs','source':'sysfs','options':['nosuid','noexec','nodev','ro']},"
"   {'destination':'/plain','source':'/host','options':['bind']}],"
" 'hooks':{'prestart':[{'path':'/bin/pre','args':['pre','1'],'env':['A=1'],'timeout':5}],"
"   'createRuntime':[{'path':'/bin/cr'}],'createContainer':[{'path':'/bin/cc'}],"
"   'startContainer':[{'path':'/bin/sc'}],'poststart':[{'path':'/bin/ps'},{'path':'/bin/ps2'}],"
"   'poststop':[{'path':'/bin/pst','timeout':1}]},"
" 'annotations':{'org.example.key':'value','b':''},"
" 'linux':{"
"  'namespaces':[{'type':'pid'},{'type':'network','path':'/var/run/netns/x'},{'type':'mount'},"
"    {'type':'ipc'},{'type':'uts'},{'type':'user'},{'type':'cgroup'},{'type':'time'}],"
"  'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
"  'gidMappings':[{'containerID':0,'hostID':200000,'size':1000},{'containerID':1000,'hostID':1000,'size':1}],"
"  'devices':[{'type':'c','path':'/dev/fuse','major':10,'minor':229,'fileMode':438,'uid':0,'gid':0},"
"    {'type':'p','path':'/dev/fifo'}],"
"  'resources':{"
"    'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':10,'minor':229,'access':'rw'},"
"      {'allow':true,'type':'b','major':8}],"
"    'memory':{'limit':536870912,'reservation':268435456,'swap':1073741824,'kernel':-1,"
"      'kernelTCP':50593792,'swappiness':60,'disableOOMKiller':true,'useHierarchy':true},"
"    'cpu':{'shares':512,'quota':50000,'period':100000,'cpus':'0-1,3','mems':'0','realtimeRuntime':0},"
"    'pids':{'limit':100},"
"    'blockIO':{'weight':500,'leafWeight':300,"
"      'weightDevice':[{'major':8,'minor':0,'weight':700},{'major':8,'minor':16,'leafWeight':20}],"
"      'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
"      'throttleWriteBpsDevice':[{'major':8,'minor':0,'rate':2097152}],"
"      'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':100}],"
"      'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':200},{'major':8,'minor':16,'rate':300}]},"
"    'hugepageLimits':[{'pageSize':'2MB','limit':209715200},{'pageSize':'1GB','limit':0}],"
"    'network':{'classID':1048577,'priorities':[{'name':'lo','priority':10},{'name':'eth0','priority':0}]},"
"    'unified':{'memory.high':'1G','io.weight':'default 100'}},"
"  'cgroupsPath':'/gureum/test',"
"  'sysctl':{'net.ipv4.ip_forward':'1','kernel/shmmax':'65536'},"
"  'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
"    'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],'flags':['SECCOMP_FILTER_FLAG_LOG'],"
"    'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
"      {'names':['personality'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':8,'op':'SCMP_CMP_EQ'}]},"
"      {'names':['clone'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':2114060288,'valueTwo':0,'op':'SCMP_CMP_MASKED_EQ'},"
"        {'index':5,'value':18446744073709551615,'valueTwo':9223372036854775808,'op':'SCMP_CMP_NE'}]},"
"      {'names':['mkdir'],'action':'SCMP_ACT_ERRNO','errnoRet':13},"
"      {'names':['kill'],'action':'SCMP_ACT_KILL_PROCESS'}]},"
"  'maskedPaths':['/proc/kcore','/sys/firmware'],"
"  'readonlyPaths':['/proc/sys'],"
"  'rootfsPropagation':'rslave',"
"  'mountLabel':'system_u:object_r:container_file_t:s0',"
"  'intelRdt':{'closID':'x'},'personality':{'domain':'LINUX'}}}";

static void test_full(void)
{
	gr_error_t err = {0};
	struct gr_oci_config *cfg = NULL;
	const char *text = J(full_json);
	int rc = gr_oci_config_parse(text, strlen(text), &cfg, &err);
	if (!is_int(rc, 0, "full config parses")) {
		diag("error: %s", err.msg);
		return;
	}
	is_str(cfg->oci_version, "1.1.0", "ociVersion");
	is_str(cfg->root_path, "/bundles/x/rootfs", "root.path");
	ok(cfg->root_readonly, "root.readonly");
	is_str(cfg->hostname, "box", "hostname");
	is_str(cfg->domainname, "example.org", "domainname");

	struct gr_oci_process *p = cfg->process;
	ok(p != NULL, "process present");
	ok(p->terminal, "terminal");
	is_int(p->console_height, 25, "consoleSize.height");
	is_int(p->console_width, 80, "consoleSize.width");
	is_int(p->user.uid, 1000, "uid");
	is_int(p->user.gid, 100, "gid");
	ok(p->user.has_umask && p->user.umask == 022, "umask");
	is_int(p->user.n_additional_gids, 3, "additionalGids count");
	is_int(p->user.additional_gids[2], 7, "additionalGids[2]");
	is_int(gr_strv_len(p->args), 3, "args count");
	is_str(p->args[2], "echo hi", "args[2]");
	is_int(gr_strv_len(p->env), 2, "env count");
	is_str(p->env[1], "EMPTY=", "env with empty value");
	is_str(p->cwd, "/work", "cwd");
	ok(p->has_caps, "capabilities present");
	is_int(p->caps[GR_CAP_BOUNDING], (1ull << 0) | (1ull << 21), "bounding set bits");
	is_int(p->caps[GR_CAP_EFFECTIVE], 1ull << 5, "effective set bits");
	is_int(p->caps[GR_CAP_INHERITABLE], 0, "inheritable empty");
	is_int(p->caps[GR_CAP_PERMITTED], (1ull << 0) | (1ull << 5), "permitted (case-insensitive)");
	is_int(p->caps[GR_CAP_AMBIENT], 1ull << 40, "ambient CAP_CHECKPOINT_RESTORE");
	is_int(p->n_rlimits, 2, "rlimits count");
	is_int(p->rlimits[0].resource, RLIMIT_NOFILE, "rlimit type as RLIMIT_*");
	is_int(p->rlimits[0].soft, 1024, "rlimit soft");
	is_int(p->rlimits[0].hard, 4096, "rlimit hard");
	ok(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX,
	   "rlimit 2^64-1 (beyond int64) kept exactly");
	ok(p->no_new_privileges, "noNewPrivileges");
	ok(p->has_oom_score_adj && p->oom_score_adj == -500, "oomScoreAdj");
	is_str(p->apparmor_profile, "p", "apparmorProfile kept");
	is_str(p->selinux_label, "l", "selinuxLabel kept");

	is_int(cfg->n_mounts, 9, "mounts count");
	struct gr_oci_mount *m = cfg->mounts;
	is_str(m[0].type, "proc", "mount type");
	ok(m[0].options == NULL && m[0].flags == 0 && m[0].data == NULL, "mount without options");
	is_int(m[1].flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, "rbind,ro,nosuid flags");
	is_int(m[1].propagation, MS_SLAVE | MS_REC, "rslave propagation");
	ok(m[1].data == NULL, "bind mount has no data");
	is_int(m[2].flags, MS_NODEV, "later exec undoes noexec");
	is_int(m[2].clear_flags, MS_NOEXEC, "exec recorded as cleared");
	is_str(m[2].data, "mode=1777,size=10m", "tmpfs data");
	is_str(m[3].data, "lowerdir=/a:/b,upperdir=/u,workdir=/w", "overlay data");
	is_int(m[3].clear_flags, MS_RDONLY, "rw clears MS_RDONLY");
	is_str(m[4].data, "newinstance,ptmxmode=0666,gid=5", "devpts data, defaults dropped");
	is_int(m[4].flags, MS_RELATIME, "relatime");
	is_int(m[5].propagation, MS_PRIVATE, "private propagation");
	is_int(gr_strv_len(m[1].options), 4, "raw options kept");
	ok(m[8].type == NULL && (m[8].flags & MS_BIND), "untyped bind mount");

	is_int(cfg->n_hooks[GR_HOOK_PRESTART], 1, "prestart hooks");
	is_str(cfg->hooks[GR_HOOK_PRESTART][0].path, "/bin/pre", "hook path");
	is_str(cfg->hooks[GR_HOOK_PRESTART][0].args[1], "1", "hook args");
	is_str(cfg->hooks[GR_HOOK_PRESTART][0].env[0], "A=1", "hook env");
	is_int(cfg->hooks[GR_HOOK_PRESTART][0].timeout, 5, "hook timeout");
	is_int(cfg->n_hooks[GR_HOOK_CREATE_RUNTIME], 1, "createRuntime");
	is_int(cfg->n_hooks[GR_HOOK_CREATE_CONTAINER], 1, "createContainer");
	is_int(cfg->n_hooks[GR_HOOK_START_CONTAINER], 1, "startContainer");
	is_int(cfg->n_hooks[GR_HOOK_POSTSTART], 2, "poststart");
	is_str(cfg->hooks[GR_HOOK_POSTSTOP][0].path, "/bin/pst", "poststop");
	ok(cfg->hooks[GR_HOOK_CREATE_RUNTIME][0].args == NULL &&
	   cfg->hooks[GR_HOOK_CREATE_RUNTIME][0].timeout == 0, "hook defaults");

	is_int(cfg->n_annotations, 2, "annotations");
	int found = 0;
	for (size_t i = 0; i < cfg->n_annotations; i++)
		found += !strcmp(cfg->annotations[i].key, "org.example.key") &&
			 !strcmp(cfg->annotations[i].value, "value");
	is_int(found, 1, "annotation key/value");

	is_int(cfg->n_namespaces, 8, "namespaces");
	const struct gr_oci_namespace *ns = gr_oci_config_ns(cfg, GR_NS_NET);
	ok(ns && ns->path && !strcmp(ns->path, "/var/run/netns/x"), "network ns path");
	ns = gr_oci_config_ns(cfg, GR_NS_TIME);
	ok(ns && !ns->path, "time ns without path");
	is_int(cfg->n_uid_mappings, 1, "uidMappings");
	ok(cfg->uid_mappings[0].host_id == 100000 && cfg->uid_mappings[0].size == 65536, "uid map");
	is_int(cfg->n_gid_mappings, 2, "gidMappings");
	is_int(cfg->gid_mappings[1].container_id, 1000, "gid map [1]");
	is_int(cfg->n_devices, 2, "devices");
	ok(cfg->devices[0].type == 'c' && cfg->devices[0].major == 10 && cfg->devices[0].minor == 229,
	   "device c 10:229");
	ok(cfg->devices[0].has_file_mode && cfg->devices[0].file_mode == 0666, "device fileMode");
	ok(cfg->devices[0].has_uid && cfg->devices[0].has_gid, "device uid/gid");
	ok(cfg->devices[1].type == 'p' && !cfg->devices[1].has_file_mode, "fifo device");

	struct gr_oci_resources *r = &cfg->resources;
	ok(cfg->has_resources, "resources present");
	is_int(r->n_devices, 3, "device rules");
	ok(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 &&
	   r->devices[0].minor == -1 && !strcmp(r->devices[0].access, "rwm"), "deny-all rule defaults");
	ok(r->devices[1].allow && r->devices[1].type == 'c' && !strcmp(r->devices[1].access, "rw"),
	   "allow c rw rule");
	ok(r->devices[2].major == 8 && r->devices[2].minor == -1 &&
	   !strcmp(r->devices[2].access, "rwm"), "minor wildcard, default access");
	ok(r->has_mem_limit && r->mem_limit == 536870912, "memory.limit");
	ok(r->has_mem_reservation && r->mem_reservation == 268435456, "memory.reservation");
	ok(r->has_mem_swap && r->mem_swap == 1073741824, "memory.swap");
	ok(r->has_mem_kernel && r->mem_kernel == -1, "memory.kernel -1");
	ok(r->has_mem_kernel_tcp && r->mem_kernel_tcp == 50593792, "memory.kernelTCP");
	ok(r->has_net_class_id && r->net_class_id == 1048577, "network.classID");
	ok(r->n_net_priorities == 2 && !strcmp(r->net_priorities[0].name, "lo") &&
	   r->net_priorities[0].priority == 10 && !strcmp(r->net_priorities[1].name, "eth0"),
	   "network.priorities");
	ok(r->has_mem_swappiness && r->mem_swappiness == 60, "memory.swappiness");
	ok(r->disable_oom_killer, "disableOOMKiller");
	ok(r->has_cpu_shares && r->cpu_shares == 512, "cpu.shares");
	ok(r->has_cpu_quota && r->cpu_quota == 50000, "cpu.quota");
	ok(r->has_cpu_period && r->cpu_period == 100000, "cpu.period");
	is_str(r->cpu_cpus, "0-1,3", "cpu.cpus");
	is_str(r->cpu_mems, "0", "cpu.mems");
	ok(r->has_pids_limit && r->pids_limit == 100, "pids.limit");
	ok(r->has_blkio_weight && r->blkio_weight == 500, "blockIO.weight");
	ok(r->has_blkio_leaf_weight && r->blkio_leaf_weight == 300, "blockIO.leafWeight");
	is_int(r->n_blkio_weight_devices, 2, "weightDevice");
	ok(r->blkio_weight_devices[0].has_weight && !r->blkio_weight_devices[0].has_leaf_weight &&
	   r->blkio_weight_devices[0].weight == 700, "weightDevice[0]");
	ok(r->blkio_weight_devices[1].has_leaf_weight && r->blkio_weight_devices[1].leaf_weight == 20,
	   "weightDevice[1]");
	ok(r->n_throttle_read_bps == 1 && r->throttle_read_bps[0].rate == 1048576, "read bps");
	ok(r->n_throttle_write_bps == 1 && r->throttle_write_bps[0].rate == 2097152, "write bps");
	ok(r->n_throttle_read_iops == 1 && r->throttle_read_iops[0].rate == 100, "read iops");
	ok(r->n_throttle_write_iops == 2 && r->throttle_write_iops[1].minor == 16, "write iops");
	is_int(r->n_hugepage_limits, 2, "hugepageLimits");
	is_str(r->hugepage_limits[1].page_size, "1GB", "hugepage size");
	is_int(r->hugepage_limits[0].limit, 209715200, "hugepage limit");
	is_int(r->n_unified, 2, "unified");
	is_str(cfg->cgroups_path, "/gureum/test", "cgroupsPath");
	is_int(cfg->n_sysctl, 2, "sysctl");

	struct gr_oci_seccomp *s = cfg->seccomp;
	ok(s != NULL, "seccomp present");
	is_int(s->default_action, GR_SCMP_ERRNO, "defaultAction");
	ok(s->has_default_errno && s->default_errno == 1, "defaultErrnoRet");
	is_int(gr_strv_len(s->architectures), 2, "architectures");
	is_str(s->flags[0], "SECCOMP_FILTER_FLAG_LOG", "flags");
	is_int(s->n_syscalls, 5, "syscall rules");
	is_str(s->syscalls[0].names[1], "write", "rule names");
	is_int(s->syscalls[0].action, GR_SCMP_ALLOW, "rule action");
	is_int(s->syscalls[1].args[0].op, GR_SCMP_EQ, "arg op EQ");
	is_int(s->syscalls[1].args[0].value, 8, "arg value");
	is_int(s->syscalls[2].args[0].op, GR_SCMP_MASKED_EQ, "arg op MASKED_EQ");
	ok(s->syscalls[2].args[1].index == 5 && s->syscalls[2].args[1].value == UINT64_MAX &&
	   s->syscalls[2].args[1].value_two == 9223372036854775808ull, "arg uint64 values");
	ok(s->syscalls[3].has_errno_ret && s->syscalls[3].errno_ret == 13, "errnoRet");
	is_int(s->syscalls[4].action, GR_SCMP_KILL_PROCESS, "KILL_PROCESS");
	is_str(gr_seccomp_action_name(s->syscalls[4].action), "SCMP_ACT_KILL_PROCESS", "action name");
	is_int(gr_strv_len(cfg->masked_paths), 2, "maskedPaths");
	is_str(cfg->readonly_paths[0], "/proc/sys", "readonlyPaths");
	is_int(cfg->rootfs_propagation, MS_SLAVE | MS_REC, "rootfsPropagation");
	is_str(cfg->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
	gr_oci_config_free(cfg);
}

static struct gr_oci_config *parse_ok(const char *json, const char *what)
{
	gr_error_t err = {0};
	struct gr_oci_config *cfg = NULL;
	const char *text = J(json);
	if (!ok(gr_oci_config_parse(text, strlen(text), &cfg, &err) == 0, "%s", what))
		diag("error: %s", err.msg);
	return cfg;
}

static void test_minimal(void)
{
	struct gr_oci_config *cfg = parse_ok(MIN_HEAD "}", "minimal config (no process, no linux)");
	if (cfg) {
		ok(!cfg->process && !cfg->seccomp && !cfg->n_mounts && !cfg->has_resources &&
		   !cfg->masked_paths && !cfg->rootfs_propagation, "minimal config has nothing set");
		gr_oci_config_free(cfg);
	}
	cfg = parse_ok(MIN_HEAD ",'process':null,'hostname':null,'linux':{'seccomp':null},'x':1}",
		       "null members count as absent");
	if (cfg) {
		ok(!cfg->process && !cfg->hostname && !cfg->seccomp, "nulls left unset");
		gr_oci_config_free(cfg);
	}
	cfg = parse_ok(MIN_HEAD ",'hostname':'','linux':{}}", "empty hostname without uts ns");
	gr_oci_config_free(cfg);
	cfg = parse_ok("{'ociVersion':'1.2.0-rc.1','root':{'path':'r'},'linux':{'namespaces':"
		       "[{'type':'user','path':'/proc/1/ns/user'}]}}",
		       "joined user namespace needs no mappings; 1.x pre-release version");
	gr_oci_config_free(cfg);
	cfg = parse_ok(MIN_HEAD ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_NOTIFY',"
		       "'listenerPath':'/run/agent.sock','listenerMetadata':'m'}}}", "notify with listener");
	if (cfg) {
		is_str(cfg->seccomp->listener_path, "/run/agent.sock", "listenerPath");
		ok(cfg->seccomp->architectures && !cfg->seccomp->architectures[0],
		   "architectures empty vector when absent");
		gr_oci_config_free(cfg);
	}
}

static void test_process_only(void)
{
	gr_error_t err = {0};
	struct gr_oci_process *p = NULL;
	const char *t = J("{'user':{'uid':5,'gid':6},'args':['ls','-l'],'cwd':'/tmp','env':['A=b'],"
			  "'terminal':false}");
	if (ok(gr_oci_process_parse(t, strlen(t), &p, &err) == 0, "process-only document parses")) {
		is_int(p->user.uid, 5, "process-only uid");
		is_str(p->args[1], "-l", "process-only args");
		gr_oci_process_free(p);
	} else {
		diag("error: %s", err.msg);
	}
	p = NULL;
	t = J("{'user':{'uid':5,'gid':6},'args':[],'cwd':'/'}");
	ok(gr_oci_process_parse(t, strlen(t), &p, &err) < 0 && p == NULL, "process-only: empty args");
	ok(!strncmp(err.msg, "args: ", 6), "process-only error path (%s)", err.msg);
	t = "[1]";
	ok(gr_oci_process_parse(t, strlen(t), &p, &err) < 0, "process-only: not an object");
	ok(!strncmp(err.msg, "(root): expected an object", 26), "root error (%s)", err.msg);
}

static void test_names(void)
{
	is_int(gr_cap_from_name("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN = 21");
	is_int(gr_cap_from_name("CAP_CHOWN"), 0, "CAP_CHOWN = 0");
	is_int(gr_cap_from_name("SYS_ADMIN"), -1, "CAP_ prefix required");
	is_int(gr_cap_from_name("CAP_NOPE"), -1, "unknown capability");
	is_str(gr_cap_name(39), "CAP_BPF", "cap 39 name");
	ok(gr_cap_name(41) == NULL && gr_cap_name(-1) == NULL, "cap name out of range");
	int round = 1;
	for (int i = 0; i <= GR_CAP_LAST; i++)
		round = round && gr_cap_from_name(gr_cap_name(i)) == i;
	ok(round, "every capability name round-trips");
	is_str(gr_ns_name(GR_NS_NET), "network", "network ns OCI name");
	is_str(gr_ns_proc_name(GR_NS_MNT), "mnt", "mount ns /proc name");
	is_int(gr_ns_clone_flag(GR_NS_USER), CLONE_NEWUSER, "user ns clone flag");
	is_int(gr_ns_from_name("cgroup"), GR_NS_CGROUP, "cgroup from name");
	is_int(gr_ns_from_name("net"), -1, "proc name is not an OCI name");
}

static void test_load(void)
{
	char dir[] = "/tmp/gr-test-cfg-XXXXXX";
	gr_error_t err = {0};
	struct gr_oci_config *cfg = NULL;
	if (!ok(mkdtemp(dir) != NULL, "temp bundle folder"))
		return;
	_cleanup_free_ char *path = xasprintf("%s/config.json", dir);
	ok(gr_oci_config_load(dir, &cfg, &err) < 0 && err.code == ENOENT, "load: missing file ENOENT");
	const char *t = J(MIN_HEAD ",'hostname':'h','linux':{'namespaces':[{'type':'uts'}]}}");
	gr_write_file_atomic(path, t, strlen(t), 0644, NULL);
	if (ok(gr_oci_config_load(dir, &cfg, &err) == 0, "load: parses bundle/config.json")) {
		is_str(cfg->hostname, "h", "load: hostname");
		gr_oci_config_free(cfg);
	}
	t = J(MIN_HEAD ",'mounts':{}}");
	gr_write_file_atomic(path, t, strlen(t), 0644, NULL);
	cfg = NULL;
	ok(gr_oci_config_load(dir, &cfg, &err) < 0 && !cfg, "load: invalid config fails");
	ok(strstr(err.msg, "config.json: mounts: expected an array") != NULL,
	   "load: error names file and path (%s)", err.msg);
	unlink(path);
	rmdir(dir);
}

static void test_edges(void)
{
	gr_error_t err = {0};
	struct gr_oci_config *cfg = parse_ok(MIN_HEAD ",'annotations':{'18446744073709551615':"
					     "'9223372036854775808 [1,2] \\' 18446744073709551615'}}",
					     "big digits inside strings stay strings");
	if (cfg) {
		is_str(cfg->annotations[0].key, "18446744073709551615", "digit key untouched");
		is_str(cfg->annotations[0].value, "9223372036854775808 [1,2] \" 18446744073709551615",
		       "digit value with escaped quote untouched");
		gr_oci_config_free(cfg);
	}
	cfg = parse_ok(MIN_HEAD ",'annotations':{'org.gureum.ignore-unsupported':"
		       "' linux.resources.network,process.apparmorProfile linux.resources.memory.kernel'}}",
		       "ignore-unsupported annotation");
	if (cfg) {
		is_int(cfg->ignore_unsupported, GR_OPT_NET_CLASSID | GR_OPT_NET_PRIORITIES | GR_OPT_APPARMOR |
		       GR_OPT_MEM_KERNEL, "the fields it lists (network = classID + priorities)");
		is_int(cfg->resources.ignore_unsupported, cfg->ignore_unsupported, "handed to the resources");
		gr_oci_config_free(cfg);
	}
	const char *t = J(MIN_HEAD ",'annotations':{'a':18446744073709551615}}");
	cfg = NULL;
	ok(gr_oci_config_parse(t, strlen(t), &cfg, &err) < 0 &&
	   !strcmp(err.msg, "annotations.a: expected a string, got an integer"),
	   "big integer where a string belongs (%s)", err.msg);
	t = J(MIN_HEAD ",'hostname':'a\\u0000u64:5'}");
	ok(gr_oci_config_parse(t, strlen(t), &cfg, &err) < 0 &&
	   strstr(err.msg, "hostname: string contains a NUL") == err.msg, "NUL in a string (%s)", err.msg);
	t = J(MIN_HEAD ",'linux':{'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,"
	      "'hostID':0,'size':-18446744073709551615}]}}");
	ok(gr_oci_config_parse(t, strlen(t), &cfg, &err) < 0 && !strncmp(err.msg, "(json) line 1", 13),
	   "huge negative integer is a JSON error (%s)", err.msg);
	size_t n = 200000;
	char *deep = xmalloc(n + 1);
	memset(deep, '[', n);
	deep[n] = '\0';
	ok(gr_oci_config_parse(deep, n, &cfg, &err) < 0 && !strncmp(err.msg, "(json)", 6),
	   "deep nesting is refused, not a stack overflow");
	free(deep);
	const char nul_doc[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"}}\0junk";
	ok(gr_oci_config_parse(nul_doc, sizeof(nul_doc) - 1, &cfg, &err) < 0,
	   "raw NUL byte after the document is refused");
	ok(gr_oci_config_parse(nul_doc, strlen(nul_doc), &cfg, &err) == 0, "same document without it parses");
	gr_oci_config_free(cfg);
	ok(gr_oci_config_parse(NULL, 0, &cfg, NULL) < 0, "NULL err is allowed");
}

int main(void)
{
	test_edges();
	test_full();
	test_minimal();
	test_process_only();
	test_names();
	test_load();
	return tap_done();
}
