// cgroups.go - linux.resources applied to the container's cgroup (config-linux.md
// "Control groups"), read back from the host with runtime-tools' cgroups
// package after create, for an absolute cgroupsPath (relative to the cgroup
// mount) and a relative one (relative to the runtime's cgroup).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/cgroups"
	"github.com/opencontainers/runtime-tools/generate"
)

type cgCheck func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources)

// cgTest registers NAME (absolute cgroupsPath) and linux_cgroups_relative_X.
func cgTest(short string, setup func(t *T, g *generate.Generator) bool, check cgCheck) {
	for _, rel := range []bool{false, true} {
		relative := rel
		name := "linux_cgroups_" + short
		if relative {
			name = "linux_cgroups_relative_" + short
		}
		register(name, func(t *T) {
			r, err := NewBundle(t)
			if !t.NoErr(err, "prepare bundle") {
				return
			}
			g := shellGen("sleep 60")
			path := "/" + r.ID
			if relative {
				path = "gr-test-conf-rel-" + r.ID + "/ctr"
			}
			g.SetLinuxCgroupsPath(path)
			t.Defer(func() { r.Clean(); removeCgroup(path); removeOwnRelative(path) })
			if !setup(t, g) {
				return
			}
			if !t.NoErr(r.SetConfig(g), "write config.json") || !t.NoErr(r.Create(), "create with cgroupsPath "+path) {
				return
			}
			st, err := r.State()
			if !t.NoErr(err, "state") {
				return
			}
			cg, err := cgroups.FindCgroup()
			if !t.NoErr(err, "find the cgroup v1 mount") {
				return
			}
			check(t, cg, st.Pid, path, g.Config.Linux.Resources)
		})
	}
}

// removeOwnRelative removes a relative cgroupsPath under this process's cgroups.
func removeOwnRelative(rel string) {
	if filepath.IsAbs(rel) {
		return
	}
	b, _ := os.ReadFile("/proc/self/cgroup")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 && f[1] != "" {
			removeCgroup(filepath.Join(f[2], rel))
		}
	}
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(string(b))
}

// cgDir is the v1 folder of controller for cgroupsPath path, checking (as the
// runtime-tools library does) that pid is in it.
func cgDir(controller string, pid int, path string) (string, error) {
	mnt, ok := v1Controllers()[controller]
	if !ok {
		return "", fmt.Errorf("no cgroup v1 %s hierarchy", controller)
	}
	sub, err := cgroups.GetSubsystemPath(pid, controller)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(path) && sub != path {
		return "", fmt.Errorf("container pid %d is in %s cgroup %q, cgroupsPath is %q (absolute: relative to the cgroup mount)", pid, controller, sub, path)
	}
	if !filepath.IsAbs(path) && !strings.HasSuffix(sub, "/"+path) {
		return "", fmt.Errorf("container pid %d is in %s cgroup %q, cgroupsPath is relative %q", pid, controller, sub, path)
	}
	return filepath.Join(mnt, sub), nil
}

func eq(t *T, desc string, want, got interface{}) {
	w, g := fmt.Sprint(want), fmt.Sprint(got)
	t.Ok(w == g, desc, "want "+w, "got  "+g)
}

func firstDisk() (int64, int64, bool) {
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "loop") || strings.HasPrefix(e.Name(), "ram") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "dev"))
		if err != nil {
			continue
		}
		mm := strings.Split(strings.TrimSpace(string(b)), ":")
		if len(mm) != 2 {
			continue
		}
		ma, _ := strconv.ParseInt(mm[0], 10, 64)
		mi, _ := strconv.ParseInt(mm[1], 10, 64)
		return ma, mi, true
	}
	return 0, 0, false
}

