/*
 * store_etcd_reply.c - libFuzzer target for the etcd back-end's reply parsers
 * (src/store/etcd_json.c): arbitrary bytes as a reply of "etcd" to every call
 * (range, txn, watch line, lease grant / timetolive / keepalive line, auth,
 * error body) and to the base64 decoder.  Nothing may crash or leak; a parser
 * that fails must leave its outputs empty, one that succeeds must hand out
 * what the interface promises (NUL-free keys, NUL-terminated values, sorted
 * range keys, watch events in revision order).
 * Input layout: byte 0 picks the parser (all of them when >= 8), the rest is
 * the reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/etcd-internal.h"

static void check_kv(const struct gr_kv *kv, bool with_value)
{
	if (!kv->key || !kv->key[0])
		abort();
	if (with_value && (!kv->value || kv->value[kv->value_len] != '\0'))
		abort();
	if (kv->create_revision < 0 || kv->mod_revision < 0 || kv->version < 0 || kv->lease < 0)
		abort();
}

static void run(int which, const char *p, size_t n)
{
	gr_error_t err = {0};
	switch (which) {
	case 0: case 1: {
		struct gr_kv_list l;
		if (gr__etcd_parse_range(p, n, which == 1, &l, &err) == 0) {
			for (size_t i = 0; i < l.n; i++) {
				check_kv(&l.kvs[i], which == 0);
				if (i && strcmp(l.kvs[i - 1].key, l.kvs[i].key) >= 0)
					abort();
			}
		} else if (l.n || l.kvs || err.code == 0) {
			abort();
		}
		gr_kv_list_clear(&l);
		break;
	}
	case 2: {
		struct gr_store_txn_result res;
		if (gr__etcd_parse_txn(p, n, &res, &err) == 0 ? res.deleted < 0 : err.code == 0)
			abort();
		break;
	}
	case 3: {
		struct gr__etcd_watch_msg m;
		if (gr__etcd_parse_watch(p, n, &m, &err) == 0) {
			for (size_t i = 0; i < m.n; i++) {
				check_kv(&m.events[i].kv, true);
				if (i && m.events[i].kv.mod_revision < m.events[i - 1].kv.mod_revision)
					abort();
			}
		} else if (m.n || m.events) {
			abort();
		}
		gr__etcd_watch_msg_clear(&m);
		break;
	}
	case 4: {
		int64_t id, ttl;
		if (gr__etcd_parse_grant(p, n, &id, &ttl, &err) == 0 && (id <= 0 || ttl <= 0))
			abort();
		break;
	}
	case 5: case 6: {
		int64_t ttl, granted;
		gr__etcd_parse_lease(p, n, which == 6, &ttl, &granted, &err);
		break;
	}
	case 7: {
		char *token = NULL, msg[256];
		int code;
		if (gr__etcd_parse_auth(p, n, &token, &err) == 0 && (!token || strpbrk(token, "\r\n")))
			abort();
		free(token);
		gr__etcd_parse_error(p, n, &code, msg, sizeof msg);
		int64_t rev;
		gr__etcd_parse_header(p, n, &rev, &err);
		char *dec = NULL;
		size_t len;
		if (gr__etcd_unb64(p, n, &dec, &len) == 0) {
			char *again = gr__etcd_b64(dec, len), *back = NULL;
			size_t blen;
			if (gr__etcd_unb64(again, strlen(again), &back, &blen) != 0 || blen != len ||
			    memcmp(back, dec, len))
				abort();
			free(again);
			free(back);
			free(dec);
		}
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	if (data[0] < 8) {
		run(data[0], p, n);
	} else {
		for (int i = 0; i < 8; i++)
			run(i, p, n);
	}
	return 0;
}
