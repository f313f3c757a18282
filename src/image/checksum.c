/*
 * checksum.c - SHA-256 of a disk file and of a rootfs tree (libcrypto EVP).
 *
 * The tree hash is one SHA-256 over a record per entry, in byte order of the relative
 * paths (strcmp, depth first), so it does not depend on readdir order or locale:
 *     "<type> <mode> <uid> <gid> <path>\0" then for a regular file "<size> <sha256 hex>\0",
 *     for a symlink "<target>\0", for a device "<major>:<minor>\0", then each xattr
 *     "x <name>=<hex value>\0" in name order.
 * Times are left out on purpose: they do not change what an instance sees.
 */
#include "image/image-internal.h"
#include "util/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Hash the content of an open fd into hexout[65]. */
static int hash_fd(int fd, const char *path, struct gr__progress *pr, char *hexout, gr_error_t *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	enum { BUF = 1 << 17 };
	_cleanup_free_ char *buf = xmalloc(BUF);
	for (;;) {
		ssize_t r = read(fd, buf, BUF);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			EVP_MD_CTX_free(md);
			return gr_error_sys(err, "cannot read %s", path);
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)r);
		if (pr) {
			pr->p.bytes_done += (uint64_t)r;
			gr__progress_emit(pr, 0);
		}
	}
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(md, dig, &len);
	EVP_MD_CTX_free(md);
	hex(dig, len, hexout);
	return 0;
}

int gr__sha256_file(const char *path, struct gr__progress *pr, char **out, gr_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return gr_error_sys(err, "cannot open %s", path);
	char h[2 * EVP_MAX_MD_SIZE + 1];
	if (hash_fd(fd, path, pr, h, err) < 0)
		return -1;
	*out = xasprintf("sha256:%s", h);
	return 0;
}

struct tree_hash {
	EVP_MD_CTX *md;
	struct gr__progress *pr;
	uint64_t bytes, files;
};

