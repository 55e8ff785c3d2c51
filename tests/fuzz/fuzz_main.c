/*
 * fuzz_main.c - a main() for fuzz targets built without libFuzzer.
 *
 * Runs LLVMFuzzerTestOneInput() once over every file given on the command
 * line, and over every regular file in every directory given (not
 * recursive), in name order so that runs are reproducible.  Each input is
 * copied into a buffer of exactly its size so that an over-read shows
 * under ASan.  This is how `meson test --suite fuzz` replays the committed
 * corpora (and every crasher kept there) in ordinary builds; systemd's
 * fuzz-main.c does the same.  Exit status: 0, or 1 if an input could not
 * be read (a crash in the target aborts, as it should).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_MAX_INPUT	(1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL;
	long n;
	int rc = -1;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > FUZZ_MAX_INPUT || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: cannot size, or larger than %d\n", path,
		    FUZZ_MAX_INPUT);
		goto out;
	}
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: read failed\n", path);
		goto out;
	}
	printf("%s (%ld bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir)
{
	struct dirent **ents;
	struct stat st;
	char path[4096];
	int i, n, rc = 0;

	n = scandir(dir, &ents, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]->d_name) < sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path) != 0)
			rc = -1;
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, rc = 0, files = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i]) != 0;
		} else {
			rc |= run_file(argv[i]) != 0;
		}
		files++;
	}
	if (files == 0)
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
	return rc || files == 0;
}
