/*
 * measure.c: the seed article's two small tools, in the library.
 *
 *   MW_MEASURE(label, fn)   fn() between mw_measure_begin and
 *                           mw_measure_end: "----Start [label]----",
 *                           "----End [label]----", then the processor
 *                           time (clock(3), as the article measures)
 *                           and the wall time, to the stream of the
 *                           probes (mw_probe_stream; stdout at first)
 *   MW_AUTO_FREE            __attribute__((cleanup(mw_auto_free))): a
 *                           pointer variable whose block is freed when
 *                           the variable goes out of scope
 *
 * Neither allocates; mw_auto_free of a NULL pointer does nothing, like
 * free(3).
 */
#include "mwi.h"

#include <stdlib.h>
#include <time.h>

static double
wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
mw_measure_begin(struct mw_measure *m, const char *label)
{
	FILE	*fp = mwi_probe_current();

	m->label = label;
	fprintf(fp, "----Start [%s]----\n", label);
	fflush(fp);
	m->wall = wall_now();
	m->cpu = (double)clock() / CLOCKS_PER_SEC;
}

double
mw_measure_end(struct mw_measure *m)
{
	double	cpu = (double)clock() / CLOCKS_PER_SEC - m->cpu;
	double	wall = wall_now() - m->wall;
	FILE	*fp = mwi_probe_current();

	fprintf(fp, "----End [%s]----\n", m->label);
	fprintf(fp, "----Elapsed %f (processor time, s; wall %f s)\n\n", cpu,
	    wall);
	fflush(fp);
	return cpu;
}

void
mw_auto_free(void *pointer_to_pointer)
{
	void	**pp = pointer_to_pointer;

	free(*pp);
	*pp = NULL;
}
