/*
 * qmp_cmds.c - typed wrappers over the blocking QMP client for the commands the driver
 * uses: query-status, stop, cont, system_reset, quit, system_powerdown (wait for the
 * SHUTDOWN event, then quit as a fallback), query-cpus-fast, query-memory-size-summary.
 * Replies are checked field by field; a reply of the wrong shape is EPROTO naming the
 * field, never a crash.
 */
#include "vm/vm.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CMD_MS 5000

int gr_qmp_query_status(struct gr_qmp_conn *c, char *status, size_t len, int *running, gr_error_t *err)
{
	json_t *ret = NULL;
	if (gr_qmp_exec(c, "query-status", NULL, CMD_MS, &ret, err) < 0)
		return -1;
	const char *st = json_string_value(json_object_get(ret, "status"));
	json_t *run = json_object_get(ret, "running");
	if (!st || !json_is_boolean(run)) {
		json_decref(ret);
		return gr_error_set(err, EPROTO, "QMP query-status: reply lacks %s", !st ? "\"status\"" : "\"running\"");
	}
	if (status)
		snprintf(status, len, "%s", st);
	if (running)
		*running = json_is_true(run);
	json_decref(ret);
	return 0;
}

static int simple(struct gr_qmp_conn *c, const char *cmd, gr_error_t *err)
{
	return gr_qmp_exec(c, cmd, NULL, CMD_MS, NULL, err);
}

int gr_qmp_stop(struct gr_qmp_conn *c, gr_error_t *err) { return simple(c, "stop", err); }
int gr_qmp_cont(struct gr_qmp_conn *c, gr_error_t *err) { return simple(c, "cont", err); }
int gr_qmp_system_reset(struct gr_qmp_conn *c, gr_error_t *err) { return simple(c, "system_reset", err); }

int gr_qmp_quit(struct gr_qmp_conn *c, gr_error_t *err)
{
	gr_error_t e = {0};
	/* QEMU may close the socket before or right after answering */
	if (gr_qmp_exec(c, "quit", NULL, CMD_MS, NULL, &e) < 0 && e.code != ECONNRESET) {
		if (err)
			*err = e;
		return -1;
	}
	return 0;
}

int gr_qmp_powerdown(struct gr_qmp_conn *c, int timeout_ms, int *graceful, gr_error_t *err)
{
	if (graceful)
		*graceful = 0;
	if (simple(c, "system_powerdown", err) < 0)
		return -1;
	json_t *data = NULL;
	gr_error_t e = {0};
	if (gr_qmp_wait_event(c, "SHUTDOWN", timeout_ms, &data, &e) == 0) {
		if (graceful)
			*graceful = json_is_true(json_object_get(data, "guest"));
		json_decref(data);
		return 0;
	}
	if (e.code != ETIMEDOUT && e.code != ECONNRESET) {
		if (err)
			*err = e;
		return -1;
	}
	if (e.code == ECONNRESET)
		return 0; /* QEMU is gone */
	return gr_qmp_quit(c, err);
}

int gr_qmp_query_cpus(struct gr_qmp_conn *c, int *count, pid_t *thread_ids, size_t max_ids, gr_error_t *err)
{
	json_t *ret = NULL;
	if (gr_qmp_exec(c, "query-cpus-fast", NULL, CMD_MS, &ret, err) < 0)
		return -1;
	if (!json_is_array(ret)) {
		json_decref(ret);
		return gr_error_set(err, EPROTO, "QMP query-cpus-fast: reply is not an array");
	}
	size_t i;
	json_t *cpu;
	json_array_foreach(ret, i, cpu) {
		json_t *tid = json_object_get(cpu, "thread-id");
		if (!json_is_integer(tid)) {
			json_decref(ret);
			return gr_error_set(err, EPROTO, "QMP query-cpus-fast: [%zu].thread-id is not an integer", i);
		}
		if (thread_ids && i < max_ids)
			thread_ids[i] = (pid_t)json_integer_value(tid);
	}
	*count = (int)json_array_size(ret);
	json_decref(ret);
	return 0;
}

int gr_qmp_query_memory(struct gr_qmp_conn *c, uint64_t *base, uint64_t *plugged, gr_error_t *err)
{
	json_t *ret = NULL;
	if (gr_qmp_exec(c, "query-memory-size-summary", NULL, CMD_MS, &ret, err) < 0)
		return -1;
	json_t *b = json_object_get(ret, "base-memory");
	if (!json_is_integer(b)) {
		json_decref(ret);
		return gr_error_set(err, EPROTO, "QMP query-memory-size-summary: \"base-memory\" is not an integer");
	}
	*base = (uint64_t)json_integer_value(b);
	if (plugged)
		*plugged = (uint64_t)json_integer_value(json_object_get(ret, "plugged-memory"));
	json_decref(ret);
	return 0;
}
