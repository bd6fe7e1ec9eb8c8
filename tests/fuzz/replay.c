/* replay: runs a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer, so `make check` (and its sanitizer build) replays every seed
 * and every crash ever found.
 *
 *   replay_NAME [FILE|DIR]...
 *
 * Without arguments it replays $top_srcdir/tests/fuzz/corpus/NAME and
 * $top_srcdir/tests/fuzz/crashes/NAME (top_srcdir defaults to "."); the
 * corpus folder must exist and hold at least one file. A crash stops the
 * program (abort or sanitizer report); otherwise it prints how many inputs
 * ran and exits 0. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

static size_t n_run;

static int
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, got;

	if (!fp) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		got = fread(data + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(fp);
		free(data);
		return -1;
	}
	fclose(fp);
	/* An exact-size copy, so ASan sees any read past the input's end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact)
		abort();
	if (len)
		memcpy(exact, data, len);
	free(data);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	n_run++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir (not recursive, sorted, dot files skipped).
 * missing_ok: a folder that does not exist is not an error. */
static int
run_dir(const char *dir, bool missing_ok)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		if (missing_ok && errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n])
			abort();
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? run_dir(path, false) : run_file(path);
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (run_path(argv[i]) < 0)
				rc = 1;
	} else {
		const char *top = getenv("top_srcdir");
		char *corpus, *crashes;
		size_t before;

		if (!top || !*top)
			top = ".";
		corpus = malloc(strlen(top) + strlen(fuzz_target_name) + 32);
		crashes = malloc(strlen(top) + strlen(fuzz_target_name) + 32);
		if (!corpus || !crashes)
			abort();
		sprintf(corpus, "%s/tests/fuzz/corpus/%s", top, fuzz_target_name);
		sprintf(crashes, "%s/tests/fuzz/crashes/%s", top, fuzz_target_name);
		if (run_dir(corpus, false) < 0 || run_dir(crashes, true) < 0)
			rc = 1;
		before = n_run;
		if (before == 0) {
			fprintf(stderr, "replay: %s: no input to replay\n", corpus);
			rc = 1;
		}
		free(corpus);
		free(crashes);
	}
	printf("replay %s: %zu inputs, %s\n", fuzz_target_name, n_run, rc ? "FAILED" : "ok");
	return rc;
}
