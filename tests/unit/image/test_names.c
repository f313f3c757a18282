/*
 * test_names.c - pure parts of the image module: name and id rules, manifest JSON round
 * trip and its errors, SHA-256 of a file and the tree hash (order independence and
 * sensitivity to content, mode, owner, link target, xattr).
 */
#include "image/image.h"
#include "image/image-internal.h"
#include "util/alloc.h"
#include "tap.h"
#include "common.h"

#include <sys/xattr.h>

static char *tree_sum(const char *root)
{
	char *sum = NULL;
	gr_error_t err = {0};
	if (gr__sha256_tree(root, NULL, &sum, NULL, NULL, &err) < 0) {
		diag("tree hash failed: %s", err.msg);
		return xstrdup("error");
	}
	return sum;
}

int main(void)
{
	ok(gr_image_name_valid("busybox"), "busybox is a valid name");
	ok(gr_image_name_valid("debian-base"), "debian-base is a valid name");
	ok(gr_image_name_valid("a1.b_c-d"), "a1.b_c-d is valid");
	ok(gr_image_name_valid("0"), "single digit is valid");
	ok(!gr_image_name_valid(""), "empty is invalid");
	ok(!gr_image_name_valid(NULL), "NULL is invalid");
	ok(!gr_image_name_valid("Busybox"), "upper case is invalid");
	ok(!gr_image_name_valid(".hidden"), "leading dot is invalid");
	ok(!gr_image_name_valid("-x"), "leading dash is invalid");
	ok(!gr_image_name_valid("a/b"), "slash is invalid");
	ok(!gr_image_name_valid("a,b"), "comma is invalid");
	ok(!gr_image_name_valid("a:b"), "colon is invalid");
	char n63[64], n64[65];
	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	ok(gr_image_name_valid(n63), "63 characters is valid");
	ok(!gr_image_name_valid(n64), "64 characters is invalid");
	ok(gr_layer_id_valid("Web1"), "instance id may have upper case");
	ok(!gr_layer_id_valid("../etc"), "instance id may not climb");
	ok(!gr_layer_id_valid("a b"), "instance id may not have spaces");

	/* manifest round trip */
	struct gr_image_info in = {.name = "busybox", .kind = "rootfs",
				   .checksum = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				   .path = "/x/rootfs", .size_bytes = 1234567, .files = 42, .created = 1700000000,
				   .source = "build:busybox"};
	json_t *j = gr_image_info_to_json(&in);
	struct gr_image_info out;
	gr_error_t err = {0};
	is_int(gr_image_info_from_json(j, &out, &err), 0, "manifest parses back");
	is_str(out.name, "busybox", "name round trips");
	is_str(out.kind, "rootfs", "kind round trips");
	is_str(out.checksum, in.checksum, "checksum round trips");
	is_str(out.source, "build:busybox", "source round trips");
	is_int(out.size_bytes, 1234567, "size round trips");
	is_int(out.files, 42, "files round trips");
	is_int(out.created, 1700000000, "created round trips");
	gr_image_info_clear(&out);

	json_object_set_new(j, "kind", json_string("iso"));
	ok(gr_image_info_from_json(j, &out, &err) < 0 && err.code == EINVAL && strstr(err.msg, "kind"),
	   "bad kind is refused, naming the field (%s)", err.msg);
	json_object_set_new(j, "kind", json_string("qcow2"));
	json_object_set_new(j, "checksum", json_string("md5:abc"));
	ok(gr_image_info_from_json(j, &out, &err) < 0 && strstr(err.msg, "checksum"),
	   "bad checksum is refused, naming the field (%s)", err.msg);
	json_object_set_new(j, "checksum", json_string(in.checksum));
	json_object_set_new(j, "size_bytes", json_string("big"));
	ok(gr_image_info_from_json(j, &out, &err) < 0 && strstr(err.msg, "size_bytes"),
	   "bad size is refused, naming the field (%s)", err.msg);
	json_object_del(j, "size_bytes");
	json_object_del(j, "name");
	ok(gr_image_info_from_json(j, &out, &err) < 0 && strstr(err.msg, "name"),
	   "missing name is refused (%s)", err.msg);
	json_object_set_new(j, "name", json_string("../evil"));
	ok(gr_image_info_from_json(j, &out, &err) < 0 && strstr(err.msg, "name"),
	   "invalid name in a manifest is refused (%s)", err.msg);
	json_decref(j);
	ok(gr_image_info_from_json(NULL, &out, &err) < 0, "NULL JSON is refused");

	/* manifest file */
	const char *root = t_scratch("names");
	char dir[512];
	snprintf(dir, sizeof dir, "%s/img", root);
	mkdir(dir, 0755);
	is_int(gr__manifest_write(dir, &in, &err), 0, "manifest written");
	ok(gr__manifest_read(dir, &out, &err) == 0 && !strcmp(out.checksum, in.checksum), "manifest read back");
	ok(out.path && strstr(out.path, "/img/rootfs"), "path derived from the folder (%s)", out.path);
	gr_image_info_clear(&out);
	t_sh("echo '{not json' > %s/img/image.json.bad && mv -f %s/img/image.json.bad %s/img/image.json", root, root,
	     root);
	ok(gr__manifest_read(dir, &out, &err) < 0 && strstr(err.msg, "image.json"),
	   "corrupt manifest gives an error naming the file (%s)", err.msg);

	/* checksums */
	t_sh("printf abc > %s/abc", root);
	char p[512];
	snprintf(p, sizeof p, "%s/abc", root);
	char *sum = NULL;
	ok(gr__sha256_file(p, NULL, &sum, &err) == 0, "sha256 of a file");
	is_str(sum, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256(\"abc\") matches the FIPS 180-2 vector");
	free(sum);

	/* tree hash: the same tree made in a different order hashes the same */
	t_sh("cd %s && mkdir -p t1/a/b t2 && echo one > t1/a/b/f && echo two > t1/z && ln -s a/b/f t1/l"
	     " && mkdir t2/a && echo two > t2/z && ln -s a/b/f t2/l && mkdir t2/a/b && echo one > t2/a/b/f"
	     " && chmod 755 t1 t2 t1/a t2/a t1/a/b t2/a/b",
	     root);
	char t1[512], t2[512];
	snprintf(t1, sizeof t1, "%s/t1", root);
	snprintf(t2, sizeof t2, "%s/t2", root);
	char *s1 = tree_sum(t1), *s2 = tree_sum(t2);
	is_str(s1, s2, "equal trees built in different orders hash the same");
	free(s2);
	t_sh("echo ONE > %s/t2/a/b/f", root);
	s2 = tree_sum(t2);
	ok(strcmp(s1, s2), "content change changes the tree hash");
	free(s2);
	t_sh("echo one > %s/t2/a/b/f && chmod 700 %s/t2/a/b/f", root, root);
	s2 = tree_sum(t2);
	ok(strcmp(s1, s2), "mode change changes the tree hash");
	free(s2);
	t_sh("chmod --reference=%s/t1/a/b/f %s/t2/a/b/f && ln -sfn z %s/t2/l", root, root, root);
	s2 = tree_sum(t2);
	ok(strcmp(s1, s2), "symlink target change changes the tree hash");
	free(s2);
	t_sh("ln -sfn a/b/f %s/t2/l", root);
	s2 = tree_sum(t2);
	is_str(s1, s2, "restoring the tree restores the hash");
	free(s2);
	snprintf(p, sizeof p, "%s/t2/z", root);
	if (setxattr(p, "user.gr", "1", 1, 0) == 0) {
		s2 = tree_sum(t2);
		ok(strcmp(s1, s2), "an xattr changes the tree hash");
		free(s2);
	} else {
		skip("file system has no user xattrs");
	}
	if (geteuid() == 0) {
		removexattr(p, "user.gr");
		t_sh("chown 1:1 %s/t2/z", root);
		s2 = tree_sum(t2);
		ok(strcmp(s1, s2), "owner change changes the tree hash");
		free(s2);
	} else {
		skip("owner change needs root");
	}
	free(s1);

	/* recipe table */
	const struct gr_image_recipe *r = gr_image_recipes();
	int have_bb = 0, have_deb = 0;
	for (; r->name; r++) {
		have_bb |= !strcmp(r->name, "busybox");
		have_deb |= !strcmp(r->name, "debian-base");
	}
	ok(have_bb && have_deb, "recipes busybox and debian-base are known");
	struct gr_image_ctx ctx = {.images_dir = root, .layers_dir = root};
	ok(gr_image_build(&ctx, "nosuch", NULL, NULL, NULL, &err) < 0 && err.code == ENOENT &&
		   strstr(err.msg, "busybox"),
	   "unknown recipe names the known ones (%s)", err.msg);
	struct gr_image_ctx bad = {.images_dir = "relative", .layers_dir = root};
	ok(gr_image_get(&bad, "x", &out, &err) < 0 && err.code == EINVAL, "relative images_dir refused (%s)", err.msg);
	ok(gr_image_get(&ctx, "Bad", &out, &err) < 0 && err.code == EINVAL && strstr(err.msg, "Bad"),
	   "invalid name refused, naming it (%s)", err.msg);
	ok(gr_image_get(&ctx, "absent", &out, &err) < 0 && err.code == ENOENT, "absent image is ENOENT (%s)", err.msg);
	return tap_done();
}
