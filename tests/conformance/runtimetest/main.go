// runtimetest - the in-container half of gureum's OCI conformance suite.
//
// It runs as the container's process, reads the bundle's config.json (the
// validation driver uses root.path "." so the bundle folder is the root file
// system and config.json is visible at /config.json), and checks that the
// environment the runtime built matches it, following the runtime and
// config-linux requirements of the OCI runtime spec (the same checks the
// opencontainers/runtime-tools runtimetest makes). Output is TAP, one line per
// check; a check whose config field is absent is reported as "skip".
// Built static (CGO_ENABLED=0) so it runs in a busybox root file system.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
)

type tapWriter struct{ n, failed int }

func (t *tapWriter) result(desc string, err error) {
	t.n++
	if err == nil {
		fmt.Printf("ok %d - %s\n", t.n, desc)
		return
	}
	t.failed++
	fmt.Printf("not ok %d - %s\n", t.n, desc)
	for _, l := range strings.Split(err.Error(), "\n") {
		fmt.Printf("# %s\n", l)
	}
}

func (t *tapWriter) skip(desc, why string) {
	t.n++
	fmt.Printf("ok %d # skip %s: %s\n", t.n, desc, why)
}

type mountInfo struct {
	mountpoint, fstype, source, options, optional string
}

func readMounts() ([]mountInfo, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountInfo
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		sep := strings.Index(line, " - ")
		if sep < 0 {
			continue
		}
		pre := strings.Fields(line[:sep])
		post := strings.Fields(line[sep+3:])
		if len(pre) < 6 || len(post) < 2 {
			continue
		}
		m := mountInfo{mountpoint: unescape(pre[4]), options: pre[5], fstype: post[0], source: unescape(post[1])}
		if len(pre) > 6 {
			m.optional = strings.Join(pre[6:], " ")
		}
		out = append(out, m)
	}
	return out, s.Err()
}

func unescape(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func checkUser(spec *rspec.Spec) error {
	u := spec.Process.User
	if uint32(os.Getuid()) != u.UID {
		return fmt.Errorf("uid expected %d, actual %d", u.UID, os.Getuid())
	}
	if uint32(os.Getgid()) != u.GID {
		return fmt.Errorf("gid expected %d, actual %d", u.GID, os.Getgid())
	}
	groups, err := os.Getgroups()
	if err != nil {
		return err
	}
	have := map[int]bool{}
	for _, g := range groups {
		have[g] = true
	}
	for _, g := range u.AdditionalGids {
		if !have[int(g)] {
			return fmt.Errorf("additionalGids %v not all in supplementary groups %v", u.AdditionalGids, groups)
		}
	}
	if u.Umask != nil {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Umask:") {
				got, _ := strconv.ParseUint(strings.TrimSpace(l[6:]), 8, 32)
				if uint32(got) != *u.Umask {
					return fmt.Errorf("umask expected %04o, actual %04o", *u.Umask, got)
				}
			}
		}
	}
	return nil
}

func checkProcess(spec *rspec.Spec) error {
	p := spec.Process
	if p.Cwd != "" && !seccompBlocks(spec, "getcwd") {
		cwd, err := os.Getwd()
		if err != nil {
			return err
		}
		if cwd != p.Cwd {
			return fmt.Errorf("cwd expected %q, actual %q", p.Cwd, cwd)
		}
	}
	for _, e := range p.Env {
		kv := strings.SplitN(e, "=", 2)
		if len(kv) != 2 {
			continue
		}
		if v, ok := os.LookupEnv(kv[0]); !ok || v != kv[1] {
			return fmt.Errorf("env %s expected %q, actual %q", kv[0], kv[1], v)
		}
	}
	cmdline, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		return err
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if strings.Join(args, "\x00") != strings.Join(p.Args, "\x00") {
		return fmt.Errorf("args expected %q, actual %q", p.Args, args)
	}
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return err
	}
	if (nnp == 1) != p.NoNewPrivileges {
		return fmt.Errorf("noNewPrivileges expected %v, actual %v", p.NoNewPrivileges, nnp == 1)
	}
	return nil
}

