/*
 * distrib.c - masters across the pool.  Every master a host holds is published in
 *     /gureum/images/<name> = {"name","sha256","size","format","hosts":[...],"updated"}
 * (written when a host builds, imports or fetches it, at start-up for what it already
 * holds, and when it deletes one: it leaves "hosts"; the last one out deletes the key).
 * A host about to define an instance from a master it lacks fetches it first from an
 * online holder over the peer channel (the daemon's fetch hook, gr_control_opts.peer_get):
 * the export stream goes to a temporary file in the images folder, gr_image_receive
 * imports it under a staging name and publishes it only if its checksum is the record's,
 * so a cut or corrupted transfer leaves nothing.  The per-name lock "image:<name>" (the
 * one image build/import/delete take) makes concurrent fetches of one master on one host
 * happen once: the second caller finds the master there.
 *
 * Without a fetch hook (no --peer-listen, or a lone daemon) nothing here writes anything.
 */
#include "control/control-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"

#define GR_KEY_IMAGES "/gureum/images/"

static bool has_host(json_t *hosts, const char *h)
{
	size_t i;
	json_t *v;
	json_array_foreach(hosts, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), h))
			return true;
	return false;
}

/* Read-modify-write of the record, compared on its mod_revision (a few tries).  add: this
 * host holds `info`; else it no longer holds `name`. */
static int update(struct gr_control *c, const char *name, const struct gr_image_info *info, gr_error_t *err)
{
	_cleanup_free_ char *key = xasprintf(GR_KEY_IMAGES "%s", name);
	const char *sum = info && info->checksum && !strncmp(info->checksum, "sha256:", 7) ? info->checksum + 7 : NULL;
	for (int attempt = 0; attempt < 8; attempt++) {
		struct gr_kv kv = { 0 };
		int r = gr_store_get(c->store, key, &kv, err);
		if (r < 0)
			return -1;
		int64_t rev = r == 1 ? kv.mod_revision : 0;
		json_t *rec = r == 1 ? json_loads(kv.value, 0, NULL) : NULL;
		gr_kv_clear(&kv);
		if (!json_is_object(rec)) {
			json_decref(rec);
			rec = NULL;
		}
		if (!info) {
			json_t *hosts = json_object_get(rec, "hosts"), *left = json_array(), *v;
			size_t i;
			json_array_foreach(hosts, i, v)
				if (json_is_string(v) && strcmp(json_string_value(v), c->hostname))
					json_array_append(left, v);
			if (!rec || json_array_size(left) == json_array_size(hosts)) {
				json_decref(left);
				json_decref(rec);
				return 0;
			}
			if (json_array_size(left) == 0) {
				json_decref(left);
				json_decref(rec);
				r = gr_store_delete_if(c->store, key, rev, NULL, err);
			} else {
				json_object_set_new(rec, "hosts", left);
				json_object_set_new(rec, "updated", json_real(gr_wall_s()));
				_cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
				json_decref(rec);
				r = gr_store_put_if(c->store, key, text, strlen(text), 0, rev, NULL, err);
			}
		} else {
			const char *old = json_string_value(json_object_get(rec, "sha256"));
			if (rec && (!old || !sum || strcmp(old, sum))) {
				/* another master under this name: the newest one is the pool's */
				_cleanup_free_ char *was = json_dumps(json_object_get(rec, "hosts"), JSON_COMPACT);
				gr_log_warn("image %s: this host's master (%s) differs from the one the pool "
					    "lists (%s on %s); the pool now lists this host's only",
					    name, sum ? sum : "?", old ? old : "?", was ? was : "?");
				json_decref(rec);
				rec = NULL;
			}
			if (rec && has_host(json_object_get(rec, "hosts"), c->hostname)) {
				json_decref(rec);
				return 0;
			}
			if (!rec)
				rec = json_pack("{s:s,s:s,s:I,s:s,s:[]}", "name", name, "sha256", sum ? sum : "",
						"size", (json_int_t)info->size_bytes, "format", info->kind, "hosts");
			json_array_append_new(json_object_get(rec, "hosts"), json_string(c->hostname));
			json_object_set_new(rec, "updated", json_real(gr_wall_s()));
			_cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
			json_decref(rec);
			r = gr_store_put_if(c->store, key, text, strlen(text), 0, rev, NULL, err);
		}
		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
	}
	return gr_error_set(err, EAGAIN, "image %s: the pool's record kept changing", name);
}

void gr__distrib_published(struct gr_control *c, const char *name)
{
	if (!c->peer_get)
		return;
	struct gr_image_info info = { 0 };
	gr_error_t err;
	if (gr_image_get(&c->img, name, &info, &err) < 0 || update(c, name, &info, &err) < 0)
		gr_log_warn("image %s: publishing it to the pool: %s", name, err.msg);
	gr_image_info_clear(&info);
}

void gr__distrib_deleted(struct gr_control *c, const char *name)
{
	gr_error_t err;
	if (c->peer_get && update(c, name, NULL, &err) < 0)
		gr_log_warn("image %s: removing this host from the pool's record: %s", name, err.msg);
}

