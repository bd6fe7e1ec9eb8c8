/* body: the readable start of a message's first text part.
 *
 * Takes the raw bytes of a MIME part as the server sends them (a prefix:
 * the fetch is partial, so the last base64 quantum or QP escape may be cut),
 * decodes the transfer encoding and the charset to UTF-8 with libetpan,
 * turns HTML into text when the part is HTML, and removes what is not a new
 * statement of the sender: quoted replies ("> ...", "Le ... a écrit :",
 * "On ... wrote:", Outlook's "-----Original Message-----" and "De : ...
 * Envoyé : ..." blocks) and signatures ("-- ", "Envoyé de mon iPhone",
 * "Sent from my ..."). Pure: no I/O. */
#ifndef MERCI_BODY_H
#define MERCI_BODY_H

#include <stdbool.h>
#include <stddef.h>

#define BODY_PREFIX_MAX 8192   /* bytes fetched per message */
#define BODY_TEXT_MAX   4096   /* bytes of cleaned text kept */

/* encoding: Content-Transfer-Encoding ("7bit", "8bit", "quoted-printable",
 * "base64", NULL = 7bit); charset: e.g. "utf-8", "iso-8859-1",
 * "windows-1252" (NULL = us-ascii, but 8-bit bytes are read as
 * windows-1252); html: the part is text/html. Returns newly allocated UTF-8
 * text without control characters except '\n', at most max bytes (cut on a
 * character boundary), possibly empty; never NULL. */
char *body_text_clean(const char *raw, size_t len, const char *encoding,
		      const char *charset, bool html, size_t max);

/* Removes quoted replies and signatures from UTF-8 text (what
 * body_text_clean does after decoding); newly allocated. */
char *body_strip_quotes(const char *text);

#endif
