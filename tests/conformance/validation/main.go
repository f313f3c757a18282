// validation - the driver half of gureum's OCI runtime conformance suite.
//
// `validation list` prints the test names; `validation run NAME` runs one test
// against the runtime named by $RUNTIME and prints TAP. The tests are named
// and scoped after the opencontainers/runtime-tools `validation/` programs
// (the external suite the runtime is judged by); their source is not packaged
// by Debian, so this is our own implementation of the same checks, built
// offline against Debian's runtime-tools libraries (generate, cgroups) and
// specs-go. Each test prepares a bundle from $GR_CONF_ROOTFS (a tarball) with
// root.path "." and the runtimetest binary ($GR_CONF_RUNTIMETEST) at its top,
// drives the runtime through its CLI (create/start/state/kill/delete) with a
// timeout on every call, and always cleans up (kill, delete --force, bundle,
// cgroups it made). Exit status: 0 when every TAP line is ok, 1 otherwise.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

// T is a TAP stream for one test program.
type T struct {
	n, failed int
	cleanups  []func()
}

func (t *T) Ok(cond bool, desc string, diag ...interface{}) {
	t.n++
	if cond {
		fmt.Printf("ok %d - %s\n", t.n, desc)
		return
	}
	t.failed++
	fmt.Printf("not ok %d - %s\n", t.n, desc)
	for _, d := range diag {
		if d == nil {
			continue
		}
		for _, l := range strings.Split(strings.TrimRight(fmt.Sprint(d), "\n"), "\n") {
			fmt.Printf("#   %s\n", l)
		}
	}
}

// NoErr records err == nil as one check.
func (t *T) NoErr(err error, desc string) bool {
	t.Ok(err == nil, desc, err)
	return err == nil
}

func (t *T) Skip(desc, why string) {
	t.n++
	fmt.Printf("ok %d # skip %s: %s\n", t.n, desc, why)
}

func (t *T) Diag(format string, a ...interface{}) {
	for _, l := range strings.Split(strings.TrimRight(fmt.Sprintf(format, a...), "\n"), "\n") {
		fmt.Printf("# %s\n", l)
	}
}

func (t *T) Defer(f func()) { t.cleanups = append(t.cleanups, f) }

// Runtime drives one container through the runtime's command line.
type Runtime struct {
	Cmd    string
	Bundle string
	ID     string
}

var cmdTimeout = 20 * time.Second

// RunErr carries the exit status and stderr of a failed runtime command.
type RunErr struct {
	Args   []string
	Err    error
	Stderr string
}

func (e *RunErr) Error() string {
	return fmt.Sprintf("%s %s: %v: %s", filepath.Base(e.Args[0]), strings.Join(e.Args[1:], " "), e.Err, strings.TrimSpace(e.Stderr))
}

func (r *Runtime) run(stdout, stderr io.Writer, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, r.Cmd, args...)
	var eb bytes.Buffer
	c.Stdout = stdout
	if stderr != nil {
		c.Stderr = stderr
	} else {
		c.Stderr = &eb
	}
	err := c.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", cmdTimeout)
	}
	if err != nil {
		return &RunErr{Args: append([]string{r.Cmd}, args...), Err: err, Stderr: eb.String()}
	}
	return nil
}

// Create runs `create [extra...] --bundle B ID`; the container's stdio are
// the files B/stdout and B/stderr (stdin /dev/null).
func (r *Runtime) Create(extra ...string) error {
	out, err := os.OpenFile(filepath.Join(r.Bundle, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
	if err != nil {
		return err
	}
	defer out.Close()
	errf, err := os.OpenFile(filepath.Join(r.Bundle, "stderr"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0644)
	if err != nil {
		return err
	}
	defer errf.Close()
	off, _ := errf.Seek(0, io.SeekEnd)
	// as the upstream driver: options, then --bundle, then the ID; the
	// working folder is the caller's, not the bundle
	args := append(append([]string{"create"}, extra...), "--bundle", r.Bundle)
	args = append(args, r.ID)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, r.Cmd, args...)
	c.Stdout, c.Stderr = out, errf
	err = c.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", cmdTimeout)
	}
	if err != nil {
		b, _ := os.ReadFile(errf.Name())
		if int(off) <= len(b) {
			b = b[off:]
		}
		return &RunErr{Args: append([]string{r.Cmd}, args...), Err: err, Stderr: string(b)}
	}
	return nil
}

func (r *Runtime) Start() error { return r.run(io.Discard, nil, "start", r.ID) }
func (r *Runtime) Kill(sig string) error {
	return r.run(io.Discard, nil, "kill", r.ID, sig)
}
func (r *Runtime) Delete() error { return r.run(io.Discard, nil, "delete", r.ID) }

// State parses `state ID`.
func (r *Runtime) State() (rspec.State, error) {
	var st rspec.State
	var out bytes.Buffer
	if err := r.run(&out, nil, "state", r.ID); err != nil {
		return st, err
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		return st, fmt.Errorf("state output is not JSON (%v): %q", err, out.String())
	}
	return st, nil
}

// WaitStatus polls state until its status is one of want.
func (r *Runtime) WaitStatus(timeout time.Duration, want ...string) (rspec.State, error) {
	var st rspec.State
	var err error
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		st, err = r.State()
		if err != nil {
			return st, err
		}
		for _, w := range want {
			if string(st.Status) == w {
				return st, nil
			}
		}
	}
	return st, fmt.Errorf("status %q after %v, waited for %v", st.Status, timeout, want)
}

// Clean kills and removes the container if the runtime still knows it.
func (r *Runtime) Clean() {
	if _, err := r.State(); err != nil {
		return
	}
	_ = r.Kill("KILL")
	_, _ = r.WaitStatus(5*time.Second, "stopped")
	if r.Delete() != nil {
		_ = r.run(io.Discard, nil, "delete", "--force", r.ID)
	}
}

