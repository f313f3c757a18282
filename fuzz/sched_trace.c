/*
 * sched_trace.c - libFuzzer target for the PlanetLab trace-file parser.
 * Every input either parses into n samples that are fractions in [0, 1], or
 * fails with a message that names the file (the parser's contract, sim.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sim.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the expected length, so short inputs reach success. */
	size_t n = size ? (size_t)(data[0] % 16) + 1 : 1;
	float out[16];
	gr_error_t err = {0};
	int r = gr_sim_trace_parse("fuzz-vm", (const char *)data + (size ? 1 : 0),
				   size ? size - 1 : 0, n, out, &err);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			CHECK(out[i] >= 0.0f && out[i] <= 1.0f);
	} else {
		CHECK(err.msg[0] && strstr(err.msg, "fuzz-vm"));
	}
	return 0;
}
