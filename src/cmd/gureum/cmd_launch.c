/*
 * cmd_launch.c - `gureum launch` and `gureum create`: define an instance from
 * an image (launch also starts it).  Flags become the POST /v1/instances body.
 */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

#define LAUNCH_OPTIONS \
	"\n" \
	"  --cpu N              CPUs (fractions allowed, e.g. 0.5; default no limit)\n" \
	"  --memory SIZE        memory limit, e.g. 256M, 2G (default no limit)\n" \
	"  --pids N             process limit\n" \
	"  --env K=V            environment variable (repeatable)\n" \
	"  --ephemeral          throw the instance's writes away when it stops\n" \
	"  --restart POLICY     always | on-failure | no (default no)\n" \
	"  --privileged         containers: no user namespace, container root is host root\n" \
	"                       (default: unprivileged, the instance's own host ID range)\n" \
	"  --class CLASS        critical (strong isolation: a VM by default) or\n" \
	"                       elastic (speed, density, live resizing: a container by default);\n" \
	"                       default elastic, or critical with --vm\n" \
	"  --vm                 a QEMU virtual machine, whatever the class\n" \
	"  --container          a container, whatever the class\n" \
	"  --max-cpu N          VMs: vCPUs a live resize may reach (default twice --cpu, >= 2)\n" \
	"  --max-memory SIZE    VMs: memory a live resize may reach (default twice --memory)\n" \
	"  --network NET        a NIC on network NET (repeatable; see 'gureum network --help');\n" \
	"                       without it an instance joins the default network gr0 when that\n" \
	"                       exists; '--network none': no NIC\n" \
	"  --ip ADDR            the address of the NIC of the --network before it (default the\n" \
	"                       lowest free address of the subnet)\n" \
	"  --target HOST        in a pool: define (and start) it on HOST, which must be online\n" \
	"                       and have the image (default: the pool's placement.policy)\n" \
	"  --queue              when no host has room now (every host refused: full or\n" \
	"                       down), record it 'pending' instead of failing; the pool's\n" \
	"                       leader places it once a host has room ('gureum show NAME'\n" \
	"                       says why it waits; 'gureum delete NAME' cancels). Not with\n" \
	"                       --target\n" \
	"  --format FMT         table (default: prints NAME STATE), json (the instance's API\n" \
	"                       document) or yaml\n" \
	"  -- CMD...            main process (default: an idle shell)\n" \
	"launch creates and starts; create only defines it ('gureum start NAME' later).\n"

static const char *usage_launch =
	"usage: gureum launch IMAGE NAME [OPTIONS] [-- CMD [ARG...]]\n" LAUNCH_OPTIONS;
static const char *usage_create =
	"usage: gureum create IMAGE NAME [OPTIONS] [-- CMD [ARG...]]\n" LAUNCH_OPTIONS;

