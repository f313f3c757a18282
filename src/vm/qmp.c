/*
 * qmp.c - the QMP protocol core, without I/O (sans-IO): bytes in through gr_qmp_feed(),
 * bytes out through gr_qmp_output(); replies and events come back through callbacks.
 *
 * QEMU sends one JSON object per line ("\r\n"): first the greeting {"QMP": {...}}, then
 * replies {"return": X, "id": N} / {"error": {"class", "desc"}, "id": N} and events
 * {"event": NAME, "data": {...}, "timestamp": {...}}.  We send {"execute", "arguments",
 * "id"} lines.  The greeting triggers qmp_capabilities, which always goes out first;
 * commands queued earlier wait behind it.  Invariants: ids are unique and increasing;
 * each command's callback runs exactly once (reply, error, fail or free); after a
 * protocol error the session is dead and every later call fails with EPROTO.
 */
#include "vm/vm.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define QMP_MAX_LINE (16u << 20)

struct pending {
	uint64_t id;
	char *cmd;
	gr_qmp_reply_fn cb;
	void *ud;
	struct pending *next;
};

struct gr_qmp {
	gr_qmp_event_fn on_event;
	void *ud;
	char *in;             /* partial line */
	size_t in_len, in_cap;
	char *out;            /* bytes to write */
	size_t out_len, out_cap, out_off;
	char *held;           /* commands serialized before the greeting */
	size_t held_len;
	struct pending *head, *tail;
	uint64_t next_id;
	int greeted, ready, dead;
	gr_error_t dead_err;
	char version[32];
};

static void buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < *len + n + 1)
			c *= 2;
		*buf = xrealloc(*buf, c);
		*cap = c;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = 0;
}

struct gr_qmp *gr_qmp_new(gr_qmp_event_fn on_event, void *ud)
{
	struct gr_qmp *q = xcalloc(1, sizeof(*q));
	q->on_event = on_event;
	q->ud = ud;
	q->next_id = 1;
	return q;
}

static void fail_pending(struct gr_qmp *q, const gr_error_t *e)
{
	while (q->head) {
		struct pending *p = q->head;
		q->head = p->next;
		if (!q->head)
			q->tail = NULL;
		if (p->cb)
			p->cb(q, NULL, e, p->ud);
		free(p->cmd);
		free(p);
	}
}

void gr_qmp_free(struct gr_qmp *q)
{
	if (!q)
		return;
	gr_error_t e = {0};
	gr_error_set(&e, ECANCELED, "QMP session closed before the reply");
	fail_pending(q, &e);
	free(q->in);
	free(q->out);
	free(q->held);
	free(q);
}

void gr_qmp_fail(struct gr_qmp *q, const gr_error_t *err)
{
	if (!q->dead) {
		q->dead = 1;
		q->dead_err = *err;
	}
	fail_pending(q, err);
}

static int protocol_error(struct gr_qmp *q, gr_error_t *err, const char *fmt, const char *detail)
{
	gr_error_t e = {0};
	gr_error_set(&e, EPROTO, fmt, detail);
	gr_qmp_fail(q, &e);
	if (err)
		*err = e;
	return -1;
}

static void queue_line(struct gr_qmp *q, json_t *msg, int held)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	if (held) {
		size_t cap = q->held_len + 1;
		buf_append(&q->held, &q->held_len, &cap, text, strlen(text));
		buf_append(&q->held, &q->held_len, &cap, "\n", 1);
	} else {
		buf_append(&q->out, &q->out_len, &q->out_cap, text, strlen(text));
		buf_append(&q->out, &q->out_len, &q->out_cap, "\n", 1);
	}
	free(text);
}

static struct pending *add_pending(struct gr_qmp *q, const char *cmd, gr_qmp_reply_fn cb, void *ud)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	p->id = q->next_id++;
	p->cmd = xstrdup(cmd);
	p->cb = cb;
	p->ud = ud;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	return p;
}

