/* fuzz_reply_cmd: the owner's answer to a nudge, read after body.h cleaned
 * it. It arrives by mail, so anyone who can forge the owner's From reaches
 * this parser. */
#include "fuzz.h"
#include "reply_cmd.h"

const char fuzz_target_name[] = "reply_cmd";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned sel = fuzz_byte(&in);
	char *text = fuzz_rest(&in);
	struct reply_cmd cmds[REPLY_CMD_MAX + 1];
	size_t max = sel % (REPLY_CMD_MAX + 1), n;

	if (max == 0)
		max = REPLY_CMD_MAX;
	memset(cmds, 0xa5, sizeof(cmds));
	n = reply_cmd_parse(text, cmds, max);
	FUZZ_CHECK(n >= 1 && n <= max);
	/* Nothing written past max. */
	for (size_t i = max * sizeof(cmds[0]); i < sizeof(cmds); i++)
		FUZZ_CHECK(((unsigned char *)cmds)[i] == 0xa5);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(cmds[i].action >= REPLY_UNKNOWN && cmds[i].action <= REPLY_MUTE);
		FUZZ_CHECK(reply_action_name(cmds[i].action) != NULL);
		FUZZ_CHECK(cmds[i].line >= 0);
		if (cmds[i].action == REPLY_SNOOZE)
			FUZZ_CHECK(cmds[i].seconds > 0);
		if (cmds[i].action == REPLY_UNKNOWN)
			FUZZ_CHECK(n == 1);
	}
	free(text);
	return 0;
}
