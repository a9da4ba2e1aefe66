/*
 * cmd_watch.c: `memwalk watch [--interval S] [--count N] PID`, the growth
 * of a live process, one line per interval, like vmstat(8).
 *
 * Each sample reads the smaps of the process once (mw_proc_open with
 * MW_PROC_SMAPS), sums Rss per kind, and prints the time since the
 * first sample, the total Rss, its change since the sample before and
 * the kinds whose Rss changed, largest change first:
 *
 *       TIME       RSS     DELTA  BY KIND
 *       0.0s      1.5M         0
 *       1.0s      1.6M     +100K  heap +100K
 *
 * A sample of a huge process takes a while: on a terminal, stderr shows
 * how far its read has got (progress.c), erased before the line prints.
 * With --json, one JSON object per line. When the process exits the
 * watch ends with a last line saying so, and exit status 0; the first
 * sample failing is an error like any other command's.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct sample {
	double		 t;
	uint64_t	 rss;
	uint64_t	 kind[MW_KIND_COUNT];
};

static double
now_seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One sample; -1 with errno when the process cannot be read (gone). */
static int
take(pid_t pid, struct sample *s)
{
	struct mw_proc		*p;
	const struct mw_region	*v;
	const struct mw_smaps	*sm;
	size_t			 n;

	progress_start("reading smaps");
	p = mw_proc_open_each(pid, MW_PROC_SMAPS, progress_region, NULL);
	progress_end();
	if (p == NULL)
		return -1;
	memset(s, 0, sizeof(*s));
	s->t = now_seconds();
	v = mw_maps_regions(mw_proc_maps(p), &n);
	for (size_t i = 0; i < n; i++)
		if ((sm = mw_maps_smaps(mw_proc_maps(p), &v[i])) != NULL) {
			s->kind[v[i].kind] += sm->rss;
			s->rss += sm->rss;
		}
	mw_proc_close(p);
	if (n == 0) {
		errno = ESRCH;	/* a zombie now */
		return -1;
	}
	return 0;
}

/* The kinds whose Rss moved, by the size of the move. */
static size_t
moved_kinds(const struct sample *a, const struct sample *b, int *order)
{
	size_t	n = 0;

	for (int k = 0; k < MW_KIND_COUNT; k++)
		if (a->kind[k] != b->kind[k])
			order[n++] = k;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			int64_t	dj = (int64_t)(b->kind[order[j]] -
				    a->kind[order[j]]);
			int64_t	dp = (int64_t)(b->kind[order[j - 1]] -
				    a->kind[order[j - 1]]);
			int	tmp;

			if (llabs(dj) <= llabs(dp))
				break;
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	return n;
}

static void
text_line(const struct sample *first, const struct sample *prev,
    const struct sample *s)
{
	char	buf[32], size[8];
	int	order[MW_KIND_COUNT];
	size_t	n = moved_kinds(prev, s, order);

	snprintf(buf, sizeof(buf), "%9.1fs", s->t - first->t);
	out_str(buf);
	size_text(s->rss, size);
	out_pad(10 - strlen(size));
	out_str(size);
	out_signed_size((int64_t)(s->rss - prev->rss), 10);
	for (size_t i = 0; i < n; i++) {
		out_str("  ");
		out_kind((enum mw_kind)order[i]);
		out_char(' ');
		out_signed_size((int64_t)(s->kind[order[i]] -
		    prev->kind[order[i]]), 0);
	}
	out_char('\n');
}

static void
json_line(pid_t pid, const struct sample *first, const struct sample *prev,
    const struct sample *s)
{
	char	buf[32];
	bool	any = false;

	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	snprintf(buf, sizeof(buf), "%.3f", s->t - first->t);
	out_str(", \"t\": ");
	out_str(buf);
	out_str(", \"rss\": ");
	out_dec(s->rss);
	out_str(", \"kinds\": {");
	for (int k = 0; k < MW_KIND_COUNT; k++) {
		if (s->kind[k] == 0 && prev->kind[k] == 0)
			continue;
		out_str(any ? ", \"" : "\"");
		any = true;
		out_str(mw_kind_name((enum mw_kind)k));
		out_str("\": {\"rss\": ");
		out_dec(s->kind[k]);
		out_str(", \"delta\": ");
		if (s->kind[k] >= prev->kind[k])
			out_dec(s->kind[k] - prev->kind[k]);
		else {
			out_char('-');
			out_dec(prev->kind[k] - s->kind[k]);
		}
		out_char('}');
	}
	out_str("}}\n");
}

static void
nap(double seconds)
{
	struct timespec	ts = { (time_t)seconds,
	    (long)((seconds - floor(seconds)) * 1e9) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

int
cmd_watch(const struct options *o, int argc, char **argv)
{
	struct sample	first, prev, s;
	pid_t		pid;
	int		rc;

	if (argc != 1) {
		warnx(argc == 0 ? "watch: a PID or process name is needed" :
		    "watch: one PID or process name at a time");
		return EXIT_USAGE;
	}
	if ((rc = target_resolve(argv[0], &pid)) != 0 ||
	    (rc = target_check_process(pid)) != 0)
		return rc;
	if (take(pid, &first) == -1)
		return target_fail(pid, errno, "smaps");
	prev = first;
	if (!o->json) {
		target_print_head(pid);
		out_heading("     TIME       RSS     DELTA  BY KIND\n");
	}
	for (long i = 0; o->count == 0 || i < o->count; i++) {
		if (i > 0) {
			out_flush();
			nap(o->interval > 0 ? o->interval : 1.0);
			/* a sample of another process under the PID is none */
			if (take(pid, &s) == -1 || target_replaced(&pid)) {
				target_forget();
				if (!o->json) {
					out_str("(process ");
					out_dec((uint64_t)pid);
					out_str(" exited)\n");
				}
				return 0;
			}
		} else
			s = first;
		if (o->json)
			json_line(pid, &first, &prev, &s);
		else
			text_line(&first, &prev, &s);
		prev = s;
	}
	return 0;
}
