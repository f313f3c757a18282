/*
 * cmd_exec.c - `gureum-oci exec [OPTIONS] ID (--process FILE | CMD [ARGS...])`.
 * Without --process the process is the container's own (user, capabilities,
 * noNewPrivileges, rlimits, env) with args/cwd/env/tty/user overridden by flags,
 * as runc does.
 */
#include "commands.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_pid(const char *path, pid_t pid, gr_error_t *err)
{
	char v[24];
	snprintf(v, sizeof v, "%d", (int)pid);
	return gr_write_file_atomic(path, v, strlen(v), 0644, err);
}

int gr_cmd_exec(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "process", required_argument, NULL, 'p' }, { "tty", no_argument, NULL, 't' },
		{ "cwd", required_argument, NULL, 'w' }, { "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' }, { "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *process_file = NULL, *cwd = NULL, *user = NULL, *pid_file = NULL;
	bool tty = false, detach = false;
	char **envs = xcalloc((size_t)argc + 1, sizeof *envs);
	size_t n_env = 0;
	int c, rc = 1;
	while ((c = getopt_long(argc, argv, "+p:tw:e:u:dh", lo, NULL)) != -1) {
		switch (c) {
		case 'p': process_file = optarg; break;
		case 't': tty = true; break;
		case 'w': cwd = optarg; break;
		case 'e': envs[n_env++] = optarg; break;
		case 'u': user = optarg; break;
		case 'd': detach = true; break;
		case 'P': pid_file = optarg; break;
		case 'c': gr_cli.opts.console_socket = optarg; break;
		case 'h':
			printf("usage: gureum-oci exec [OPTIONS] ID (--process FILE | CMD [ARGS...])\n\n"
			       "Run a process in container ID's namespaces and cgroup.\n\n"
			       "  -p, --process FILE        the process as OCI JSON (config.json's process)\n"
			       "  -t, --tty                 give it a pty (needs --console-socket)\n"
			       "  -w, --cwd DIR             working folder in the container\n"
			       "  -e, --env K=V             add/replace an environment variable (repeatable)\n"
			       "  -u, --user UID[:GID]      run as this user\n"
			       "  -d, --detach              do not wait for it\n"
			       "      --pid-file FILE       write its pid here\n"
			       "      --console-socket SOCK receive the pty master\n");
			free(envs);
			return 0;
		default: free(envs); return gr_cli_usage("exec", "bad option");
		}
	}
	if (optind >= argc || (!process_file && optind + 1 >= argc)) {
		free(envs);
		return gr_cli_usage("exec", "expected ID and a command (or --process FILE)");
	}
	const char *id = argv[optind];
	gr_error_t err = { 0 };
	struct gr_oci_process *fromfile = NULL;
	struct gr_oci_config *cfg = NULL;
	struct gr_oci_process proc;
	char **merged = NULL;
	struct gr_rt_state st = { 0 };
	if (process_file) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (gr_read_file(process_file, 1 << 20, &text, &len, &err) < 0 ||
		    gr_oci_process_parse(text, len, &fromfile, &err) < 0) {
			gr_error_prefix(&err, "--process %s", process_file);
			goto out;
		}
		proc = *fromfile;
	} else {
		if (gr_rt_state(&gr_cli.opts, id, &st, &err) < 0 ||
		    gr_oci_config_load(st.bundle, &cfg, &err) < 0)
			goto out;
		if (!cfg->process) {
			gr_error_set(&err, EINVAL, "container '%s' has no process to copy", id);
			goto out;
		}
		proc = *cfg->process;
		proc.args = argv + optind + 1;
		proc.cwd = "/";
	}
	if (tty)
		proc.terminal = true;
	else if (!process_file)
		proc.terminal = false;
	if (cwd)
		proc.cwd = (char *)cwd;
	if (user) {
		char *end;
		proc.user.uid = (uid_t)strtoul(user, &end, 10);
		proc.user.gid = *end == ':' ? (gid_t)strtoul(end + 1, &end, 10) : proc.user.gid;
		if (*end) {
			rc = gr_cli_usage("exec", "--user: expected UID[:GID], got '%s'", user);
			goto done;
		}
	}
	if (n_env) {
		size_t base = gr_strv_len(proc.env);
		merged = xcalloc(base + n_env + 1, sizeof *merged);
		size_t m = 0;
		for (size_t i = 0; i < base; i++) {
			size_t klen = strcspn(proc.env[i], "=");
			bool overridden = false;
			for (size_t k = 0; k < n_env; k++)
				if (!strncmp(envs[k], proc.env[i], klen) && envs[k][klen] == '=')
					overridden = true;
			if (!overridden)
				merged[m++] = proc.env[i];
		}
		for (size_t k = 0; k < n_env; k++) {
			if (!strchr(envs[k], '=')) {
				rc = gr_cli_usage("exec", "--env: expected K=V, got '%s'", envs[k]);
				goto done;
			}
			merged[m++] = envs[k];
		}
		proc.env = merged;
	}
	pid_t pid = 0;
	int status = 0;
	if (gr_rt_exec(&gr_cli.opts, id, &proc, detach, &pid, &status, &err) < 0)
		goto out;
	if (detach && pid_file && write_pid(pid_file, pid, &err) < 0)
		goto out;
	rc = detach ? 0 : status;
	goto done;
out:
	rc = gr_cli_fail(&err);
done:
	free(merged);
	free(envs);
	gr_rt_state_clear(&st);
	gr_oci_config_free(cfg);
	if (fromfile)
		gr_oci_process_free(fromfile);
	return rc;
}
