/*
 * sim_report.c - simulator output: a table, CSV or JSON of the per-policy
 * metrics, and a hand-written SVG of active hosts and energy per interval
 * over the day for the policies compared (one panel pair per trace).
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sim.h"
#include "util/alloc.h"
#include "util/fs.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Short name of a trace for tables: the last path component, without a
 * trailing slash or an archive suffix ("data/planetlab/20110303.tar.xz" and
 * ".../20110303/" are both "20110303").  Returns a pointer into buf. */
static const char *base_name(const char *path, char *buf, size_t size)
{
	size_t end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	snprintf(buf, size, "%.*s", (int)(end - start), path + start);
	static const char *const suffixes[] = { ".tar.xz", ".tar.gz", ".tar.zst", ".tar.bz2", ".tar",
						".txz", ".tgz" };
	size_t n = strlen(buf);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		size_t k = strlen(suffixes[i]);
		if (n > k && !strcmp(buf + n - k, suffixes[i])) {
			buf[n - k] = 0;
			break;
		}
	}
	return buf;
}
#define base(path) base_name((path), (char[256]){ 0 }, 256)

void gr_sim_print(FILE *f, enum gr_sim_format fmt, const struct gr_sim_result *r, size_t n)
{
	if (fmt == GR_SIM_CSV) {
		/* columns are only ever appended, so scripts reading by position keep working */
		fprintf(f, "trace,policy,vms,hosts,energy_kwh,slatah_pct,pdm_pct,slav_pct,esv,migrations,"
			   "host_shutdowns,mean_active_hosts,sla_overall_pct,wall_s,vms_not_created\n");
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s,%s,%zu,%zu,%.2f,%.2f,%.4f,%.6g,%.6g,%llu,%llu,%.1f,%.4f,%.3f,%zu\n",
				base(r[i].trace), r[i].policy, r[i].n_vms, r[i].n_hosts, r[i].energy_kwh,
				r[i].slatah * 100, r[i].pdm * 100, r[i].slav * 100, r[i].esv,
				(unsigned long long)r[i].migrations, (unsigned long long)r[i].shutdowns,
				r[i].mean_active_hosts, r[i].sla_overall * 100, r[i].wall_s,
				r[i].vms_not_created);
		return;
	}
	if (fmt == GR_SIM_JSON) {
		fprintf(f, "[");
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s\n  {\"trace\": ", i ? "," : "");
			json_str(f, r[i].trace);
			fprintf(f, ", \"policy\": ");
			json_str(f, r[i].policy);
			fprintf(f, ", \"vms\": %zu, \"vms_not_created\": %zu, \"hosts\": %zu, \"energy_kwh\": %.4f, \"slatah\": %.6f, "
				   "\"slatah_migration\": %.6f, \"pdm\": %.6g, \"slav\": %.6g, \"esv\": %.6g, \"migrations\": %llu, "
				   "\"host_shutdowns\": %llu, \"mean_active_hosts\": %.2f, \"sla_overall\": %.8f, "
				   "\"wall_s\": %.4f}",
				r[i].n_vms, r[i].vms_not_created, r[i].n_hosts, r[i].energy_kwh, r[i].slatah, r[i].slatah_migration, r[i].pdm, r[i].slav,
				r[i].esv, (unsigned long long)r[i].migrations,
				(unsigned long long)r[i].shutdowns, r[i].mean_active_hosts, r[i].sla_overall,
				r[i].wall_s);
		}
		fprintf(f, "\n]\n");
		return;
	}
	/* SLAV and ESV span orders of magnitude (1e-2 for the published
	 * policies, 1e-5 for peak): three significant digits, not fixed decimals */
	bool dropped = false;
	for (size_t i = 0; i < n; i++)
		dropped |= r[i].vms_not_created > 0;
	fprintf(f, "%-10s %-16s %11s %9s %8s %10s %10s %11s %10s %7s %7s%s\n", "trace", "policy",
		"energy_kWh", "SLATAH_%", "PDM_%", "SLAV_%", "ESV", "migrations", "shutdowns",
		"hosts", "time_s", dropped ? " not_created" : "");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%-10s %-16s %11.2f %9.2f %8.4f %10.3e %10.3e %11llu %10llu %7.1f %7.3f",
			base(r[i].trace), r[i].policy, r[i].energy_kwh, r[i].slatah * 100, r[i].pdm * 100,
			r[i].slav * 100, r[i].esv, (unsigned long long)r[i].migrations,
			(unsigned long long)r[i].shutdowns, r[i].mean_active_hosts, r[i].wall_s);
		if (dropped)
			fprintf(f, " %11zu", r[i].vms_not_created);
		fputc('\n', f);
	}
}

/* ---- SVG ------------------------------------------------------------------ */

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
				      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

struct buf {
	char *p;
	size_t n, cap;
};

