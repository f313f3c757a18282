/*
 * netfwdrec.c - the port forward records (under each network's key, see
 * netforward.c for the model) and what this host builds of them: the DNAT
 * rules of the NAT table (gr__fwd_rules, read by network.c's sync), and
 * their removal with their instance, their network, or by the start-up
 * sweep when their instance has no record.  Below network.c: it never
 * rebuilds the table itself (its callers do).
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/log.h"

#define KEY_NETWORKS "/gureum/networks/"

const char *gr__fwd_proto(const char *s)
{
	return !s ? NULL : !strcmp(s, "tcp") ? "tcp" : !strcmp(s, "udp") ? "udp" : NULL;
}

int gr__fwd_read(struct gr_control *c, const char *net, struct fwd_rec **out, size_t *n,
			 gr_error_t *err)
{
	_cleanup_free_ char *prefix = net ? xasprintf(KEY_NETWORKS "%s/forwards/", net) : xstrdup(KEY_NETWORKS);
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, prefix, 0, &l, err) < 0)
		return -1;
	struct fwd_rec *r = xcalloc(l.n + 1, sizeof *r);
	size_t k = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (!strstr(l.kvs[i].key + strlen(KEY_NETWORKS), "/forwards/"))
			continue;
		json_t *doc = json_loadb(l.kvs[i].value, l.kvs[i].value_len, 0, NULL);
		if (!json_is_object(doc) || !gr__fwd_proto(json_string_value(json_object_get(doc, "proto"))) ||
		    !json_is_integer(json_object_get(doc, "hostport")) ||
		    !json_is_integer(json_object_get(doc, "port")) ||
		    !json_string_value(json_object_get(doc, "instance")) ||
		    !json_string_value(json_object_get(doc, "network"))) {
			gr_log_warn("forward record %s: not readable, ignored", l.kvs[i].key);
			json_decref(doc);
			continue;
		}
		r[k].key = xstrdup(l.kvs[i].key);
		r[k].doc = doc;
		r[k].mod_revision = l.kvs[i].mod_revision;
		k++;
	}
	gr_kv_list_clear(&l);
	*out = r;
	*n = k;
	return 0;
}

void gr__fwd_free(struct fwd_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		json_decref(r[i].doc);
	}
	free(r);
}

/* The address of inst on net when inst runs (or may run) here: 1 and *ip,
 * 0 when it has none here. */
static int address_here(struct gr_control *c, const char *inst, const char *net, uint32_t *ip)
{
	struct gr_instance in;
	if (gr__inst_get(c, inst, &in, NULL) < 0)
		return 0;
	int r = 0;
	if (!in.host[0] || !strcmp(in.host, c->hostname))
		for (unsigned i = 0; i < in.n_nics && !r; i++)
			if (!strcmp(in.nics[i].network, net) && in.nics[i].ip) {
				*ip = in.nics[i].ip;
				r = 1;
			}
	gr__inst_clear(&in);
	return r;
}

int gr__fwd_rules(struct gr_control *c, struct gr_net_fwd **out, size_t *n, gr_error_t *err)
{
	struct fwd_rec *r;
	size_t nr;
	if (gr__fwd_read(c, NULL, &r, &nr, err) < 0)
		return -1;
	struct gr_net_fwd *f = xcalloc(nr + 1, sizeof *f);
	size_t k = 0;
	for (size_t i = 0; i < nr; i++) {
		const json_t *d = r[i].doc;
		uint32_t ip;
		if (address_here(c, json_string_value(json_object_get(d, "instance")),
				 json_string_value(json_object_get(d, "network")), &ip) != 1)
			continue;
		f[k++] = (struct gr_net_fwd){ gr__fwd_proto(json_string_value(json_object_get(d, "proto"))),
					      (unsigned)json_integer_value(json_object_get(d, "hostport")), ip,
					      (unsigned)json_integer_value(json_object_get(d, "port")) };
	}
	gr__fwd_free(r, nr);
	*out = f;
	*n = k;
	return 0;
}

/* Delete the forward records (of net, or all) gone() picks; how many. */
static int forget(struct gr_control *c, const char *net, bool (*gone)(const json_t *doc, void *ud), void *ud)
{
	struct fwd_rec *r;
	size_t nr;
	gr_error_t e;
	if (gr__fwd_read(c, net, &r, &nr, &e) < 0) {
		gr_log_warn("forwards: %s", e.msg);
		return 0;
	}
	int n = 0;
	for (size_t i = 0; i < nr; i++) {
		if (!gone(r[i].doc, ud))
			continue;
		if (gr_store_delete_if(c->store, r[i].key, r[i].mod_revision, NULL, &e) < 0)
			gr_log_warn("forwards: removing %s: %s", r[i].key, e.msg);
		else {
			gr_log_info("forwards: removed %s", r[i].key);
			n++;
		}
	}
	gr__fwd_free(r, nr);
	return n;
}

static bool names_inst(const json_t *doc, void *ud)
{
	return !strcmp(json_string_value(json_object_get(doc, "instance")), ud);
}

static bool every(const json_t *doc, void *ud)
{
	return true;
}

static bool inst_unknown(const json_t *doc, void *ud)
{
	return !gr__index_known(json_string_value(json_object_get(doc, "instance")), ud);
}

int gr__fwd_forget_instance(struct gr_control *c, const struct gr_instance *in)
{
	int n = 0;
	for (unsigned i = 0; i < in->n_nics; i++)
		n += forget(c, in->nics[i].network, names_inst, (void *)in->name);
	return n;
}

int gr__fwd_forget_network(struct gr_control *c, const char *net)
{
	return forget(c, net, every, NULL);
}

int gr__fwd_sweep(struct gr_control *c)
{
	return forget(c, NULL, inst_unknown, c);
}
