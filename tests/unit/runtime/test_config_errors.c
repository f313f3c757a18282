/*
 * Unit tests for config.json validation: each malformed document must be
 * rejected with EINVAL and a message that starts with the JSON path at fault
 * followed by what is wrong.  The expected text is a prefix of the message.
 */
#include <errno.h>
#include <stdlib.h>

#include "tap.h"
#include "test_config_util.h"
#include "runtime/config.h"

#define H MIN_HEAD ","
#define P MIN_PROCESS
/* a process with one member replaced/added after the required ones */
#define PROC(x) "'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/'," x "}}"
#define LINUX(x) H "'linux':{" x "}}"
#define RES(x) LINUX("'resources':{" x "}")
#define SECCOMP(x) LINUX("'seccomp':{" x "}")

static const struct bad {
	const char *json, *want;
} bad[] = {
	/* document level */
	{ "", "(json) line" },
	{ "{", "(json) line" },
	{ "[]", "(root): expected an object, got an array" },
	{ "{'ociVersion':'1.0.2','root':{'path':'r'},'root':{'path':'s'}}", "(json) line 1" },
	{ "{'root':{'path':'r'}}", "ociVersion: required string is missing" },
	{ "{'ociVersion':2,'root':{'path':'r'}}", "ociVersion: expected a string, got an integer" },
	{ "{'ociVersion':'2.0.0','root':{'path':'r'}}", "ociVersion: unsupported version \"2.0.0\"" },
	{ "{'ociVersion':'1','root':{'path':'r'}}", "ociVersion: unsupported version" },
	{ "{'ociVersion':'1.0.2'}", "root: required an object is missing" },
	{ "{'ociVersion':'1.0.2','root':'r'}", "root: expected an object, got a string" },
	{ "{'ociVersion':'1.0.2','root':{}}", "root.path: required string is missing" },
	{ "{'ociVersion':'1.0.2','root':{'path':''}}", "root.path: must not be empty" },
	{ "{'ociVersion':'1.0.2','root':{'path':'r','readonly':'yes'}}",
	  "root.readonly: expected a boolean, got a string" },
	{ "{'ociVersion':'1.0.2','root':{'path':'a\\u0000b'}}", "root.path: string contains a NUL" },
	{ H "'hostname':'h'}", "hostname: set, but linux.namespaces has no uts namespace" },
	{ H "'domainname':'d','linux':{'namespaces':[{'type':'pid'}]}}", "domainname: set, but" },
	{ H "'hostname':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
	  "hostname: longer than 64 bytes" },
	{ H "'annotations':{'a':1}}", "annotations.a: expected a string, got an integer" },
	{ H "'annotations':{'org.x':true}}", "annotations[\"org.x\"]: expected a string, got a boolean" },
	{ H "'annotations':{'':'v'}}", "annotations[\"\"]: empty key" },
	{ H "'annotations':{'a':'1','a\\u0000b':'2'}}", "(json) line 1, column 80: NUL byte in object key" },
	{ H "'annotations':[]}", "annotations: expected an object, got an array" },

	/* process */
	{ H "'process':{'args':['sh'],'cwd':'/'}}", "process.user: required an object is missing" },
	{ H "'process':{'user':{'gid':0},'args':['sh'],'cwd':'/'}}",
	  "process.user.uid: required integer is missing" },
	{ H "'process':{'user':{'uid':-1,'gid':0},'args':['sh'],'cwd':'/'}}",
	  "process.user.uid: must not be negative" },
	{ H "'process':{'user':{'uid':4294967295,'gid':0},'args':['sh'],'cwd':'/'}}",
	  "process.user.uid: 4294967295 is out of range" },
	{ H "'process':{'user':{'uid':1.5,'gid':0},'args':['sh'],'cwd':'/'}}",
	  "process.user.uid: expected a non-negative integer, got a fractional number" },
	{ H "'process':{'user':{'uid':0,'gid':0,'umask':512},'args':['sh'],'cwd':'/'}}",
	  "process.user.umask: 512 is out of range (at most 511)" },
	{ H "'process':{'user':{'uid':0,'gid':0,'additionalGids':[1,'2']},'args':['sh'],'cwd':'/'}}",
	  "process.user.additionalGids[1]: expected a non-negative integer, got a string" },
	{ H "'process':{'user':{'uid':0,'gid':0},'cwd':'/'}}", "process.args: required array is missing" },
	{ H "'process':{'user':{'uid':0,'gid':0},'args':[],'cwd':'/'}}",
	  "process.args: must name at least the program" },
	{ H "'process':{'user':{'uid':0,'gid':0},'args':'sh','cwd':'/'}}",
	  "process.args: expected an array, got a string" },
	{ H "'process':{'user':{'uid':0,'gid':0},'args':['sh',1,'x'],'cwd':'/'}}",
	  "process.args[1]: expected a string, got an integer" },
	{ H "'process':{'user':{'uid':0,'gid':0},'args':[''],'cwd':'/'}}",
	  "process.args[0]: the program name must not be empty" },
	{ H "'process':{'user':{'uid':0,'gid':0},'args':['sh']}}", "process.cwd: required string is missing" },
	{ H "'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'tmp'}}",
	  "process.cwd: \"tmp\" is not an absolute path" },
	{ H PROC("'env':['A=1','NOEQUALS']"), "process.env[1]: \"NOEQUALS\" is not of the form KEY=value" },
	{ H PROC("'env':['=x']"), "process.env[0]: \"=x\" is not of the form" },
	{ H PROC("'terminal':1"), "process.terminal: expected a boolean, got an integer" },
	{ H PROC("'consoleSize':{'height':10}"), "process.consoleSize.width: required integer is missing" },
	{ H PROC("'consoleSize':{'height':10,'width':70000}"), "process.consoleSize.width: 70000 is out of range" },
	{ H PROC("'capabilities':{'bounding':['CAP_CHOWN','CAP_FOO']}"),
	  "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"" },
	{ H PROC("'capabilities':{'ambient':['CHOWN']}"),
	  "process.capabilities.ambient[0]: unknown capability \"CHOWN\"" },
	{ H PROC("'capabilities':{'effective':'CAP_CHOWN'}"),
	  "process.capabilities.effective: expected an array, got a string" },
	{ H PROC("'capabilities':['CAP_CHOWN']"), "process.capabilities: expected an object, got an array" },
	{ H PROC("'rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]"),
	  "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
	{ H PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':1}]"), "process.rlimits[0].hard: required integer" },
	{ H PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':-1,'hard':1}]"),
	  "process.rlimits[0].soft: must not be negative" },
	{ H PROC("'rlimits':[{'type':'RLIMIT_NOFILE','soft':10,'hard':5}]"),
	  "process.rlimits[0].soft: 10 is above the hard limit 5" },
	{ H PROC("'rlimits':[{'type':'RLIMIT_CORE','soft':0,'hard':0},{'type':'RLIMIT_CORE','soft':1,'hard':1}]"),
	  "process.rlimits[1].type: duplicate rlimit \"RLIMIT_CORE\"" },
	{ H PROC("'rlimits':[5]"), "process.rlimits[0]: expected an object, got an integer" },
	{ H PROC("'oomScoreAdj':1001"), "process.oomScoreAdj: 1001 is out of range (-1000..1000)" },
	{ H PROC("'oomScoreAdj':18446744073709551615"), "process.oomScoreAdj: 18446744073709551615 is out of range" },
	{ H PROC("'noNewPrivileges':'true'"), "process.noNewPrivileges: expected a boolean" },
	{ H PROC("'apparmorProfile':[]"), "process.apparmorProfile: expected a string, got an array" },

	/* mounts */
	{ H "'mounts':{}}", "mounts: expected an array, got an object" },
	{ H "'mounts':[1]}", "mounts[0]: expected an object, got an integer" },
	{ H "'mounts':[{'type':'proc','source':'proc'}]}", "mounts[0].destination: required string is missing" },
	{ H "'mounts':[{'destination':'proc','type':'proc'}]}", "mounts[0].destination: \"proc\" is not an absolute path" },
	{ H "'mounts':[{'destination':'/a/../../etc','type':'tmpfs'}]}", "mounts[0].destination: \"/a/../../etc\" contains a \"..\"" },
	{ H "'mounts':[{'destination':'/p','type':'proc'},{'destination':'/x','source':'/y'}]}",
	  "mounts[1].type: required for a mount that is not a bind mount" },
	{ H "'mounts':[{'destination':'/x','type':'bind'}]}", "mounts[0].source: a bind mount needs a source" },
	{ H "'mounts':[{'destination':'/x','options':['rbind']}]}", "mounts[0].source: a bind mount needs a source" },
	{ H "'mounts':[{'destination':'/x','type':'tm pfs'}]}", "mounts[0].type: invalid mount type \"tm pfs\"" },
	{ H "'mounts':[{'destination':'/x','type':''}]}", "mounts[0].type: empty mount type" },
	{ H "'mounts':[{'destination':'/x','type':'tmpfs','options':['ro',7]}]}",
	  "mounts[0].options[1]: expected a string, got an integer" },
	{ H "'mounts':[{'destination':'/x','type':'tmpfs','options':['']}]}", "mounts[0].options[0]: empty mount option" },
	{ H "'mounts':[{'destination':'/x','type':'tmpfs','options':['private','shared']}]}",
	  "mounts[0].options[1]: propagation \"shared\" conflicts" },
	{ H "'mounts':[{'destination':'/x','source':'/y','type':'bind','options':['rbind','rro']}]}",
	  "mounts[0].options[1]: mount option \"rro\" is not supported" },
	{ H "'mounts':[{'destination':'/x','type':'overlay','options':['upperdir=/u']}]}",
	  "mounts[0].options: an overlay mount needs a lowerdir= option" },
	{ H "'mounts':[{'destination':'/x','type':'tmpfs','source':5}]}", "mounts[0].source: expected a string" },

	/* hooks */
	{ H "'hooks':[]}", "hooks: expected an object, got an array" },
	{ H "'hooks':{'prestart':{}}}", "hooks.prestart: expected an array, got an object" },
	{ H "'hooks':{'poststop':[{'args':['x']}]}}", "hooks.poststop[0].path: required string is missing" },
	{ H "'hooks':{'createRuntime':[{'path':'bin/x'}]}}", "hooks.createRuntime[0].path: \"bin/x\" is not an absolute path" },
	{ H "'hooks':{'poststart':[{'path':'/x','timeout':0}]}}", "hooks.poststart[0].timeout: must be greater than 0" },
	{ H "'hooks':{'startContainer':[{'path':'/x','timeout':-3}]}}", "hooks.startContainer[0].timeout: must be greater than 0" },
	{ H "'hooks':{'createContainer':[{'path':'/x','env':[1]}]}}", "hooks.createContainer[0].env[0]: expected a string" },

	/* linux: namespaces, mappings, devices */
	{ H "'linux':[]}", "linux: expected an object, got an array" },
	{ LINUX("'namespaces':[{'type':'pid'},{'type':'uts'},{'type':'foo'}]"),
	  "linux.namespaces[2].type: unknown namespace \"foo\"" },
	{ LINUX("'namespaces':[{'type':'pid'},{'type':'network'},{'type':'pid'}]"),
	  "linux.namespaces[2].type: duplicate namespace \"pid\" (also at [0])" },
	{ LINUX("'namespaces':[{'path':'/proc/1/ns/pid'}]"), "linux.namespaces[0].type: required string is missing" },
	{ LINUX("'namespaces':[{'type':'network','path':'run/netns/x'}]"),
	  "linux.namespaces[0].path: \"run/netns/x\" is not an absolute path" },
	{ LINUX("'namespaces':['pid']"), "linux.namespaces[0]: expected an object, got a string" },
	{ LINUX("'uidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
	  "linux.uidMappings: given, but there is no user namespace" },
	{ LINUX("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1000,'size':0}]"),
	  "linux.uidMappings[0].size: must be greater than 0" },
	{ LINUX("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':4294967295,'size':2}]"),
	  "linux.uidMappings[0].size: range goes past 2^32" },
	{ LINUX("'namespaces':[{'type':'user'}],'gidMappings':[{'containerID':0,'size':1}]"),
	  "linux.gidMappings[0].hostID: required integer is missing" },
	{ LINUX("'devices':[{'type':'x','path':'/dev/x','major':1,'minor':1}]"),
	  "linux.devices[0].type: unknown device type \"x\"" },
	{ LINUX("'devices':[{'type':'c','path':'dev/x','major':1,'minor':1}]"),
	  "linux.devices[0].path: \"dev/x\" is not an absolute path" },
	{ LINUX("'devices':[{'type':'c','path':'/dev/../etc/x','major':1,'minor':1}]"),
	  "linux.devices[0].path: \"/dev/../etc/x\" contains a \"..\"" },
	{ LINUX("'devices':[{'type':'c','path':'/dev/x','minor':1}]"), "linux.devices[0].major: required integer is missing" },
	{ LINUX("'devices':[{'type':'b','path':'/dev/x','major':-8,'minor':1}]"),
	  "linux.devices[0].major: must not be negative" },
	{ LINUX("'devices':[{'type':'c','path':'/dev/x','major':1,'minor':1,'fileMode':65536}]"),
	  "linux.devices[0].fileMode: 65536 is out of range" },

	/* linux.resources */
	{ RES("'devices':[{'access':'rwm'}]"), "linux.resources.devices[0].allow: required boolean is missing" },
	{ RES("'devices':[{'allow':true,'access':'rwx'}]"), "linux.resources.devices[0].access: \"rwx\" is not a subset" },
	{ RES("'devices':[{'allow':true,'access':'rr'}]"), "linux.resources.devices[0].access: \"rr\" repeats \"r\"" },
	{ RES("'devices':[{'allow':true,'type':'p'}]"), "linux.resources.devices[0].type: unknown device type \"p\"" },
	{ RES("'devices':[{'allow':true,'major':-2}]"), "linux.resources.devices[0].major: -2 is out of range" },
	{ RES("'memory':{'limit':-2}"), "linux.resources.memory.limit: -2 is out of range" },
	{ RES("'memory':{'kernelTCP':-2}"), "linux.resources.memory.kernelTCP: -2 is out of range" },
	{ RES("'network':{'classID':-1}"), "linux.resources.network.classID: must not be negative" },
	{ RES("'network':{'classID':4294967296}"), "linux.resources.network.classID: 4294967296 is out of range" },
	{ RES("'network':{'priorities':[{'priority':1}]}"),
	  "linux.resources.network.priorities[0].name: required string is missing" },
	{ RES("'network':{'priorities':[{'name':'eth0 1','priority':1}]}"),
	  "linux.resources.network.priorities[0].name: \"eth0 1\" is not an interface name" },
	{ RES("'network':{'priorities':[{'name':'lo'}]}"),
	  "linux.resources.network.priorities[0].priority: required integer is missing" },
	{ H "'annotations':{'org.gureum.ignore-unsupported':'linux.mountLabel, process.nosuch'}}",
	  "annotations[\"org.gureum.ignore-unsupported\"]: unknown field \"process.nosuch\"" },
	{ RES("'memory':{'limit':'1G'}"), "linux.resources.memory.limit: expected an integer, got a string" },
	{ RES("'memory':{'reservation':-5}"), "linux.resources.memory.reservation: -5 is out of range" },
	{ RES("'memory':{'swappiness':101}"), "linux.resources.memory.swappiness: 101 is out of range" },
	{ RES("'memory':{'swappiness':-1}"), "linux.resources.memory.swappiness: must not be negative" },
	{ RES("'memory':{'limit':2000,'swap':1000}"), "linux.resources.memory.swap: 1000 is below limit 2000" },
	{ RES("'memory':{'limit':9223372036854775808}"), "linux.resources.memory.limit: 9223372036854775808 is out of range" },
	{ RES("'cpu':{'shares':-1}"), "linux.resources.cpu.shares: must not be negative" },
	{ RES("'cpu':{'quota':-7}"), "linux.resources.cpu.quota: -7 is out of range" },
	{ RES("'cpu':{'cpus':'0-'}"), "linux.resources.cpu.cpus: \"0-\" is not a list" },
	{ RES("'cpu':{'cpus':'3-1'}"), "linux.resources.cpu.cpus: \"3-1\" is not a list" },
	{ RES("'cpu':{'mems':'0,,1'}"), "linux.resources.cpu.mems: \"0,,1\" is not a list" },
	{ RES("'pids':{}"), "linux.resources.pids.limit: required integer is missing" },
	{ RES("'pids':{'limit':-3}"), "linux.resources.pids.limit: -3 is out of range" },
	{ RES("'blockIO':{'weight':5}"), "linux.resources.blockIO.weight: 5 is out of range (10..1000, or 0)" },
	{ RES("'blockIO':{'weight':1001}"), "linux.resources.blockIO.weight: 1001 is out of range" },
	{ RES("'blockIO':{'weightDevice':[{'major':8,'weight':100}]}"),
	  "linux.resources.blockIO.weightDevice[0].minor: required integer is missing" },
	{ RES("'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0}]}"),
	  "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required integer is missing" },
	{ RES("'blockIO':{'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':-1}]}"),
	  "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: must not be negative" },
	{ RES("'hugepageLimits':[{'pageSize':'2M','limit':1}]"),
	  "linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size" },
	{ RES("'hugepageLimits':[{'pageSize':'2MB'}]"), "linux.resources.hugepageLimits[0].limit: required integer" },
	{ RES("'unified':{'memory.max':5}"), "linux.resources.unified[\"memory.max\"]: expected a string" },
	{ RES("'unified':{'../memory.max':'1'}"), "linux.resources.unified[\"../memory.max\"]: invalid key" },
	{ RES("'unified':{'memorymax':'1'}"), "linux.resources.unified.memorymax: invalid key" },

	/* linux: the rest */
	{ LINUX("'cgroupsPath':'/a/../../b'"), "linux.cgroupsPath: \"/a/../../b\" contains a \"..\"" },
	{ LINUX("'cgroupsPath':7"), "linux.cgroupsPath: expected a string, got an integer" },
	{ LINUX("'sysctl':{'net.ipv4..x':'1'}"), "linux.sysctl[\"net.ipv4..x\"]: invalid key" },
	{ LINUX("'sysctl':{'/proc/sys/x':'1'}"), "linux.sysctl[\"/proc/sys/x\"]: invalid key" },
	{ LINUX("'sysctl':{'kernel.x':1}"), "linux.sysctl[\"kernel.x\"]: expected a string, got an integer" },
	{ LINUX("'maskedPaths':['/proc/kcore','proc/keys']"), "linux.maskedPaths[1]: \"proc/keys\" is not an absolute path" },
	{ LINUX("'readonlyPaths':['/proc/sys/..']"), "linux.readonlyPaths[0]: \"/proc/sys/..\" contains a \"..\" component" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':'\\u0000u64:-1'"),
	  "linux.seccomp.defaultErrnoRet: expected a non-negative integer, got a string" },
	{ LINUX("'readonlyPaths':'/proc/sys'"), "linux.readonlyPaths: expected an array, got a string" },
	{ LINUX("'rootfsPropagation':'sideways'"), "linux.rootfsPropagation: unknown propagation \"sideways\"" },
	{ LINUX("'mountLabel':false"), "linux.mountLabel: expected a string, got a boolean" },

	/* linux.seccomp */
	{ SECCOMP("'architectures':['SCMP_ARCH_X86_64']"), "linux.seccomp.defaultAction: required string is missing" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_MAYBE'"), "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\"" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':1"),
	  "linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':70000"), "linux.seccomp.defaultErrnoRet: 70000 is out of range" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86_64','x86']"),
	  "linux.seccomp.architectures[1]: unknown seccomp architecture \"x86\"" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_NOPE']"),
	  "linux.seccomp.flags[0]: unknown seccomp flag" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_NOTIFY'"), "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'agent.sock'"), "linux.seccomp.listenerPath: \"agent.sock\" is not an absolute path" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':{}"), "linux.seccomp.syscalls: expected an array, got an object" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'action':'SCMP_ACT_ERRNO'}]"),
	  "linux.seccomp.syscalls[0].names: required array is missing" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],'action':'SCMP_ACT_ERRNO'}]"),
	  "linux.seccomp.syscalls[0].names: must list at least one syscall" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read',''],'action':'SCMP_ACT_ERRNO'}]"),
	  "linux.seccomp.syscalls[0].names[1]: empty syscall name" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read']}]"),
	  "linux.seccomp.syscalls[0].action: required string is missing" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_NOTIFY'}]"),
	  "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW','errnoRet':1}]"),
	  "linux.seccomp.syscalls[0].errnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]"),
	  "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (at most 5)" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':1,'op':'EQ'}]}]"),
	  "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"EQ\"" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'op':'SCMP_CMP_EQ'}]}]"),
	  "linux.seccomp.syscalls[0].args[0].value: required integer is missing" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':-1,'op':'SCMP_CMP_EQ'}]}]"),
	  "linux.seccomp.syscalls[0].args[0].value: must not be negative" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':18446744073709551616,'op':'SCMP_CMP_EQ'}]}]"),
	  "(json) line 1" },
	{ SECCOMP("'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['x'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':1,'valueTwo':'1','op':'SCMP_CMP_EQ'}]}]"),
	  "linux.seccomp.syscalls[0].args[0].valueTwo: expected a non-negative integer, got a string" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gr_error_t err = {0};
		struct gr_oci_config *cfg = (struct gr_oci_config *)1;   /* must stay untouched */
		const char *text = J(bad[i].json);
		const char *want = J(bad[i].want);
		/* J() reuses one buffer: copy the expectation first */
		char expect[512];
		snprintf(expect, sizeof(expect), "%s", want);
		text = J(bad[i].json);
		int r = gr_oci_config_parse(text, strlen(text), &cfg, &err);
		int good = r < 0 && err.code == EINVAL && cfg == (struct gr_oci_config *)1 &&
			   !strncmp(err.msg, expect, strlen(expect));
		ok(good, "rejects: %s", expect);
		if (!good)
			diag("input: %s\n#   got r=%d code=%d msg: %s", text, r, err.code, err.msg);
	}
	return tap_done();
}