// Output returns what the container wrote to its stdout and stderr.
func (r *Runtime) Output() (string, string) {
	o, _ := os.ReadFile(filepath.Join(r.Bundle, "stdout"))
	e, _ := os.ReadFile(filepath.Join(r.Bundle, "stderr"))
	return string(o), string(e)
}

func (r *Runtime) SetConfig(g *generate.Generator) error {
	return g.SaveToFile(filepath.Join(r.Bundle, "config.json"), generate.ExportOptions{})
}

func newID() string {
	return fmt.Sprintf("gr-test-conf-%d-%08x", os.Getpid(), rand.Uint32())
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 {
			mp := strings.ReplaceAll(f[4], `\040`, " ")
			if mp == dir || strings.HasPrefix(mp, dir+"/") {
				out = append(out, mp)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// removeBundle detaches whatever a runtime left mounted in the bundle (a
// container without a mount namespace mounts /proc, /dev, binds... in the
// runtime's namespace) and only then removes it, so that a leaked bind of a
// host folder is never emptied.
func removeBundle(dir string) {
	for _, mp := range mountsUnder(dir) {
		syscall.Unmount(mp, syscall.MNT_DETACH)
	}
	if left := mountsUnder(dir); len(left) > 0 {
		fmt.Printf("# not removing %s: still mounted: %v\n", dir, left)
		return
	}
	os.RemoveAll(dir)
}

// NewBundle extracts the root file system into a fresh bundle folder and
// copies runtimetest to its top; the bundle is removed by t's cleanups.
func NewBundle(t *T) (*Runtime, error) {
	dir, err := os.MkdirTemp("", "gr-test-conf-")
	if err != nil {
		return nil, err
	}
	t.Defer(func() { removeBundle(dir) })
	if err := os.Chmod(dir, 0755); err != nil {
		return nil, err
	}
	tarball := os.Getenv("GR_CONF_ROOTFS")
	if out, err := exec.Command("tar", "-xf", tarball, "-C", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tar -xf %s: %v: %s", tarball, err, out)
	}
	rt, err := os.ReadFile(os.Getenv("GR_CONF_RUNTIMETEST"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "runtimetest"), rt, 0755); err != nil {
		return nil, err
	}
	cmd := os.Getenv("RUNTIME")
	r := &Runtime{Cmd: cmd, Bundle: dir, ID: newID()}
	t.Defer(r.Clean)
	return r, nil
}

// DefaultGenerator is runtime-tools' Linux default config with root "." and
// runtimetest as the process, as the upstream suite uses.
func DefaultGenerator() *generate.Generator {
	g, err := generate.New(runtime.GOOS)
	if err != nil {
		panic(err)
	}
	g.SetRootPath(".")
	g.SetProcessArgs([]string{"/runtimetest", "--path=/"})
	// Diagnostic mode: without runtime-tools' default seccomp profile, to see
	// what fails behind a runtime that cannot load that profile.
	if os.Getenv("GR_CONF_NO_DEFAULT_SECCOMP") == "1" {
		g.Config.Linux.Seccomp = nil
	}
	return &g
}

// InsideValidate creates and starts a container running runtimetest with g's
// config, waits for it to stop and reports runtimetest's verdict. pre runs on
// the bundle before create.
func InsideValidate(t *T, name string, g *generate.Generator, pre func(bundle string) error) {
	r, err := NewBundle(t)
	if !t.NoErr(err, name+": prepare bundle") {
		return
	}
	if pre != nil && !t.NoErr(pre(r.Bundle), name+": prepare rootfs") {
		return
	}
	if !t.NoErr(r.SetConfig(g), name+": write config.json") {
		return
	}
	if !t.NoErr(r.Create(), name+": create") {
		return
	}
	if !t.NoErr(r.Start(), name+": start") {
		return
	}
	_, err = r.WaitStatus(15*time.Second, "stopped")
	out, errout := r.Output()
	bad := err != nil || !strings.Contains(out, "1..") || strings.Contains(out, "not ok")
	var diag []interface{}
	if bad {
		diag = append(diag, err, "runtimetest stdout:\n"+out, "runtimetest stderr:\n"+errout)
	}
	t.Ok(!bad, name+": runtimetest inside the container", diag...)
}

type testFunc func(t *T)

var tests = map[string]testFunc{}

func register(name string, f testFunc) { tests[name] = f }

func main() {
	rand.Seed(time.Now().UnixNano() ^ int64(os.Getpid()))
	if len(os.Args) == 2 && os.Args[1] == "list" {
		names := make([]string, 0, len(tests))
		for n := range tests {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, "\n"))
		return
	}
	if len(os.Args) != 3 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: validation list | validation run TEST  (env RUNTIME, GR_CONF_ROOTFS, GR_CONF_RUNTIMETEST)")
		os.Exit(2)
	}
	f, ok := tests[os.Args[2]]
	if !ok {
		fmt.Fprintf(os.Stderr, "validation: no test %q (see 'validation list')\n", os.Args[2])
		os.Exit(2)
	}
	for _, v := range []string{"RUNTIME", "GR_CONF_ROOTFS", "GR_CONF_RUNTIMETEST"} {
		if os.Getenv(v) == "" {
			fmt.Fprintf(os.Stderr, "validation: %s is not set\n", v)
			os.Exit(2)
		}
	}
	t := &T{}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Ok(false, "test panicked", p)
			}
		}()
		f(t)
	}()
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	fmt.Printf("1..%d\n", t.n)
	if t.failed > 0 || t.n == 0 {
		os.Exit(1)
	}
}

var errExpected = errors.New("the runtime accepted it; the spec requires an error")
