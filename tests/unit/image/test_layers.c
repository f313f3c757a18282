/*
 * test_layers.c - thin clones as root, in a private mount namespace: the busybox recipe,
 * user layers over it (master files visible, writes land in the user upper dir, the
 * master untouched), a shell really running in the mounted root, ephemeral run layers
 * dropped on unmount, O(1) clones (disk used by a clone stays tiny for a 64 MiB master),
 * delete refusals while in use, rootfs snapshots (incl. deletions via whiteouts), and
 * qcow2 clone chains with snapshots.
 */
#include "image/image.h"
#include "util/alloc.h"
#include "tap.h"
#include "common.h"

#include <sched.h>
#include <sys/wait.h>

static int hook_calls;
static int in_use_hook(const char *image, char *who, size_t who_len, void *ud)
{
	hook_calls++;
	if (!strcmp(image, (const char *)ud)) {
		snprintf(who, who_len, "instance hooked-1");
		return 1;
	}
	return 0;
}

/* Run argv chrooted into root; returns the exit status, output in out. */
static int run_in_root(const char *root, const char *script, char *out, size_t outlen)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		if (chroot(root) < 0 || chdir("/") < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (len < outlen - 1 && (n = read(p[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	while (len && out[len - 1] == '\n')
		len--;
	out[len] = '\0';
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int has_snap(char **v, const char *name)
{
	for (; v && *v; v++)
		if (!strcmp(*v, name))
			return 1;
	return 0;
}

int main(void)
{
	if (geteuid() != 0) {
		skip("layers need root (overlayfs mounts)");
		return tap_done();
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		skip("cannot make a private mount namespace: %s", strerror(errno));
		return tap_done();
	}
	const char *root = t_scratch("layers");
	char images[512], layers[512], mnt[512], master[600];
	snprintf(images, sizeof images, "%s/images", root);
	snprintf(layers, sizeof layers, "%s/layers", root);
	snprintf(mnt, sizeof mnt, "%s/mnt", root);
	mkdir(mnt, 0755);
	struct gr_image_ctx ctx = {.images_dir = images, .layers_dir = layers};
	gr_error_t err = {0};
#define E (gr_error_clear(&err), &err)
	struct gr_image_info info = {0};

	ok(gr_image_build(&ctx, "busybox", NULL, NULL, &info, E) == 0, "build the busybox image (%s)", err.msg);
	ok(info.source && strstr(info.source, "busybox-static"), "source names the package (%s)", info.source);
	snprintf(master, sizeof master, "%s", info.path ? info.path : "/x");
	ok(t_exists(master, "bin/busybox") && t_exists(master, "bin/sh") && t_exists(master, "etc/passwd"),
	   "busybox rootfs has the binary, applet links and /etc");
	gr_image_info_clear(&info);
	ok(gr_image_verify(&ctx, "busybox", NULL, NULL, E) == 0, "fresh busybox verifies (%s)", err.msg);

	/* user layer */
	ok(gr_layer_create_user(&ctx, "busybox", "gr-test-web1", E) == 0, "create a user layer (%s)", err.msg);
	ok(gr_layer_create_user(&ctx, "busybox", "gr-test-web1", E) < 0 && err.code == EEXIST,
	   "a second user layer for the same instance is EEXIST");
	ok(gr_layer_create_user(&ctx, "nosuch", "gr-test-x", E) < 0 && err.code == ENOENT,
	   "user layer over a missing image is ENOENT (%s)", err.msg);
	ok(!t_exists(layers, "gr-test-x"), "failed layer creation leaves nothing");

	ok(gr_layer_mount_root(&ctx, NULL, "gr-test-web1", 0, mnt, E) == 0, "mount the root (%s)", err.msg);
	ok(t_exists(mnt, "bin/busybox"), "master files are visible in the root");
	char out[4096];
	int rc = run_in_root(mnt, "echo persistent > /root/note && busybox uname -s", out, sizeof out);
	ok(rc == 0 && strstr(out, "Linux"), "a shell runs in the mounted root (rc %d, %s)", rc, out);
	char upper[600];
	snprintf(upper, sizeof upper, "%s/gr-test-web1/user/upper", layers);
	ok(t_exists(upper, "root/note"), "writes go to the user upper dir");
	ok(!t_exists(master, "root/note"), "the master is untouched");
	ok(gr_layer_mount_root(&ctx, NULL, "gr-test-web1", 0, mnt, E) < 0 && err.code == EBUSY,
	   "mounting twice is EBUSY (%s)", err.msg);
	ok(gr_layer_mount_root(&ctx, "other", "gr-test-web1", 0, mnt, E) < 0 && err.code == EINVAL,
	   "a different image name is refused (%s)", err.msg);
	struct gr_layer_info li;
	ok(gr_layer_get(&ctx, "gr-test-web1", &li, E) == 0 && li.mounted_at && !strcmp(li.image, "busybox"),
	   "layer info shows the mount");
	gr_layer_info_clear(&li);
	ok(gr_layer_delete(&ctx, "gr-test-web1", E) < 0 && err.code == EBUSY,
	   "deleting a mounted layer is EBUSY (%s)", err.msg);
	ok(gr_layer_snapshot_create(&ctx, "gr-test-web1", "s1", E) < 0 && err.code == EBUSY,
	   "snapshot while mounted is EBUSY (%s)", err.msg);
	ok(gr_layer_umount_root(&ctx, "gr-test-web1", NULL, 0, E) == 0, "unmount (%s)", err.msg);
	ok(!t_exists(mnt, "bin"), "root is gone after unmount");

	/* ephemeral: run layer on top, dropped on unmount */
	ok(gr_layer_mount_root(&ctx, "busybox", "gr-test-web1", 1, mnt, E) == 0, "ephemeral mount (%s)", err.msg);
	rc = run_in_root(mnt, "cat /root/note && echo scratch > /tmp/run-only && rm /etc/hostname", out, sizeof out);
	ok(rc == 0 && strstr(out, "persistent"), "ephemeral root sees the user layer (%s)", out);
	char run[600];
	snprintf(run, sizeof run, "%s/gr-test-web1/run/upper", layers);
	ok(t_exists(run, "tmp/run-only"), "ephemeral writes go to the run layer");
	ok(!t_exists(upper, "tmp/run-only"), "... not to the user layer");
	ok(gr_layer_get(&ctx, "gr-test-web1", &li, E) == 0 && li.ephemeral, "layer info says ephemeral");
	gr_layer_info_clear(&li);
	ok(gr_layer_umount_root(&ctx, "gr-test-web1", NULL, 0, E) == 0, "ephemeral unmount (%s)", err.msg);
	snprintf(run, sizeof run, "%s/gr-test-web1", layers);
	ok(!t_exists(run, "run"), "run layer dropped on unmount");
	ok(gr_layer_mount_root(&ctx, NULL, "gr-test-web1", 0, mnt, E) == 0, "mount again (%s)", err.msg);
	ok(!t_exists(mnt, "tmp/run-only") && t_exists(mnt, "etc/hostname") && t_exists(mnt, "root/note"),
	   "next start is the user layer again");
	ok(gr_layer_umount_root(&ctx, "gr-test-web1", mnt, 0, E) == 0, "unmount (%s)", err.msg);

	/* snapshots of the user layer */
	ok(gr_layer_snapshot_create(&ctx, "gr-test-web1", "s1", E) == 0, "snapshot s1 (%s)", err.msg);
	ok(gr_layer_snapshot_create(&ctx, "gr-test-web1", "s1", E) < 0 && err.code == EEXIST, "s1 twice is EEXIST");
	ok(gr_layer_snapshot_create(&ctx, "gr-test-web1", "Bad/Snap", E) < 0 && err.code == EINVAL,
	   "bad snapshot name refused");
	gr_layer_mount_root(&ctx, NULL, "gr-test-web1", 0, mnt, E);
	rc = run_in_root(mnt, "rm /root/note /etc/passwd && echo after > /root/later", out, sizeof out);
	ok(rc == 0, "change the root after the snapshot (delete a master file, a user file; add one)");
	gr_layer_umount_root(&ctx, "gr-test-web1", NULL, 0, E);
	ok(gr_layer_snapshot_restore(&ctx, "gr-test-web1", "s1", E) == 0, "restore s1 (%s)", err.msg);
	gr_layer_mount_root(&ctx, NULL, "gr-test-web1", 0, mnt, E);
	char *note = t_slurp(mnt, "root/note");
	ok(note && !strcmp(note, "persistent\n") && t_exists(mnt, "etc/passwd") && !t_exists(mnt, "root/later"),
	   "restore brings back the state of s1");
	gr_layer_umount_root(&ctx, "gr-test-web1", NULL, 0, E);
	char **snaps = NULL;
	ok(gr_layer_snapshot_list(&ctx, "gr-test-web1", &snaps, E) == 0 && has_snap(snaps, "s1"), "list has s1");
	gr_strv_free(snaps);
	ok(gr_layer_snapshot_delete(&ctx, "gr-test-web1", "s1", E) == 0, "delete s1 (%s)", err.msg);
	ok(gr_layer_snapshot_restore(&ctx, "gr-test-web1", "s1", E) < 0 && err.code == ENOENT,
	   "restoring a deleted snapshot is ENOENT");

	/* delete refusals */
	ok(gr_image_delete(&ctx, "busybox", E) < 0 && err.code == EBUSY && strstr(err.msg, "gr-test-web1"),
	   "deleting an image with clones is EBUSY naming the instance (%s)", err.msg);
	char **ids = NULL;
	ok(gr_layer_list(&ctx, "busybox", &ids, E) == 0 && ids[0] && !strcmp(ids[0], "gr-test-web1"),
	   "layer list by image");
	gr_strv_free(ids);

	/* O(1) clones: a 64 MiB master, clone disk use stays tiny */
	t_sh("mkdir -p %s/big && head -c 67108864 /dev/urandom > %s/big/blob", root, root);
	char big[600];
	snprintf(big, sizeof big, "%s/big", root);
	ok(gr_image_import(&ctx, "big", big, NULL, NULL, NULL, E) == 0, "import a 64 MiB master (%s)", err.msg);
	ok(gr_layer_create_user(&ctx, "big", "gr-test-big1", E) == 0, "clone it");
	ok(gr_layer_get(&ctx, "gr-test-big1", &li, E) == 0 && li.user_bytes < 64 * 1024,
	   "clone of a 64 MiB master uses %llu bytes of disk", (unsigned long long)li.user_bytes);
	gr_layer_info_clear(&li);
	char cmd_out[64];
	snprintf(cmd_out, sizeof cmd_out, "%s", "");
	ok(t_sh("test $(du -sk %s/gr-test-big1 | cut -f1) -lt 64", layers) == 0, "du agrees: clone dir < 64 KiB");
	ok(gr_layer_delete(&ctx, "gr-test-big1", E) == 0 && !t_exists(layers, "gr-test-big1"), "delete the clone");
	ok(gr_layer_delete(&ctx, "gr-test-big1", E) == 0, "deleting again is fine");
	ctx.in_use = in_use_hook;
	ctx.in_use_ud = "big";
	ok(gr_image_delete(&ctx, "big", E) < 0 && err.code == EBUSY && strstr(err.msg, "hooked-1") && hook_calls,
	   "the daemon's in-use hook can refuse deletion (%s)", err.msg);
	ctx.in_use_ud = "none";
	ok(gr_image_delete(&ctx, "big", E) == 0, "delete once unused (%s)", err.msg);

	/* qcow2 masters */
	if (t_sh("command -v qemu-img >/dev/null") == 0) {
		t_sh("qemu-img create -q -f qcow2 %s/d.qcow2 32M", root);
		char d[600];
		snprintf(d, sizeof d, "%s/d.qcow2", root);
		ok(gr_image_import(&ctx, "vmdisk", d, NULL, NULL, &info, E) == 0, "import a qcow2 master (%s)", err.msg);
		char mpath[600];
		snprintf(mpath, sizeof mpath, "%s", info.path ? info.path : "/x");
		gr_image_info_clear(&info);
		ok(gr_layer_create_user(&ctx, "vmdisk", "gr-test-vm1", E) == 0, "qcow2 user layer (%s)", err.msg);
		ok(t_sh("qemu-img info -U --output=json %s/gr-test-vm1/user.qcow2 | grep -q '\"backing-filename\": \"%s\"'",
			layers, mpath) == 0,
		   "user.qcow2 is backed by the master");
		ok(gr_layer_mount_root(&ctx, NULL, "gr-test-vm1", 0, mnt, E) < 0 && err.code == EINVAL,
		   "mounting a qcow2 layer as a root is refused (%s)", err.msg);
		char *disk = NULL;
		ok(gr_layer_disk_open(&ctx, "gr-test-vm1", 1, &disk, E) == 0 && disk && strstr(disk, "run.qcow2"),
		   "ephemeral disk is a run layer (%s)", disk ? disk : err.msg);
		ok(t_sh("qemu-img info -U --output=json %s | grep -q 'user.qcow2'", disk ? disk : "/x") == 0,
		   "run.qcow2 is backed by user.qcow2");
		free(disk);
		ok(gr_layer_disk_close(&ctx, "gr-test-vm1", 1, E) == 0, "disk close (%s)", err.msg);
		snprintf(d, sizeof d, "%s/gr-test-vm1", layers);
		ok(!t_exists(d, "run.qcow2"), "run layer dropped");
		disk = NULL;
		ok(gr_layer_disk_open(&ctx, "gr-test-vm1", 0, &disk, E) == 0 && disk && strstr(disk, "user.qcow2"),
		   "persistent disk is the user layer");
		free(disk);
		gr_layer_disk_close(&ctx, "gr-test-vm1", 0, E);
		ok(gr_layer_snapshot_create(&ctx, "gr-test-vm1", "before", E) == 0, "qcow2 snapshot (%s)", err.msg);
		snaps = NULL;
		ok(gr_layer_snapshot_list(&ctx, "gr-test-vm1", &snaps, E) == 0 && has_snap(snaps, "before"),
		   "qcow2 snapshot listed");
		gr_strv_free(snaps);
		ok(gr_layer_snapshot_restore(&ctx, "gr-test-vm1", "before", E) == 0, "qcow2 restore (%s)", err.msg);
		ok(gr_layer_snapshot_delete(&ctx, "gr-test-vm1", "before", E) == 0, "qcow2 snapshot delete");
		ok(gr_image_delete(&ctx, "vmdisk", E) < 0 && err.code == EBUSY, "qcow2 master in use is EBUSY");
		ok(gr_layer_delete(&ctx, "gr-test-vm1", E) == 0 && gr_image_delete(&ctx, "vmdisk", E) == 0,
		   "delete clone then master");
	} else {
		skip("qemu-img not installed");
	}

	ok(gr_layer_delete(&ctx, "gr-test-web1", E) == 0, "delete the web1 layers (%s)", err.msg);
	ok(gr_image_delete(&ctx, "busybox", E) == 0, "delete busybox (%s)", err.msg);
	ok(t_count_entries(layers) == 0 && t_count_entries(images) == 0, "nothing left in layers/ and images/");
	return tap_done();
}
