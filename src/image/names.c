/*
 * names.c - validation of image, snapshot and instance names.  Names become path
 * components and overlayfs mount options, so they never contain '/', ',', ':' or
 * start with '.'; the rules are in image.h.
 */
#include "image/image.h"

#include <string.h>

static int name_char(char c, int upper_ok)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       (upper_ok && c >= 'A' && c <= 'Z');
}

static int name_check(const char *s, size_t max, int upper_ok)
{
	if (!s || !*s)
		return 0;
	size_t n = strlen(s);
	if (n > max)
		return 0;
	char c = s[0];
	if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper_ok && c >= 'A' && c <= 'Z')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!name_char(s[i], upper_ok))
			return 0;
	return 1;
}

int gr_image_name_valid(const char *name)
{
	return name_check(name, 63, 0);
}

int gr_layer_id_valid(const char *instance_id)
{
	return name_check(instance_id, 128, 1);
}
