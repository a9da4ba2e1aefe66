/*
 * small_ints.c: CPython's small-int cache, in C with mw_int. Equal
 * values from -5 to 256 are one object, at one address; equal values
 * outside it are two objects. The cache is a static array in
 * libmemwalk (p_mem says bss: the library's own zero-initialised data),
 * as CPython 3.11+ keeps its small ints in the static _PyRuntime (3.9
 * and 3.10: objects on the heap, from an array of pointers in the
 * interpreter state). Uncached ints come from mw_malloc.
 *
 * Why the article found "small_ints is on the stack": it printed an
 * array declared in a function of its test program, a local: shown
 * here beside the same array declared outside any function.
 */
#include <stdio.h>

#include <memwalk.h>

#define NSMALL	(MW_INT_SMALL_MAX - MW_INT_SMALL_MIN + 1)

static struct mw_int	*global_small_ints[NSMALL];

static void
pair(const char *what, long v)
{
	struct mw_int	*a = mw_int_from_long(v), *b = mw_int_from_long(v);
	char		 la[64], lb[64], ld[64];

	snprintf(la, sizeof(la), "%s %ld (a)", what, v);
	snprintf(lb, sizeof(lb), "%s %ld (b)", what, v);
	snprintf(ld, sizeof(ld), "%s %ld b-a", what, v);
	p_mem(la, a);
	p_mem(lb, b);
	p_diff(ld, a, b);
	mw_int_decref(a);
	mw_int_decref(b);
}

int
main(void)
{
	struct mw_int	*local_small_ints[NSMALL];

	pair("small", -5);
	pair("small", 42);
	pair("small", 256);
	pair("big", -6);
	pair("big", 257);
	pair("big", 1000);
	p_mem("small_ints (local array)", local_small_ints);
	p_mem("small_ints (global array)", global_small_ints);
	local_small_ints[0] = global_small_ints[0] = NULL;
	return local_small_ints[0] != NULL;
}
