/*
 * driver.c - benchmark driver for bench/image-clone: imports a master from a folder, then
 * makes N user layers (thin clones) and prints the mean time per clone and the disk the
 * clones use.  Built by run.sh against $GR_BUILD/lib.
 *     driver IMAGES_DIR LAYERS_DIR SRC_DIR N
 */
#include "image/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: driver IMAGES_DIR LAYERS_DIR SRC_DIR N\n");
		return 2;
	}
	struct gr_image_ctx ctx = {.images_dir = argv[1], .layers_dir = argv[2]};
	gr_error_t err = {0};
	struct gr_image_info info = {0};
	double t0 = now();
	if (gr_image_import(&ctx, "bench-master", argv[3], NULL, NULL, &info, &err) < 0) {
		fprintf(stderr, "driver: %s\n", err.msg);
		return 1;
	}
	double t_import = now() - t0;
	int n = atoi(argv[4]);
	unsigned long long used = 0;
	t0 = now();
	for (int i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof id, "bench-clone-%d", i);
		if (gr_layer_create_user(&ctx, "bench-master", id, &err) < 0) {
			fprintf(stderr, "driver: %s\n", err.msg);
			return 1;
		}
	}
	double t_clones = now() - t0;
	for (int i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof id, "bench-clone-%d", i);
		struct gr_layer_info li;
		if (gr_layer_get(&ctx, id, &li, &err) == 0)
			used += li.user_bytes;
		gr_layer_info_clear(&li);
	}
	printf("master_bytes %llu\nimport_s %.3f\nclone_ms %.3f\nclone_disk_bytes %llu\n",
	       (unsigned long long)info.size_bytes, t_import, t_clones * 1000.0 / n, used / (unsigned long long)n);
	gr_image_info_clear(&info);
	return 0;
}
