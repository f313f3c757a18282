/*
 * vm_qmp.c - libFuzzer target for the sans-IO QMP parser (src/vm/qmp.c): arbitrary
 * bytes from "QEMU", fed in chunks whose sizes come from the input, with commands
 * queued before and in between, must never crash, leak or call a callback twice.
 * Input layout: byte 0 = chunking seed, byte 1 = how many commands to queue, the rest
 * is the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vm/vm.h"

struct count {
	int calls;
};

static void cb(struct gr_qmp *q, json_t *ret, const gr_error_t *e, void *ud)
{
	struct count *c = ud;
	if (++c->calls > 1)
		abort(); /* a callback must run exactly once */
	if (!e && !ret)
		abort();
}

static void on_event(struct gr_qmp *q, const char *ev, json_t *data, void *ud)
{
	if (!ev)
		abort();
	(void)data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned seed = data[0];
	unsigned ncmd = data[1] % 8;
	data += 2;
	size -= 2;
	struct count counts[16] = {{0}};
	struct gr_qmp *q = gr_qmp_new(on_event, NULL);
	gr_error_t err = {0};
	unsigned sent = 0;
	for (; sent < ncmd; sent++)
		gr_qmp_send(q, sent % 2 ? "query-status" : "cont", NULL, cb, &counts[sent], NULL, &err);
	size_t off = 0;
	while (off < size) {
		size_t chunk = 1 + (seed * 31 + off) % 97;
		if (chunk > size - off)
			chunk = size - off;
		if (gr_qmp_feed(q, data + off, chunk, &err) < 0)
			break;
		off += chunk;
		size_t n;
		gr_qmp_output(q, &n);
		gr_qmp_output_consume(q, n / 2 + 1);
		if (sent < 16 && (seed & 1))
			gr_qmp_send(q, "stop", json_pack("{s:i}", "n", (int)off), cb, &counts[sent++], NULL, &err);
	}
	gr_qmp_free(q);
	for (unsigned i = 0; i < sent; i++)
		if (counts[i].calls != 1)
			abort();
	return 0;
}
