/*
 * cluster.c - forming a pool: init (a pool record with the hash of a join
 * token, on an etcd store), join (a standalone host checks the token against
 * the pool's store and records the pool's store URL for its next start) and
 * leave (the reverse).
 *
 * Keys: /gureum/cluster = {"id","created","created_by","token_sha256"},
 * created by compare-absent; the token itself is shown once and never stored.
 * Local file: STATE_DIR/pool.url, the store a daemon started without --store
 * uses (written atomically, last: a refused or failed join leaves nothing,
 * neither here nor in the pool).  A host joins or leaves only while it holds
 * no instances, since its instance records live in the store it leaves.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "sched/sched.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL);
	hex(d, 32, out);
}

static int random_hex(size_t bytes, char *out, gr_error_t *err)
{
	unsigned char b[32];
	if (bytes > sizeof b || getrandom(b, bytes, 0) != (ssize_t)bytes)
		return gr_error_sys(err, "getrandom");
	hex(b, bytes, out);
	return 0;
}

static char *pool_file(const struct gr_control *c)
{
	return xasprintf("%s/pool.url", c->state_dir);
}

static size_t instance_count(struct gr_control *c)
{
	char **names = gr__index_names(c);
	size_t n = 0;
	while (names[n])
		n++;
	gr_strv_free(names);
	return n;
}

static bool on_etcd(struct gr_control *c)
{
	return strcmp(gr_store_backend(c->store), "sqlite") != 0;
}

int gr_control_cluster_init(struct gr_control *c, json_t **out, gr_error_t *err)
{
	if (!on_etcd(c))
		return gr_error_set(err, EINVAL, "cluster init: this daemon uses the SQLite store (one host); a "
						 "pool needs an etcd store: start gureumd with --store etcd://...");
	char id[33], token[65], hash[65];
	if (random_hex(16, id, err) < 0 || random_hex(32, token, err) < 0)
		return -1;
	sha256_hex(token, hash);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_t *rec = json_pack("{s:s,s:f,s:s,s:s}", "id", id, "created", (double)ts.tv_sec, "created_by",
				c->hostname, "token_sha256", hash);
	int r = gr_store_put_json_if(c->store, GR_KEY_CLUSTER, rec, 0, 0, NULL, err);
	json_decref(rec);
	if (r < 0)
		return gr_error_prefix(err, "cluster init");
	if (r == 0) {
		json_t *cur = NULL;
		gr_store_get_json(c->store, GR_KEY_CLUSTER, &cur, NULL, NULL);
		gr_error_set(err, EEXIST, "cluster init: the pool is initialized already (id %s); its join "
					  "token was shown then",
			     json_string_value(json_object_get(cur, "id")) ?: "?");
		json_decref(cur);
		return -1;
	}
	gr_log_info("cluster %s initialized by %s", id, c->hostname);
	*out = json_pack("{s:s,s:s}", "id", id, "token", token);
	return 0;
}

int gr_control_cluster_get(struct gr_control *c, json_t **out, gr_error_t *err)
{
	json_t *rec = NULL;
	int r = gr_store_get_json(c->store, GR_KEY_CLUSTER, &rec, NULL, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return gr_error_set(err, ENOENT, "no pool: this store has no cluster record (gureum cluster init)");
	json_object_del(rec, "token_sha256");
	json_object_set_new(rec, "store", json_string(gr_store_backend(c->store)));
	const struct gr_sched_policy_ops *pol;
	if (gr__cluster_policy(c, &pol, err) < 0) {
		json_decref(rec);
		return -1;
	}
	json_object_set_new(rec, "config", json_pack("{s:s}", "placement.policy", pol->name));
	*out = rec;
	return 0;
}

/* ---- pool settings: /gureum/cluster/config ---- */

static void policy_names(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; gr_sched_policies[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 gr_sched_policies[i]->name);
}

int gr__cluster_policy_parse(const char *name, const struct gr_sched_policy_ops **out,
			     gr_error_t *err)
{
	const struct gr_sched_policy_ops *p = gr_sched_policy_by_name(name);
	if (!p) {
		char names[512];
		policy_names(names, sizeof names);
		return gr_error_set(err, EINVAL, "placement.policy: no policy named '%s' (valid: %s)",
				    name ? name : "", names);
	}
	*out = p;
	return 0;
}

