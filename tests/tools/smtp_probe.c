/* smtp_probe: test driver for smtp_send and mailbuild, used by
 * tests/integration/smtp.sh.
 *
 *   smtp_probe CONFIG FROM RCPT MSGFILE
 *       sends MSGFILE's bytes through CONFIG's [smtp] and prints
 *       "result=sent|tempfail|permfail code=N error=TEXT" (exit 0)
 *   smtp_probe --render OUTFILE FROM TO
 *       writes a fixed French thank-you nudge rendered by mailbuild */
#include "config.h"
#include "mailbuild.h"
#include "smtp_send.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
render_fixed(const char *path, const char *from, const char *to)
{
	struct mail_out m = {
		.from_name = "merci",
		.from_addr = from,
		.to_name = "Camille Roy",
		.to_addr = to,
		.subject = "Remercier Amélie Tremblay pour la mise en relation",
		.text = "Bonjour Camille,\n\nAmélie Tremblay vous a présenté Jean Dupont "
		    "le 3 mai.\nUn mot de remerciement ? Répondez « fait » une fois "
		    "le message envoyé.\n.\nFrom here on, a line of 120 characters: "
		    "0123456789012345678901234567890123456789012345678901234567890123456789"
		    "01234567890123456789 = fin   \n",
		.message_id = "merci.00112233445566778899aabbccddeeff@example.org",
		.date = 1715693400,
		.tz_offset_min = -240,
		.lang = "fr",
		.nudge = "thank-you 42",
	};
	char *out, *err;
	size_t len;
	FILE *f;

	if (mailbuild_render(&m, &out, &len, &err) < 0) {
		fprintf(stderr, "smtp_probe: render: %s\n", err);
		free(err);
		return 1;
	}
	if (!(f = fopen(path, "wb")) || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		free(out);
		return 1;
	}
	free(out);
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n;
	char chunk[8192];

	*len = 0;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		data = xreallocarray_grow(data, &cap, *len + n + 1, 1);
		memcpy(data + *len, chunk, n);
		*len += n;
	}
	fclose(f);
	return data ? data : xstrdup("");
}

int
main(int argc, char **argv)
{
	static const char *names[] = { "sent", "tempfail", "permfail" };
	struct config *cfg;
	struct smtp_outcome o;
	char *err, *data;
	size_t len;

	if (argc == 5 && strcmp(argv[1], "--render") == 0)
		return render_fixed(argv[2], argv[3], argv[4]);
	if (argc != 5) {
		fprintf(stderr, "usage: smtp_probe CONFIG FROM RCPT MSGFILE\n"
		    "       smtp_probe --render OUTFILE FROM TO\n");
		return 2;
	}
	if (config_load(argv[1], &cfg, &err) < 0) {
		fprintf(stderr, "smtp_probe: %s\n", err);
		free(err);
		return 2;
	}
	if (!(data = slurp(argv[4], &len))) {
		perror(argv[4]);
		config_free(cfg);
		return 2;
	}
	smtp_send(cfg, argv[2], argv[3], data, len, &o);
	printf("result=%s code=%ld error=%s\n", names[o.result], o.code,
	    o.error ? o.error : "");
	smtp_outcome_free(&o);
	free(data);
	config_free(cfg);
	return 0;
}
