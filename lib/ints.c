/*
 * ints.c: integers with a reference count, and CPython's cache of small
 * ones on the bundled allocator.
 *
 *   mw_int_from_long(v)
 *     -5 <= v <= 256  -->  &small_ints[v + 5]      one object per value,
 *                                                  for the whole process
 *     otherwise       -->  mw_malloc(16): a new object, refcnt 1
 *
 *   small_ints[262]: a static array, zero-initialised (so in the .bss of
 *   libmemwalk, or of the program that links it statically), filled once
 *   by the first call. Static storage because a cached object must live
 *   as long as the process and keep one address, as CPython's do (3.11+
 *   put theirs in _PyRuntime, in the data segment; 3.9 and 3.10 on the
 *   heap, behind an array of pointers). Not on a stack: the article that
 *   started memwalk saw a "small_ints on the stack" that was a local
 *   array of its own (samples/ shows the two side by side).
 *
 * Invariants: a cached object's refcnt is SMALL_IMMORTAL and never
 * changes (CPython 3.12's immortal objects): incref and decref leave it,
 * from any thread, without a write. Any other object's refcnt is >= 1
 * while it lives; it is freed when decref takes it to 0. Its counts are
 * atomic, so that objects may be shared between threads.
 */
#include "mwi.h"

#include <pthread.h>

#define NSMALL		(MW_INT_SMALL_MAX - MW_INT_SMALL_MIN + 1)
#define SMALL_IMMORTAL	(1L << 30)

static struct mw_int	small_ints[NSMALL];
static pthread_once_t	small_once = PTHREAD_ONCE_INIT;

_Static_assert(sizeof(struct mw_int) <= MW_ALLOC_ALIGNMENT,
    "one block of the smallest class");

static void
small_init(void)
{
	for (long v = MW_INT_SMALL_MIN; v <= MW_INT_SMALL_MAX; v++) {
		small_ints[v - MW_INT_SMALL_MIN].refcnt = SMALL_IMMORTAL;
		small_ints[v - MW_INT_SMALL_MIN].value = v;
	}
}

int
mw_int_is_cached(const struct mw_int *i)
{
	return i >= small_ints && i < small_ints + NSMALL;
}

struct mw_int *
mw_int_from_long(long value)
{
	struct mw_int	*i;

	if (value >= MW_INT_SMALL_MIN && value <= MW_INT_SMALL_MAX) {
		pthread_once(&small_once, small_init);
		return &small_ints[value - MW_INT_SMALL_MIN];
	}
	if ((i = mw_malloc(sizeof(*i))) == NULL)
		return NULL;
	i->refcnt = 1;
	i->value = value;
	return i;
}

struct mw_int *
mw_int_incref(struct mw_int *i)
{
	if (!mw_int_is_cached(i))
		__atomic_fetch_add(&i->refcnt, 1, __ATOMIC_RELAXED);
	return i;
}

void
mw_int_decref(struct mw_int *i)
{
	if (i == NULL || mw_int_is_cached(i))
		return;
	if (__atomic_sub_fetch(&i->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		mw_free(i);
}