static void caps_reply(struct gr_qmp *q, json_t *ret, const gr_error_t *qerr, void *ud)
{
	(void)ret;
	(void)ud;
	if (!qerr)
		q->ready = 1;
}

int gr_qmp_send(struct gr_qmp *q, const char *cmd, json_t *args, gr_qmp_reply_fn cb, void *ud, uint64_t *id,
		gr_error_t *err)
{
	if (q->dead) {
		json_decref(args);
		if (err)
			*err = q->dead_err;
		return -1;
	}
	if (!cmd || !*cmd) {
		json_decref(args);
		return gr_error_set(err, EINVAL, "QMP command name is empty");
	}
	if (args && !json_is_object(args)) {
		json_decref(args);
		return gr_error_set(err, EINVAL, "QMP %s: arguments must be a JSON object", cmd);
	}
	struct pending *p = add_pending(q, cmd, cb, ud);
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)p->id);
	if (args)
		json_object_set_new(msg, "arguments", args);
	queue_line(q, msg, !q->greeted);
	json_decref(msg);
	if (id)
		*id = p->id;
	return 0;
}

static int qmp_errno(const char *cls)
{
	if (!cls)
		return EIO;
	if (!strcmp(cls, "CommandNotFound"))
		return ENOTSUP;
	if (!strcmp(cls, "DeviceNotFound"))
		return ENOENT;
	if (!strcmp(cls, "DeviceNotActive"))
		return ENODEV;
	return EIO;
}

static int handle_greeting(struct gr_qmp *q, json_t *g, gr_error_t *err)
{
	if (q->greeted)
		return protocol_error(q, err, "QMP: unexpected second greeting%s", "");
	json_t *v = json_object_get(json_object_get(g, "version"), "qemu");
	if (json_is_object(v)) {
		json_int_t ma = json_integer_value(json_object_get(v, "major"));
		json_int_t mi = json_integer_value(json_object_get(v, "minor"));
		json_int_t mc = json_integer_value(json_object_get(v, "micro"));
		snprintf(q->version, sizeof q->version, "%lld.%lld.%lld", (long long)ma, (long long)mi,
			 (long long)mc);
	} else {
		snprintf(q->version, sizeof q->version, "unknown");
	}
	q->greeted = 1;
	/* qmp_capabilities must be the first command: put it before the held ones. */
	struct pending *p = xcalloc(1, sizeof(*p));
	p->id = 0;
	p->cmd = xstrdup("qmp_capabilities");
	p->cb = caps_reply;
	p->next = q->head;
	q->head = p;
	if (!q->tail)
		q->tail = p;
	json_t *msg = json_pack("{s:s, s:I}", "execute", "qmp_capabilities", "id", (json_int_t)0);
	queue_line(q, msg, 0);
	json_decref(msg);
	if (q->held_len)
		buf_append(&q->out, &q->out_len, &q->out_cap, q->held, q->held_len);
	free(q->held);
	q->held = NULL;
	q->held_len = 0;
	return 0;
}

static int handle_reply(struct gr_qmp *q, json_t *msg, gr_error_t *err)
{
	json_t *jid = json_object_get(msg, "id");
	if (!json_is_integer(jid) || json_integer_value(jid) < 0)
		return protocol_error(q, err, "QMP: reply without a valid \"id\"%s", "");
	uint64_t id = (uint64_t)json_integer_value(jid);
	json_t *r0 = json_object_get(msg, "return"), *e0 = json_object_get(msg, "error");
	if (!((r0 && !e0) || (e0 && !r0 && json_is_object(e0))))
		return protocol_error(q, err, "QMP: reply needs exactly one of \"return\" or \"error\" (object)%s", "");
	struct pending *prev = NULL, *p = q->head;
	while (p && p->id != id) {
		prev = p;
		p = p->next;
	}
	if (!p) {
		char d[32];
		snprintf(d, sizeof d, "%llu", (unsigned long long)id);
		return protocol_error(q, err, "QMP: reply for unknown id %s", d);
	}
	if (prev)
		prev->next = p->next;
	else
		q->head = p->next;
	if (q->tail == p)
		q->tail = prev;
	json_t *ret = json_object_get(msg, "return");
	json_t *e = json_object_get(msg, "error");
	int rc = 0;
	if (ret && !e) {
		if (p->cb)
			p->cb(q, ret, NULL, p->ud);
	} else {
		const char *cls = json_string_value(json_object_get(e, "class"));
		const char *desc = json_string_value(json_object_get(e, "desc"));
		gr_error_t qe = {0};
		gr_error_set(&qe, qmp_errno(cls), "QMP %s: %s (%s)", p->cmd, desc ? desc : "error without desc",
			     cls ? cls : "no class");
		if (p->cb)
			p->cb(q, NULL, &qe, p->ud);
	}
	free(p->cmd);
	free(p);
	return rc;
}

