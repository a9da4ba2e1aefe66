/*
 * mode_maps.c: `run maps`, the annotated map against cat and pmap.
 *
 * Target: many_maps with N pages of alternating protection (N + ~24
 * mappings). Commands, one run each per round:
 *
 *   cat /proc/PID/maps                      the kernel's text, the floor
 *   memwalk PID                             the annotated map (with its
 *                                           passes over thread stacks,
 *                                           glibc arenas, CPython)
 *   pmap PID                                procps
 *   memwalk where PID ADDR                  the region by PROCMAP_QUERY,
 *                                           then the deep answer (of the
 *                                           region alone: lib/where.c)
 *   memwalk where --no-procmap-query PID ADDR   the region from the text
 *                                           (and the whole map)
 *   memwalk where PID FUNC                  the first byte of the target's
 *                                           text: section and symbol, from
 *                                           the mappings of its image
 *   memwalk -V                              memwalk's start-up, no work
 *   true                                    any process's start-up here
 *
 * With -b, the same `memwalk PID` and `memwalk where PID ADDR` of a
 * baseline build (one from before a change) join the rounds.
 *
 * ADDR is inside the target's middle page. Checks before timing: memwalk
 * prints one row per line of /proc/PID/maps, both `where` paths give the
 * same answer and name the middle page, where FUNC names a section,
 * pmap lists every mapping. Goals (verdicts on the per-round figure):
 * memwalk PID within 1.3x of cat, at least 5x faster than pmap; where
 * under 1 ms (both addresses).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum {
	C_CAT, C_MAPS, C_PMAP, C_WHERE, C_WHERE_TEXT, C_WHERE_FUNC, C_VERSION,
	C_TRUE,
	C_MAPS_BASE, C_WHERE_BASE, NCMD		/* the last two with -b */
};

static const struct ratio ratios[] = {
	{ "memwalk PID / cat", C_MAPS, C_CAT, false },
	{ "pmap / memwalk PID", C_PMAP, C_MAPS, false },
	{ "where --no-procmap-query / where", C_WHERE_TEXT, C_WHERE, false },
	{ "where - memwalk -V", C_WHERE, C_VERSION, true },
	{ "where --no-procmap-query - memwalk -V", C_WHERE_TEXT, C_VERSION,
	    true },
	{ "memwalk -V - true", C_VERSION, C_TRUE, true },
	{ "where FUNC - memwalk -V", C_WHERE_FUNC, C_VERSION, true },
	/* with -b only: */
	{ "memwalk PID / baseline memwalk PID", C_MAPS, C_MAPS_BASE, false },
	{ "baseline memwalk PID / cat", C_MAPS_BASE, C_CAT, false },
	{ "pmap / baseline memwalk PID", C_PMAP, C_MAPS_BASE, false },
	{ "where - baseline where", C_WHERE, C_WHERE_BASE, true },
	{ "baseline where - memwalk -V", C_WHERE_BASE, C_VERSION, true },
};
enum { NRATIO_ALONE = 7, NRATIO = sizeof(ratios) / sizeof(ratios[0]) };

static void
set_cmds(struct cmd *cmds, const char *memwalk, char *pid, char *addr,
    char *func, char *maps_path)
{
	char	*mw = (char *)memwalk;

	cmds[C_CAT] = (struct cmd){ "cat /proc/PID/maps",
	    { "cat", maps_path, NULL }, true, NULL };
	cmds[C_MAPS] = (struct cmd){ "memwalk PID", { mw, pid, NULL }, false,
	    NULL };
	cmds[C_PMAP] = (struct cmd){ "pmap PID", { "pmap", pid, NULL }, true,
	    NULL };
	cmds[C_WHERE] = (struct cmd){ "memwalk where PID ADDR",
	    { mw, "where", pid, addr, NULL }, false, NULL };
	cmds[C_WHERE_TEXT] = (struct cmd){
	    "memwalk where --no-procmap-query PID ADDR",
	    { mw, "where", "--no-procmap-query", pid, addr, NULL }, false,
	    NULL };
	cmds[C_WHERE_FUNC] = (struct cmd){ "memwalk where PID FUNC",
	    { mw, "where", pid, func, NULL }, false, NULL };
	cmds[C_VERSION] = (struct cmd){ "memwalk -V", { mw, "-V", NULL },
	    false, NULL };
	cmds[C_TRUE] = (struct cmd){ "true", { "true", NULL }, true, NULL };
}

