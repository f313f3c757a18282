/*
 * image_manifest.c - libFuzzer target for the image manifest parser
 * (gr_image_info_from_json): image.json files and API bodies come from outside.
 * Whatever parses must survive a round trip through gr_image_info_to_json unchanged.
 */
#include "image/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *o = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!o)
		return 0;
	struct gr_image_info info;
	gr_error_t err = {0};
	if (gr_image_info_from_json(o, &info, &err) == 0) {
		json_t *back = gr_image_info_to_json(&info);
		struct gr_image_info again;
		if (gr_image_info_from_json(back, &again, &err) != 0 || strcmp(again.name, info.name) ||
		    strcmp(again.checksum, info.checksum) || again.size_bytes != info.size_bytes)
			abort();
		gr_image_info_clear(&again);
		json_decref(back);
		gr_image_info_clear(&info);
	} else if (!err.msg[0] || err.code == 0) {
		abort(); /* a refusal must say why */
	}
	json_decref(o);
	return 0;
}
