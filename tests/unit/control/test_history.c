/*
 * test_history.c - the metric history's rings (src/control/history.c): CPU as the
 * rate of the CPU-time counter, memory as the mean of a slot's samples, slots
 * aligned on their step, the hour ring wrapping after 360 slots while the day ring
 * keeps the older ones, gaps as nulls, a counter that went back (a restart) giving
 * no CPU value, and the file: saved and loaded back, a truncated or foreign file
 * refused naming it, a missing one empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control/history.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

#define S 1000000000LL

static json_t *at(json_t *series, const char *key, int64_t t)
{
	json_t *tm = json_object_get(series, "time");
	for (size_t i = 0; i < json_array_size(tm); i++)
		if (json_integer_value(json_array_get(tm, i)) == t)
			return json_array_get(json_object_get(series, key), i);
	return NULL;
}

int main(void)
{
	struct gr_hist *h = xmalloc(sizeof *h);
	gr_hist_init(h);
	const int64_t t0 = 1800000000; /* a multiple of 300 */
	/* one CPU busy half the time, 100 MiB, every 5 s for two minutes */
	for (int i = 0; i <= 24; i++)
		gr_hist_put(h, (t0 + 5 * i) * S, (uint64_t)(i * 5 * S / 2), 100.0 * (1 << 20));
	json_t *hr = gr_hist_series(h, false, t0 + 120);
	ok(json_array_size(json_object_get(hr, "time")) == GR_HIST_HOUR_N, "an hour: 360 slots");
	is_int(json_integer_value(json_object_get(hr, "step")), 10, "of 10 s");
	json_t *v = at(hr, "cpu", t0 + 60);
	ok(json_is_real(v) && fabs(json_real_value(v) - 0.5) < 1e-9, "cpu: the counter's rate (0.5 CPUs)");
	v = at(hr, "memory", t0 + 60);
	is_int(json_integer_value(v), 100 << 20, "memory: the slot's mean");
	ok(json_is_null(at(hr, "cpu", t0 - 10)), "before the first sample: null");
	json_t *first = at(hr, "cpu", t0);
	ok(json_is_real(first) && fabs(json_real_value(first) - 0.5) < 1e-9,
	   "the first slot's CPU: only the second sample's rate (the first has none)");
	json_decref(hr);

	/* a restart: the counter goes back, no CPU value for that sample */
	gr_hist_put(h, (t0 + 130) * S, 1 * S, 50.0 * (1 << 20));
	hr = gr_hist_series(h, false, t0 + 130);
	ok(json_is_null(at(hr, "cpu", t0 + 130)), "a counter that went back: cpu null");
	is_int(json_integer_value(at(hr, "memory", t0 + 130)), 50 << 20, "its memory is kept");
	json_decref(hr);

	/* two hours later: the hour ring has wrapped, the day ring keeps the first samples */
	int64_t t1 = t0 + 7200;
	gr_hist_put(h, t1 * S, 2 * S, 10.0 * (1 << 20));
	gr_hist_put(h, (t1 + 10) * S, 7 * S, 30.0 * (1 << 20));
	hr = gr_hist_series(h, false, t1 + 10);
	size_t set = 0;
	json_t *mv = json_object_get(hr, "memory");
	for (size_t i = 0; i < json_array_size(mv); i++)
		set += !json_is_null(json_array_get(mv, i));
	is_int(set, 2, "the hour's ring shows only the last hour's two slots (its older slots were reused)");
	v = at(hr, "cpu", t1 + 10);
	ok(json_is_real(v) && fabs(json_real_value(v) - 0.5) < 1e-9, "after the gap the rate goes on (5 s of CPU in 10 s)");
	ok(json_is_null(at(hr, "cpu", t1)), "a sample after a gap over 10 minutes has no rate");
	json_decref(hr);
	json_t *dy = gr_hist_series(h, true, t1 + 10);
	is_int(json_array_size(json_object_get(dy, "time")), GR_HIST_DAY_N, "a day: 288 slots");
	is_int(json_integer_value(json_object_get(dy, "step")), 300, "of 300 s");
	v = at(dy, "memory", t0);
	/* the first 300 s slot: 25 samples of 100 MiB and one of 50 MiB */
	is_int(json_integer_value(v), (int64_t)((25 * 100.0 + 50) / 26 * (1 << 20)), "the day ring averages a slot's samples");
	ok(json_is_null(at(dy, "memory", t0 + 3600)), "no samples in a day slot: null");
	json_decref(dy);

	/* the file */
	char dir[] = "/tmp/gr-test-history.XXXXXX";
	ok(mkdtemp(dir) != NULL, "a test folder");
	_cleanup_free_ char *p = xasprintf("%s/web1", dir);
	gr_error_t err;
	struct gr_hist *g = xmalloc(sizeof *g);
	is_int(gr_hist_load(p, g, &err), 1, "no file yet: 1, empty history");
	ok(gr_hist_save(p, h, &err) == 0, "saved");
	ok(gr_hist_load(p, g, &err) == 0 && !memcmp(g, h, sizeof *h), "loaded back the same");
	ok(truncate(p, 100) == 0, "the file cut short");
	ok(gr_hist_load(p, g, &err) < 0 && strstr(err.msg, p) && strstr(err.msg, "100 bytes"),
	   "a short file is refused naming it: %s", err.msg);
	ok(gr_write_file_atomic(p, "not a history file, but as long as one...", 41, 0600, &err) == 0, "a foreign file");
	ok(gr_hist_load(p, g, &err) < 0 && strstr(err.msg, p), "refused: %s", err.msg);
	memcpy(h->magic, "XXXXXXXX", 8);
	ok(gr_hist_save(p, h, &err) == 0 && gr_hist_load(p, g, &err) < 0 && strstr(err.msg, "bad magic"),
	   "a file of the right size with another magic: %s", err.msg);
	unlink(p);
	rmdir(dir);
	free(g);
	free(h);
	return tap_done();
}
