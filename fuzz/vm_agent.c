/*
 * vm_agent.c - libFuzzer target for the guest agent protocol (src/vm/agent_proto.c):
 * arbitrary bytes from "the guest" (or "the host", for the agent), fed in chunks whose
 * sizes come from the input, through resync and the frame decoder; every EXEC payload
 * is decoded and, when accepted, must re-encode to the same bytes.  Nothing may crash,
 * leak or read past a buffer.  Input layout: byte 0 = chunking seed, the rest = stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vm/agent_proto.h"

static void check_exec(const uint8_t *p, size_t len)
{
	struct gr_vm_agent_exec x;
	const char *why = NULL;
	if (gr_vm_agent_exec_decode(p, len, &x, &why) < 0) {
		if (!why)
			abort(); /* a refusal always says why */
		return;
	}
	size_t n;
	uint8_t *again = gr_vm_agent_exec_encode(&x, &n);
	/* decode maps an empty cwd to "/", so only compare when cwd was given */
	if (!again || (strcmp(x.cwd, "/") && (n != len || memcmp(again, p, n))))
		abort();
	free(again);
	gr_vm_agent_exec_clear(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned seed = data[0];
	data++;
	size--;
	struct gr_vm_agent_dec d = {0};
	uint8_t hello[5 + GR_VM_AGENT_MAGIC_LEN];
	gr_vm_agent_put_u32(hello, 1 + GR_VM_AGENT_MAGIC_LEN + GR_VM_AGENT_NONCE_LEN);
	hello[4] = GR_VMA_HELLO;
	memcpy(hello + 5, GR_VM_AGENT_MAGIC, GR_VM_AGENT_MAGIC_LEN);
	int synced = !(seed & 1); /* odd seeds start by looking for a HELLO, as the agent does */
	size_t off = 0;
	while (off < size) {
		size_t chunk = 1 + (seed * 31 + off) % 17;
		if (chunk > size - off)
			chunk = size - off;
		if (gr_vm_agent_dec_feed(&d, data + off, chunk) < 0)
			break;
		off += chunk;
		for (;;) {
			if (!synced) {
				if (!gr_vm_agent_dec_sync(&d, hello, sizeof hello))
					break;
				d.off -= sizeof hello;
				synced = 1;
			}
			unsigned type;
			const uint8_t *p;
			size_t len;
			const char *why = NULL;
			int r = gr_vm_agent_dec_next(&d, &type, &p, &len, &why);
			if (r == 0)
				break;
			if (r < 0) {
				if (!why)
					abort();
				d.failed = 0;
				synced = 0;
				continue;
			}
			if (!gr_vm_agent_type_name(type)[0] || len + 1 > GR_VM_AGENT_FRAME_MAX)
				abort();
			if (type == GR_VMA_EXEC)
				check_exec(p, len);
		}
	}
	gr_vm_agent_dec_clear(&d);
	return 0;
}
