/* csv_import: contacts from the CSV exports of Outlook (English and French
 * headers) and Google Contacts (the old "Name,Given Name,..." layout and the
 * newer "First Name,...,E-mail 1 - Value"), as cards (vcard.h).
 *
 * The file is RFC 4180 CSV: quoted fields may hold separators, doubled
 * quotes and line breaks. It may start with a UTF-8 byte order mark, or be
 * Windows-1252 (Outlook's "ANSI" export: any invalid UTF-8 makes the whole
 * file read as Windows-1252). The separator is ',' or, as French Excel
 * writes it, ';' (or a tab): whichever the header row uses. */
#ifndef MERCI_CSV_IMPORT_H
#define MERCI_CSV_IMPORT_H

#include <stddef.h>

#include "vcard.h"

enum csv_format {
	CSV_UNKNOWN,
	CSV_OUTLOOK,             /* English or French headers */
	CSV_GOOGLE,              /* old or new layout */
};

/* Which export data's header row is: the header as csv_parse reads it
 * (decoded as the whole file is, a quoted field may span lines). */
enum csv_format csv_detect(const char *data, size_t len);
/* "Outlook CSV", "Google CSV". */
const char *csv_format_name(enum csv_format f);
/* Appends the contacts of every row and every problem (with the line the
 * row starts on) to out, which starts zeroed. Returns the format, or
 * CSV_UNKNOWN (nothing read) when the header is not one of the known ones. */
enum csv_format csv_parse(const char *data, size_t len, struct card_list *out);

#endif
