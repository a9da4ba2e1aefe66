/*
 * recursion.c: the article's recursion, in C, seen with the frame
 * probe (p_frame: the frame's stack pointer, kind, size and function).
 * Each level of the factorial (n * fact(n - 1): the multiplication
 * waits for the call) has a frame of its own, each below the one
 * before by the frame's size. The tail-recursive factorial, built with
 * sibling calls (GCC does at -O2), turns the recursion into a jump:
 * every level prints the same frame.
 *
 * The labels live off the stack: a local whose address escapes to a
 * function the callee could reach forbids the compiler to reuse the
 * frame (with a local label array, fact_tail gets a frame per level).
 */
#include <stdio.h>

#include <memwalk.h>

#define LEVELS	8

static char	label[32];

/* The asm keeps the multiplication after the call: no tail call. */
static long __attribute__((noinline))
fact(long n)
{
	long	r;

	snprintf(label, sizeof(label), "fact_%ld", n);
	p_frame(label);
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
	snprintf(label, sizeof(label), "tail_%ld", n);
	p_frame(label);
	if (n <= 1)
		return acc;
	return fact_tail(n - 1, acc * n);
}

int
main(void)
{
	printf("fact(%d) = %ld\n", LEVELS, fact(LEVELS));
	printf("fact_tail(%d) = %ld\n", LEVELS, fact_tail(LEVELS, 1));
	p_frames("main");
	return 0;
}
