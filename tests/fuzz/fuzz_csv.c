/* fuzz_csv: csv_parse on any Outlook or Google export (RFC 4180 quoting
 * with separators and line breaks in fields, BOM, Windows-1252, ',' ';' or
 * tab as separator), then the cards it read through vcard_write and back. */
#include "fuzz.h"
#include "csv_import.h"
#include "fuzz_cards.h"

const char fuzz_target_name[] = "csv";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card_list l = { 0 };
	char *copy = malloc(size ? size : 1);
	enum csv_format f, g;

	if (copy == NULL)
		abort();
	if (size)
		memcpy(copy, data, size);
	f = csv_detect(copy, size);
	g = csv_parse(copy, size, &l);
	FUZZ_CHECK(g == CSV_UNKNOWN || g == CSV_OUTLOOK || g == CSV_GOOGLE);
	/* One reading of the header: the import trusts csv_detect's answer. */
	FUZZ_CHECK(f == g);
	if (g == CSV_UNKNOWN)
		FUZZ_CHECK(l.n_cards == 0);
	else
		FUZZ_CHECK(csv_format_name(g) != NULL);
	fuzz_check_cards(&l);
	fuzz_cards_round_trip(&l);
	card_list_free(&l);
	free(copy);
	return 0;
}
