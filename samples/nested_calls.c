/*
 * nested_calls.c: stack_frame1 calls stack_frame2. The callee's local
 * sits below its caller's: each call pushes a new frame at lower
 * addresses, the stack grows down. p_diff prints the distance from
 * the caller's local to the callee's: negative; p_frames, from inside
 * the callee, the frames themselves, innermost first, going up.
 */
#include <memwalk.h>

static const int *caller_local;

static void __attribute__((noinline))
stack_frame2(void)
{
	volatile int	b = 2;

	p_mem("b", (const void *)&b);
	p_diff("callee-caller", caller_local, (const void *)&b);
	p_frames("frames");
}

static void __attribute__((noinline))
stack_frame1(void)
{
	volatile int	a = 1;

	p_mem("a", (const void *)&a);
	caller_local = (const int *)&a;
	stack_frame2();
	__asm__ volatile("" ::: "memory");	/* no tail call */
}

int
main(void)
{
	stack_frame1();
	return 0;
}
