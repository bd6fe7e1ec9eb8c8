/* buf: a growable byte buffer, always NUL-terminated for convenience.
 * The buffer owns its data; buf_free releases it, buf_steal hands it over. */
#ifndef MERCI_BUF_H
#define MERCI_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);   /* drop n bytes from the front */
void buf_reset(struct buf *b);
char *buf_steal(struct buf *b);              /* returns data (never NULL), empties b */
void buf_free(struct buf *b);

#endif
