/*
 * scoped_blocks.c: two { } blocks one after the other. The first
 * block's variables are dead when the second starts, so the compiler
 * MAY give their stack slots to x, y, z; the frame itself does not
 * move: main's frame is laid out once, when main starts.
 *
 * Whether it does is the optimizer's choice, not the braces': the
 * article saw the slots shared at -O0; GCC 12 at -O0 gives all six
 * variables slots of their own, and at -O1 and -O2 shares them (its
 * stack-slot sharing, -fstack-reuse, works on the optimized code). The
 * test builds this sample both ways and checks both.
 */
#include <memwalk.h>

int
main(void)
{
	{
		int a = 12, b = 24, c = 48;

		p_mem("a", &a);
		p_mem("b", &b);
		p_mem("c", &c);
		p_diff("b-a", &a, &b);
		p_diff("c-a", &a, &c);
	}
	{
		int x = 21, y = 42, z = 84;

		p_mem("x", &x);
		p_mem("y", &y);
		p_mem("z", &z);
		p_diff("y-x", &x, &y);
		p_diff("z-x", &x, &z);
	}
	return 0;
}
