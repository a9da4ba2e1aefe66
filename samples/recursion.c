/*
 * recursion.c: the article's recursion, in C. Each level of the
 * factorial (n * fact(n - 1): the multiplication waits for the call)
 * has a frame of its own, each below the one before: p_mem of a local
 * of each level prints addresses going down by the frame's size. The
 * tail-recursive factorial, built with sibling calls (GCC does at -O2),
 * turns the recursion into a jump: every level prints the same frame
 * address. (It prints the frame's address, not a local's, and keeps its
 * label off the stack: a local whose address escapes to p_mem could be
 * read by the callee, and forbids the compiler to reuse the frame.)
 */
#include <stdio.h>

#include <memwalk.h>

#define LEVELS	8

/* The asm keeps the multiplication after the call: no tail call. */
static long __attribute__((noinline))
fact(long n)
{
	volatile long	local = n;
	char		label[32];
	long		r;

	snprintf(label, sizeof(label), "fact_%ld", n);
	p_mem(label, (const void *)&local);
	if (n <= 1)
		return 1;
	r = fact(n - 1);
	__asm__ volatile("" ::: "memory");
	return n * r;
}

static long __attribute__((noinline,
    optimize("O2", "optimize-sibling-calls")))
fact_tail(long n, long acc)
{
	static char	label[32];	/* not on the stack: see above */

	snprintf(label, sizeof(label), "tail_%ld", n);
	p_mem(label, __builtin_frame_address(0));
	if (n <= 1)
		return acc;
	return fact_tail(n - 1, acc * n);
}

int
main(void)
{
	printf("fact(%d) = %ld\n", LEVELS, fact(LEVELS));
	printf("fact_tail(%d) = %ld\n", LEVELS, fact_tail(LEVELS, 1));
	return 0;
}
