/*
 * runtime_config.c - libFuzzer target for the OCI config.json parser.
 * Feeds each input to gr_oci_config_parse() and gr_oci_process_parse(); on
 * success checks the invariants config.h promises (required fields set,
 * absolute paths, NULL-terminated vectors) and frees the result, so ASan
 * reports leaks and UBSan reports overflow on any path.  On failure the
 * error message must be non-empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/config.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_process(const struct gr_oci_process *p)
{
	CHECK(p->args && p->args[0] && p->args[0][0]);
	CHECK(p->cwd && p->cwd[0] == '/');
	for (size_t i = 0; p->env && p->env[i]; i++)
		CHECK(strchr(p->env[i], '=') && p->env[i][0] != '=');
	for (size_t i = 0; i < p->n_rlimits; i++)
		CHECK(p->rlimits[i].soft <= p->rlimits[i].hard);
	CHECK(!p->has_oom_score_adj || (p->oom_score_adj >= -1000 && p->oom_score_adj <= 1000));
}

static void check_config(const struct gr_oci_config *c)
{
	CHECK(c->oci_version && !strncmp(c->oci_version, "1.", 2));
	CHECK(c->root_path && c->root_path[0]);
	if (c->process)
		check_process(c->process);
	for (size_t i = 0; i < c->n_mounts; i++) {
		CHECK(c->mounts[i].destination[0] == '/');
		CHECK(c->mounts[i].type || c->mounts[i].source);
	}
	for (int k = 0; k < GR_HOOK_NKINDS; k++)
		for (size_t i = 0; i < c->n_hooks[k]; i++)
			CHECK(c->hooks[k][i].path[0] == '/' && c->hooks[k][i].timeout >= 0);
	for (size_t i = 0; i < c->n_namespaces; i++) {
		CHECK(gr_ns_name(c->namespaces[i].type) != NULL);
		CHECK(gr_oci_config_ns(c, c->namespaces[i].type) != NULL);
	}
	for (size_t i = 0; i < c->n_devices; i++)
		CHECK(strchr("cbup", c->devices[i].type) && c->devices[i].path[0] == '/');
	if (c->seccomp)
		for (size_t i = 0; i < c->seccomp->n_syscalls; i++) {
			CHECK(c->seccomp->syscalls[i].names[0]);
			for (size_t a = 0; a < c->seccomp->syscalls[i].n_args; a++)
				CHECK(c->seccomp->syscalls[i].args[a].index <= 5);
		}
	for (size_t i = 0; c->masked_paths && c->masked_paths[i]; i++)
		CHECK(c->masked_paths[i][0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gr_error_t err;
	struct gr_oci_config *cfg = NULL;
	if (gr_oci_config_parse((const char *)data, size, &cfg, &err) == 0) {
		check_config(cfg);
		gr_oci_config_free(cfg);
	} else {
		CHECK(cfg == NULL && err.msg[0] && err.code);
	}
	struct gr_oci_process *p = NULL;
	if (gr_oci_process_parse((const char *)data, size, &p, &err) == 0) {
		check_process(p);
		gr_oci_process_free(p);
	} else {
		CHECK(p == NULL && err.msg[0]);
	}
	return 0;
}