static int handle_line(struct gr_qmp *q, const char *line, size_t len, gr_error_t *err)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	size_t skip = 0;
	while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
		skip++;
	if (skip == len)
		return 0;
	json_error_t je;
	json_t *msg = json_loadb(line + skip, len - skip, JSON_REJECT_DUPLICATES, &je);
	if (!msg)
		return protocol_error(q, err, "QMP: malformed JSON: %s", je.text);
	int rc;
	if (!json_is_object(msg)) {
		rc = protocol_error(q, err, "QMP: message is not a JSON object%s", "");
	} else if (json_object_get(msg, "QMP")) {
		json_t *g = json_object_get(msg, "QMP");
		rc = json_is_object(g) ? handle_greeting(q, g, err)
				       : protocol_error(q, err, "QMP: greeting is not an object%s", "");
	} else if (json_object_get(msg, "event")) {
		json_t *ev = json_object_get(msg, "event");
		json_t *data = json_object_get(msg, "data");
		if (!json_is_string(ev))
			rc = protocol_error(q, err, "QMP: \"event\" is not a string%s", "");
		else if (data && !json_is_object(data))
			rc = protocol_error(q, err, "QMP: event \"data\" is not an object%s", "");
		else {
			if (q->on_event)
				q->on_event(q, json_string_value(ev), data, q->ud);
			rc = 0;
		}
	} else if (!q->greeted) {
		rc = protocol_error(q, err, "QMP: message before the greeting%s", "");
	} else {
		rc = handle_reply(q, msg, err);
	}
	json_decref(msg);
	return rc;
}

int gr_qmp_feed(struct gr_qmp *q, const void *buf, size_t len, gr_error_t *err)
{
	if (q->dead) {
		if (err)
			*err = q->dead_err;
		return -1;
	}
	const char *p = buf;
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;
		if (q->in_len + n > QMP_MAX_LINE)
			return protocol_error(q, err, "QMP: message longer than 16 MiB%s", "");
		if (memchr(p, 0, n))
			return protocol_error(q, err, "QMP: NUL byte in a message%s", "");
		buf_append(&q->in, &q->in_len, &q->in_cap, p, n);
		if (!nl)
			break;
		size_t ll = q->in_len;
		q->in_len = 0;
		if (handle_line(q, q->in, ll, err) < 0)
			return -1;
		p = nl + 1;
		len -= n + 1;
	}
	return 0;
}

const char *gr_qmp_output(struct gr_qmp *q, size_t *len)
{
	*len = q->out_len - q->out_off;
	return q->out ? q->out + q->out_off : "";
}

void gr_qmp_output_consume(struct gr_qmp *q, size_t n)
{
	if (n > q->out_len - q->out_off)
		n = q->out_len - q->out_off;
	q->out_off += n;
	if (q->out_off == q->out_len)
		q->out_off = q->out_len = 0;
}

int gr_qmp_ready(const struct gr_qmp *q)
{
	return q->ready && !q->dead;
}

size_t gr_qmp_pending(const struct gr_qmp *q)
{
	size_t n = 0;
	for (struct pending *p = q->head; p; p = p->next)
		n++;
	return n;
}

const char *gr_qmp_version(const struct gr_qmp *q)
{
	return q->greeted ? q->version : NULL;
}
