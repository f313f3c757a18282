// inside.go - tests whose verdict comes from runtimetest inside the container:
// the default config, process fields, root, devices, masked and readonly
// paths, rootfs propagation, seccomp, sysctl, user-namespace mappings and
// mounts (config.md, config-linux.md). Plus the create-must-fail cases for
// invalid process fields.
package main

import (
	"os"
	"path/filepath"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/opencontainers/runtime-tools/generate/seccomp"
	"golang.org/x/sys/unix"
)

func inside(name string, setup func(g *generate.Generator) error, pre func(bundle string) error) {
	register(name, func(t *T) {
		g := DefaultGenerator()
		if setup != nil && !t.NoErr(setup(g), name+": build config") {
			return
		}
		InsideValidate(t, name, g, pre)
	})
}

// mustFail registers a test whose config is invalid: create must fail.
func mustFail(name, what string, setup func(g *generate.Generator)) {
	register(name, func(t *T) {
		r, err := NewBundle(t)
		if !t.NoErr(err, "prepare bundle") {
			return
		}
		g := shellGen("echo ran > /process-ran")
		setup(g)
		if !t.NoErr(r.SetConfig(g), "write config.json") {
			return
		}
		err = r.Create()
		if err == nil {
			_ = r.Start()
		}
		t.Ok(err != nil, "create fails for "+what, errExpected)
		t.Ok(!exists(filepath.Join(r.Bundle, "process-ran")), "the user process never ran for "+what)
	})
}