static __attribute__((format(printf, 2, 3))) void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (b->p && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		b->cap = (b->cap + (size_t)k + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

static void xml_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			bprintf(b, "&lt;");
		else if (*s == '>')
			bprintf(b, "&gt;");
		else if (*s == '&')
			bprintf(b, "&amp;");
		else
			bprintf(b, "%c", *s);
	}
}

static void panel(struct buf *b, const struct gr_sim_result *r, const size_t *idx, size_t n,
		  int energy, double x0, double y0, double w, double h, const char *title)
{
	double ymax = 0;
	size_t steps = 0;
	for (size_t i = 0; i < n; i++) {
		const struct gr_sim_result *x = &r[idx[i]];
		const double *v = energy ? x->step_energy_kwh : x->active_hosts;
		/* the first steps hold the t = 0 placement (hundreds of hosts):
		 * leave them out of the scale, they are clipped at the top */
		for (size_t k = x->n_steps > 12 ? 3 : 0; k < x->n_steps; k++)
			if (v[k] > ymax)
				ymax = v[k];
		if (x->n_steps > steps)
			steps = x->n_steps;
	}
	if (ymax <= 0)
		ymax = 1;
	double mag = pow(10, floor(log10(ymax)));
	double top = ceil(ymax / mag) * mag;
	bprintf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n", x0, y0, w, h);
	bprintf(b, "<text x='%.1f' y='%.1f' font-size='13' font-weight='bold'>", x0, y0 - 8);
	xml_text(b, title);
	bprintf(b, "</text>\n");
	for (int g = 0; g <= 4; g++) {
		double y = y0 + h - h * g / 4.0;
		bprintf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", x0, y, x0 + w, y);
		bprintf(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%g</text>\n", x0 - 4,
			y + 3, top * g / 4.0);
	}
	for (int hr = 0; hr <= 24; hr += 4) {
		double x = x0 + w * hr / 24.0;
		bprintf(b, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%dh</text>\n", x,
			y0 + h + 14, hr);
	}
	for (size_t i = 0; i < n; i++) {
		const struct gr_sim_result *x = &r[idx[i]];
		const double *v = energy ? x->step_energy_kwh : x->active_hosts;
		bprintf(b, "<polyline fill='none' stroke-width='1.3' stroke='%s' points='", colors[i % 10]);
		for (size_t k = 0; k < x->n_steps; k++)
			bprintf(b, "%.1f,%.1f ", x0 + w * (double)(k + 1) / (double)(steps ? steps : 1),
				y0 + h - h * (v[k] < top ? v[k] : top) / top);
		bprintf(b, "'/>\n");
	}
}

int gr_sim_plot_svg(const char *path, const struct gr_sim_result *r, size_t n, gr_error_t *err)
{
	/* group results by trace, keeping order of first appearance */
	size_t *tr = xmalloc((n ? n : 1) * sizeof *tr), n_tr = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < n_tr; j++)
			if (!strcmp(r[tr[j]].trace, r[i].trace))
				break;
		if (j == n_tr)
			tr[n_tr++] = i;
	}
	double W = 1000, PH = 220, gap = 70;
	double H = 40 + (double)n_tr * (2 * (PH + gap)) + 20;
	struct buf b = { 0 };
	bprintf(&b, "<?xml version='1.0' encoding='UTF-8'?>\n<svg xmlns='http://www.w3.org/2000/svg' "
		    "width='%.0f' height='%.0f' font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
		W + 220, H);
	size_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
	for (size_t t = 0; t < n_tr; t++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(r[i].trace, r[tr[t]].trace))
				idx[m++] = i;
		double y = 40 + (double)t * 2 * (PH + gap);
		char title[300];
		snprintf(title, sizeof title, "%s: active hosts", base(r[tr[t]].trace));
		panel(&b, r, idx, m, 0, 60, y, W - 80, PH, title);
		snprintf(title, sizeof title, "%s: energy per 5-min interval (kWh)", base(r[tr[t]].trace));
		panel(&b, r, idx, m, 1, 60, y + PH + gap, W - 80, PH, title);
		for (size_t i = 0; i < m; i++) {
			bprintf(&b, "<rect x='%.0f' y='%.1f' width='14' height='4' fill='%s'/>", W, y + 10 + 18.0 * (double)i,
				colors[i % 10]);
			bprintf(&b, "<text x='%.0f' y='%.1f' font-size='12'>", W + 20, y + 15 + 18.0 * (double)i);
			xml_text(&b, r[idx[i]].policy);
			bprintf(&b, " (%.1f kWh)</text>\n", r[idx[i]].energy_kwh);
		}
	}
	bprintf(&b, "</svg>\n");
	free(idx);
	free(tr);
	int rc = gr_write_file_atomic(path, b.p, b.n, 0644, err);
	free(b.p);
	if (rc < 0)
		return gr_error_prefix(err, "plot %s", path);
	return 0;
}
