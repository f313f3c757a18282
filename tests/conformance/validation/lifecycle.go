// lifecycle.go - the operations of runtime.md: create, start, state, kill,
// delete (and their error cases), the pid file, and that config.json edits
// after create have no effect. Containers run busybox `sh -c` scripts that
// leave marker files in the bundle (root.path is ".", so / is the bundle).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-tools/generate"
)

func init() {
	register("create", testCreate)
	register("start", testStart)
	register("start_no_process", testStartNoProcess)
	register("state", testState)
	register("kill", testKill)
	register("kill_no_effect", testKillNoEffect)
	register("killsig", testKillSig)
	register("delete", testDelete)
	register("delete_created", testDeleteCreated)
	register("delete_resources", testDeleteResources)
	register("delete_only_create_resources", testDeleteForeignCgroup)
	register("delete_only_create_resources_parent", testDeleteOnlyCreateResources)
	register("pidfile", testPidfile)
	register("config_updates_without_affect", testConfigUpdatesUpstream)
	register("config_updates_without_affect_args", testConfigUpdates)
	register("misc_props", testMiscProps)
}

// shellGen is the default config with process `sh -c script`.
func shellGen(script string) *generate.Generator {
	g := DefaultGenerator()
	g.SetProcessArgs([]string{"/bin/sh", "-c", script})
	return g
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// a zombie is not running
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func testCreate(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	g := shellGen("echo ran > /process-ran")
	if !t.NoErr(r.SetConfig(g), "write config.json") {
		return
	}
	id := r.ID
	r.ID = ""
	err = r.Create()
	t.Ok(err != nil, "create with an empty ID fails (create <container-id> <path-to-bundle>: ID is required)", err)
	r.ID = id
	if !t.NoErr(r.Create(), "create with a valid ID and bundle") {
		return
	}
	st, err := r.State()
	if t.NoErr(err, "state after create") {
		t.Ok(st.Status == "created", "status is \"created\" after create", "status: "+string(st.Status))
		t.Ok(pidAlive(st.Pid), "the container process exists after create", fmt.Sprintf("pid %d", st.Pid))
	}
	time.Sleep(300 * time.Millisecond)
	t.Ok(!exists(filepath.Join(r.Bundle, "process-ran")), "create does not run the user-specified program")
	r2 := &Runtime{Cmd: r.Cmd, Bundle: r.Bundle, ID: r.ID}
	err = r2.Create()
	t.Ok(err != nil, "create with an ID already in use fails (ID MUST be unique)", err)
	st, err = r.State()
	t.Ok(err == nil && st.Status == "created", "the first container is untouched by the failed create", err, "status: "+string(st.Status))
}

func testStart(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	id := r.ID
	r.ID = ""
	err = r.Start()
	t.Ok(err != nil, "start without a container ID fails", err)
	r.ID = id
	err = r.Start()
	t.Ok(err != nil, "start of a container that does not exist fails", err)
	if !t.NoErr(r.SetConfig(shellGen("echo started > /process-ran")), "write config.json") ||
		!t.NoErr(r.Create(), "create") {
		return
	}
	if !t.NoErr(r.Start(), "start of a created container") {
		return
	}
	_, err = r.WaitStatus(10*time.Second, "stopped")
	t.NoErr(err, "the container stops when its process exits")
	b, _ := os.ReadFile(filepath.Join(r.Bundle, "process-ran"))
	t.Ok(string(b) == "started\n", "start runs the user-specified program", fmt.Sprintf("marker: %q", b))
	err = r.Start()
	t.Ok(err != nil, "start of a stopped container fails (start on a non-created container MUST generate an error)", err)
	b, _ = os.ReadFile(filepath.Join(r.Bundle, "process-ran"))
	t.Ok(string(b) == "started\n", "the failed start has no effect (program not run again)", fmt.Sprintf("marker: %q", b))
}

// testStartNoProcess: the upstream start program ends by creating and
// starting a container whose config has no process, and counts it a pass
// when both succeed (its check is err == nil although the requirement it
// names is "start MUST generate an error if process was not set").
func testStartNoProcess(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	g := shellGen("true")
	g.Config.Process = nil
	if !t.NoErr(r.SetConfig(g), "write config.json without process") {
		return
	}
	if !t.NoErr(r.Create(), "create without process") {
		return
	}
	t.NoErr(r.Start(), "start without process (the upstream suite expects success)")
	if _, err := r.WaitStatus(10*time.Second, "stopped"); err == nil {
		t.NoErr(r.Delete(), "delete")
	}
}

func testState(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	_, err = r.State()
	t.Ok(err != nil, "state of a container that does not exist fails", err)
	g := shellGen("true")
	g.AddAnnotation("org.gureum.conformance", "state-test")
	if !t.NoErr(r.SetConfig(g), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	st, err := r.State()
	if !t.NoErr(err, "state of a created container") {
		return
	}
	t.Ok(st.Version != "", "state has ociVersion", fmt.Sprintf("%+v", st))
	t.Ok(st.ID == r.ID, "state id is the container ID", "id: "+st.ID)
	t.Ok(st.Status == "created", "state status is created", "status: "+string(st.Status))
	t.Ok(st.Pid > 0 && pidAlive(st.Pid), "state pid is the container process (created)", fmt.Sprintf("pid %d", st.Pid))
	abs, _ := filepath.Abs(r.Bundle)
	t.Ok(st.Bundle == abs, "state bundle is the absolute bundle path", "bundle: "+st.Bundle)
	t.Ok(st.Annotations["org.gureum.conformance"] == "state-test", "state annotations are the config's", fmt.Sprint(st.Annotations))
	if t.NoErr(r.Start(), "start") {
		_, err = r.WaitStatus(10*time.Second, "stopped")
		t.NoErr(err, "state status becomes stopped after the process exits")
	}
}

func testKill(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	err = r.Kill("TERM")
	t.Ok(err != nil, "kill of a container that does not exist fails", err)
	if !t.NoErr(r.SetConfig(shellGen("sleep 60")), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	if t.NoErr(r.Kill("KILL"), "kill KILL of a created container") {
		_, err = r.WaitStatus(10*time.Second, "stopped")
		t.NoErr(err, "the created container is stopped after SIGKILL")
	}
	r.Clean()
	r.ID = newID()
	if !t.NoErr(r.Create(), "create a second container") || !t.NoErr(r.Start(), "start it") {
		return
	}
	if _, err := r.WaitStatus(5*time.Second, "running"); !t.NoErr(err, "it is running") {
		return
	}
	if t.NoErr(r.Kill("KILL"), "kill KILL of a running container") {
		_, err = r.WaitStatus(10*time.Second, "stopped")
		t.NoErr(err, "the running container is stopped after SIGKILL")
	}
}

func testKillNoEffect(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	if !t.NoErr(r.SetConfig(shellGen("true")), "write config.json") || !t.NoErr(r.Create(), "create") ||
		!t.NoErr(r.Start(), "start") {
		return
	}
	st, err := r.WaitStatus(10*time.Second, "stopped")
	if !t.NoErr(err, "the container stops") {
		return
	}
	err = r.Kill("TERM")
	t.Ok(err != nil, "kill of a stopped container fails (kill on a non-created, non-running container MUST generate an error)", err)
	st2, err := r.State()
	t.Ok(err == nil && st2.Status == st.Status && st2.Pid == st.Pid, "kill of a stopped container has no effect on its state", err, fmt.Sprintf("%+v", st2))
}

func testKillSig(t *T) {
	for _, sig := range []string{"TERM", "INT", "HUP", "USR1", "SIGUSR2", "9"} {
		name := sig
		if sig == "9" {
			name = "KILL"
		}
		name = strings.TrimPrefix(name, "SIG")
		r, err := NewBundle(t)
		if !t.NoErr(err, "prepare bundle") {
			return
		}
		script := "sleep 60"
		if name != "KILL" {
			script = fmt.Sprintf("trap 'echo %s > /signal; exit 0' %s; echo ready > /ready; while :; do sleep 0.1; done", name, name)
		}
		if !t.NoErr(r.SetConfig(shellGen(script)), "write config.json") || !t.NoErr(r.Create(), "create") ||
			!t.NoErr(r.Start(), "start") {
			return
		}
		if name != "KILL" {
			for i := 0; i < 100 && !exists(filepath.Join(r.Bundle, "ready")); i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		err = r.Kill(sig)
		if t.NoErr(err, "kill "+sig+" is accepted") {
			_, err = r.WaitStatus(10*time.Second, "stopped")
			t.NoErr(err, "the container stops after "+sig)
			if name != "KILL" {
				b, _ := os.ReadFile(filepath.Join(r.Bundle, "signal"))
				t.Ok(string(b) == name+"\n", "the container process received SIG"+name, fmt.Sprintf("got %q", b))
			}
		}
		r.Clean()
	}
}

func testDelete(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	err = r.Delete()
	t.Ok(err != nil, "delete of a container that does not exist fails", err)
	id := r.ID
	r.ID = ""
	err = r.Delete()
	t.Ok(err != nil, "delete without a container ID fails", err)
	r.ID = id
	if !t.NoErr(r.SetConfig(shellGen("sleep 60")), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	st, _ := r.State()
	if t.NoErr(r.Kill("KILL"), "kill the created container") {
		_, _ = r.WaitStatus(10*time.Second, "stopped")
	}
	if t.NoErr(r.Delete(), "delete a stopped container") {
		_, err = r.State()
		t.Ok(err != nil, "state fails after delete (the container is gone)", err)
		t.Ok(!pidAlive(st.Pid), "the container process is gone after delete", fmt.Sprintf("pid %d", st.Pid))
	}
	r.ID = newID()
	if !t.NoErr(r.Create(), "create another") || !t.NoErr(r.Start(), "start it") {
		return
	}
	if _, err := r.WaitStatus(5*time.Second, "running"); !t.NoErr(err, "it is running") {
		return
	}
	err = r.Delete()
	t.Ok(err != nil, "delete of a running container fails (delete on a non-stopped container MUST generate an error)", err)
	st, err = r.State()
	t.Ok(err == nil && st.Status == "running", "the failed delete has no effect", err, "status: "+string(st.Status))
}

// testDeleteCreated: a created container is not stopped, so delete MUST fail
// and have no effect (the upstream delete program checks this; runc and crun
// kill and remove a created container instead).
func testDeleteCreated(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	if !t.NoErr(r.SetConfig(shellGen("true")), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	err = r.Delete()
	t.Ok(err != nil, "delete of a created (not stopped) container fails", err)
	st, err := r.State()
	t.Ok(err == nil && st.Status == "created", "the failed delete has no effect on the created container", err, "status: "+string(st.Status))
}

// v1Controllers lists the mounted cgroup v1 controller folders (by name).
func v1Controllers() map[string]string {
	out := map[string]string{}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		i := strings.Index(l, " - cgroup ")
		if i < 0 {
			continue
		}
		pre := strings.Fields(l[:i])
		post := strings.Fields(l[i+3:])
		if len(pre) < 5 || len(post) < 3 {
			continue
		}
		for _, o := range strings.Split(post[2], ",") {
			switch o {
			case "rw", "ro", "relatime", "nosuid", "nodev", "noexec":
				continue
			}
			out[strings.TrimPrefix(o, "name=")] = pre[4]
		}
	}
	return out
}

// removeCgroup removes rel (and its gr-test-conf parents) from every cgroup
// hierarchy, v1 and v2; busy or absent folders are left alone.
func removeCgroup(rel string) {
	mnts := v1Controllers()
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, " - cgroup2 "); i > 0 {
			if f := strings.Fields(l[:i]); len(f) > 4 {
				mnts["cgroup2"] = f[4]
			}
		}
	}
	for _, mnt := range mnts {
		p := filepath.Join(mnt, rel)
		for strings.HasPrefix(p, mnt+"/") && strings.Contains(p, "gr-test-conf") {
			syscall.Rmdir(p)
			p = filepath.Dir(p)
		}
	}
}

func testDeleteResources(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	cg := "/" + r.ID
	g := shellGen("sleep 60")
	g.SetLinuxCgroupsPath(cg)
	t.Defer(func() { r.Clean(); removeCgroup(cg) })
	if !t.NoErr(r.SetConfig(g), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	mnt := v1Controllers()["pids"]
	st, _ := r.State()
	t.Ok(exists(filepath.Join(mnt, cg)), "the runtime created the container's cgroup "+cg+" (pids)")
	if t.NoErr(r.Kill("KILL"), "kill") {
		_, _ = r.WaitStatus(10*time.Second, "stopped")
	}
	if t.NoErr(r.Delete(), "delete") {
		t.Ok(!exists(filepath.Join(mnt, cg)), "delete removed the cgroup the runtime created (resources created at create MUST be deleted)")
		t.Ok(!pidAlive(st.Pid), "delete left no container process", fmt.Sprintf("pid %d", st.Pid))
	}
}

// testDeleteOnlyCreateResources: the container's cgroup goes under a parent
// that already exists in the pids hierarchy (and not in the others); delete
// removes the leaf it made but MUST NOT remove that pre-existing parent.
func testDeleteOnlyCreateResources(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	parent := "/gr-test-conf-parent-" + r.ID
	mnt := v1Controllers()["pids"]
	t.Defer(func() { r.Clean(); removeCgroup(parent + "/ctr") })
	if !t.NoErr(os.Mkdir(filepath.Join(mnt, parent), 0755), "pre-create parent cgroup "+parent) {
		return
	}
	g := shellGen("sleep 60")
	g.SetLinuxCgroupsPath(parent + "/ctr")
	if !t.NoErr(r.SetConfig(g), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	if t.NoErr(r.Kill("KILL"), "kill") {
		_, _ = r.WaitStatus(10*time.Second, "stopped")
	}
	if t.NoErr(r.Delete(), "delete") {
		t.Ok(!exists(filepath.Join(mnt, parent, "ctr")), "delete removed the cgroup it created")
		t.Ok(exists(filepath.Join(mnt, parent)), "delete kept the parent cgroup it did not create (MUST NOT delete resources not created by create)")
	}
}

// testDeleteForeignCgroup is the upstream delete_only_create_resources case:
// the container's process is moved into a cgroup made by someone else;
// delete must leave that cgroup alone.
func testDeleteForeignCgroup(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	mnt := v1Controllers()["pids"]
	foreign := filepath.Join(mnt, "gr-test-conf-foreign-"+r.ID)
	t.Defer(func() { syscall.Rmdir(foreign) })
	if !t.NoErr(os.Mkdir(foreign, 0755), "pre-create a foreign pids cgroup") {
		return
	}
	if !t.NoErr(r.SetConfig(shellGen("true")), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	st, err := r.State()
	if !t.NoErr(err, "state") {
		return
	}
	if !t.NoErr(os.WriteFile(filepath.Join(foreign, "tasks"), []byte(strconv.Itoa(st.Pid)), 0644), "move its process into the foreign cgroup") ||
		!t.NoErr(r.Start(), "start") {
		return
	}
	if _, err := r.WaitStatus(10*time.Second, "stopped"); t.NoErr(err, "it stops") && t.NoErr(r.Delete(), "delete") {
		t.Ok(exists(foreign), "delete kept the foreign cgroup its process was moved to")
	}
}

func testPidfile(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	pf := filepath.Join(r.Bundle, "..", filepath.Base(r.Bundle)+".pid")
	t.Defer(func() { os.Remove(pf) })
	if !t.NoErr(r.SetConfig(shellGen("sleep 60")), "write config.json") || !t.NoErr(r.Create("--pid-file", pf), "create --pid-file") {
		return
	}
	b, err := os.ReadFile(pf)
	if !t.NoErr(err, "the pid file exists after create") {
		return
	}
	// strict as upstream: the file is the decimal pid, nothing else (no newline)
	pid, perr := strconv.Atoi(string(b))
	st, err := r.State()
	t.Ok(perr == nil && err == nil && pid == st.Pid, "the pid file holds exactly the container's pid (as state reports it)", fmt.Sprintf("file %q, state pid %d, %v", b, st.Pid, err))
}

func testConfigUpdates(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	if !t.NoErr(r.SetConfig(shellGen("echo original > /which")), "write config.json") || !t.NoErr(r.Create(), "create") {
		return
	}
	g := shellGen("echo changed > /which")
	g.SetHostname("changed-after-create")
	if !t.NoErr(r.SetConfig(g), "rewrite config.json after create") || !t.NoErr(r.Start(), "start") {
		return
	}
	_, err = r.WaitStatus(10*time.Second, "stopped")
	t.NoErr(err, "the container stops")
	b, _ := os.ReadFile(filepath.Join(r.Bundle, "which"))
	t.Ok(string(b) == "original\n", "config.json edits after create do not affect the container", fmt.Sprintf("ran: %q", b))
}

// testMiscProps: unknown annotation keys and unknown properties MUST NOT be
// errors (config.md Annotations, Extensibility); an invalid ociVersion value
// MUST be (config.md Valid values).
func testMiscProps(t *T) {
	cases := []struct {
		desc    string
		edit    func(m map[string]interface{})
		wantErr bool
	}{
		{"an unknown annotation key is accepted", func(m map[string]interface{}) {
			m["annotations"] = map[string]string{"org.gureum.unknown-key": ""}
		}, false},
		{"an unknown top-level property is accepted", func(m map[string]interface{}) { m["unknown"] = "unknown" }, false},
		{"an invalid ociVersion is an error", func(m map[string]interface{}) { m["ociVersion"] = "invalid" }, true},
	}
	for _, c := range cases {
		r, err := NewBundle(t)
		if !t.NoErr(err, "prepare bundle") {
			return
		}
		var m map[string]interface{}
		b, _ := json.Marshal(shellGen("true").Config)
		_ = json.Unmarshal(b, &m)
		c.edit(m)
		b, _ = json.Marshal(m)
		if !t.NoErr(os.WriteFile(filepath.Join(r.Bundle, "config.json"), b, 0644), "write config.json") {
			return
		}
		err = r.Create()
		if err == nil {
			if err = r.Start(); err == nil {
				_, err = r.WaitStatus(10*time.Second, "stopped")
				if err == nil {
					err = r.Delete()
				}
			}
		}
		if c.wantErr {
			t.Ok(err != nil, c.desc+" (create/start/delete)", errExpected)
		} else {
			t.NoErr(err, c.desc+" (create, start, delete)")
		}
		r.Clean()
	}
}

// testConfigUpdatesUpstream follows the upstream program: a config with
// masked and readonly paths, a sysctl, oomScoreAdj, an rlimit and shared
// rootfs propagation (runtimetest reads a copy, /test.json); after create,
// config.json is replaced by {"ociVersion": "1.0.0"} alone. start, the
// container and delete must not notice.
func testConfigUpdatesUpstream(t *T) {
	r, err := NewBundle(t)
	if !t.NoErr(err, "prepare bundle") {
		return
	}
	g := DefaultGenerator()
	g.SetProcessArgs([]string{"/runtimetest", "--path=/test"})
	g.AddLinuxMaskedPaths("/proc/kcore")
	g.AddLinuxReadonlyPaths("/proc/fs")
	g.AddLinuxSysctl("net.ipv4.ip_forward", "1")
	g.SetProcessOOMScoreAdj(100)
	g.AddProcessRlimits("RLIMIT_NOFILE", 1024, 1024)
	if !t.NoErr(g.SetLinuxRootPropagation("shared"), "build config") || !t.NoErr(r.SetConfig(g), "write config.json") {
		return
	}
	if !t.NoErr(os.MkdirAll(filepath.Join(r.Bundle, "test"), 0755), "mkdir /test") ||
		!t.NoErr(g.SaveToFile(filepath.Join(r.Bundle, "test", "config.json"), generate.ExportOptions{}), "write /test/config.json") ||
		!t.NoErr(r.Create(), "create") {
		return
	}
	if !t.NoErr(os.WriteFile(filepath.Join(r.Bundle, "config.json"), []byte(`{"ociVersion":"1.0.0"}`), 0644),
		"replace config.json with {\"ociVersion\": \"1.0.0\"}") {
		return
	}
	if !t.NoErr(r.Start(), "start after config.json changed (updates MUST NOT affect the container)") {
		return
	}
	_, err = r.WaitStatus(10*time.Second, "stopped")
	out, errout := r.Output()
	bad := err != nil || !strings.Contains(out, "1..") || strings.Contains(out, "not ok")
	t.Ok(!bad, "runtimetest: the container is the one config.json described at create", err, "stdout:\n"+out, "stderr:\n"+errout)
	t.NoErr(r.Delete(), "delete after config.json changed")
}
