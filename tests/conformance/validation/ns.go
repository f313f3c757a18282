// ns.go - linux.namespaces (config-linux.md "Namespaces"): a listed type
// without path gets a new namespace, an unlisted type is inherited from the
// runtime, a path joins that namespace, and a path of the wrong type is an
// error. Namespaces are compared by /proc/PID/ns/TYPE link targets.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

var nsFiles = map[string]string{"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
	"user": "user", "cgroup": "cgroup"}

func nsOf(pid int, typ string) string {
	l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, nsFiles[typ]))
	return l
}

func init() {
	register("linux_ns_nopath", testNsNoPath)
	register("linux_ns_itype", testNsIType)
	register("linux_ns_path", testNsPath)
	register("linux_ns_path_type", testNsPathType)
	register("linux_ns_path_each", testNsPathEach)
}

func createSleeper(t *T, setup func(r *Runtime) error) (*Runtime, int, bool) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return nil, 0, false
	}
	g := shellGen("sleep 60")
	r.SetConfig(g)
	if setup != nil && !t.NoErr(setup(r), "build config") {
		return nil, 0, false
	}
	if !t.NoErr(r.Create(), "create") {
		return nil, 0, false
	}
	st, err := r.State()
	if !t.NoErr(err, "state") {
		return nil, 0, false
	}
	return r, st.Pid, true
}

var allNs = []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}

// testNsNoPath (upstream config): every namespace type listed without a path,
// with uid/gid mappings for the user namespace; each must be new.
func testNsNoPath(t *T) {
	_, pid, ok := createSleeper(t, func(r *Runtime) error {
		g := shellGen("sleep 60")
		for _, ty := range allNs {
			if err := g.AddOrReplaceLinuxNamespace(ty, ""); err != nil {
				return err
			}
		}
		g.AddLinuxUIDMapping(1000, 0, 1000)
		g.AddLinuxGIDMapping(1000, 0, 1000)
		return r.SetConfig(g)
	})
	if !ok {
		return
	}
	self := os.Getpid()
	for _, ty := range allNs {
		t.Ok(nsOf(pid, ty) != "" && nsOf(pid, ty) != nsOf(self, ty), ty+" namespace without path is a new namespace",
			"container "+nsOf(pid, ty)+", runtime "+nsOf(self, ty))
	}
}

// testNsIType (upstream config): no namespace listed at all (not even mount)
// and no hostname; every namespace must be the runtime's.
func testNsIType(t *T) {
	_, pid, ok := createSleeper(t, func(r *Runtime) error {
		g := shellGen("sleep 60")
		for _, ty := range allNs {
			_ = g.RemoveLinuxNamespace(ty)
		}
		g.SetHostname("") // a hostname needs a uts namespace
		return r.SetConfig(g)
	})
	if !ok {
		return
	}
	self := os.Getpid()
	for _, ty := range allNs {
		t.Ok(nsOf(pid, ty) != "" && nsOf(pid, ty) == nsOf(self, ty), ty+" namespace not listed is inherited from the runtime",
			"container "+nsOf(pid, ty)+", runtime "+nsOf(self, ty))
	}
}

// holder starts `unshare --net --ipc --uts --pid --fork sleep` and returns the
// pid of the sleep (inside the new pid namespace).
func holder(t *T) (int, bool) {
	c := exec.Command("unshare", "--net", "--ipc", "--uts", "--pid", "--fork", "--mount-proc", "sleep", "120")
	if err := c.Start(); !t.NoErr(err, "start a namespace holder with unshare") {
		return 0, false
	}
	t.Defer(func() { c.Process.Kill(); c.Wait() })
	for i := 0; i < 100; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.Process.Pid, c.Process.Pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			var child int
			fmt.Sscan(f[0], &child)
			t.Defer(func() { syscall.Kill(child, syscall.SIGKILL) })
			return child, true
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Ok(false, "namespace holder's child appeared")
	return 0, false
}

func testNsPath(t *T) {
	h, ok := holder(t)
	if !ok {
		return
	}
	types := []string{"network", "ipc", "uts", "pid"}
	_, pid, ok := createSleeper(t, func(r *Runtime) error {
		g := shellGen("sleep 60")
		for _, ty := range types {
			if err := g.AddOrReplaceLinuxNamespace(ty, fmt.Sprintf("/proc/%d/ns/%s", h, nsFiles[ty])); err != nil {
				return err
			}
		}
		return r.SetConfig(g)
	})
	if !ok {
		return
	}
	for _, ty := range types {
		t.Ok(nsOf(pid, ty) != "" && nsOf(pid, ty) == nsOf(h, ty), ty+" namespace with a path joins that namespace",
			"container "+nsOf(pid, ty)+", holder "+nsOf(h, ty))
	}
}

// testNsPathType (upstream config): a namespace path of another type
// (/proc/self/ns/WRONG, self being the runtime) must make create fail.
func testNsPathType(t *T) {
	for _, c := range []struct{ typ, wrong string }{
		{"cgroup", "ipc"}, {"ipc", "mnt"}, {"mount", "net"}, {"network", "pid"}, {"pid", "user"},
		{"user", "uts"}, {"uts", "cgroup"},
	} {
		r, err := NewBundle(t)
		if !t.NoErr(err, "prepare bundle") {
			return
		}
		g := shellGen("echo ran > /process-ran")
		path := "/proc/self/ns/" + c.wrong
		if !t.NoErr(g.AddOrReplaceLinuxNamespace(c.typ, path), "build config") || !t.NoErr(r.SetConfig(g), "write config.json") {
			return
		}
		err = r.Create()
		if err == nil {
			_ = r.Start()
		}
		t.Ok(err != nil, fmt.Sprintf("create fails for a %s namespace whose path %s is a %s namespace", c.typ, path, c.wrong), errExpected)
		r.Clean()
	}
}

// testNsPathEach is the upstream linux_ns_path program: one container per
// namespace type, each joining (by path) the namespace of an `unshare
// --TYPE --fork sleep` process; for pid the path is the unshare process's
// ns/pid_for_children. The container's namespace must be that one.
func testNsPathEach(t *T) {
	for _, c := range []struct{ typ, file, opt string }{
		{"ipc", "ipc", "--ipc"}, {"mount", "mnt", "--mount"}, {"network", "net", "--net"},
		{"pid", "pid", "--pid"}, {"uts", "uts", "--uts"},
	} {
		cmd := exec.Command("unshare", c.opt, "--fork", "sleep", "120")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); !t.NoErr(err, "start unshare "+c.opt) {
			return
		}
		t.Defer(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		file := c.file
		if c.typ == "pid" {
			file = "pid_for_children"
		}
		path := fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, file)
		var want string
		for i := 0; i < 150; i++ {
			if l, err := os.Readlink(path); err == nil && l != nsOf(os.Getpid(), c.typ) {
				want = l
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if want == "" {
			t.Ok(false, c.typ+": unshare made a new namespace")
			continue
		}
		r, err := NewBundle(t)
		if !t.NoErr(err, "prepare bundle") {
			return
		}
		g := shellGen("sleep 60")
		if !t.NoErr(g.AddOrReplaceLinuxNamespace(c.typ, path), "build config") ||
			!t.NoErr(r.SetConfig(g), "write config.json") || !t.NoErr(r.Create(), c.typ+": create with namespace path "+path) {
			continue
		}
		st, err := r.State()
		if t.NoErr(err, "state") {
			got := nsOf(st.Pid, c.typ)
			t.Ok(got == want, c.typ+" namespace joined by path", "want "+want, "got  "+got)
		}
		r.Clean()
	}
}
