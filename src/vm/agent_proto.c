/*
 * agent_proto.c - frames and the EXEC payload of the guest agent protocol
 * (agent_proto.h).  libc only: compiled into gureumd (libgr_vm) and into the static
 * guest agent.  Every length read from the wire is checked against what is left
 * before it is used; a bad stream fails the decoder for good.
 */
#include "vm/agent_proto.h"

#include <stdlib.h>
#include <string.h>

const char *gr_vm_agent_type_name(unsigned type)
{
	static const char *const names[] = {
		"?", "HELLO", "READY", "EXEC", "STDIN", "RESIZE", "SIGNAL", "STDOUT", "STDERR", "EXIT", "ERROR", "CPUS", "PING", "PONG",
	};
	return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

void gr_vm_agent_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t gr_vm_agent_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void compact(struct gr_vm_agent_dec *d)
{
	if (d->off) {
		memmove(d->buf, d->buf + d->off, d->len - d->off);
		d->len -= d->off;
		d->off = 0;
	}
}

int gr_vm_agent_dec_feed(struct gr_vm_agent_dec *d, const void *p, size_t n)
{
	compact(d);
	if (d->len + n > 2 * (size_t)GR_VM_AGENT_FRAME_MAX + 16)
		return -1;
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		while (cap < d->len + n)
			cap *= 2;
		uint8_t *b = realloc(d->buf, cap);
		if (!b)
			return -1;
		d->buf = b;
		d->cap = cap;
	}
	if (n)
		memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

int gr_vm_agent_dec_next(struct gr_vm_agent_dec *d, unsigned *type, const uint8_t **payload, size_t *len,
			 const char **why)
{
	if (d->failed) {
		*why = "the stream failed earlier";
		return -1;
	}
	size_t have = d->len - d->off;
	if (have < 5)
		return 0;
	const uint8_t *h = d->buf + d->off;
	uint32_t n = gr_vm_agent_get_u32(h);
	if (n < 1 || n > GR_VM_AGENT_FRAME_MAX) {
		d->failed = 1;
		*why = n < 1 ? "frame length 0" : "frame length over 1 MiB";
		return -1;
	}
	unsigned t = h[4];
	if (t < GR_VMA_HELLO || t > GR_VMA_PONG) {
		d->failed = 1;
		*why = "unknown frame type";
		return -1;
	}
	if (have < 4 + (size_t)n)
		return 0;
	*type = t;
	*payload = h + 5;
	*len = n - 1;
	d->off += 4 + (size_t)n;
	return 1;
}

int gr_vm_agent_dec_sync(struct gr_vm_agent_dec *d, const void *pat, size_t patlen)
{
	compact(d);
	if (patlen && d->len >= patlen) {
		uint8_t *hit = memmem(d->buf, d->len, pat, patlen);
		if (hit) {
			d->off = (size_t)(hit - d->buf) + patlen;
			d->failed = 0;
			return 1;
		}
	}
	if (patlen && d->len > patlen - 1)
		d->off = d->len - (patlen - 1);
	compact(d);
	return 0;
}

void gr_vm_agent_dec_clear(struct gr_vm_agent_dec *d)
{
	free(d->buf);
	memset(d, 0, sizeof *d);
}

uint8_t *gr_vm_agent_frame(unsigned type, const void *payload, size_t len, size_t *out_len)
{
	if (len + 1 > GR_VM_AGENT_FRAME_MAX)
		return NULL;
	uint8_t *f = malloc(len + 5);
	if (!f)
		return NULL;
	gr_vm_agent_put_u32(f, (uint32_t)(len + 1));
	f[4] = (uint8_t)type;
	if (len)
		memcpy(f + 5, payload, len);
	*out_len = len + 5;
	return f;
}

/* ---- EXEC payload ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->p, cap);
		if (!b) {
			w->oom = 1;
			return;
		}
		w->p = b;
		w->cap = cap;
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	gr_vm_agent_put_u32(b, v);
	put(w, b, 4);
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	put_u32(w, (uint32_t)n);
	put(w, s ? s : "", n);
}

static size_t strv_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

uint8_t *gr_vm_agent_exec_encode(const struct gr_vm_agent_exec *x, size_t *len)
{
	struct wbuf w = {0};
	uint8_t hdr[5] = {(uint8_t)(x->tty ? 1 : 0), (uint8_t)(x->cols >> 8), (uint8_t)x->cols,
			  (uint8_t)(x->rows >> 8), (uint8_t)x->rows};
	put(&w, hdr, sizeof hdr);
	size_t ac = strv_len(x->argv), ec = strv_len(x->env);
	put_u32(&w, (uint32_t)ac);
	put_u32(&w, (uint32_t)ec);
	for (size_t i = 0; i < ac; i++)
		put_str(&w, x->argv[i]);
	for (size_t i = 0; i < ec; i++)
		put_str(&w, x->env[i]);
	put_str(&w, x->cwd ? x->cwd : "/");
	if (w.oom || w.len + 1 > GR_VM_AGENT_FRAME_MAX) {
		free(w.p);
		return NULL;
	}
	*len = w.len;
	return w.p;
}

struct rbuf {
	const uint8_t *p;
	size_t left;
};

static int get_u32(struct rbuf *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = gr_vm_agent_get_u32(r->p);
	r->p += 4;
	r->left -= 4;
	return 0;
}

/* -1 truncated, -2 NUL inside, -3 no memory */
static int get_str(struct rbuf *r, char **out)
{
	uint32_t n;
	if (get_u32(r, &n) < 0 || n > r->left)
		return -1;
	if (memchr(r->p, 0, n))
		return -2;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return -3;
	memcpy(s, r->p, n);
	s[n] = 0;
	r->p += n;
	r->left -= n;
	*out = s;
	return 0;
}

static const char *str_why(int rc, const char *what)
{
	static const char *const m[][3] = {
		{"EXEC: argv string truncated", "EXEC: NUL byte inside an argv string", "EXEC: out of memory"},
		{"EXEC: env string truncated", "EXEC: NUL byte inside an env string", "EXEC: out of memory"},
		{"EXEC: cwd truncated", "EXEC: NUL byte inside cwd", "EXEC: out of memory"},
	};
	int k = what[0] == 'a' ? 0 : what[0] == 'e' ? 1 : 2;
	return m[k][-rc - 1];
}

int gr_vm_agent_exec_decode(const uint8_t *p, size_t len, struct gr_vm_agent_exec *x, const char **why)
{
	memset(x, 0, sizeof *x);
	struct rbuf r = {p, len};
	uint32_t ac, ec;
	if (len < 5) {
		*why = "EXEC: shorter than its header";
		return -1;
	}
	x->tty = p[0] & 1;
	if (p[0] & ~1u) {
		*why = "EXEC: unknown flags";
		return -1;
	}
	x->cols = (unsigned)p[1] << 8 | p[2];
	x->rows = (unsigned)p[3] << 8 | p[4];
	r.p += 5;
	r.left -= 5;
	if (get_u32(&r, &ac) < 0 || get_u32(&r, &ec) < 0) {
		*why = "EXEC: argc/envc truncated";
		return -1;
	}
	if (ac == 0) {
		*why = "EXEC: empty argv";
		return -1;
	}
	/* each string takes at least 4 bytes: bounds the allocation by the input */
	if (ac > GR_VM_AGENT_ARGS_MAX || ec > GR_VM_AGENT_ARGS_MAX || ((size_t)ac + ec) * 4 > r.left) {
		*why = "EXEC: argc/envc larger than the frame";
		return -1;
	}
	x->argv = calloc((size_t)ac + 1, sizeof(char *));
	x->env = calloc((size_t)ec + 1, sizeof(char *));
	if (!x->argv || !x->env) {
		*why = "EXEC: out of memory";
		goto fail;
	}
	int rc;
	for (uint32_t i = 0; i < ac; i++)
		if ((rc = get_str(&r, &x->argv[i])) < 0) {
			*why = str_why(rc, "argv");
			goto fail;
		}
	for (uint32_t i = 0; i < ec; i++) {
		if ((rc = get_str(&r, &x->env[i])) < 0) {
			*why = str_why(rc, "env");
			goto fail;
		}
		if (!strchr(x->env[i], '=') || x->env[i][0] == '=') {
			*why = "EXEC: env entry is not KEY=VALUE";
			goto fail;
		}
	}
	if ((rc = get_str(&r, &x->cwd)) < 0) {
		*why = str_why(rc, "cwd");
		goto fail;
	}
	if (!x->argv[0][0]) {
		*why = "EXEC: empty program name";
		goto fail;
	}
	if (r.left) {
		*why = "EXEC: trailing bytes";
		goto fail;
	}
	if (!x->cwd[0]) {
		free(x->cwd);
		x->cwd = strdup("/");
		if (!x->cwd) {
			*why = "EXEC: out of memory";
			goto fail;
		}
	}
	return 0;
fail:
	gr_vm_agent_exec_clear(x);
	return -1;
}

void gr_vm_agent_exec_clear(struct gr_vm_agent_exec *x)
{
	for (size_t i = 0; x->argv && x->argv[i]; i++)
		free(x->argv[i]);
	for (size_t i = 0; x->env && x->env[i]; i++)
		free(x->env[i]);
	free(x->argv);
	free(x->env);
	free(x->cwd);
	memset(x, 0, sizeof *x);
}
