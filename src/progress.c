/*
 * progress.c: how far a long read has got, for a person at a terminal.
 *
 *   memwalk: reading smaps... 12000 regions
 *
 * on stderr, drawn over itself (\r), and erased (spaces, \r) when the
 * read ends, before anything else is printed: the answer on stdout, or
 * a warning. Only when stderr is a terminal: a pipe, a file or
 * /dev/null gets nothing, so that scripts and logs see what they saw
 * before. A read is counted by the regions mw_proc_open_each tells of
 * (progress_region is its fn).
 *
 * Cheap: the clock (the vDSO's coarse one) is read once per 64 regions,
 * the line drawn at the first look and then at most ten times a second:
 * a read of a few thousand regions writes it and erases it at once, two
 * writes, and one of a huge process shows the count moving.
 *
 *   what     the read's name, NULL when off (no terminal, or no read)
 *   regions  told of so far (a torn map, sorted, starts again at 0)
 *   next     when the line may be drawn next (CLOCK_MONOTONIC_COARSE)
 *   shown    columns the line takes on the terminal now; 0: none
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_EVERY	64	/* regions between looks at the clock */
#define PROGRESS_PERIOD	0.1	/* seconds between two drawings */

static const char	*what;
static size_t		 regions;
static double		 next;
static size_t		 shown;

static double
coarse_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bytes of s to stderr; a terminal that fails is left alone. */
static void
put_err(const char *s, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(STDERR_FILENO, s, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* A read named w starts: drawn at its 64th region, if it has one. */
void
progress_start(const char *w)
{
	what = isatty(STDERR_FILENO) ? w : NULL;
	regions = 0;
	next = 0;
	shown = 0;
}

static void
draw(void)
{
	char	line[160];
	int	n;

	n = snprintf(line, sizeof(line), "\r%s: %s... %zu regions",
	    program_invocation_short_name, what, regions);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	/* Shorter than the line before (a torn map read again): cover it. */
	while ((size_t)n - 1 < shown && (size_t)n < sizeof(line) - 1)
		line[n++] = ' ';
	put_err(line, (size_t)n);
	shown = (size_t)n - 1;
}

/* An mw_region_fn: one more region read (NULL: all are told again). */
void
progress_region(void *ctx, const struct mw_region *r)
{
	double	t;

	(void)ctx;
	if (what == NULL)
		return;
	if (r == NULL) {
		regions = 0;
		return;
	}
	if (++regions % PROGRESS_EVERY != 0 || (t = coarse_now()) < next)
		return;
	next = t + PROGRESS_PERIOD;
	draw();
}

/* The read is over: the line, if drawn, is erased. */
void
progress_end(void)
{
	char	blank[160];

	if (shown > 0) {
		blank[0] = '\r';
		memset(blank + 1, ' ', shown);
		blank[shown + 1] = '\r';
		put_err(blank, shown + 2);
	}
	what = NULL;
	shown = 0;
}
