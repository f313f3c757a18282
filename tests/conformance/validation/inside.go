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

// addSysAdmin lets the process mount: CAP_SYS_ADMIN, and no seccomp filter
// (runtime-tools' default profile does not allow mount(2)).
func addSysAdmin(g *generate.Generator) error {
	g.Config.Linux.Seccomp = nil
	for _, f := range []func(string) error{g.AddProcessCapabilityBounding, g.AddProcessCapabilityEffective,
		g.AddProcessCapabilityPermitted} {
		if err := f("CAP_SYS_ADMIN"); err != nil {
			return err
		}
	}
	return nil
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
	inside("process_capabilities", func(g *generate.Generator) error {
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
		// soft == hard for NOFILE: Go (>= 1.19) raises its soft limit to the hard one at start
		g.AddProcessRlimits("RLIMIT_NOFILE", 4096, 4096)
		g.AddProcessRlimits("RLIMIT_CORE", 1<<20, 1<<19)
		g.AddProcessRlimits("RLIMIT_NPROC", 1000, 900)
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
		return nil
	}, nil)
	inside("root_readonly_true", func(g *generate.Generator) error { g.SetRootReadonly(true); return nil }, nil)
	inside("root_readonly_false", func(g *generate.Generator) error { g.SetRootReadonly(false); return nil }, nil)
	inside("linux_devices", func(g *generate.Generator) error {
		mode := os.FileMode(0640)
		var uid, gid uint32 = 0, 0
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/gr-test-c", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid})
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/gr-test-u", Type: "u", Major: 1, Minor: 5, FileMode: &mode, UID: &uid, GID: &gid})
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/gr-test-b", Type: "b", Major: 7, Minor: 0, FileMode: &mode, UID: &uid, GID: &gid})
		g.AddDevice(rspec.LinuxDevice{Path: "/dev/gr-test-p", Type: "p", FileMode: &mode, UID: &uid, GID: &gid})
		return nil
	}, nil)
	inside("linux_masked_paths", func(g *generate.Generator) error {
		g.AddLinuxMaskedPaths("/masked-dir")
		g.AddLinuxMaskedPaths("/masked-file")
		g.AddLinuxMaskedPaths("/masked-missing")
		return nil
	}, func(b string) error {
		return mkfiles(b, map[string]string{"masked-dir/secret": "secret\n", "masked-file": "secret\n"})
	})
	inside("linux_readonly_paths", func(g *generate.Generator) error {
		g.AddLinuxReadonlyPaths("/ro-dir")
		g.AddLinuxReadonlyPaths("/ro-file")
		g.AddLinuxReadonlyPaths("/ro-missing")
		return nil
	}, func(b string) error {
		return mkfiles(b, map[string]string{"ro-dir/file": "x\n", "ro-file": "x\n"})
	})
	for _, p := range []string{"shared", "slave", "private", "unbindable"} {
		prop := p
		inside("linux_rootfs_propagation_"+prop, func(g *generate.Generator) error {
			if err := g.SetLinuxRootPropagation(prop); err != nil {
				return err
			}
			return addSysAdmin(g)
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
	inside("mounts", func(g *generate.Generator) error {
		g.AddMount(rspec.Mount{Destination: "/gr-tmpfs", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755", "size=1m"}})
		g.AddMount(rspec.Mount{Destination: "/gr-bind", Type: "bind", Source: "/etc", Options: []string{"rbind", "ro"}})
		g.AddMount(rspec.Mount{Destination: "/gr-new/deep/dir", Type: "tmpfs", Source: "tmpfs"})
		return nil
	}, nil)
}
