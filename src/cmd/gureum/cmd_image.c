/*
 * cmd_image.c - `gureum image import|build|list|show|delete`.  import and
 * build are daemon operations: we wait for them, showing progress, unless
 * --no-wait (then the operation id is printed, or with --format json the
 * running operation).
 */
#include "commands.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_image =
	"usage: gureum image import PATH NAME [--no-wait] [--format table|json|yaml]\n"
	"       gureum image build RECIPE [--no-wait] [--format table|json|yaml]\n"
	"       gureum image list [--format table|json|yaml]\n"
	"       gureum image show NAME [--format yaml|json]\n"
	"       gureum image delete NAME\n"
	"\n"
	"  import     a folder, tarball or VM disk on the daemon's host becomes master image NAME\n"
	"  build      build a master image from a recipe: busybox, debian-base, debian-vm\n"
	"  --no-wait  print the operation id instead of waiting (see 'gureum operation')\n"
	"  --format   json: the API's JSON (list, show; for import/build the operation);\n"
	"             table/yaml: for people, times in local time (RFC 3339)\n";

static int start_op(json_t *body, bool wait, enum gr_cli_fmt fmt)
{
	json_t *op = NULL;
	int rc = gr_cli_call("POST", "/v1/images", body, &op);
	json_decref(body);
	if (rc)
		return rc;
	const char *id = json_string_value(json_object_get(op, "id"));
	json_t *final = NULL;
	if (!id)
		rc = gr_cli_fail("the daemon answered no operation id");
	else if (!wait && fmt == GR_FMT_TABLE)
		printf("%s\n", id);
	else if (!wait)
		gr_cli_print(op, fmt);
	else {
		rc = gr_cli_wait_op(id, fmt != GR_FMT_TABLE, &final);
		if (final && fmt != GR_FMT_TABLE)
			gr_cli_print(final, fmt);
	}
	json_decref(final);
	json_decref(op);
	return rc;
}

static void print_table(json_t *list)
{
	printf("%-20s %-7s %10s %8s %-25s %s\n", "NAME", "KIND", "SIZE", "FILES", "CREATED", "SOURCE");
	size_t i;
	json_t *im;
	json_array_foreach(list, i, im) {
		char when[64];
		printf("%-20s %-7s %9lldM %8lld %-25s %s\n", json_string_value(json_object_get(im, "name")),
		       json_string_value(json_object_get(im, "kind")),
		       (long long)json_integer_value(json_object_get(im, "size_bytes")) >> 20,
		       (long long)json_integer_value(json_object_get(im, "files")),
		       gr_cli_time(json_object_get(im, "created"), when, sizeof when),
		       json_string_value(json_object_get(im, "source")));
	}
}

int gr_cmd_image(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_image))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_image, "image: expected a subcommand");
	const char *sub = argv[1];
	enum gr_cli_fmt fmt = GR_FMT_TABLE;
	bool wait = true;
	const char *pos[3];
	int npos = 0;
	for (int i = 2; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_image);
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (!strcmp(argv[i], "--no-wait"))
			wait = false;
		else if (argv[i][0] == '-' || npos == 3)
			return gr_cli_usage(usage_image, "image %s: unexpected '%s'", sub, argv[i]);
		else
			pos[npos++] = argv[i];
	}
	if (!strcmp(sub, "import")) {
		if (npos != 2)
			return gr_cli_usage(usage_image, "image import: expected PATH NAME");
		char abs[PATH_MAX];
		if (!realpath(pos[0], abs))
			return gr_cli_fail("image import: %s: no such file or folder", pos[0]);
		return start_op(json_pack("{s:s,s:s}", "source", abs, "name", pos[1]), wait, fmt);
	}
	if (!strcmp(sub, "build")) {
		if (npos != 1)
			return gr_cli_usage(usage_image, "image build: expected RECIPE");
		return start_op(json_pack("{s:s}", "recipe", pos[0]), wait, fmt);
	}
	if (!strcmp(sub, "list")) {
		if (npos)
			return gr_cli_usage(usage_image, "image list: unexpected '%s'", pos[0]);
		return gr_cli_list("/v1/images", "images", fmt, print_table);
	}
	if (!strcmp(sub, "show") || !strcmp(sub, "delete")) {
		if (npos != 1)
			return gr_cli_usage(usage_image, "image %s: expected NAME", sub);
		if (!gr_cli_name_ok("image", pos[0]))
			return 2;
		_cleanup_free_ char *path = xasprintf("/v1/images/%s", pos[0]);
		json_t *resp = NULL;
		if (gr_cli_call(!strcmp(sub, "show") ? "GET" : "DELETE", path, NULL, &resp))
			return 1;
		if (!strcmp(sub, "show"))
			gr_cli_print(resp, fmt);
		json_decref(resp);
		return 0;
	}
	return gr_cli_usage(usage_image, "image: unknown subcommand '%s'", sub);
}