func init() {
	cgTest("blkio", func(t *T, g *generate.Generator) bool {
		ma, mi, ok := firstDisk()
		if !ok {
			t.Skip("blkio", "no block device in /sys/block")
			return false
		}
		if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err == nil {
			g.SetLinuxResourcesBlockIOWeight(500)
		}
		g.AddLinuxResourcesBlockIOThrottleReadBpsDevice(ma, mi, 1048576)
		g.AddLinuxResourcesBlockIOThrottleWriteBpsDevice(ma, mi, 2097152)
		g.AddLinuxResourcesBlockIOThrottleReadIOPSDevice(ma, mi, 300)
		g.AddLinuxResourcesBlockIOThrottleWriteIOPSDevice(ma, mi, 400)
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		dir, err := cgDir("blkio", pid, path)
		if !t.NoErr(err, "find the blkio cgroup") {
			return
		}
		w := want.BlockIO
		if w.Weight != nil {
			eq(t, "blkio.weight", fmt.Sprint(*w.Weight), readTrim(filepath.Join(dir, "blkio.weight")))
		}
		for _, f := range []struct {
			file string
			devs []rspec.LinuxThrottleDevice
		}{{"blkio.throttle.read_bps_device", w.ThrottleReadBpsDevice}, {"blkio.throttle.write_bps_device", w.ThrottleWriteBpsDevice},
			{"blkio.throttle.read_iops_device", w.ThrottleReadIOPSDevice}, {"blkio.throttle.write_iops_device", w.ThrottleWriteIOPSDevice}} {
			var lines []string
			for _, d := range f.devs {
				lines = append(lines, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate))
			}
			eq(t, f.file, strings.Join(lines, "\n"), readTrim(filepath.Join(dir, f.file)))
		}
	})
	cgTest("cpus", func(t *T, g *generate.Generator) bool {
		g.SetLinuxResourcesCPUShares(512)
		g.SetLinuxResourcesCPUQuota(50000)
		g.SetLinuxResourcesCPUPeriod(100000)
		g.SetLinuxResourcesCPUCpus("0")
		g.SetLinuxResourcesCPUMems("0")
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		got, err := cg.GetCPUData(pid, path)
		if !t.NoErr(err, "read cpu/cpuset cgroups") {
			return
		}
		w := want.CPU
		eq(t, "cpu.shares", *w.Shares, deref64u(got.Shares))
		eq(t, "cpu.cfs_quota_us", *w.Quota, deref64(got.Quota))
		eq(t, "cpu.cfs_period_us", *w.Period, deref64u(got.Period))
		eq(t, "cpuset.cpus", w.Cpus, got.Cpus)
		eq(t, "cpuset.mems", w.Mems, got.Mems)
	})
	cgTest("devices", func(t *T, g *generate.Generator) bool {
		// devices no runtime allows by default: tun (c 10:200), loop0 (b 7:0)
		cma, cmi, bma, bmi := int64(10), int64(200), int64(7), int64(0)
		g.AddLinuxResourcesDevice(true, "c", &cma, &cmi, "rwm")
		g.AddLinuxResourcesDevice(true, "b", &bma, &bmi, "r")
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		got, err := cg.GetDevicesData(pid, path)
		if !t.NoErr(err, "read devices cgroup") {
			return
		}
		for _, w := range want.Devices {
			if !w.Allow {
				continue
			}
			found := false
			for _, d := range got {
				if d.Allow && d.Type == w.Type && d.Major != nil && d.Minor != nil && *d.Major == *w.Major &&
					*d.Minor == *w.Minor && d.Access == w.Access {
					found = true
				}
			}
			var list []string
			for _, d := range got {
				list = append(list, fmt.Sprintf("%s %d:%d %s", d.Type, deref64(d.Major), deref64(d.Minor), d.Access))
			}
			t.Ok(found, fmt.Sprintf("devices.list allows %s %d:%d %s", w.Type, *w.Major, *w.Minor, w.Access), strings.Join(list, ", "))
		}
	})
	cgTest("hugetlb", func(t *T, g *generate.Generator) bool {
		sizes, err := cgroups.GetHugePageSize()
		if err != nil || len(sizes) == 0 {
			t.Skip("hugetlb", "no huge page sizes on this host")
			return false
		}
		if _, ok := v1Controllers()["hugetlb"]; !ok {
			t.Skip("hugetlb", "no cgroup v1 hugetlb hierarchy")
			return false
		}
		for _, s := range sizes {
			g.AddLinuxResourcesHugepageLimit(s, 2*pageBytes(s))
		}
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		got, err := cg.GetHugepageLimitData(pid, path)
		if !t.NoErr(err, "read hugetlb cgroup") {
			return
		}
		for _, w := range want.HugepageLimits {
			var v uint64
			for _, h := range got {
				if h.Pagesize == w.Pagesize {
					v = h.Limit
				}
			}
			eq(t, "hugetlb."+w.Pagesize+".limit_in_bytes", w.Limit, v)
		}
	})
	cgTest("memory", func(t *T, g *generate.Generator) bool {
		g.SetLinuxResourcesMemoryLimit(50 << 20)
		g.SetLinuxResourcesMemoryReservation(40 << 20)
		if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err == nil {
			g.SetLinuxResourcesMemorySwap(60 << 20)
		}
		g.SetLinuxResourcesMemorySwappiness(50)
		g.SetLinuxResourcesMemoryDisableOOMKiller(true)
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		got, err := cg.GetMemoryData(pid, path)
		if !t.NoErr(err, "read memory cgroup") {
			return
		}
		w := want.Memory
		eq(t, "memory.limit_in_bytes", *w.Limit, deref64(got.Limit))
		eq(t, "memory.soft_limit_in_bytes", *w.Reservation, deref64(got.Reservation))
		if w.Swap != nil {
			eq(t, "memory.memsw.limit_in_bytes", *w.Swap, deref64(got.Swap))
		}
		eq(t, "memory.swappiness", *w.Swappiness, deref64u(got.Swappiness))
		eq(t, "memory.oom_control oom_kill_disable", *w.DisableOOMKiller, got.DisableOOMKiller != nil && *got.DisableOOMKiller)
	})
	cgTest("network", func(t *T, g *generate.Generator) bool {
		c := v1Controllers()
		if _, ok := c["net_cls"]; !ok {
			t.Skip("network", "no cgroup v1 net_cls hierarchy mounted on this host")
			return false
		}
		g.SetLinuxResourcesNetworkClassID(0x100001)
		g.AddLinuxResourcesNetworkPriorities("lo", 10)
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		got, err := cg.GetNetworkData(pid, path)
		if !t.NoErr(err, "read net_cls/net_prio cgroups") {
			return
		}
		eq(t, "net_cls.classid", *want.Network.ClassID, deref32(got.ClassID))
		eq(t, "net_prio.ifpriomap", want.Network.Priorities, got.Priorities)
	})
	cgTest("pids", func(t *T, g *generate.Generator) bool {
		g.SetLinuxResourcesPidsLimit(1000)
		return true
	}, func(t *T, cg cgroups.Cgroup, pid int, path string, want *rspec.LinuxResources) {
		got, err := cg.GetPidsData(pid, path)
		if !t.NoErr(err, "read pids cgroup") {
			return
		}
		eq(t, "pids.max", want.Pids.Limit, got.Limit)
	})
}

// pageBytes turns a hugetlb size name ("2MB", "1GB") into bytes.
func pageBytes(s string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimRight(s, "KMGB"), 10, 64)
	switch {
	case strings.HasSuffix(s, "GB"):
		return n << 30
	case strings.HasSuffix(s, "MB"):
		return n << 20
	case strings.HasSuffix(s, "KB"):
		return n << 10
	}
	return n
}

func deref32(p *uint32) uint32 {
	if p == nil {
		return 0
	}
	return *p
}
func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
func deref64u(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
