/*
 * util.c: allocation wrappers with fault injection, and kind names.
 *
 * Every allocation of libmemwalk goes through mwi_malloc and friends so
 * that tests can make the Nth one fail (mwi_faults.alloc_fail) and check
 * that each caller cleans up and reports ENOMEM.
 *
 * A block of MWI_POPULATE_MIN bytes or more is faulted in at once
 * (populated): the large ones are the arrays of a big map (60,000
 * regions, their labels, the text read), written whole right after.
 * MADV_POPULATE_WRITE maps their pages in one call instead of a page
 * fault each. Measured on `memwalk PID` at 60,000 mappings: 2,568 ->
 * 1,210 page faults, 45.5 -> 42.6 ms; `memwalk -x`: 3,332 -> 390
 * faults, no change in time. A kernel before 5.14 refuses the advice,
 * and the pages fault in as before.
 */
#include "mwi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MWI_POPULATE_MIN	(256 * 1024)

struct mwi_faults mwi_faults;

static bool
alloc_should_fail(void)
{
	if (mwi_faults.alloc_fail > 0 && --mwi_faults.alloc_fail == 0) {
		errno = ENOMEM;
		return true;
	}
	return false;
}

/*
 * Fault in the pages of [p, p + len), a block about to be written, when
 * it is large; p itself (or NULL) back.
 */
static void *
populated(void *p, size_t len)
{
	if (p != NULL && len >= MWI_POPULATE_MIN)
		mwi_populate(p, len);
	return p;
}

void *
mwi_malloc(size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return populated(malloc(size), size);
}

void *
mwi_calloc(size_t n, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return populated(calloc(n, size), n * size);
}

void *
mwi_reallocarray(void *p, size_t n, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	return populated(reallocarray(p, n, size), n * size);
}

static const char *const kind_names[MW_KIND_COUNT] = {
	[MW_KIND_ANON] = "anon",
	[MW_KIND_HEAP] = "heap",
	[MW_KIND_STACK] = "stack",
	[MW_KIND_VDSO] = "vdso",
	[MW_KIND_VVAR] = "vvar",
	[MW_KIND_VSYSCALL] = "vsyscall",
	[MW_KIND_TEXT] = "text",
	[MW_KIND_RODATA] = "rodata",
	[MW_KIND_DATA] = "data",
	[MW_KIND_BSS] = "bss",
	[MW_KIND_FILE] = "file",
	[MW_KIND_SHMEM] = "shmem",
	[MW_KIND_GUARD] = "guard",
	[MW_KIND_THREAD_STACK] = "thread-stack",
	[MW_KIND_GLIBC_ARENA] = "glibc-arena",
	[MW_KIND_MALLOC_MMAP] = "malloc-mmap",
	[MW_KIND_PYMALLOC_ARENA] = "pymalloc-arena",
	[MW_KIND_MEMWALK_ARENA] = "memwalk-arena",
	[MW_KIND_UNMAPPED] = "unmapped",
};

const char *
mw_kind_name(enum mw_kind kind)
{
	if ((unsigned int)kind >= MW_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

int
mw_kind_from_name(const char *name)
{
	for (int k = 0; k < MW_KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	errno = EINVAL;
	return -1;
}

char *
mw_perms_str(unsigned int perms, char buf[5])
{
	buf[0] = perms & MW_PERM_READ ? 'r' : '-';
	buf[1] = perms & MW_PERM_WRITE ? 'w' : '-';
	buf[2] = perms & MW_PERM_EXEC ? 'x' : '-';
	buf[3] = perms & MW_PERM_SHARED ? 's' : 'p';
	buf[4] = '\0';
	return buf;
}
