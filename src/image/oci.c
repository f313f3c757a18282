/*
 * oci.c - OCI image layouts and `docker save` tarballs as masters.
 *
 * An OCI layout (a folder with "oci-layout" and "index.json", blobs under
 * blobs/sha256/) or a docker-save folder ("manifest.json" naming a config file and
 * layer tars), or either as a tarball, becomes a rootfs master: the manifest is chosen
 * (a single one, else linux/amd64; nested indexes are followed), every blob is checked
 * against its digest, and the layers are applied in order onto one folder.  A layer's
 * whiteouts (".wh.NAME" deletes NAME, ".wh..wh..opq" empties its folder) act on the
 * layers below it only: they are applied first, then the layer's other entries are
 * extracted (tar.c, with its path safety).  A whiteout never follows a symlink a lower
 * layer planted.  The image config's Env, Entrypoint, Cmd, WorkingDir and User become
 * the master's defaults (GR__DEFAULTS beside the rootfs), which a container launched
 * without its own command runs with.
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JSON (16u << 20)

static int is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int exists(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

int gr__oci_is_layout(const char *dir)
{
	return (exists(dir, "oci-layout") && exists(dir, "index.json")) || exists(dir, "manifest.json");
}

/* An entry of an OCI layout or docker-save tarball: "oci-layout", "index.json",
 * "manifest.json", "repositories", "blobs/...", "<64 hex>/..." or "<64 hex>.json". */
static int layout_entry(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "oci-layout") || !strcmp(name, "index.json") ||
	    !strcmp(name, "manifest.json") || !strcmp(name, "repositories") || !strncmp(name, "blobs", 5))
		return 1;
	char head[65];
	if (strlen(name) >= 64) {
		memcpy(head, name, 64);
		head[64] = 0;
		if (is_hex64(head) && (name[64] == 0 || name[64] == '/' || !strcmp(name + 64, ".json")))
			return 1;
	}
	return 0;
}

int gr__oci_is_layout_tar(const char *path)
{
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	int found = 0, ok = archive_read_open_filename(in, path, 1 << 16) == ARCHIVE_OK;
	/* stops at the first entry a layout does not have: a rootfs tarball costs one header */
	while (ok) {
		struct archive_entry *e;
		if (archive_read_next_header(in, &e) != ARCHIVE_OK)
			break;
		const char *name = archive_entry_pathname(e);
		if (!name || !layout_entry(name)) {
			found = 0;
			break;
		}
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		if (!strcmp(name, "oci-layout") || !strcmp(name, "manifest.json"))
			found = 1;
	}
	archive_read_free(in);
	return found;
}

static json_t *load_json(const char *path, const char *what, gr_error_t *err)
{
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, MAX_JSON, &text, NULL, err) < 0) {
		gr_error_prefix(err, "%s", what);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		gr_error_set(err, EINVAL, "%s: not JSON: line %d: %s", what, je.line, je.text);
	return j;
}

/* The blob of DIGEST ("sha256:<hex>") in the layout, checked against its digest. */
static char *blob_path(const char *dir, const json_t *desc, const char *what, gr_error_t *err)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	if (!digest) {
		gr_error_set(err, EINVAL, "%s: descriptor without a \"digest\" string", what);
		return NULL;
	}
	if (strncmp(digest, "sha256:", 7) || !is_hex64(digest + 7)) {
		gr_error_set(err, EINVAL, "%s: digest '%s': expected sha256: and 64 hex digits", what, digest);
		return NULL;
	}
	char *p = xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
	_cleanup_free_ char *sum = NULL;
	if (gr__sha256_file(p, NULL, &sum, err) < 0) {
		gr_error_prefix(err, "%s: blob %s", what, digest);
		free(p);
		return NULL;
	}
	if (strcmp(sum, digest)) {
		gr_error_set(err, EINVAL, "%s: blob %s does not match its digest (its content is %s)", what,
			     digest, sum);
		free(p);
		return NULL;
	}
	return p;
}

static const char *media(const json_t *desc)
{
	const char *m = json_string_value(json_object_get(desc, "mediaType"));
	return m ? m : "";
}