/* The same two commands of another build, for a paired before/after. */
static void
set_baseline(struct cmd *cmds, const char *baseline, char *pid, char *addr)
{
	char	*mw = (char *)baseline;

	cmds[C_MAPS_BASE] = (struct cmd){ "baseline memwalk PID",
	    { mw, pid, NULL }, false, NULL };
	cmds[C_WHERE_BASE] = (struct cmd){ "baseline memwalk where PID ADDR",
	    { mw, "where", pid, addr, NULL }, false, NULL };
}

/* The start of the first executable mapping of the target itself. */
static char *
first_text(const char *maps_path)
{
	char	*maps = slurp_path(maps_path, NULL), *line, *end;

	for (line = maps; line != NULL && *line != '\0'; line = end) {
		if ((end = strchr(line, '\n')) != NULL)
			*end++ = '\0';
		if (strstr(line, " r-xp ") != NULL &&
		    strstr(line, "many_maps") != NULL) {
			*strchr(line, '-') = '\0';
			line = xasprintf("0x%s", line);
			free(maps);
			return line;
		}
	}
	die("%s: no executable mapping of many_maps", maps_path);
}

/* memwalk's rows = maps lines, with the maps unchanged around the run. */
static size_t
check_rows(const struct cmd *c, const char *maps_path, long n,
    const char *range)
{
	char	*maps = slurp_path(maps_path, NULL), *out;
	size_t	 lines = count_char(maps, '\n'), rows;

	if (lines < (size_t)n)
		die("%s has %zu lines, fewer than the %ld pages: the kernel "
		    "merged them?", maps_path, lines, n);
	if (strstr(maps, range) == NULL)
		die("the middle page %s is no mapping of its own", range);
	free(maps);
	out = capture(c);
	rows = count_rows(out);
	free(out);
	maps = slurp_path(maps_path, NULL);
	if (count_char(maps, '\n') != lines)
		die("the target's maps changed during the checks");
	free(maps);
	if (rows != lines)
		die("`%s` printed %zu rows for %zu lines of %s", c->label, rows,
		    lines, maps_path);
	return lines;
}

static void
check_where(const struct cmd *q, const struct cmd *t, const char *region)
{
	char	*out = capture(q), *out_text = capture(t);

	if (strstr(out, region) == NULL)
		die("`memwalk where` answered \"%.*s\", not the region %s",
		    (int)strcspn(out, "\n"), out, region);
	if (strcmp(out, out_text) != 0)
		die("the two `where` paths disagree:\n%s%s", out, out_text);
	free(out);
	free(out_text);
}

static void
check_pmap(const struct cmd *c, size_t lines)
{
	char	*out = capture(c);

	if (count_char(out, '\n') < lines)
		die("pmap printed %zu lines for %zu mappings",
		    count_char(out, '\n'), lines);
	free(out);
}

static void
print_goals(const struct cmd *cmds, const struct stats *st, long rounds)
{
	double	cat_m = ratio_medians(st, &ratios[0]);
	double	cat_r = ratio_rounds(cmds, rounds, &ratios[0]);
	double	pmap_m = ratio_medians(st, &ratios[1]);
	double	pmap_r = ratio_rounds(cmds, rounds, &ratios[1]);
	double	net_m = ratio_medians(st, &ratios[3]);
	double	net_r = ratio_rounds(cmds, rounds, &ratios[3]);

	printf("\n| goal | per round | of medians | verdict (per round) |\n");
	printf("|---|---:|---:|---|\n");
	printf("| memwalk PID within 1.3x of cat | %.2fx | %.2fx | %s (%s "
	    "by %.0f%%) |\n", cat_r, cat_m, verdict(cat_r <= 1.3),
	    cat_r <= 1.3 ? "under the limit" : "over the limit",
	    fabs(cat_r / 1.3 - 1) * 100);
	printf("| memwalk PID at least 5x faster than pmap | %.2fx | %.2fx "
	    "| %s (%.0f%% of the goal) |\n", pmap_r, pmap_m,
	    verdict(pmap_r >= 5), pmap_r / 5 * 100);
	printf("| where under 1 ms, whole process (median, p90) | %.3f ms, "
	    "%.3f ms | | %s |\n", st[C_WHERE].median, st[C_WHERE].p90,
	    verdict(st[C_WHERE].median < 1));
	printf("| where under 1 ms, net of start-up (-V) | %.3f ms | "
	    "%.3f ms | %s |\n", net_r, net_m, verdict(net_r < 1));
	printf("| where FUNC under 1 ms, whole process (median, p90) | "
	    "%.3f ms, %.3f ms | | %s |\n", st[C_WHERE_FUNC].median,
	    st[C_WHERE_FUNC].p90, verdict(st[C_WHERE_FUNC].median < 1));
	printf("\n(`true`, a process that does nothing, takes %.3f ms median "
	    "here: the floor of any whole-process time.)\n",
	    st[C_TRUE].median);

	data_goal("`memwalk PID` within 1.3x of `cat /proc/PID/maps`",
	    cat_r, "x", "<=", 1.3, "per-round ratio", "of medians %.2fx",
	    cat_m);
	data_goal("`memwalk PID` at least 5x faster than `pmap PID`", pmap_r,
	    "x", ">=", 5, "per-round ratio pmap / memwalk",
	    "of medians %.2fx", pmap_m);
	data_goal("`memwalk where PID ADDR` under 1 ms, whole process",
	    st[C_WHERE].median, "ms", "<", 1, "median", "p90 %.3f ms",
	    st[C_WHERE].p90);
	data_goal("`memwalk where PID ADDR` under 1 ms, net of start-up "
	    "(`memwalk -V`)", net_r, "ms", "<", 1, "per-round difference",
	    "of medians %.3f ms", net_m);
	data_goal("`memwalk where PID FUNC` under 1 ms, whole process",
	    st[C_WHERE_FUNC].median, "ms", "<", 1, "median", "p90 %.3f ms",
	    st[C_WHERE_FUNC].p90);
}