int gr__cluster_policy(struct gr_control *c, const struct gr_sched_policy_ops **out,
		       gr_error_t *err)
{
	json_t *cfg = NULL;
	int r = gr_store_get_json(c->store, GR_KEY_CLUSTER_CONFIG, &cfg, NULL, err);
	if (r < 0)
		return gr_error_prefix(err, "pool settings");
	const char *name = json_string_value(json_object_get(cfg, "placement.policy"));
	r = gr__cluster_policy_parse(name ? name : GR_PLACE_POLICY_DEFAULT, out, err);
	json_decref(cfg);
	return r < 0 ? gr_error_prefix(err, "pool settings (%s)", GR_KEY_CLUSTER_CONFIG) : 0;
}

static int set_fn(json_t **doc, void *ctx, gr_error_t *err)
{
	json_t *changes = ctx;
	if (!*doc)
		*doc = json_object();
	json_object_update(*doc, changes);
	return 0;
}

int gr_control_cluster_settings(struct gr_control *c, json_t *req, json_t **out, gr_error_t *err)
{
	const char *key;
	json_t *v;
	const struct gr_sched_policy_ops *pol;
	if (!req) {
		if (gr__cluster_policy(c, &pol, err) < 0)
			return -1;
		*out = json_pack("{s:s}", "placement.policy", pol->name);
		return 0;
	}
	if (!json_is_object(req) || !json_object_size(req))
		return gr_error_set(err, EINVAL, "expected settings, e.g. {\"placement.policy\": "
				    "\"round-robin\"}");
	json_object_foreach(req, key, v) {
		if (strcmp(key, "placement.policy"))
			return gr_error_set(err, EINVAL, "%s: unknown setting (known: placement.policy)",
					    key);
		const struct gr_sched_policy_ops *p;
		if (!json_is_string(v))
			return gr_error_set(err, EINVAL, "placement.policy: expected a policy name");
		if (gr__cluster_policy_parse(json_string_value(v), &p, err) < 0)
			return -1;
	}
	if (gr_store_update_json(c->store, GR_KEY_CLUSTER_CONFIG, set_fn, req, 10, NULL, err) < 0)
		return gr_error_prefix(err, "writing the pool settings");
	gr_log_info("pool settings changed: placement.policy=%s",
		    json_string_value(json_object_get(req, "placement.policy")));
	if (gr__cluster_policy(c, &pol, err) < 0)
		return -1;
	*out = json_pack("{s:s}", "placement.policy", pol->name);
	return 0;
}

/* Does the pool's cluster record accept token?  0 yes; EACCES no. */
static int check_token(struct gr_store *pool, const char *address, const char *token, char *id,
		       size_t idlen, gr_error_t *err)
{
	json_t *rec = NULL;
	int r = gr_store_get_json(pool, GR_KEY_CLUSTER, &rec, NULL, err);
	if (r < 0)
		return gr_error_prefix(err, "reading the pool at %s", address);
	if (r == 0)
		return gr_error_set(err, ENOENT, "the store at %s holds no pool (run gureum cluster init on one "
						 "of its hosts first)", address);
	const char *want = json_string_value(json_object_get(rec, "token_sha256"));
	char got[65];
	sha256_hex(token, got);
	bool good = want && strlen(want) == 64 && CRYPTO_memcmp(want, got, 64) == 0;
	snprintf(id, idlen, "%s", json_string_value(json_object_get(rec, "id")) ?: "?");
	json_decref(rec);
	if (!good)
		return gr_error_set(err, EACCES, "the pool at %s refused the join token (wrong token); nothing "
						 "was changed",
				    address);
	return 0;
}