static int is_index(const char *m)
{
	return !strcmp(m, "application/vnd.oci.image.index.v1+json") ||
	       !strcmp(m, "application/vnd.docker.distribution.manifest.list.v2+json");
}

/* From an index's "manifests": the only one, else the linux/amd64 one. */
static const json_t *pick_manifest(const json_t *index, const char *what, gr_error_t *err)
{
	const json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms) || json_array_size(ms) == 0) {
		gr_error_set(err, EINVAL, "%s: \"manifests\" is missing or empty", what);
		return NULL;
	}
	if (json_array_size(ms) == 1)
		return json_array_get(ms, 0);
	size_t i;
	const json_t *m;
	json_array_foreach(ms, i, m) {
		const json_t *pf = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(pf, "os"));
		const char *arch = json_string_value(json_object_get(pf, "architecture"));
		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64"))
			return m;
	}
	gr_error_set(err, EINVAL, "%s: %zu manifests and none for linux/amd64", what, json_array_size(ms));
	return NULL;
}

/* ---- layers ----------------------------------------------------------------------------- */

/* rootfs/rel, a folder path, with each of its components that exists a real folder
 * (no symlink, no file), or NULL. */
static char *inside(const char *rootfs, const char *rel)
{
	while (*rel == '/' || (rel[0] == '.' && rel[1] == '/'))
		rel += rel[0] == '/' ? 1 : 2;
	_cleanup_free_ char *copy = xstrdup(rel);
	char *path = xstrdup(rootfs);
	for (char *tok = copy, *next; tok && *tok; tok = next) {
		next = strchr(tok, '/');
		if (next)
			*next++ = 0;
		if (!*tok || !strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			free(path);
			return NULL;
		}
		char *p = xasprintf("%s/%s", path, tok);
		free(path);
		path = p;
		struct stat st;
		if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			free(path);
			return NULL; /* a symlink or a file on the way */
		}
	}
	return path;
}

static int remove_entry(const char *path, gr_error_t *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : gr_error_sys(err, "cannot remove %s", path);
	if (S_ISDIR(st.st_mode))
		return gr_rm_rf(path, err);
	if (unlink(path) < 0)
		return gr_error_sys(err, "cannot remove %s", path);
	return 0;
}

static int empty_dir(const char *path, gr_error_t *err)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* nothing below to hide */
	DIR *d = opendir(path);
	if (!d)
		return gr_error_sys(err, "cannot open %s", path);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", path, de->d_name);
		rc = remove_entry(p, err);
	}
	closedir(d);
	return rc;
}

/* Pass 1 of a layer: its whiteouts, applied to what the layers below left. */
static int apply_whiteouts(const char *layer, const char *rootfs, const char *what, gr_error_t *err)
{
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	int rc = 0;
	if (archive_read_open_filename(in, layer, 1 << 16) != ARCHIVE_OK) {
		rc = gr_error_set(err, EINVAL, "%s: %s", what, archive_error_string(in));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = gr_error_set(err, EINVAL, "%s: %s", what, archive_error_string(in));
			break;
		}
		const char *name = archive_entry_pathname(e);
		const char *base = name ? strrchr(name, '/') : NULL;
		base = base ? base + 1 : name;
		if (!base || strncmp(base, ".wh.", 4))
			continue;
		_cleanup_free_ char *dir = xstrndup(name, (size_t)(base - name));
		_cleanup_free_ char *dpath = inside(rootfs, dir);
		if (!dpath) {
			rc = gr_error_set(err, EINVAL, "%s: whiteout '%s' is outside the image or crosses a "
						      "symlink", what, name);
			break;
		}
		if (!strcmp(base, ".wh..wh..opq")) {
			rc = empty_dir(dpath, err);
		} else {
			const char *victim = base + 4;
			if (!*victim || !strcmp(victim, ".") || !strcmp(victim, "..") || strchr(victim, '/')) {
				rc = gr_error_set(err, EINVAL, "%s: whiteout '%s' names no entry", what, name);
				break;
			}
			_cleanup_free_ char *vpath = xasprintf("%s/%s", dpath, victim);
			rc = remove_entry(vpath, err);
		}
		if (rc < 0)
			break;
	}
out:
	archive_read_free(in);
	return rc;
}

