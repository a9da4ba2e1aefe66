/*
 * libfuzzer.c: one fuzz target (fuzz.h) as libFuzzer's entry point.
 * FUZZ_TARGET names it (fuzz.mk compiles this file once per target,
 * with -DFUZZ_TARGET=fuzz_maps and so on).
 *
 * A broken invariant is a crash: its message goes to the standard
 * error as it was when the fuzzer started (fuzz/run closes it for the
 * targets' own warnings with -close_fd_mask=2; libFuzzer keeps its
 * report on a copy, and so does this file), then abort().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET names the target: -DFUZZ_TARGET=fuzz_maps"
#endif

#define STR(x)	STR2(x)
#define STR2(x)	#x

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	report_fd = 2;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((report_fd = dup(2)) == -1)
		report_fd = 2;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*why = FUZZ_TARGET(data, size);
	char		 msg[640];
	int		 n;

	if (why == NULL)
		return 0;
	n = snprintf(msg, sizeof(msg), "%s: invariant broken: %s\n",
	    STR(FUZZ_TARGET), why);
	if (n > 0)
		(void)!write(report_fd, msg, strnlen(msg, sizeof(msg)));
	abort();
}
