/*
 * manifest.c - gr_image_info <-> JSON, and the image.json manifest next to each master.
 * The manifest is the image's identity: a folder without a valid one is not an image.
 * Parsing is strict and names the bad field ("image.json: checksum: expected ...").
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <string.h>

void gr_image_info_clear(struct gr_image_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->kind);
	free(info->checksum);
	free(info->path);
	free(info->source);
	json_decref(info->defaults);
	memset(info, 0, sizeof(*info));
}

void gr_image_info_list_free(struct gr_image_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gr_image_info_clear(&list[i]);
	free(list);
}

json_t *gr_image_info_to_json(const struct gr_image_info *info)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(info->name ? info->name : ""));
	json_object_set_new(o, "kind", json_string(info->kind ? info->kind : ""));
	json_object_set_new(o, "checksum", json_string(info->checksum ? info->checksum : ""));
	if (info->path)
		json_object_set_new(o, "path", json_string(info->path));
	json_object_set_new(o, "size_bytes", json_integer((json_int_t)info->size_bytes));
	json_object_set_new(o, "files", json_integer((json_int_t)info->files));
	json_object_set_new(o, "created", json_integer(info->created));
	json_object_set_new(o, "source", info->source ? json_string(info->source) : json_null());
	if (info->defaults)
		json_object_set(o, "defaults", info->defaults);
	return o;
}

static int get_str(const json_t *o, const char *key, int required, char **out, gr_error_t *err)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return gr_error_set(err, EINVAL, "%s: missing", key);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return gr_error_set(err, EINVAL, "%s: expected a string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_uint(const json_t *o, const char *key, uint64_t *out, gr_error_t *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return gr_error_set(err, EINVAL, "%s: expected a non-negative integer", key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int checksum_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) || strlen(s) != 7 + 64)
		return 0;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int gr__defaults_check(const json_t *d, gr_error_t *err)
{
	if (!json_is_object(d))
		return gr_error_set(err, EINVAL, "expected an object");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)d, key, v) {
		if (!strcmp(key, "env") || !strcmp(key, "entrypoint") || !strcmp(key, "cmd")) {
			size_t i;
			json_t *s;
			if (!json_is_array(v))
				return gr_error_set(err, EINVAL, "%s: expected an array of strings", key);
			json_array_foreach(v, i, s) if (!json_is_string(s))
				return gr_error_set(err, EINVAL, "%s[%zu]: expected a string", key, i);
		} else if (!strcmp(key, "working_dir") || !strcmp(key, "user")) {
			if (!json_is_string(v))
				return gr_error_set(err, EINVAL, "%s: expected a string", key);
		} else {
			return gr_error_set(err, EINVAL, "%s: unknown key", key);
		}
	}
	return 0;
}

int gr_image_info_from_json(const json_t *obj, struct gr_image_info *info, gr_error_t *err)
{
	memset(info, 0, sizeof(*info));
	if (!json_is_object(obj))
		return gr_error_set(err, EINVAL, "expected a JSON object");
	uint64_t created = 0;
	if (get_str(obj, "name", 1, &info->name, err) < 0 || get_str(obj, "kind", 1, &info->kind, err) < 0 ||
	    get_str(obj, "checksum", 1, &info->checksum, err) < 0 ||
	    get_str(obj, "path", 0, &info->path, err) < 0 || get_str(obj, "source", 0, &info->source, err) < 0 ||
	    get_uint(obj, "size_bytes", &info->size_bytes, err) < 0 ||
	    get_uint(obj, "files", &info->files, err) < 0 || get_uint(obj, "created", &created, err) < 0)
		goto fail;
	info->created = (long long)created;
	if (!gr_image_name_valid(info->name)) {
		gr_error_set(err, EINVAL, "name: '%s' is not a valid image name", info->name);
		goto fail;
	}
	if (strcmp(info->kind, GR_IMAGE_KIND_ROOTFS) && strcmp(info->kind, GR_IMAGE_KIND_QCOW2)) {
		gr_error_set(err, EINVAL, "kind: expected \"rootfs\" or \"qcow2\", got \"%s\"", info->kind);
		goto fail;
	}
	if (!checksum_valid(info->checksum)) {
		gr_error_set(err, EINVAL, "checksum: expected \"sha256:\" and 64 hex digits");
		goto fail;
	}
	json_t *d = json_object_get(obj, "defaults");
	if (d && !json_is_null(d)) {
		if (gr__defaults_check(d, err) < 0) {
			gr_error_prefix(err, "defaults");
			goto fail;
		}
		info->defaults = json_incref(d);
	}
	return 0;
fail:
	gr_image_info_clear(info);
	return -1;
}

int gr__manifest_write(const char *image_dir, const struct gr_image_info *info, gr_error_t *err)
{
	json_t *o = gr_image_info_to_json(info);
	json_object_del(o, "path"); /* derived from where the image lives */
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		abort();
	_cleanup_free_ char *path = xasprintf("%s/" GR__MANIFEST, image_dir);
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	int rc = gr_write_file_atomic(path, text, len + 1, 0444, err);
	free(text);
	return rc;
}

int gr__manifest_read(const char *image_dir, struct gr_image_info *info, gr_error_t *err)
{
	_cleanup_free_ char *path = xasprintf("%s/" GR__MANIFEST, image_dir);
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, 1 << 20, &text, NULL, err) < 0)
		return -1;
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	if (!o)
		return gr_error_set(err, EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
	int rc = gr_image_info_from_json(o, info, err);
	json_decref(o);
	if (rc < 0)
		return gr_error_prefix(err, "%s", path);
	free(info->path);
	info->path = xasprintf("%s/%s", image_dir,
			       strcmp(info->kind, GR_IMAGE_KIND_QCOW2) ? GR__ROOTFS : GR__DISK);
	return 0;
}