// seccompBlocks tells whether config's seccomp makes syscall name fail.
func seccompBlocks(spec *rspec.Spec, name string) bool {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return false
	}
	for _, sc := range spec.Linux.Seccomp.Syscalls {
		for _, n := range sc.Names {
			if n == name && sc.Action != rspec.ActAllow {
				return true
			}
		}
	}
	return false
}

func checkCapabilities(spec *rspec.Spec) error {
	c := spec.Process.Capabilities
	last := capability.CAP_LAST_CAP
	caps, err := capability.NewPid2(0)
	if err != nil {
		return err
	}
	if err := caps.Load(); err != nil {
		return err
	}
	sets := []struct {
		t    capability.CapType
		name string
		want []string
	}{
		{capability.BOUNDING, "bounding", c.Bounding}, {capability.EFFECTIVE, "effective", c.Effective},
		{capability.INHERITABLE, "inheritable", c.Inheritable}, {capability.PERMITTED, "permitted", c.Permitted},
		{capability.AMBIENT, "ambient", c.Ambient},
	}
	var problems []string
	for _, s := range sets {
		want := map[string]bool{}
		for _, n := range s.want {
			want[n] = true
		}
		for _, cp := range capability.List() {
			if cp > last {
				continue
			}
			key := "CAP_" + strings.ToUpper(cp.String())
			got := caps.Get(s.t, cp)
			if want[key] && !got {
				problems = append(problems, fmt.Sprintf("%s: %s expected but not set", s.name, key))
			} else if !want[key] && got {
				problems = append(problems, fmt.Sprintf("%s: %s set but not in config", s.name, key))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

var rlimitNames = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

func checkRlimits(spec *rspec.Spec) error {
	for _, r := range spec.Process.Rlimits {
		res, ok := rlimitNames[r.Type]
		if !ok {
			return fmt.Errorf("unknown rlimit %s", r.Type)
		}
		var got unix.Rlimit
		if err := unix.Getrlimit(res, &got); err != nil {
			return err
		}
		// Go (>= 1.19) raises its own NOFILE soft limit to the hard one at
		// start, so for NOFILE a soft limit equal to the hard one is accepted
		if r.Type == "RLIMIT_NOFILE" && got.Cur == got.Max && got.Max == r.Hard {
			continue
		}
		if got.Cur != r.Soft || got.Max != r.Hard {
			return fmt.Errorf("%s expected %d/%d, actual %d/%d", r.Type, r.Soft, r.Hard, got.Cur, got.Max)
		}
	}
	return nil
}

func checkSysctls(spec *rspec.Spec) error {
	for k, v := range spec.Linux.Sysctl {
		b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/")))
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(string(b)); got != v {
			return fmt.Errorf("sysctl %s expected %q, actual %q", k, v, got)
		}
	}
	return nil
}

func canWrite(dir string) error {
	f, err := os.CreateTemp(dir, "rt-write-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func checkRoot(spec *rspec.Spec) error {
	err := canWrite("/")
	if spec.Root.Readonly && err == nil {
		return errors.New("root.readonly is true but / is writable")
	}
	if !spec.Root.Readonly && err != nil {
		return fmt.Errorf("root.readonly is false but / is not writable: %v", err)
	}
	return nil
}

func checkRootfsPropagation(spec *rspec.Spec) error {
	prop := spec.Linux.RootfsPropagation
	target, err := os.MkdirTemp("/", "rt-target-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(target)
	switch prop {
	case "shared", "slave", "private":
		mnt, err := os.MkdirTemp("/", "rt-mount-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(mnt)
		src, err := os.MkdirTemp("/", "rt-src-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(src)
		if err := os.WriteFile(filepath.Join(src, "probe"), nil, 0644); err != nil {
			return err
		}
		// Bind / on target, then mount src on mnt: the new mount shows up
		// under target only when / is a shared mount (propagation peer).
		if err := unix.Mount("/", target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind / on %s: %w", target, err)
		}
		defer unix.Unmount(target, unix.MNT_DETACH)
		if err := unix.Mount(src, mnt, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %v", src, mnt, err)
		}
		defer unix.Unmount(mnt, unix.MNT_DETACH)
		_, err = os.Stat(filepath.Join(target, mnt, "probe"))
		propagated := err == nil
		if prop == "shared" && !propagated {
			return errors.New("rootfsPropagation shared: a mount under / did not propagate to a bind of /")
		}
		if prop != "shared" && propagated {
			return fmt.Errorf("rootfsPropagation %s: a mount under / propagated to a bind of /", prop)
		}
		return nil
	case "unbindable":
		err := unix.Mount("/", target, "", unix.MS_BIND|unix.MS_REC, "")
		if err == unix.EPERM {
			return err
		}
		if err == nil {
			unix.Unmount(target, unix.MNT_DETACH)
			return errors.New("rootfsPropagation unbindable: / could be bind-mounted")
		}
		if err != unix.EINVAL {
			return fmt.Errorf("bind of / failed with %v, expected EINVAL", err)
		}
		return nil
	}
	return fmt.Errorf("unknown rootfsPropagation %q", prop)
}

func checkDefaultFS(mounts []mountInfo) error {
	want := map[string]string{"/proc": "proc", "/sys": "sysfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs"}
	have := map[string]string{}
	for _, m := range mounts {
		have[m.mountpoint] = m.fstype
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if have[k] != want[k] {
			return fmt.Errorf("%s should be a %s mount, found %q", k, want[k], have[k])
		}
	}
	return nil
}

func checkDevices(spec *rspec.Spec) error {
	for _, d := range spec.Linux.Devices {
		var st unix.Stat_t
		if err := unix.Stat(d.Path, &st); err != nil {
			return fmt.Errorf("device %s: %v", d.Path, err)
		}
		typ := "?"
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			typ = "c"
		case unix.S_IFBLK:
			typ = "b"
		case unix.S_IFIFO:
			typ = "p"
		}
		want := d.Type
		if want == "u" {
			want = "c"
		}
		if typ != want {
			return fmt.Errorf("device %s type expected %s, actual %s", d.Path, d.Type, typ)
		}
		if typ != "p" && (int64(unix.Major(st.Rdev)) != d.Major || int64(unix.Minor(st.Rdev)) != d.Minor) {
			return fmt.Errorf("device %s expected %d:%d, actual %d:%d", d.Path, d.Major, d.Minor, unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		if d.FileMode != nil && os.FileMode(st.Mode)&os.ModePerm != *d.FileMode&os.ModePerm {
			return fmt.Errorf("device %s mode expected %o, actual %o", d.Path, *d.FileMode&os.ModePerm, st.Mode&0777)
		}
		if d.UID != nil && *d.UID != st.Uid {
			return fmt.Errorf("device %s uid expected %d, actual %d", d.Path, *d.UID, st.Uid)
		}
		if d.GID != nil && *d.GID != st.Gid {
			return fmt.Errorf("device %s gid expected %d, actual %d", d.Path, *d.GID, st.Gid)
		}
	}
	return nil
}

func checkDefaultSymlinks() error {
	want := map[string]string{"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
		"/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"}
	for link, dest := range want {
		got, err := os.Readlink(link)
		if err != nil {
			return fmt.Errorf("%s: %v", link, err)
		}
		if got != dest {
			return fmt.Errorf("%s points to %q, expected %q", link, got, dest)
		}
	}
	return nil
}

func checkDefaultDevices(spec *rspec.Spec) error {
	devs := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx"}
	if spec.Process.Terminal {
		devs = append(devs, "/dev/console")
	}
	for _, d := range devs {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("default device %s: %v", d, err)
		}
		if fi.Mode()&os.ModeDevice == 0 {
			return fmt.Errorf("default device %s is not a device node", d)
		}
	}
	return nil
}

// mountAt returns the topmost mount on path p, if any.
func mountAt(mounts []mountInfo, p string) (mountInfo, bool) {
	var m mountInfo
	found := false
	for _, s := range mounts {
		if s.mountpoint == filepath.Clean(p) {
			m, found = s, true
		}
	}
	return m, found
}

func checkMaskedPaths(spec *rspec.Spec) error {
	for _, p := range spec.Linux.MaskedPaths {
		if !filepath.IsAbs(p) {
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// a device node or fifo: masked means /dev/null is on it
			if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
				return fmt.Errorf("masked path %s (mode %o) is not covered by /dev/null", p, st.Mode)
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return fmt.Errorf("masked path %s: %v", p, err)
		}
		if fi.IsDir() {
			ents, err := os.ReadDir(p)
			if err == nil && len(ents) > 0 {
				return fmt.Errorf("masked directory %s lists %d entries", p, len(ents))
			}
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue // unreadable is masked too
		}
		n, err := f.Read(make([]byte, 1))
		f.Close()
		if n > 0 || (err != nil && err != io.EOF) {
			return fmt.Errorf("masked file %s is readable", p)
		}
	}
	return nil
}

func checkReadonlyPaths(spec *rspec.Spec, mounts []mountInfo) error {
	for _, p := range spec.Linux.ReadonlyPaths {
		if !filepath.IsAbs(p) {
			continue
		}
		if m, ok := mountAt(mounts, p); ok {
			ro := false
			for _, o := range strings.Split(m.options, ",") {
				ro = ro || o == "ro"
			}
			if !ro {
				return fmt.Errorf("readonly path %s is a mount without ro (%s)", p, m.options)
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		if fi.IsDir() {
			if canWrite(p) == nil {
				return fmt.Errorf("readonly directory %s is writable", p)
			}
			continue
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
			return fmt.Errorf("readonly file %s opened for writing", p)
		}
	}
	return nil
}

func checkSeccomp(spec *rspec.Spec) error {
	for _, sc := range spec.Linux.Seccomp.Syscalls {
		if sc.Action != rspec.ActErrno {
			continue
		}
		for _, n := range sc.Names {
			if n == "getcwd" {
				if _, err := os.Getwd(); err == nil {
					return errors.New("getcwd is SCMP_ACT_ERRNO but succeeded")
				}
			}
		}
	}
	return nil
}

func checkOOMScoreAdj(spec *rspec.Spec) error {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return err
	}
	got, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	if got != *spec.Process.OOMScoreAdj {
		return fmt.Errorf("oom_score_adj expected %d, actual %d", *spec.Process.OOMScoreAdj, got)
	}
	return nil
}

func checkIDMap(file string, want []rspec.LinuxIDMapping) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var got []rspec.LinuxIDMapping
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			return fmt.Errorf("%s: bad line %q", file, l)
		}
		c, _ := strconv.ParseUint(f[0], 10, 32)
		h, _ := strconv.ParseUint(f[1], 10, 32)
		s, _ := strconv.ParseUint(f[2], 10, 32)
		got = append(got, rspec.LinuxIDMapping{ContainerID: uint32(c), HostID: uint32(h), Size: uint32(s)})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("%s is %v, expected %v", file, got, want)
	}
	return nil
}

// checkMounts: every config mount is in mountinfo (destination, type, and
// source for non-bind mounts), with the per-mount flags it asked for (ro,
// nosuid, nodev, noexec), and config order is mount order (a later mount on a
// destination is the one on top).
func checkMounts(spec *rspec.Spec, mounts []mountInfo) error {
	last := -1
	for _, m := range spec.Mounts {
		dest := filepath.Clean(m.Destination)
		isBind := m.Type == "bind"
		for _, o := range m.Options {
			if o == "bind" || o == "rbind" {
				isBind = true
			}
		}
		idx := -1
		for i, s := range mounts {
			if s.mountpoint != dest {
				continue
			}
			if !isBind && m.Type != "" && s.fstype != m.Type {
				continue
			}
			if !isBind && m.Source != "" && s.source != m.Source {
				continue
			}
			idx = i // the last (topmost) match
		}
		if idx < 0 {
			return fmt.Errorf("mount %s (type %s, source %s) not found in /proc/self/mountinfo", m.Destination, m.Type, m.Source)
		}
		opts := map[string]bool{}
		for _, o := range strings.Split(mounts[idx].options, ",") {
			opts[o] = true
		}
		for _, o := range m.Options {
			switch o {
			case "ro", "nosuid", "nodev", "noexec":
				if !opts[o] {
					return fmt.Errorf("mount %s: option %s asked, mount options are %s", m.Destination, o, mounts[idx].options)
				}
			}
		}
		if idx < last {
			return fmt.Errorf("mount %s is mounted before the mount listed ahead of it in config (mounts MUST be mounted in order)", m.Destination)
		}
		last = idx
	}
	return nil
}

func main() {
	path := flag.String("path", "/", "folder holding config.json")
	flag.Parse()
	b, err := os.ReadFile(filepath.Join(*path, "config.json"))
	if err != nil {
		fmt.Printf("1..1\nnot ok 1 - read config.json\n# %v\n", err)
		os.Exit(1)
	}
	var spec rspec.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		fmt.Printf("1..1\nnot ok 1 - parse config.json\n# %v\n", err)
		os.Exit(1)
	}
	if spec.Process == nil {
		spec.Process = &rspec.Process{}
	}
	if spec.Linux == nil {
		spec.Linux = &rspec.Linux{}
	}
	t := &tapWriter{}
	mounts, merr := readMounts()
	t.result("process user (uid, gid, additionalGids)", checkUser(&spec))
	t.result("process args, cwd, env, noNewPrivileges", checkProcess(&spec))
	if spec.Process.Capabilities != nil {
		t.result("process capabilities (5 sets)", checkCapabilities(&spec))
	} else {
		t.skip("process capabilities", "not in config")
	}
	if spec.Hostname != "" {
		h, _ := os.Hostname()
		var e error
		if h != spec.Hostname {
			e = fmt.Errorf("hostname expected %q, actual %q", spec.Hostname, h)
		}
		t.result("hostname", e)
	}
	t.result("process rlimits", checkRlimits(&spec))
	if spec.Root != nil {
		t.result("root.readonly", checkRoot(&spec))
	}
	if merr != nil {
		t.result("read /proc/self/mountinfo", merr)
	} else {
		t.result("mounts listed in config exist", checkMounts(&spec, mounts))
		t.result("default filesystems (proc, sysfs, devpts, shm)", checkDefaultFS(mounts))
	}
	t.result("linux sysctl", checkSysctls(&spec))
	t.result("linux devices", checkDevices(&spec))
	t.result("default symlinks in /dev", checkDefaultSymlinks())
	t.result("default devices in /dev", checkDefaultDevices(&spec))
	t.result("linux maskedPaths", checkMaskedPaths(&spec))
	t.result("linux readonlyPaths", checkReadonlyPaths(&spec, mounts))
	if spec.Linux.RootfsPropagation != "" {
		// probing needs mount(2); without CAP_SYS_ADMIN (or under a seccomp
		// profile that refuses it) the check cannot be made here
		if err := checkRootfsPropagation(&spec); errors.Is(err, unix.EPERM) {
			t.skip("linux rootfsPropagation "+spec.Linux.RootfsPropagation, "mount(2) not permitted in this container")
		} else {
			t.result("linux rootfsPropagation "+spec.Linux.RootfsPropagation, err)
		}
	}
	if spec.Linux.Seccomp != nil {
		t.result("linux seccomp (getcwd errno)", checkSeccomp(&spec))
	}
	if spec.Process.OOMScoreAdj != nil {
		t.result("process oomScoreAdj", checkOOMScoreAdj(&spec))
	}
	if len(spec.Linux.UIDMappings) > 0 {
		t.result("linux uidMappings", checkIDMap("/proc/self/uid_map", spec.Linux.UIDMappings))
	}
	if len(spec.Linux.GIDMappings) > 0 {
		t.result("linux gidMappings", checkIDMap("/proc/self/gid_map", spec.Linux.GIDMappings))
	}
	fmt.Printf("1..%d\n", t.n)
	if t.failed > 0 {
		os.Exit(1)
	}
}
