/* fuzz_vcard: vcard_parse on any address book file (vCard 2.1 with
 * quoted-printable soft breaks and CHARSET, 3.0/4.0 folding and escapes),
 * then the cards it read through vcard_write and back. */
#include "fuzz.h"
#include "fuzz_cards.h"

const char fuzz_target_name[] = "vcard";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card_list l = { 0 };
	char *copy = malloc(size ? size : 1);

	/* An exact-size copy: ASan sees any read past the end. */
	if (copy == NULL)
		abort();
	if (size)
		memcpy(copy, data, size);
	(void)vcard_detect(copy, size);
	vcard_parse(copy, size, &l);
	fuzz_check_cards(&l);
	fuzz_cards_round_trip(&l);
	card_list_free(&l);
	free(copy);
	return 0;
}