int
mode_maps(const struct opts *o)
{
	struct cmd	 cmds[NCMD];
	struct stats	 st[NCMD];
	struct target	*t;
	long		 rounds = o->rounds < 0 ? 30 : o->rounds, pg;
	uint64_t	 base, mid, addr;
	char		*pid, *addrstr, *func, *maps_path, range[64], *out;
	size_t		 lines;
	int		 ncmd = o->baseline != NULL ? NCMD : C_TRUE + 1;

	data_mode("maps");
	t = many_maps_start(o->many_maps, o->n, &base, &pg);
	mid = base + (uint64_t)(o->n / 2) * (uint64_t)pg;
	addr = mid + (uint64_t)pg / 2;
	pid = xasprintf("%ld", (long)t->pid);
	addrstr = xasprintf("0x%llx", (unsigned long long)addr);
	maps_path = xasprintf("/proc/%s/maps", pid);
	func = first_text(maps_path);
	set_cmds(cmds, o->memwalk, pid, addrstr, func, maps_path);
	if (o->baseline != NULL)
		set_baseline(cmds, o->baseline, pid, addrstr);

	/* Checks, so that no timing is of a broken run. */
	snprintf(range, sizeof(range), "%llx-%llx ", (unsigned long long)mid,
	    (unsigned long long)(mid + (uint64_t)pg));
	lines = check_rows(&cmds[C_MAPS], maps_path, o->n, range);
	if (o->baseline != NULL)
		check_rows(&cmds[C_MAPS_BASE], maps_path, o->n, range);
	range[strlen(range) - 1] = '\0';
	check_where(&cmds[C_WHERE], &cmds[C_WHERE_TEXT], range);
	if (strstr(out = capture(&cmds[C_WHERE_FUNC]), "  text  ") == NULL ||
	    strstr(out, ")  .") == NULL)
		die("`memwalk where PID FUNC` named no section: \"%s\"", out);
	free(out);
	if (o->baseline != NULL) {
		if (strstr(out = capture(&cmds[C_WHERE_BASE]), range) == NULL)
			die("the baseline's where answered \"%s\"", out);
		free(out);
	}
	check_pmap(&cmds[C_PMAP], lines);
	run_once(&cmds[C_CAT]);

	printf("## maps\n\n");
	printf("target: pid %s, %zu mappings (%ld pages of alternating "
	    "protection), ADDR %s (middle page %s), FUNC %s\n", pid, lines,
	    o->n, addrstr, range, func);
	printf("checks: memwalk rows = maps lines = %zu; both where paths "
	    "agree; pmap lists all%s\n", lines, o->baseline != NULL ?
	    "; the baseline's rows and where too" : "");
	print_header(o, rounds, o->warmup, ncmd);
	run_rounds(cmds, ncmd, rounds, o->warmup);
	targets_stop();
	print_loadavg("after");
	putchar('\n');
	print_times(cmds, ncmd, rounds, st);
	print_ratios(cmds, st, rounds, ratios, o->baseline != NULL ? NRATIO :
	    NRATIO_ALONE);
	print_goals(cmds, st, rounds);
	return 0;
}