int gr_control_cluster_join(struct gr_control *c, json_t *req, json_t **out, gr_error_t *err)
{
	const char *address = json_string_value(json_object_get(req, "address"));
	const char *token = json_string_value(json_object_get(req, "token"));
	if (!address || !*address)
		return gr_error_set(err, EINVAL, "address: expected the pool's etcd endpoints (host:port,...)");
	if (!token || !*token)
		return gr_error_set(err, EINVAL, "token: expected the join token from gureum cluster init");
	if (on_etcd(c))
		return gr_error_set(err, EEXIST, "cluster join: this host is in a pool already (leave it first)");
	_cleanup_free_ char *url = strstr(address, "://") ? xstrdup(address) : xasprintf("etcd://%s", address);
	if (strncmp(url, "etcd://", 7) && strncmp(url, "etcds://", 8))
		return gr_error_set(err, EINVAL, "address: '%s' is not an etcd address (etcd://host:port,...)",
				    address);
	size_t n = instance_count(c);
	if (n)
		return gr_error_set(err, EBUSY, "cluster join: this host has %zu instance(s) in its own store; "
						"delete them first (moving them into a pool is not built yet)",
				    n);
	struct gr_store *pool = NULL;
	if (gr_store_open(url, NULL, &pool, err) < 0)
		return gr_error_prefix(err, "reaching the pool at %s", address);
	char id[64];
	int r = check_token(pool, address, token, id, sizeof id, err);
	if (r == 0) {
		/* the name must be free there, or the next start would be refused */
		_cleanup_free_ char *akey = xasprintf("%s%s/alive", GR_KEY_HOSTS, c->hostname);
		int a = gr_store_get(pool, akey, NULL, err);
		if (a < 0)
			r = -1;
		else if (a == 1)
			r = gr_error_set(err, EEXIST, "cluster join: host name '%s' is online in the pool already; "
						      "start this daemon with another --host-name",
					 c->hostname);
	}
	gr_store_close(pool);
	if (r < 0)
		return -1;
	_cleanup_free_ char *path = pool_file(c), *text = xasprintf("%s\n", url);
	if (gr_write_file_atomic(path, text, strlen(text), 0600, err) < 0)
		return -1;
	gr_log_info("joined pool %s at %s; the next start uses it", id, address);
	*out = json_pack("{s:s,s:s,s:b,s:s}", "joined", id, "address", address, "restart_needed", 1,
			 "message", "restart gureumd (without --store) to run in the pool");
	return 0;
}

int gr_control_cluster_leave(struct gr_control *c, json_t **out, gr_error_t *err)
{
	if (!on_etcd(c))
		return gr_error_set(err, EINVAL, "cluster leave: this host is in no pool");
	_cleanup_free_ char *path = pool_file(c);
	if (access(path, F_OK) < 0)
		return gr_error_set(err, EINVAL, "cluster leave: this daemon was started with --store; stop it and "
						 "start it without (nothing recorded to undo)");
	size_t mine = 0;
	char **names = gr__index_names(c);
	for (size_t i = 0; names[i]; i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) == 0) {
			mine += !strcmp(in.host, c->hostname);
			gr__inst_clear(&in);
		}
	}
	gr_strv_free(names);
	if (mine)
		return gr_error_set(err, EBUSY, "cluster leave: %zu instance(s) are on this host; delete them "
						"first (evacuation is not built yet)",
				    mine);
	if (unlink(path) < 0)
		return gr_error_sys(err, "%s", path);
	/* out of the list: the record goes now, the alive key with the lease at stop */
	_cleanup_free_ char *rkey = xasprintf("%s%s", GR_KEY_HOSTS, c->hostname);
	atomic_store(&c->left_pool, true);
	gr_store_delete(c->store, rkey, NULL, NULL);
	gr_log_info("left the pool; the next start uses the local SQLite store");
	*out = json_pack("{s:b,s:b,s:s}", "left", 1, "restart_needed", 1, "message",
			 "restart gureumd to run on its own store again");
	return 0;
}

/* The pool this state folder joined (malloc'd URL), or NULL. */
char *gr__cluster_pool_url(const char *state_dir)
{
	_cleanup_free_ char *path = xasprintf("%s/pool.url", state_dir);
	char *text = NULL;
	size_t len = 0;
	if (gr_read_file(path, 4096, &text, &len, NULL) < 0)
		return NULL;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (!len) {
		free(text);
		return NULL;
	}
	return text;
}
