/* imap_utf7: IMAP's modified UTF-7 mailbox names (RFC 3501 5.1.3) to and from
 * UTF-8. libetpan 1.9.4 hands names over raw and has no converter; merci
 * records decoded names and sends encoded ones. Results are newly allocated
 * and owned by the caller. */
#ifndef MERCI_IMAP_UTF7_H
#define MERCI_IMAP_UTF7_H

/* Decodes a raw mailbox name. Returns NULL when it is not valid modified
 * UTF-7 (the caller then keeps the raw bytes). */
char *imap_utf7_decode(const char *in);

/* Encodes a UTF-8 name. Returns NULL when in is not valid UTF-8. */
char *imap_utf7_encode(const char *in);

#endif