static int run(int argc, char **argv, bool start)
{
	const char *usage = start ? usage_launch : usage_create;
	if (gr_cli_wants_help(argc, argv, usage))
		return 0;
	static const struct option opts[] = {
		{ "cpu", required_argument, 0, 'c' }, { "memory", required_argument, 0, 'm' },
		{ "pids", required_argument, 0, 'p' }, { "env", required_argument, 0, 'e' },
		{ "ephemeral", no_argument, 0, 'E' }, { "restart", required_argument, 0, 'r' },
		{ "vm", no_argument, 0, 'V' }, { "container", no_argument, 0, 'C' },
		{ "class", required_argument, 0, 'k' }, { "format", required_argument, 0, 'f' },
		{ "max-cpu", required_argument, 0, 'X' }, { "max-memory", required_argument, 0, 'Y' },
		{ "privileged", no_argument, 0, 'P' }, { "target", required_argument, 0, 't' },
		{ "queue", no_argument, 0, 'Q' },
		{ "network", required_argument, 0, 'n' }, { "ip", required_argument, 0, 'i' },
		{ 0, 0, 0, 0 }
	};
	json_t *body = json_object();
	json_t *env = json_array();
	char *name = NULL;
	int ch, rc = 2;
	enum gr_cli_fmt fmt = GR_FMT_TABLE;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:", opts, NULL)) != -1 || optind < argc) {
		if (ch == -1) { /* a positional argument: collect it, continue */
			if (!strcmp(argv[optind - 1], "--"))
				break;
			json_t *pos = json_object_get(body, "_pos");
			if (!pos) {
				pos = json_array();
				json_object_set_new(body, "_pos", pos);
			}
			json_array_append_new(pos, json_string(argv[optind++]));
			continue;
		}
		char *end;
		switch (ch) {
		case 'c': {
			double v = strtod(optarg, &end);
			if (*end || v < 0) {
				rc = gr_cli_usage(usage, "--cpu: '%s' is not a number of CPUs", optarg);
				goto out;
			}
			json_object_set_new(body, "cpu", json_real(v));
			break;
		}
		case 'm':
			json_object_set_new(body, "memory", json_string(optarg));
			break;
		case 'p': {
			long long v = strtoll(optarg, &end, 10);
			if (*end || v < 0) {
				rc = gr_cli_usage(usage, "--pids: '%s' is not a count", optarg);
				goto out;
			}
			json_object_set_new(body, "pids", json_integer(v));
			break;
		}
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				rc = gr_cli_usage(usage, "--env: '%s' is not KEY=VALUE", optarg);
				goto out;
			}
			json_array_append_new(env, json_string(optarg));
			break;
		case 'E':
			json_object_set_new(body, "ephemeral", json_true());
			break;
		case 'r':
			json_object_set_new(body, "restart", json_string(optarg));
			break;
		case 'P':
			json_object_set_new(body, "privileged", json_true());
			break;
		case 'V':
		case 'C': {
			const char *t = ch == 'V' ? "vm" : "container";
			const char *prev = json_string_value(json_object_get(body, "type"));
			if (prev && strcmp(prev, t)) {
				rc = gr_cli_usage(usage, "--vm and --container exclude each other");
				goto out;
			}
			json_object_set_new(body, "type", json_string(t));
			break;
		}
		case 'k':
			if (strcmp(optarg, "critical") && strcmp(optarg, "elastic")) {
				rc = gr_cli_usage(usage, "--class: '%s' is not critical or elastic",
						  optarg);
				goto out;
			}
			json_object_set_new(body, "class", json_string(optarg));
			break;
		case 'X':
		case 'Y': {
			json_t *o = json_object_get(body, "options");
			if (!o) {
				o = json_object();
				json_object_set_new(body, "options", o);
			}
			if (ch == 'Y') {
				json_object_set_new(o, "max_memory", json_string(optarg));
				break;
			}
			long long v = strtoll(optarg, &end, 10);
			if (*end || v < 1) {
				rc = gr_cli_usage(usage, "--max-cpu: '%s' is not a number of vCPUs", optarg);
				goto out;
			}
			json_object_set_new(o, "max_cpu", json_integer(v));
			break;
		}
		case 't':
			json_object_set_new(body, "target", json_string(optarg));
			break;
		case 'Q':
			json_object_set_new(body, "queue", json_true());
			break;
		case 'n': {
			json_t *nics = json_object_get(body, "nics");
			if (!nics) {
				nics = json_array();
				json_object_set_new(body, "nics", nics);
			}
			if (strcmp(optarg, "none")) /* "none": an empty list, no default network */
				json_array_append_new(nics, json_pack("{s:s}", "network", optarg));
			break;
		}
		case 'i': {
			json_t *nics = json_object_get(body, "nics");
			if (!json_array_size(nics)) {
				rc = gr_cli_usage(usage, "--ip: needs a --network before it");
				goto out;
			}
			json_object_set_new(json_array_get(nics, json_array_size(nics) - 1), "ip",
					    json_string(optarg));
			break;
		}
		case 'f':
			if (gr_cli_parse_format(optarg, &fmt) < 0) {
				rc = gr_cli_usage(usage, "--format: '%s' is not table, json or yaml",
						  optarg);
				goto out;
			}
			break;
		case ':':
			rc = gr_cli_usage(usage, "%s needs a value", argv[optind - 1]);
			goto out;
		default:
			rc = gr_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	json_t *pos = json_object_get(body, "_pos");
	if (json_array_size(pos) != 2) {
		rc = gr_cli_usage(usage, "expected IMAGE and NAME");
		goto out;
	}
	const char *image = json_string_value(json_array_get(pos, 0));
	name = xstrdup(json_string_value(json_array_get(pos, 1)));
	json_object_set_new(body, "image", json_string(image));
	json_object_set_new(body, "name", json_string(name));
	json_object_del(body, "_pos");
	if (json_array_size(env))
		json_object_set(body, "env", env);
	if (optind < argc) {
		json_t *cmd = json_array();
		for (int i = optind; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
		json_object_set_new(body, "cmd", cmd);
	}
	json_object_set_new(body, "start", json_boolean(start));
	json_t *resp = NULL;
	long status = 0;
	gr_error_t err;
	if (gr_client_request(&gr_cli, "POST", "/v1/instances", body, &status, &resp, &err) < 0) {
		rc = gr_cli_fail("%s", err.msg);
		goto out;
	}
	if (status >= 200 && status <= 299) {
		rc = 0;
		if (fmt == GR_FMT_TABLE)
			printf("%s %s\n", json_string_value(json_object_get(resp, "name")),
			       json_string_value(json_object_get(resp, "state")));
		else
			gr_cli_print(resp, fmt);
	} else {
		rc = gr_cli_fail("%s", gr_client_error_message(resp, status));
		/* a launch whose start failed keeps the instance (at rest): say what to do */
		json_t *kept = json_object_get(json_object_get(resp, "error"), "instance");
		if (json_is_object(kept))
			fprintf(stderr,
				"gureum: instance '%s' exists and is stopped (%s); fix the cause and "
				"'gureum start %s', or remove it with 'gureum delete %s'\n",
				name, json_string_value(json_object_get(kept, "state")), name, name);
	}
	json_decref(resp);
out:
	free(name);
	json_decref(env);
	json_decref(body);
	return rc;
}

int gr_cmd_launch(int argc, char **argv)
{
	return run(argc, argv, true);
}

int gr_cmd_create(int argc, char **argv)
{
	return run(argc, argv, false);
}
