/*
 * dl.c - gr_dl_bind(): dlopen/dlsym with one lock and errors in the user's
 * words.  The library stays loaded for the life of the process (no
 * dlclose): the pointers handed out must stay valid.
 */
#include "util/dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

int gr_dl_bind(const char *soname, const char *package, const char *const *names, void **fns,
	       size_t n, gr_error_t *err)
{
	pthread_mutex_lock(&dl_lock);
	int r = 0;
	/* RTLD_NOLOAD first: already mapped (the daemon links it) costs nothing */
	void *lib = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
	if (!lib)
		lib = dlopen(soname, RTLD_NOW);
	if (!lib) {
		const char *why = dlerror();
		r = gr_error_set(err, ENOENT, "cannot load %s (install the Debian package %s): %s", soname,
				 package, why ? why : "not found");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dlerror();
		fns[i] = dlsym(lib, names[i]);
		if (!fns[i]) {
			r = gr_error_set(err, ENOENT, "%s has no function %s (install the Debian package %s)",
					 soname, names[i], package);
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&dl_lock);
	return r;
}