void gr__distrib_publish_all(struct gr_control *c)
{
	if (!c->peer_get)
		return;
	/* a fetch cut by this daemon's death left its temporary tar: nothing uses it */
	DIR *d = opendir(c->images_dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, ".fetch-", 7))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	struct gr_image_info *list = NULL;
	size_t n = 0;
	gr_error_t err;
	if (gr_image_list(&c->img, &list, &n, &err) < 0) {
		gr_log_warn("publishing this host's images: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (update(c, list[i].name, &list[i], &err) < 0)
			gr_log_warn("image %s: publishing it to the pool: %s", list[i].name, err.msg);
	gr_image_info_list_free(list, n);
}

/* Fetch `name` from `host` (online, its record read): 0, or -1 naming host and image. */
static int fetch_from(struct gr_control *c, const char *name, const char *host, const char *format,
		      const char *sum, gr_error_t *err)
{
	_cleanup_free_ char *hkey = xasprintf("%s%s", GR_KEY_HOSTS, host);
	json_t *hrec = NULL;
	int r = gr_store_get_json(c->store, hkey, &hrec, NULL, err);
	if (r <= 0) {
		if (r == 0)
			gr_error_set(err, ENOENT, "host %s has no record", host);
		return -1;
	}
	json_t *peer = json_object_get(hrec, "peer");
	const char *addr = json_string_value(json_object_get(peer, "address"));
	if (gr_mkdir_p(c->images_dir, 0755, err) < 0) {
		json_decref(hrec);
		return -1;
	}
	/* one per name at a time (the name lock), so a fixed name: a crash's leftover is
	 * truncated by the next fetch */
	_cleanup_free_ char *tmp = xasprintf("%s/.fetch-%s.tar", c->images_dir, name);
	_cleanup_free_ char *path = xasprintf("/v1/peer/images/%s", name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		json_decref(hrec);
		return gr_error_sys(err, "cannot create %s", tmp);
	}
	gr_log_info("image %s: fetching it from host %s (%s)", name, host, addr ? addr : "no peer address");
	double t0 = gr_mono_s();
	r = c->peer_get(c->peer_ud, host, peer, path, fd, err);
	json_decref(hrec);
	struct stat st;
	uint64_t bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	close(fd);
	double t1 = gr_mono_s();
	if (r == 0) {
		gr_log_info("image %s: received %" PRIu64 " bytes from host %s in %.2f s; verifying", name, bytes,
			    host, t1 - t0);
		_cleanup_free_ char *want = xasprintf("sha256:%s", sum);
		_cleanup_free_ char *source = xasprintf("fetch:%s", host);
		r = gr_image_receive(&c->img, name, format, want, tmp, source, NULL, NULL, NULL, err);
	}
	unlink(tmp);
	if (r < 0)
		return gr_error_prefix(err, "fetching image '%s' from host %s (nothing was kept)", name, host);
	gr_log_info("image %s: fetched from host %s in %.2f s (%" PRIu64 " bytes, checksum verified)", name, host,
		    gr_mono_s() - t0, bytes);
	return 0;
}

int gr__distrib_ensure(struct gr_control *c, const char *name, gr_error_t *err)
{
	if (!c->peer_get || !name || !gr_image_name_valid(name))
		return 0; /* the create's own check names what is wrong */
	struct gr_image_info info = { 0 };
	if (gr_image_get(&c->img, name, &info, NULL) == 0) {
		gr_image_info_clear(&info);
		return 0;
	}
	_cleanup_free_ char *lock = xasprintf("image:%s", name);
	_cleanup_free_ char *key = xasprintf(GR_KEY_IMAGES "%s", name);
	gr__lock_name(c, lock);
	int rc = -1;
	json_t *rec = NULL;
	if (gr_image_get(&c->img, name, &info, NULL) == 0) { /* another call fetched it meanwhile */
		gr_image_info_clear(&info);
		rc = 0;
		goto out;
	}
	int r = gr_store_get_json(c->store, key, &rec, NULL, err);
	if (r < 0)
		goto out;
	json_t *hosts = json_object_get(rec, "hosts");
	const char *sum = json_string_value(json_object_get(rec, "sha256"));
	const char *format = json_string_value(json_object_get(rec, "format"));
	if (r == 0 || json_array_size(hosts) == 0 || !sum || !format) {
		gr_error_set(err, ENOENT, "image: no image named '%s' on this host or any host of the pool "
				     "(see 'gureum image list')", name);
		goto out;
	}
	/* every online holder in turn; remember why each one was not used */
	char why[900] = "";
	size_t off = 0;
	bool tried = false;
	size_t i;
	json_t *v;
	json_array_foreach(hosts, i, v) {
		const char *h = json_string_value(v);
		if (!h || !strcmp(h, c->hostname))
			continue;
		bool online = false;
		double since = 0;
		gr_error_t e;
		int s = gr__host_state(c, h, &online, &since, &e);
		if (s <= 0 || !online) {
			char when[64] = "";
			if (since > 0) {
				time_t t = (time_t)since;
				struct tm tm;
				strftime(when, sizeof when, " since %Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
			}
			off += (size_t)snprintf(why + off, off < sizeof why ? sizeof why - off : 0, "%s%s is offline%s",
						off ? "; " : "", h, when);
			continue;
		}
		tried = true;
		if (fetch_from(c, name, h, format, sum, &e) == 0) {
			gr__distrib_published(c, name);
			rc = 0;
			goto out;
		}
		gr_log_warn("%s", e.msg);
		off += (size_t)snprintf(why + off, off < sizeof why ? sizeof why - off : 0, "%s%s", off ? "; " : "",
					e.msg);
	}
	if (!tried)
		gr_error_set(err, EHOSTDOWN, "image '%s' is not on this host and no host holding it is online "
					     "(%s); nothing was created", name, why[0] ? why : "none listed");
	else
		gr_error_set(err, EIO, "image '%s' could not be fetched: %s; nothing was created", name, why);
out:
	json_decref(rec);
	gr__unlock_name(c, lock);
	return rc;
}

int gr_control_image_export(struct gr_control *c, const char *name, int fd, gr_error_t *err)
{
	return gr_image_export(&c->img, name, fd, err);
}

const char *gr_control_host_name(struct gr_control *c)
{
	return c->hostname;
}
