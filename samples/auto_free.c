/*
 * auto_free.c: automatic freeing in C, with the compiler's cleanup
 * attribute (MW_AUTO_FREE). Two Points are malloc'ed in a scope and
 * never freed by hand: when the scope ends, mw_auto_free frees each,
 * the last declared first. The proof: two mallocs of the same size
 * right after the scope get those very two blocks back (malloc's
 * per-thread cache hands out the last freed first), and under
 * valgrind nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>

#include <memwalk.h>

struct point {
	int	x, y;
};

int
main(void)
{
	void	*warm = malloc(64);
	void	*q1, *q2;

	p_mem("warm-up", warm);		/* the probe's own allocations */
	free(warm);
	{
		MW_AUTO_FREE struct point *p1 = malloc(sizeof(*p1));
		MW_AUTO_FREE struct point *p2 = malloc(sizeof(*p2));

		if (p1 == NULL || p2 == NULL)
			return 1;
		p_mem("P1", p1);
		p_mem("P2", p2);
	}	/* mw_auto_free(&p2), then mw_auto_free(&p1) */
	q1 = malloc(sizeof(struct point));
	q2 = malloc(sizeof(struct point));
	p_mem("after, Q1", q1);
	p_mem("after, Q2", q2);
	free(q1);
	free(q2);
	return 0;
}
