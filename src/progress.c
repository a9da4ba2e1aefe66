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
 * A signal that ends memwalk while the line is up (^C ends a watch) has
 * it erased first: from progress_start to progress_end, SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT are caught, the line erased, their old action put
 * back and the signal raised again.
 *
 * Cheap: the clock (the vDSO's coarse one) is read once per 64 regions,
 * the line drawn at the first look and then at most ten times a second:
 * a read of a few thousand regions writes it and erases it at once, two
 * writes, and one of a huge process shows the count moving.
 *
 *   what     the read's name, NULL when off (no terminal, or no read)
 *   regions  told of so far (a torn map, sorted, starts again at 0)
 *   next     when the line may be drawn next (CLOCK_MONOTONIC_COARSE)
 *   shown    columns the line takes on the terminal now; 0: none (set
 *            before the line is written, so that a signal erases it)
 *   old      the signals' actions before progress_start
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_EVERY	64	/* regions between looks at the clock */
#define PROGRESS_PERIOD	0.1	/* seconds between two drawings */

static const int	 signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIGNALS	(sizeof(signals) / sizeof(signals[0]))

static const char	*what;
static size_t		 regions;
static double		 next;
static volatile sig_atomic_t shown;
static struct sigaction	 old[NSIGNALS];

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

/* The line, if drawn, erased: async-signal-safe. */
static void
erase(void)
{
	static const char	blank[] = "                                ";
	size_t			n = (size_t)shown;

	if (n == 0)
		return;
	put_err("\r", 1);
	for (; n > 0; n -= n < sizeof(blank) - 1 ? n : sizeof(blank) - 1)
		put_err(blank, n < sizeof(blank) - 1 ? n : sizeof(blank) - 1);
	put_err("\r", 1);
	shown = 0;
}

static void
on_signal(int sig)
{
	int	saved = errno;

	erase();
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(signals[i], &old[i], NULL);
	raise(sig);	/* delivered once this handler returns */
	errno = saved;
}

/* A read named w starts: drawn at its 64th region, if it has one. */
void
progress_start(const char *w)
{
	struct sigaction	sa;

	what = isatty(STDERR_FILENO) ? w : NULL;
	regions = 0;
	next = 0;
	shown = 0;
	if (what == NULL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaddset(&sa.sa_mask, signals[i]);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(signals[i], &sa, &old[i]);
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
	while ((size_t)n - 1 < (size_t)shown && (size_t)n < sizeof(line) - 1)
		line[n++] = ' ';
	if ((size_t)n - 1 > (size_t)shown)
		shown = (sig_atomic_t)(n - 1);
	put_err(line, (size_t)n);
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

/* The read is over: the line, if drawn, is erased, the signals let be. */
void
progress_end(void)
{
	if (what == NULL)
		return;
	erase();
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(signals[i], &old[i], NULL);
	what = NULL;
}