static int apply_layer(const char *layer, const char *rootfs, size_t i, struct gr__progress *pr,
		       gr_error_t *err)
{
	_cleanup_free_ char *what = xasprintf("layer %zu", i + 1);
	if (apply_whiteouts(layer, rootfs, what, err) < 0)
		return -1;
	int r = gr__tar_extract_layer(layer, rootfs, pr, err);
	if (r == 1)
		return gr_error_set(err, EINVAL, "%s: not a tar archive", what);
	return r < 0 ? gr_error_prefix(err, "%s", what) : 0;
}

/* ---- config ----------------------------------------------------------------------------- */

static int strv_ok(const json_t *v)
{
	if (!json_is_array(v))
		return 0;
	size_t i;
	const json_t *s;
	json_array_foreach(v, i, s) if (!json_is_string(s)) return 0;
	return 1;
}

/* The config's Env/Entrypoint/Cmd/WorkingDir/User as the master's defaults. */
static int write_defaults(const json_t *config, const char *stage, gr_error_t *err)
{
	const json_t *c = json_object_get(config, "config");
	if (!c)
		c = json_object_get(config, "container_config"); /* old docker configs */
	json_t *d = json_object();
	static const struct {
		const char *oci, *ours;
		int list;
	} keys[] = {{"Env", "env", 1}, {"Entrypoint", "entrypoint", 1}, {"Cmd", "cmd", 1},
		    {"WorkingDir", "working_dir", 0}, {"User", "user", 0}};
	for (size_t i = 0; c && i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(c, keys[i].oci);
		if (!v || json_is_null(v))
			continue;
		if (keys[i].list ? !strv_ok(v) : !json_is_string(v)) {
			json_decref(d);
			return gr_error_set(err, EINVAL, "image config: config.%s: expected %s", keys[i].oci,
					    keys[i].list ? "an array of strings" : "a string");
		}
		if (!keys[i].list && !*json_string_value(v))
			continue;
		json_object_set(d, keys[i].ours, v);
	}
	char *text = json_dumps(d, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(d);
	_cleanup_free_ char *path = xasprintf("%s/" GR__DEFAULTS, stage);
	int rc = gr_write_file_atomic(path, text, strlen(text), 0444, err);
	free(text);
	return rc;
}

/* ---- the whole image -------------------------------------------------------------------- */

/* A path from a docker-save manifest, relative and inside DIR. */
static char *docker_path(const char *dir, const json_t *v, const char *what, gr_error_t *err)
{
	const char *rel = json_string_value(v);
	if (!rel || !*rel || rel[0] == '/' || strstr(rel, "..")) {
		gr_error_set(err, EINVAL, "manifest.json: %s: expected a relative path inside the archive", what);
		return NULL;
	}
	char *p = xasprintf("%s/%s", dir, rel);
	if (access(p, R_OK) < 0) {
		gr_error_sys(err, "manifest.json: %s '%s'", what, rel);
		free(p);
		return NULL;
	}
	return p;
}

int gr__oci_import(const char *dir, const char *stage, struct gr__progress *pr, gr_error_t *err)
{
	_cleanup_free_ char *rootfs = xasprintf("%s/" GR__ROOTFS, stage);
	if (mkdir(rootfs, 0755) < 0)
		return gr_error_sys(err, "cannot create %s", rootfs);
	json_t *config = NULL, *doc = NULL, *manifest = NULL;
	char **layers = NULL;
	size_t n = 0;
	int rc = -1;
	_cleanup_free_ char *index_path = xasprintf("%s/index.json", dir);
	if (access(index_path, F_OK) == 0) {
		/* OCI layout: index -> (indexes ->) manifest -> config + layers */
		_cleanup_free_ char *ver = NULL;
		_cleanup_free_ char *lay = xasprintf("%s/oci-layout", dir);
		if (gr_read_file(lay, 4096, &ver, NULL, err) < 0 || !strstr(ver, "imageLayoutVersion")) {
			gr_error_set(err, EINVAL, "oci-layout: missing or without imageLayoutVersion");
			goto out;
		}
		if (!(doc = load_json(index_path, "index.json", err)))
			goto out;
		const json_t *desc = pick_manifest(doc, "index.json", err);
		for (int depth = 0; desc && is_index(media(desc)); depth++) {
			_cleanup_free_ char *p = depth < 4 ? blob_path(dir, desc, "nested index", err) : NULL;
			if (depth >= 4)
				gr_error_set(err, EINVAL, "index.json: indexes nested deeper than 4");
			if (!p)
				goto out;
			json_decref(manifest);
			if (!(manifest = load_json(p, "nested index", err)))
				goto out;
			desc = pick_manifest(manifest, "nested index", err);
		}
		if (!desc)
			goto out;
		_cleanup_free_ char *mp = blob_path(dir, desc, "image manifest", err);
		if (!mp)
			goto out;
		json_decref(manifest);
		if (!(manifest = load_json(mp, "image manifest", err)))
			goto out;
		const json_t *cdesc = json_object_get(manifest, "config");
		_cleanup_free_ char *cp = cdesc ? blob_path(dir, cdesc, "image config", err) : NULL;
		if (!cdesc)
			gr_error_set(err, EINVAL, "image manifest: no \"config\"");
		if (!cp || !(config = load_json(cp, "image config", err)))
			goto out;
		const json_t *ls = json_object_get(manifest, "layers");
		if (!json_is_array(ls)) {
			gr_error_set(err, EINVAL, "image manifest: \"layers\" is not an array");
			goto out;
		}
		layers = xcalloc(json_array_size(ls) + 1, sizeof *layers);
		size_t i;
		const json_t *l;
		json_array_foreach(ls, i, l) {
			const char *m = media(l);
			if (*m && !strstr(m, "tar")) {
				gr_error_set(err, EINVAL, "image manifest: layer %zu: media type '%s' is not a layer",
					     i + 1, m);
				goto out;
			}
			_cleanup_free_ char *what = xasprintf("layer %zu", i + 1);
			if (!(layers[n] = blob_path(dir, l, what, err)))
				goto out;
			n++;
		}
	} else {
		/* docker save: [{"Config": "<id>.json", "Layers": ["<id>/layer.tar", ...]}] */
		_cleanup_free_ char *mpath = xasprintf("%s/manifest.json", dir);
		if (!(doc = load_json(mpath, "manifest.json", err)))
			goto out;
		if (!json_is_array(doc) || json_array_size(doc) == 0) {
			gr_error_set(err, EINVAL, "manifest.json: expected a non-empty array");
			goto out;
		}
		if (json_array_size(doc) > 1) {
			gr_error_set(err, EINVAL, "manifest.json: %zu images in one archive; save one image",
				     json_array_size(doc));
			goto out;
		}
		const json_t *m = json_array_get(doc, 0);
		_cleanup_free_ char *cp = docker_path(dir, json_object_get(m, "Config"), "Config", err);
		if (!cp || !(config = load_json(cp, "image config", err)))
			goto out;
		const json_t *ls = json_object_get(m, "Layers");
		if (!json_is_array(ls)) {
			gr_error_set(err, EINVAL, "manifest.json: \"Layers\" is not an array");
			goto out;
		}
		layers = xcalloc(json_array_size(ls) + 1, sizeof *layers);
		size_t i;
		const json_t *l;
		json_array_foreach(ls, i, l) {
			_cleanup_free_ char *what = xasprintf("Layers[%zu]", i);
			if (!(layers[n] = docker_path(dir, l, what, err)))
				goto out;
			n++;
		}
	}
	if (!json_is_object(config)) {
		gr_error_set(err, EINVAL, "image config: expected a JSON object");
		goto out;
	}
	const char *os = json_string_value(json_object_get(config, "os"));
	const char *arch = json_string_value(json_object_get(config, "architecture"));
	if ((os && strcmp(os, "linux")) || (arch && strcmp(arch, "amd64"))) {
		gr_error_set(err, EINVAL, "image config: built for %s/%s; this host runs linux/amd64",
			     os ? os : "?", arch ? arch : "?");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (apply_layer(layers[i], rootfs, i, pr, err) < 0)
			goto out;
	rc = write_defaults(config, stage, err);
out:
	for (size_t i = 0; layers && i < n; i++)
		free(layers[i]);
	free(layers);
	json_decref(config);
	json_decref(doc);
	json_decref(manifest);
	return rc;
}
