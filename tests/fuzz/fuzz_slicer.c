/*
 * fuzz_slicer.c - hostile answers of Slicer's GET /nodes through
 * slicer_map_parse(), and a lookup of every address the map holds.
 *
 * Input: the body, as the poller hands it over.  Invariants: a refusal
 * says why; an accepted map has at most SLICER_MAX_NODES VMs, each with
 * a name of 1..SLICER_MAX_STR bytes and no control byte, at most
 * SLICER_MAX_TAGS tags of at most SLICER_MAX_STR bytes, no two VMs with
 * one address, and slicer_map_find() finds each VM at its own address.
 *
 * Fuzzing for real (-Dfuzzing=true build):
 *   build/tests/fuzz_slicer -max_len=4096 DIR
 * with DIR a copy of tests/fuzz/corpus/slicer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slicer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > SLICER_MAX_STR)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1), err[256] = "";
	struct slicer_map *m;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	m = slicer_map_parse(body, size, err, sizeof(err));
	if (m == NULL) {
		if (err[0] == '\0')
			abort();
	} else {
		size_t i, j, n = slicer_map_size(m);

		if (n > SLICER_MAX_NODES)
			abort();
		for (i = 0; i < n; i++) {
			const struct slicer_vm *vm = slicer_map_vm(m, i);

			check_str(vm->name);
			if (vm->group != NULL)
				check_str(vm->group);
			if (vm->ntags > SLICER_MAX_TAGS)
				abort();
			for (j = 0; j < vm->ntags; j++)
				if (strlen(vm->tags[j]) > SLICER_MAX_STR)
					abort();
			if (slicer_map_find(m, &vm->addr) != vm)
				abort();
		}
	}
	slicer_map_free(m);
	free(body);
	return 0;
}
