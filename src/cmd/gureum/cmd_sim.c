/*
 * cmd_sim.c - `gureum sim`: replay PlanetLab CPU traces against consolidation
 * policies and print energy, SLA metrics and migrations per policy
 * (docs/SCHEDULER.md "Simulator").  All the work is in src/sched/sim*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "sched/sim.h"
#include "util/alloc.h"

#define DEFAULT_POLICIES "npa,dvfs,thr-mmt-0.8,iqr-mmt-1.5,mad-mmt-2.5,lr-mmt-1.2,lrr-mmt-1.2,peak"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gureum sim --trace DIR [--trace DIR...] [OPTIONS]\n"
		"\n"
		"Replay CPU traces (PlanetLab format: one VM per file, one CPU %% per line,\n"
		"5-minute steps) on a simulated data centre and compare consolidation policies.\n"
		"Three published days are in the source tree: data/planetlab/2011030{3,6,9}.tar.xz.\n"
		"\n"
		"options:\n"
		"  --trace DIR[,DIR...]   trace folder(s) or tar archive(s) of one folder (read in\n"
		"                         place, e.g. data/planetlab/20110303.tar.xz); repeatable\n"
		"  --policy P[,P...]      policies; repeatable (default: " DEFAULT_POLICIES ")\n"
		"                         npa, dvfs, <detector>-<selector>[-<param>] with detector\n"
		"                         thr|iqr|mad|lr|lrr and selector mmt|rs|mc|mu (e.g. thr-mmt-0.8,\n"
		"                         iqr-mc-1.5), or peak[-<target load>] (ours, see docs/SCHEDULER.md)\n"
		"  --format FMT           table (default), csv or json\n"
		"  --plot FILE.svg        draw active hosts and energy over the day per policy\n"
		"  --hosts N              number of hosts (default 800, G4/G5 alternating)\n"
		"  --samples N            samples per trace file (default 288)\n"
		"  --vms FIRST:COUNT      only these VMs of each trace (sorted by file name)\n"
		"  --shift N              start the day N samples later (wrapping around)\n"
		"  --seed N               seed for random choices (default 1)\n"
		"  --shuffle N            shuffle which file gets which VM type (seed N >= 1)\n"
		"  --keep-idle-vms        do not end a VM whose demand drops to 0 (CloudSim ends\n"
		"                         it; the default follows CloudSim to match its figures)\n"
		"  -h, --help             this help\n"
		"\n"
		"Columns: energy (kWh), SLATAH (%% of active host time at 100 %% CPU), PDM (%% of\n"
		"requested MIPS lost to migration), SLAV = SLATAH x PDM, ESV = energy x SLAV,\n"
		"migrations, host shutdowns, mean active hosts, wall time of the run, and (when\n"
		"some VMs fit on no host at t = 0 and never ran) their number.\n"
		"Exit status: 0 ok, 1 failed (bad trace, ...), 2 usage.\n");
}

static void split_into(const char *arg, char ***list, size_t *n)
{
	_cleanup_free_ char *dup = xstrdup(arg);
	char *save = NULL;
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!*tok)
			continue;
		*list = xrealloc(*list, (*n + 1) * sizeof **list);
		(*list)[(*n)++] = xstrdup(tok);
	}
}

static int parse_size(const char *opt, const char *s, size_t min, size_t *out)
{
	char *e = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (e == s || *e || errno || v < min || *s == '-') {
		fprintf(stderr, "gureum sim: %s: '%s' is not a whole number >= %zu\n", opt, s, min);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

int gr_cmd_sim(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trace", required_argument, NULL, 't' }, { "policy", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' }, { "plot", required_argument, NULL, 'o' },
		{ "hosts", required_argument, NULL, 'H' },  { "samples", required_argument, NULL, 'S' },
		{ "vms", required_argument, NULL, 'V' },    { "shift", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 's' },   { "shuffle", required_argument, NULL, 'R' },
		{ "keep-idle-vms", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char **traces = NULL, **pols = NULL;
	size_t n_traces = 0, n_pols = 0, samples = 288, shift = 0, vm_first = 0, vm_count = 0, seed = 1;
	size_t hosts = 0, shuffle = 0;
	int keep_idle = 0;
	const char *plot = NULL;
	enum gr_sim_format fmt = GR_SIM_TABLE;
	int rc = 2, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': split_into(optarg, &traces, &n_traces); break;
		case 'p': split_into(optarg, &pols, &n_pols); break;
		case 'f':
			if (!strcmp(optarg, "table")) fmt = GR_SIM_TABLE;
			else if (!strcmp(optarg, "csv")) fmt = GR_SIM_CSV;
			else if (!strcmp(optarg, "json")) fmt = GR_SIM_JSON;
			else {
				fprintf(stderr, "gureum sim: --format: '%s' is not table, csv or json\n", optarg);
				goto out;
			}
			break;
		case 'o': plot = optarg; break;
		case 'H': if (parse_size("--hosts", optarg, 1, &hosts) < 0) goto out; break;
		case 'S': if (parse_size("--samples", optarg, 2, &samples) < 0) goto out; break;
		case 'x': if (parse_size("--shift", optarg, 0, &shift) < 0) goto out; break;
		case 's': if (parse_size("--seed", optarg, 0, &seed) < 0) goto out; break;
		case 'K': keep_idle = 1; break;
		case 'R': if (parse_size("--shuffle", optarg, 1, &shuffle) < 0) goto out; break;
		case 'V': {
			char *colon = strchr(optarg, ':');
			if (!colon) {
				fprintf(stderr, "gureum sim: --vms: '%s' is not FIRST:COUNT\n", optarg);
				goto out;
			}
			*colon = 0;
			if (parse_size("--vms FIRST", optarg, 0, &vm_first) < 0 ||
			    parse_size("--vms COUNT", colon + 1, 1, &vm_count) < 0)
				goto out;
			break;
		}
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "gureum sim: unknown or incomplete option '%s'\n", argv[optind - 1]);
			usage(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gureum sim: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		goto out;
	}
	if (!n_traces) {
		fprintf(stderr, "gureum sim: --trace DIR is required\n");
		usage(stderr);
		goto out;
	}
	if (!n_pols)
		split_into(DEFAULT_POLICIES, &pols, &n_pols);
	struct gr_sim_policy *policy = xcalloc(n_pols, sizeof *policy);
	gr_error_t err = { 0 };
	for (size_t i = 0; i < n_pols; i++)
		if (gr_sim_policy_parse(pols[i], &policy[i], &err) < 0) {
			fprintf(stderr, "gureum sim: --policy: %s\n", err.msg);
			free(policy);
			goto out;
		}
	struct gr_sim_config cfg;
	gr_sim_config_default(&cfg);
	if (hosts)
		cfg.n_hosts = hosts;
	cfg.seed = seed;
	if (keep_idle)
		cfg.idle_vm_ends = 0;
	struct gr_sim_result *res = xcalloc(n_traces * n_pols, sizeof *res);
	size_t n_res = 0;
	rc = 1;
	for (size_t t = 0; t < n_traces; t++) {
		struct gr_sim_trace tr;
		if (gr_sim_trace_load(traces[t], samples, &tr, &err) < 0) {
			fprintf(stderr, "gureum sim: %s\n", err.msg);
			goto done;
		}
		if (vm_count && gr_sim_trace_slice(&tr, vm_first, vm_count, &err) < 0) {
			fprintf(stderr, "gureum sim: --vms: %s\n", err.msg);
			gr_sim_trace_free(&tr);
			goto done;
		}
		gr_sim_trace_shift(&tr, shift);
		if (shuffle)
			gr_sim_trace_shuffle(&tr, shuffle);
		for (size_t i = 0; i < n_pols; i++) {
			if (gr_sim_run(&tr, &cfg, &policy[i], &res[n_res], &err) < 0) {
				fprintf(stderr, "gureum sim: %s\n", err.msg);
				gr_sim_trace_free(&tr);
				goto done;
			}
			if (res[n_res].vms_not_created)
				fprintf(stderr,
					"gureum sim: warning: %s on %s: %zu of %zu VMs fit on no host at t = 0 and never ran\n",
					policy[i].name, traces[t], res[n_res].vms_not_created, res[n_res].n_vms);
			n_res++;
		}
		gr_sim_trace_free(&tr);
	}
	gr_sim_print(stdout, fmt, res, n_res);
	if (plot && gr_sim_plot_svg(plot, res, n_res, &err) < 0) {
		fprintf(stderr, "gureum sim: --plot: %s\n", err.msg);
		goto done;
	}
	rc = 0;
done:
	for (size_t i = 0; i < n_res; i++)
		gr_sim_result_free(&res[i]);
	free(res);
	free(policy);
out:
	for (size_t i = 0; i < n_traces; i++)
		free(traces[i]);
	for (size_t i = 0; i < n_pols; i++)
		free(pols[i]);
	free(traces);
	free(pols);
	return rc;
}
