/*
 * fuzz.h: the fuzz targets of memwalk (fuzz/README.md).
 *
 * A target is a function that runs one input through an entry point of
 * lib/ or src/ and checks what comes back:
 *
 *   const char *fuzz_maps(const uint8_t *data, size_t size);
 *       NULL: the answer keeps every invariant the target checks
 *       else: which one it broke (a static string, or the target's
 *             own buffer, good until the next call)
 *
 * Two callers: fuzz/libfuzzer.c wraps one target for libFuzzer (a
 * broken invariant aborts, so libFuzzer keeps the input as a crash),
 * and tests/check_fuzz.c runs every corpus file and regression fixture
 * through each target in the normal and the sanitizer builds.
 *
 * A target owns no state between calls but what it builds once (a
 * memfd, a filler text), and leaves the process as it found it: no
 * descriptor, allocation or fault hook outlives a call.
 */
#ifndef MW_FUZZ_H
#define MW_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mw_maps;

const char	*fuzz_maps(const uint8_t *data, size_t size);
const char	*fuzz_smaps(const uint8_t *data, size_t size);
const char	*fuzz_where(const uint8_t *data, size_t size);
const char	*fuzz_elfsym(const uint8_t *data, size_t size);
const char	*fuzz_snap(const uint8_t *data, size_t size);

/*
 * common.c. fuzz_thorough: every check on every input (tests/check_fuzz
 * sets it); by default the costliest checks run on some inputs only (a
 * share the input's hash decides), for libFuzzer's speed.
 */
extern bool	 fuzz_thorough;

const char	*fuzz_check_maps(const struct mw_maps *m, size_t maxregions);
const char	*fuzz_check_classified(struct mw_maps *m);
size_t		 fuzz_lines(const uint8_t *data, size_t size);
uint64_t	 fuzz_hash(const uint8_t *data, size_t size);
int		 fuzz_memfd(const char *name);
int		 fuzz_memfd_set(int fd, const void *data, size_t size);
const char	*fuzz_why(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#endif
