/* xalloc: allocation helpers that never return NULL.
 * Out of memory is not a condition merci can recover from in a useful way,
 * so these abort with a message instead of pushing NULL checks everywhere. */
#ifndef MERCI_XALLOC_H
#define MERCI_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (an array of *cap elements of size sz) to hold at least need. */
void *xreallocarray_grow(void *p, size_t *cap, size_t need, size_t sz);
char *xstrdup(const char *s);          /* xstrdup(NULL) returns NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
