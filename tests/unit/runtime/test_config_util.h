/*
 * test_config_util.h - helpers shared by the test_config*.c unit tests.
 * J() turns single quotes into double quotes so JSON reads well in C source
 * (the fixtures contain no apostrophes); the result is a static buffer.
 */
#ifndef GR_TEST_CONFIG_UTIL_H
#define GR_TEST_CONFIG_UTIL_H

#include <stdio.h>
#include <string.h>

static inline const char *J(const char *s)
{
	static char buf[65536];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i] == '\'' ? '"' : s[i];
	buf[n] = '\0';
	return buf;
}

/* A minimal valid config with `extra` members appended (extra may be ""). */
#define MIN_HEAD "{'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define MIN_PROCESS "'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/'}"

#endif
