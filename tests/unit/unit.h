/* unit.h: the few macros merci's unit tests share. A failed check prints
 * FILE:LINE and the values, the test goes on, and the exit status is 1 if
 * any check failed (automake's test driver reads the status). */
#ifndef MERCI_UNIT_H
#define MERCI_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failed;
static int unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_failed++; \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	unit_checks++; \
	if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_) != 0)) { \
		fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
			#got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		unit_failed++; \
	} \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	unit_checks++; \
	if (g_ != w_) { \
		fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
		unit_failed++; \
	} \
} while (0)

#define UNIT_DONE() ( \
	printf("%s: %d checks, %d failed\n", __FILE__, unit_checks, unit_failed), \
	unit_failed ? 1 : 0)

#endif
