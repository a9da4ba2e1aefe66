/*
 * run.c: the paired benchmark of memwalk against its peers.
 *
 * usage: run [-m memwalk] [-b baseline] [-t many_maps] [-p python]
 *            [-n mappings] [-s mappings] [-r rounds] [-w warmup]
 *            [-N points] [-G threads]
 *            [maps | smaps | py | stack | all | scale-maps | scale-threads]
 *
 *   maps   (the default) memwalk PID and where against cat and pmap, on
 *          many_maps with -n mappings; with -b, the same of a baseline
 *          build in the same rounds (mode_maps.c, mode_py.c)
 *   smaps  memwalk -x against pmap -X and cat smaps, and memwalk -x
 *          --totals against cat smaps_rollup, on two many_maps at once,
 *          -s and -n mappings (mode_smaps.c)
 *   py     memwalk py and where on a live python (mode_py.c)
 *   stack  memwalk stack against eu-stack and gdb, on stack_target as is
 *          and with -n more mappings (mode_stack.c)
 *   all    the four, one after the other
 *   scale-maps     memwalk PID and -x, cat maps and smaps, pmap and pmap
 *          -X against the number of mappings: many_maps of each size of
 *          -N (default 1000,2000,5000,10000,20000,40000,60000 pages)
 *   scale-threads  memwalk stack, eu-stack and gdb against the number of
 *          threads: stack_target --threads N for each N of -N (default
 *          1,10,100,1000), gdb only up to -G threads (default 1000)
 *          (mode_scale.c)
 *
 * Every mode starts its targets, checks that each command's output is
 * right before it times anything, then times, round by round, each
 * command once, in turn, the order shuffled each round (a fixed seed), so
 * that drift of the machine (frequency, cache, other load) falls on all
 * commands alike (harness.c). It prints, as markdown tables, per command
 * the median, min and p90 in ms; ratios of medians with the median of
 * the per-round ratios beside them (the paired figure); and the goals,
 * their verdicts on the per-round figure. No goal is a test: this only
 * reports.
 *
 * memwalk is -m, else $MEMWALK, else ../build/src/memwalk from the
 * directory of this program; many_maps is -t, else the one beside it;
 * stack_target the one beside it; python is -p, else python3 on PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The directory of this program, for its default neighbours. */
static char *
self_dir(void)
{
	char	buf[PATH_MAX], *slash;
	ssize_t	len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (len <= 0)
		return xstrdup(".");
	buf[len] = '\0';
	if ((slash = strrchr(buf, '/')) != NULL)
		*slash = '\0';
	return xstrdup(buf);
}

static long
num_arg(int opt, const char *s, long lo, long hi)
{
	char	*e;
	long	 v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (errno != 0 || *e != '\0' || v < lo || v > hi)
		die("-%c %s: a number from %ld to %ld is needed", opt, s, lo,
		    hi);
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: run [-m memwalk] [-b baseline] [-t many_maps] "
	    "[-p python]\n"
	    "           [-n mappings] [-s mappings] [-r rounds] [-w warmup]\n"
	    "           [-N points] [-G threads]\n"
	    "           [maps | smaps | py | stack | all | scale-maps | "
	    "scale-threads]\n");
	exit(2);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	int	opt;

	while ((opt = getopt(argc, argv, "m:b:t:p:n:s:r:w:N:G:h")) != -1) {
		switch (opt) {
		case 'm':
			o->memwalk = optarg;
			break;
		case 'b':
			o->baseline = optarg;
			break;
		case 't':
			o->many_maps = optarg;
			break;
		case 'p':
			o->python = optarg;
			break;
		case 'n':
			o->n = num_arg(opt, optarg, 2, 10000000);
			break;
		case 's':
			o->n_small = num_arg(opt, optarg, 2, 10000000);
			break;
		case 'r':
			o->rounds = num_arg(opt, optarg, 1, 100000);
			break;
		case 'w':
			o->warmup = num_arg(opt, optarg, 0, 100000);
			break;
		case 'N':
			o->points = optarg;
			break;
		case 'G':
			o->gdb_max = num_arg(opt, optarg, 0, 100000);
			break;
		default:
			usage();
		}
	}
}

int
main(int argc, char **argv)
{
	struct opts	 o = { .memwalk = getenv("MEMWALK"), .python = "python3",
	    .n = 60000, .n_small = 10000, .rounds = -1, .warmup = 3,
	    .gdb_max = 1000 };
	char		*dir = self_dir();
	const char	*mode = "maps";

	parse_opts(argc, argv, &o);
	if (optind < argc)
		mode = argv[optind++];
	if (optind != argc)
		usage();
	if (o.memwalk == NULL || *o.memwalk == '\0')
		o.memwalk = xasprintf("%s/../build/src/memwalk", dir);
	if (o.many_maps == NULL)
		o.many_maps = xasprintf("%s/many_maps", dir);
	o.stack_target = xasprintf("%s/stack_target", dir);
	if (access(o.memwalk, X_OK) == -1)
		die("%s: %s (build it, or give -m / MEMWALK)", o.memwalk,
		    strerror(errno));
	if (o.baseline != NULL && access(o.baseline, X_OK) == -1)
		die("%s: %s", o.baseline, strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "maps") == 0)
		return mode_maps(&o);
	if (strcmp(mode, "smaps") == 0)
		return mode_smaps(&o);
	if (strcmp(mode, "py") == 0)
		return mode_py(&o);
	if (strcmp(mode, "stack") == 0)
		return mode_stack(&o);
	if (strcmp(mode, "scale-maps") == 0)
		return mode_scale_maps(&o);
	if (strcmp(mode, "scale-threads") == 0)
		return mode_scale_threads(&o);
	if (strcmp(mode, "all") == 0) {
		mode_maps(&o);
		printf("\n");
		mode_smaps(&o);
		printf("\n");
		mode_py(&o);
		printf("\n");
		return mode_stack(&o);
	}
	usage();
}
