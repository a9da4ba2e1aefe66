/*
 * stack_vars.c: the article's first C experiment. Six locals of main,
 * printed with p_mem and p_diff: every one is on the stack, and the
 * distance between two neighbours is the size of their type (4 for an
 * int, 8 for a long). The order the compiler gives them within the
 * frame is its own choice: up here, as the article saw, is no sign
 * that the stack grows up (see nested_calls.c).
 *
 * Built at -O0, as the article was.
 */
#include <memwalk.h>

int
main(void)
{
	int	a = 12, b = 24, c = 48;
	long	x = 21, y = 42, z = 84;

	p_mem("a", &a);
	p_mem("b", &b);
	p_mem("c", &c);
	p_diff("b-a", &a, &b);
	p_diff("c-b", &b, &c);
	p_diff("c-a", &a, &c);

	p_mem("x", &x);
	p_mem("y", &y);
	p_mem("z", &z);
	p_diff("y-x", &x, &y);
	p_diff("z-y", &y, &z);
	p_diff("z-x", &x, &z);
	return 0;
}