// chownTo gives the root file system to the container's mapped root, as a
// user-namespaced container needs a writable / of its own.
func chownTo(uid, gid int) func(string) error {
	return func(bundle string) error {
		return filepath.Walk(bundle, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
	}
}

func mkfiles(bundle string, files map[string]string) error {
	for p, content := range files {
		full := filepath.Join(bundle, p)
		if err := os.MkdirAll(filepath.Dir(full), 0755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(content), 0644); err != nil {
			return err
		}
	}
	return nil
}

func init() {
	inside("default", nil, nil)
	inside("hostname", func(g *generate.Generator) error { g.SetHostname("gr-conf-hostname"); return nil }, nil)
	inside("process", func(g *generate.Generator) error {
		g.SetProcessCwd("/aa")
		g.AddProcessEnv("testa", "valuea")
		g.AddProcessEnv("testb", "123")
		return nil
	}, func(b string) error { return os.Mkdir(filepath.Join(b, "aa"), 0755) })
	// upstream: privileged (every capability known to gocapability in all 5
	// sets); refused where the host's bounding set lacks one (here
	// CAP_SYS_RESOURCE), hence also a subset variant
	inside("process_capabilities", func(g *generate.Generator) error {
		g.SetupPrivileged(true)
		return nil
	}, nil)
	inside("process_capabilities_subset", func(g *generate.Generator) error {
		g.ClearProcessCapabilities()
		for _, c := range []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"} {
			for _, f := range []func(string) error{g.AddProcessCapabilityBounding, g.AddProcessCapabilityEffective,
				g.AddProcessCapabilityPermitted, g.AddProcessCapabilityInheritable} {
				if err := f(c); err != nil {
					return err
				}
			}
		}
		return g.AddProcessCapabilityAmbient("CAP_KILL")
	}, nil)
	mustFail("process_capabilities_fail", "an unknown capability CAP_TEST", func(g *generate.Generator) {
		g.Config.Process.Capabilities.Bounding = append(g.Config.Process.Capabilities.Bounding, "CAP_TEST")
		g.Config.Process.Capabilities.Effective = append(g.Config.Process.Capabilities.Effective, "CAP_TEST")
		g.Config.Process.Capabilities.Permitted = append(g.Config.Process.Capabilities.Permitted, "CAP_TEST")
	})
	inside("process_oom_score_adj", func(g *generate.Generator) error { g.SetProcessOOMScoreAdj(500); return nil }, nil)
	inside("process_rlimits", func(g *generate.Generator) error {
		// the upstream program's values (hard, soft)
		const gb = 1 << 30
		g.AddProcessRlimits("RLIMIT_AS", 2*gb, 1*gb)
		g.AddProcessRlimits("RLIMIT_CORE", 4*gb, 3*gb)
		g.AddProcessRlimits("RLIMIT_DATA", 6*gb, 5*gb)
		g.AddProcessRlimits("RLIMIT_FSIZE", 8*gb, 7*gb)
		g.AddProcessRlimits("RLIMIT_STACK", 10*gb, 9*gb)
		g.AddProcessRlimits("RLIMIT_CPU", 120, 60)
		g.AddProcessRlimits("RLIMIT_NOFILE", 4000, 3000)
		return nil
	}, nil)
	mustFail("process_rlimits_fail", "an unknown rlimit type RLIMIT_TEST", func(g *generate.Generator) {
		g.Config.Process.Rlimits = append(g.Config.Process.Rlimits, rspec.POSIXRlimit{Type: "RLIMIT_TEST", Hard: 1024, Soft: 1024})
	})
	inside("process_user", func(g *generate.Generator) error {
		g.SetProcessUID(10)
		g.SetProcessGID(10)
		g.AddProcessAdditionalGid(5)
		g.AddProcessAdditionalGid(6)
		g.SetProcessUmask(002)
		return nil
	}, nil)
	inside("root_readonly_true", func(g *generate.Generator) error { g.SetRootReadonly(true); return nil }, nil)
	inside("root_readonly_false", func(g *generate.Generator) error { g.SetRootReadonly(false); return nil }, nil)
	inside("linux_devices", func(g *generate.Generator) error {
		mode := os.FileMode(0660)
		var uid, gid uint32 = 0, 0
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/test1", Type: "c", Major: 10, Minor: 666, FileMode: &mode, UID: &uid, GID: &gid})
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/test2", Type: "b", Major: 8, Minor: 666, FileMode: &mode, UID: &uid, GID: &gid})
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/test3", Type: "p", Major: 8, Minor: 666, FileMode: &mode})
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/gr-test-u", Type: "u", Major: 1, Minor: 5, FileMode: &mode, UID: &uid, GID: &gid})
		return nil
	}, nil)
	register("linux_masked_paths", func(t *T) { pathsTest(t, "masked", (*generate.Generator).AddLinuxMaskedPaths) })
	register("linux_readonly_paths", func(t *T) { pathsTest(t, "readonly", (*generate.Generator).AddLinuxReadonlyPaths) })
	register("linux_masked_paths_relative", func(t *T) { relPathTest(t, "masked", (*generate.Generator).AddLinuxMaskedPaths) })
	register("linux_readonly_paths_relative", func(t *T) {
		relPathTest(t, "readonly", (*generate.Generator).AddLinuxReadonlyPaths)
	})
	for _, p := range []string{"shared", "slave", "private", "unbindable"} {
		prop := p
		inside("linux_rootfs_propagation_"+prop, func(g *generate.Generator) error {
			// as upstream: privileged (every capability in the 5 sets, no
			// seccomp); fails where the host's bounding set lacks a capability
			g.SetupPrivileged(true)
			return g.SetLinuxRootPropagation(prop)
		}, nil)
		inside("linux_rootfs_propagation_"+prop+"_sysadmin", func(g *generate.Generator) error {
			// the same check with only CAP_SYS_ADMIN added (mount(2) inside)
			// and no seccomp filter, for hosts where "privileged" cannot run
			g.Config.Linux.Seccomp = nil
			for _, f := range []func(string) error{g.AddProcessCapabilityBounding, g.AddProcessCapabilityEffective,
				g.AddProcessCapabilityPermitted} {
				if err := f("CAP_SYS_ADMIN"); err != nil {
					return err
				}
			}
			return g.SetLinuxRootPropagation(prop)
		}, nil)
	}
	inside("linux_seccomp", func(g *generate.Generator) error {
		if err := g.SetDefaultSeccompAction("allow"); err != nil {
			return err
		}
		return g.SetSyscallAction(seccomp.SyscallOpts{Action: "errno", Syscall: "getcwd"})
	}, nil)
	inside("linux_sysctl", func(g *generate.Generator) error {
		g.AddLinuxSysctl("net.ipv4.ip_forward", "1")
		g.AddLinuxSysctl("kernel.msgmax", "16384")
		return nil
	}, nil)
	inside("linux_uid_mappings", func(g *generate.Generator) error {
		if err := g.AddOrReplaceLinuxNamespace("user", ""); err != nil {
			return err
		}
		g.AddLinuxUIDMapping(100000, 0, 65536)
		g.AddLinuxGIDMapping(100000, 0, 65536)
		return nil
	}, chownTo(100000, 100000))
	inside("linux_gid_mappings", func(g *generate.Generator) error {
		if err := g.AddOrReplaceLinuxNamespace("user", ""); err != nil {
			return err
		}
		g.AddLinuxUIDMapping(200000, 0, 1000)
		g.AddLinuxGIDMapping(200000, 0, 1000)
		g.AddLinuxGIDMapping(300000, 1000, 1000)
		return nil
	}, chownTo(200000, 200000))
	// the upstream programs of these names set the mapping alone, without a
	// user namespace in linux.namespaces
	inside("linux_uid_mappings_without_userns", func(g *generate.Generator) error {
		g.AddLinuxUIDMapping(1000, 0, 3200)
		return nil
	}, nil)
	inside("linux_gid_mappings_without_userns", func(g *generate.Generator) error {
		g.AddLinuxGIDMapping(1000, 0, 3200)
		return nil
	}, nil)
	// LSM settings: the host may have neither AppArmor nor SELinux; the
	// upstream programs then expect the runtime to run the container anyway
	inside("linux_process_apparmor_profile", func(g *generate.Generator) error {
		g.SetProcessApparmorProfile("acme_secure_profile")
		return nil
	}, nil)
	inside("linux_mount_label", func(g *generate.Generator) error {
		g.SetLinuxMountLabel("system_u:object_r:svirt_sandbox_file_t:s0:c715,c811")
		return nil
	}, nil)
	inside("mounts", func(g *generate.Generator) error {
		g.AddMount(rspec.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=1k"}})
		g.AddMount(rspec.Mount{Destination: "/gr-tmpfs", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755", "size=1m"}})
		g.AddMount(rspec.Mount{Destination: "/gr-bind", Type: "bind", Source: "/etc", Options: []string{"rbind", "ro"}})
		g.AddMount(rspec.Mount{Destination: "/gr-new/deep/dir", Type: "tmpfs", Source: "tmpfs"})
		return nil
	}, nil)
}

// pathsTest covers linux.maskedPaths or linux.readonlyPaths (kind): nested
// folders and files, a path that does not exist, device nodes (b, c, p).
func pathsTest(t *T, kind string, add func(*generate.Generator, string)) {
	g := DefaultGenerator()
	top, sub := "/"+kind+"-dir", "/"+kind+"-dir/"+kind+"-subdir"
	for _, p := range []string{top, "/" + kind + "-file", sub, top + "/" + kind + "-file", sub + "/" + kind + "-file", "/" + kind + "-missing"} {
		add(g, p)
	}
	InsideValidate(t, kind+" folders and files", g, func(b string) error {
		return mkfiles(b, map[string]string{
			kind + "-file": "secret\n", kind + "-dir/" + kind + "-file": "secret\n",
			kind + "-dir/" + kind + "-subdir/" + kind + "-file": "secret\n", kind + "-dir/" + kind + "-subdir/other": "x\n"})
	})
	for _, dev := range []struct {
		name string
		mode uint32
	}{{"block", unix.S_IFBLK | 0666}, {"char", unix.S_IFCHR | 0666}, {"fifo", unix.S_IFIFO | 0666}} {
		g := DefaultGenerator()
		add(g, "/"+kind+"-device")
		mode := dev.mode
		InsideValidate(t, kind+" "+dev.name+" device node", g, func(b string) error {
			return unix.Mknod(filepath.Join(b, kind+"-device"), mode, int(unix.Mkdev(7, 200)))
		})
	}
}

// relPathTest: a relative masked/readonly path is invalid (values MUST be
// absolute paths), so create or start must fail. (The upstream suite checks
// this inside linux_masked_paths / linux_readonly_paths.)
func relPathTest(t *T, kind string, add func(*generate.Generator, string)) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	g := shellGen("echo ran > /process-ran")
	add(g, kind+"-relpath")
	if !t.NoErr(r.SetConfig(g), "write config.json") {
		return
	}
	err = r.Create()
	if err == nil {
		err = r.Start()
	}
	t.Ok(err != nil, "a relative "+kind+" path is an error (values MUST be absolute paths)", errExpected)
}
