/*
 * tokens.c - the API token store: a file of "<token> <role>" lines (roles
 * admin and viewer, '#' starts a comment).  Loaded once at start; read-only
 * afterwards, so lookups need no lock.  Tokens are compared in constant time.
 */
#include "api/api.h"

#include <errno.h>
#include <string.h>
#include "util/alloc.h"
#include "util/fs.h"

struct gr_tokens {
	size_t n;
	char **token, **role;
};

void gr_tokens_free(struct gr_tokens *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->token[i]);
		free(t->role[i]);
	}
	free(t->token);
	free(t->role);
	free(t);
}

int gr_tokens_load(const char *path, struct gr_tokens **out, gr_error_t *err)
{
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, 4 << 20, &text, NULL, err) < 0)
		return gr_error_prefix(err, "token file");
	struct gr_tokens *t = xcalloc(1, sizeof *t);
	int lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s2 = NULL;
		char *tok = strtok_r(line, " \t\r", &s2);
		if (!tok)
			continue;
		char *role = strtok_r(NULL, " \t\r", &s2);
		char *extra = strtok_r(NULL, " \t\r", &s2);
		if (!role || extra || (strcmp(role, "admin") && strcmp(role, "viewer"))) {
			gr_tokens_free(t);
			return gr_error_set(err, EINVAL,
					    "%s: line %d: expected '<token> admin|viewer'", path, lineno);
		}
		if (strlen(tok) < 16) {
			gr_tokens_free(t);
			return gr_error_set(err, EINVAL, "%s: line %d: token shorter than 16 characters",
					    path, lineno);
		}
		t->token = xrealloc(t->token, (t->n + 1) * sizeof *t->token);
		t->role = xrealloc(t->role, (t->n + 1) * sizeof *t->role);
		t->token[t->n] = xstrdup(tok);
		t->role[t->n] = xstrdup(role);
		t->n++;
	}
	*out = t;
	return 0;
}

static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

const char *gr_tokens_role(const struct gr_tokens *t, const char *token)
{
	if (!t || !token)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (same(token, t->token[i]))
			return t->role[i];
	return NULL;
}