static void put(struct tree_hash *t, const char *s)
{
	EVP_DigestUpdate(t->md, s, strlen(s) + 1);
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static int hash_xattrs(struct tree_hash *t, const char *path, gr_error_t *err)
{
	ssize_t n = llistxattr(path, NULL, 0);
	if (n < 0) {
		if (errno == ENOTSUP)
			return 0;
		return gr_error_sys(err, "cannot list xattrs of %s", path);
	}
	if (n == 0)
		return 0;
	_cleanup_free_ char *names = xmalloc((size_t)n + 1);
	n = llistxattr(path, names, (size_t)n);
	if (n < 0)
		return gr_error_sys(err, "cannot list xattrs of %s", path);
	names[n] = '\0';
	/* sort the names */
	size_t cnt = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
		cnt++;
	_cleanup_free_ const char **v = xcalloc(cnt ? cnt : 1, sizeof(*v));
	size_t k = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
		v[k++] = names + i;
	for (size_t i = 1; i < cnt; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	for (size_t i = 0; i < cnt; i++) {
		ssize_t vl = lgetxattr(path, v[i], NULL, 0);
		if (vl < 0)
			return gr_error_sys(err, "cannot read xattr %s of %s", v[i], path);
		_cleanup_free_ unsigned char *val = xmalloc((size_t)vl + 1);
		vl = lgetxattr(path, v[i], val, (size_t)vl);
		if (vl < 0)
			return gr_error_sys(err, "cannot read xattr %s of %s", v[i], path);
		_cleanup_free_ char *hx = xmalloc(2 * (size_t)vl + 1);
		hex(val, (size_t)vl, hx);
		_cleanup_free_ char *rec = xasprintf("x %s=%s", v[i], hx);
		put(t, rec);
	}
	return 0;
}

static int hash_entry(struct tree_hash *t, const char *root, const char *rel, gr_error_t *err)
{
	_cleanup_free_ char *path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct stat st;
	if (lstat(path, &st) < 0)
		return gr_error_sys(err, "cannot stat %s", path);
	char type = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l'
		  : S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : 's';
	_cleanup_free_ char *head = xasprintf("%c %o %u %u /%s", type, (unsigned)(st.st_mode & 07777),
					      (unsigned)st.st_uid, (unsigned)st.st_gid, rel);
	put(t, head);
	t->files++;
	if (t->pr) {
		t->pr->p.files_done++;
		gr__progress_emit(t->pr, 0);
	}
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return gr_error_sys(err, "cannot open %s", path);
		char h[2 * EVP_MAX_MD_SIZE + 1];
		if (hash_fd(fd, path, t->pr, h, err) < 0)
			return -1;
		_cleanup_free_ char *rec = xasprintf("%" PRIu64 " %s", (uint64_t)st.st_size, h);
		put(t, rec);
		t->bytes += (uint64_t)st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlink(path, target, PATH_MAX);
		if (n < 0)
			return gr_error_sys(err, "cannot read link %s", path);
		target[n] = '\0';
		put(t, target);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		char rec[64];
		snprintf(rec, sizeof rec, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
		put(t, rec);
	}
	if (hash_xattrs(t, path, err) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	struct dirent **list = NULL;
	int n = scandir(path, &list, not_dots, cmp_names);
	if (n < 0)
		return gr_error_sys(err, "cannot list %s", path);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			_cleanup_free_ char *sub = *rel ? xasprintf("%s/%s", rel, list[i]->d_name)
							 : xstrdup(list[i]->d_name);
			rc = hash_entry(t, root, sub, err);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

int gr__sha256_tree(const char *root, struct gr__progress *pr, char **out, uint64_t *bytes,
		    uint64_t *files, gr_error_t *err)
{
	struct tree_hash t = {.md = EVP_MD_CTX_new(), .pr = pr};
	if (!t.md)
		abort();
	EVP_DigestInit_ex(t.md, EVP_sha256(), NULL);
	put(&t, "gureum-tree-v1");
	int rc = hash_entry(&t, root, "", err);
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(t.md, dig, &len);
	EVP_MD_CTX_free(t.md);
	if (rc < 0)
		return -1;
	char h[2 * EVP_MAX_MD_SIZE + 1];
	hex(dig, len, h);
	*out = xasprintf("sha256:%s", h);
	if (bytes)
		*bytes = t.bytes;
	if (files)
		*files = t.files;
	return 0;
}

/* A disk image folder: disk.qcow2 alone hashes as the file; with companion files (a VM
 * image's kernel, initrd, vm.json) one SHA-256 over "<name> <size> <sha256>\0" records of
 * every regular file but the manifest, in name order. */
int gr__sha256_disk_dir(const char *dir, struct gr__progress *pr, char **out, uint64_t *bytes, uint64_t *files,
			gr_error_t *err)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, not_dots, cmp_names);
	if (n < 0)
		return gr_error_sys(err, "cannot list %s", dir);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "gureum-disk-v1", 15);
	int rc = 0, count = 0, only_disk = 1;
	uint64_t total = 0;
	char first[2 * EVP_MAX_MD_SIZE + 1] = "";
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (rc == 0 && strcmp(name, GR__MANIFEST) && name[0] != '.') {
			_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
			struct stat st;
			_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			char h[2 * EVP_MAX_MD_SIZE + 1];
			if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
				rc = fd < 0 ? gr_error_sys(err, "cannot open %s", p)
					    : gr_error_set(err, EINVAL, "%s is not a regular file", p);
			} else if ((rc = hash_fd(fd, p, pr, h, err)) == 0) {
				_cleanup_free_ char *rec = xasprintf("%s %" PRIu64 " %s", name, (uint64_t)st.st_size, h);
				EVP_DigestUpdate(md, rec, strlen(rec) + 1);
				total += (uint64_t)st.st_size;
				count++;
				if (strcmp(name, GR__DISK))
					only_disk = 0;
				else
					memcpy(first, h, sizeof h);
			}
		}
		free(list[i]);
	}
	free(list);
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(md, dig, &len);
	EVP_MD_CTX_free(md);
	if (rc < 0)
		return -1;
	if (!first[0])
		return gr_error_set(err, ENOENT, "%s/" GR__DISK " is missing", dir);
	char h[2 * EVP_MAX_MD_SIZE + 1];
	hex(dig, len, h);
	*out = xasprintf("sha256:%s", only_disk ? first : h);
	if (bytes)
		*bytes = total;
	if (files)
		*files = (uint64_t)count;
	return 0;
}
