/*
 * mode_smaps.c: `run smaps`, memwalk -x against pmap -X and cat smaps.
 *
 * Two targets at once, many_maps with the small size (-s, 10,000) and
 * with the large one (-n, 60,000), so that both sizes are timed in the
 * same rounds. Per target, one run each per round:
 *
 *   memwalk -x PID                  /proc/PID/smaps read once, figures
 *                                   per region and per kind
 *   pmap -X PID                     procps, the same figures
 *   cat /proc/PID/smaps             the kernel's text, the floor
 *   memwalk -x --totals PID         smaps_rollup only
 *   cat /proc/PID/smaps_rollup      its floor
 *
 * and once per round memwalk -V and true, the start-up floors:
 *
 *   cmds[size * PER + S_X .. S_ROLL], size 0 small, 1 large; then
 *   cmds[C_VERSION], cmds[C_TRUE]
 *
 * Checks before timing, per target: smaps has one region per line of
 * maps; memwalk -x prints one row per region; the total RSS of
 * `memwalk -x --json` equals the rollup's of `memwalk -x --totals
 * --json` and the kernel's smaps_rollup (the target is idle, blocked
 * in read(2)); pmap -X lists every mapping. Goals (per round): memwalk
 * -x at least 10x faster than pmap -X, within 1.3x of cat smaps.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { S_X, S_PMAPX, S_CAT, S_TOT, S_ROLL, PER };
enum { NSIZE = 2, C_VERSION = NSIZE * PER, C_TRUE, NCMD };

struct size {
	long		 n;		/* pages asked for */
	char		*pid, *name;	/* "10,000" */
	size_t		 lines;		/* of its maps */
	uint64_t	 rss;		/* bytes, the same by all three */
};

static void
set_cmds(struct cmd *c, const char *memwalk, const struct size *z)
{
	char	*mw = (char *)memwalk, *pid = z->pid;

	c[S_X] = (struct cmd){ xasprintf("memwalk -x PID (%s)", z->name),
	    { mw, "-x", pid, NULL }, false, NULL };
	c[S_PMAPX] = (struct cmd){ xasprintf("pmap -X PID (%s)", z->name),
	    { "pmap", "-X", pid, NULL }, true, NULL };
	c[S_CAT] = (struct cmd){ xasprintf("cat /proc/PID/smaps (%s)",
	    z->name), { "cat", xasprintf("/proc/%s/smaps", pid), NULL }, true,
	    NULL };
	c[S_TOT] = (struct cmd){ xasprintf("memwalk -x --totals PID (%s)",
	    z->name), { mw, "-x", "--totals", pid, NULL }, false, NULL };
	c[S_ROLL] = (struct cmd){ xasprintf("cat /proc/PID/smaps_rollup (%s)",
	    z->name), { "cat", xasprintf("/proc/%s/smaps_rollup", pid), NULL },
	    true, NULL };
}

/* The number after "key": that follows anchor in s; -1 when none. */
static int64_t
json_number(const char *s, const char *anchor, const char *key)
{
	const char	*p = strstr(s, anchor);
	char		*k = xasprintf("\"%s\": ", key);
	int64_t		 v = -1;

	if (p != NULL && (p = strstr(p, k)) != NULL)
		v = strtoll(p + strlen(k), NULL, 10);
	free(k);
	return v;
}

/* The kernel's rollup Rss, in bytes. */
static int64_t
rollup_rss(const char *pid)
{
	char	*path = xasprintf("/proc/%s/smaps_rollup", pid);
	char	*text = slurp_path(path, NULL), *p;
	int64_t	 v = -1;

	if ((p = strstr(text, "\nRss:")) != NULL)
		v = strtoll(p + 5, NULL, 10) * 1024;
	free(text);
	free(path);
	return v;
}

static void
check_rss(struct size *z, const char *memwalk)
{
	struct cmd	 x = { "memwalk -x --json", { (char *)memwalk, "-x",
	    "--json", z->pid, NULL }, false, NULL };
	struct cmd	 t = { "memwalk -x --totals --json", { (char *)memwalk,
	    "-x", "--totals", "--json", z->pid, NULL }, false, NULL };
	char		*xo = capture(&x), *to = capture(&t);
	int64_t		 sum = json_number(xo, "\"total\": {", "rss");
	int64_t		 roll = json_number(to, "\"rollup\": {", "rss");
	int64_t		 kern = rollup_rss(z->pid);

	if (sum <= 0 || roll <= 0 || kern <= 0)
		die("no total RSS in `memwalk -x --json %s` (%" PRId64 "), "
		    "`... --totals` (%" PRId64 ") or smaps_rollup (%" PRId64
		    ")", z->pid, sum, roll, kern);
	if (sum != roll || roll != kern)
		die("target %s: memwalk -x's total RSS %" PRId64 ", its "
		    "rollup's %" PRId64 ", smaps_rollup's %" PRId64, z->pid,
		    sum, roll, kern);
	z->rss = (uint64_t)sum;
	free(xo);
	free(to);
}

/* Rows and regions: maps lines = smaps regions = memwalk -x rows. */
static void
check_rows(struct size *z, const struct cmd *c)
{
	char	*path = xasprintf("/proc/%s/maps", z->pid);
	char	*maps = slurp_path(path, NULL), *out;
	size_t	 n;

	z->lines = count_char(maps, '\n');
	if (z->lines < (size_t)z->n)
		die("%s has %zu lines, fewer than the %ld pages", path,
		    z->lines, z->n);
	out = capture(&c[S_CAT]);
	if ((n = count_rows(out)) != z->lines)
		die("smaps has %zu regions, maps %zu lines", n, z->lines);
	free(out);
	out = capture(&c[S_X]);
	if ((n = count_rows(out)) != z->lines)
		die("`%s` printed %zu rows for %zu regions", c[S_X].label, n,
		    z->lines);
	free(out);
	out = capture(&c[S_PMAPX]);
	if ((n = count_char(out, '\n')) < z->lines)
		die("pmap -X printed %zu lines for %zu mappings", n, z->lines);
	free(out);
	run_once(&c[S_TOT]);
	run_once(&c[S_ROLL]);
	free(maps);
	free(path);
}

static void
print_size_ratios(const struct cmd *cmds, const struct stats *st,
    long rounds, const struct size *zs)
{
	struct ratio	 rs[NSIZE * 5 + 1];
	int		 k = 0;

	for (int s = 0; s < NSIZE; s++) {
		int	b = s * PER;

		rs[k++] = (struct ratio){ xasprintf("memwalk -x / cat smaps "
		    "(%s)", zs[s].name), b + S_X, b + S_CAT, false };
		rs[k++] = (struct ratio){ xasprintf("pmap -X / memwalk -x "
		    "(%s)", zs[s].name), b + S_PMAPX, b + S_X, false };
		rs[k++] = (struct ratio){ xasprintf("memwalk -x --totals / "
		    "cat smaps_rollup (%s)", zs[s].name), b + S_TOT, b + S_ROLL,
		    false };
		rs[k++] = (struct ratio){ xasprintf("memwalk -x --totals - "
		    "cat smaps_rollup (%s)", zs[s].name), b + S_TOT, b + S_ROLL,
		    true };
		rs[k++] = (struct ratio){ xasprintf("memwalk -x - cat smaps "
		    "(%s)", zs[s].name), b + S_X, b + S_CAT, true };
	}
	rs[k++] = (struct ratio){ "memwalk -V - true", C_VERSION, C_TRUE,
	    true };
	print_ratios(cmds, st, rounds, rs, k);
}

static void
print_goals(const struct cmd *cmds, const struct stats *st, long rounds,
    const struct size *zs)
{
	printf("\n| goal | per round | of medians | verdict (per round) |\n");
	printf("|---|---:|---:|---|\n");
	for (int s = 0; s < NSIZE; s++) {
		int		b = s * PER;
		struct ratio	pm = { "", b + S_PMAPX, b + S_X, false };
		struct ratio	ct = { "", b + S_X, b + S_CAT, false };
		double		pr = ratio_rounds(cmds, rounds, &pm);
		double		cr = ratio_rounds(cmds, rounds, &ct);

		printf("| memwalk -x at least 10x faster than pmap -X (%s) "
		    "| %.2fx | %.2fx | %s (%.0f%% of the goal) |\n", zs[s].name,
		    pr, ratio_medians(st, &pm), verdict(pr >= 10), pr / 10 *
		    100);
		printf("| memwalk -x within 1.3x of cat smaps (%s) | %.2fx | "
		    "%.2fx | %s (%s by %.0f%%) |\n", zs[s].name, cr,
		    ratio_medians(st, &ct), verdict(cr <= 1.3), cr <= 1.3 ?
		    "under the limit" : "over the limit", (cr > 1.3 ? cr / 1.3
		    - 1 : 1 - cr / 1.3) * 100);
	}
	for (int s = 0; s < NSIZE; s++) {
		int		b = s * PER;
		struct ratio	pm = { "", b + S_PMAPX, b + S_X, false };
		struct ratio	ct = { "", b + S_X, b + S_CAT, false };
		struct ratio	ro = { "", b + S_TOT, b + S_ROLL, false };

		data_goal(xasprintf("`memwalk -x PID` at least 10x faster than "
		    "`pmap -X PID` (%s mappings)", zs[s].name),
		    ratio_rounds(cmds, rounds, &pm), "x", ">=", 10,
		    "per-round ratio pmap -X / memwalk -x", "of medians %.2fx",
		    ratio_medians(st, &pm));
		data_goal(xasprintf("`memwalk -x PID` within 1.3x of `cat "
		    "/proc/PID/smaps` (%s mappings)", zs[s].name),
		    ratio_rounds(cmds, rounds, &ct), "x", "<=", 1.3,
		    "per-round ratio", "of medians %.2fx",
		    ratio_medians(st, &ct));
		data_goal(xasprintf("`memwalk -x --totals PID` within 1.3x of "
		    "`cat /proc/PID/smaps_rollup` (%s mappings; the cat goal, "
		    "applied to the rollup)", zs[s].name),
		    ratio_rounds(cmds, rounds, &ro), "x", "<=", 1.3,
		    "per-round ratio", "of medians %.2fx",
		    ratio_medians(st, &ro));
	}
}

int
mode_smaps(const struct opts *all)
{
	struct opts	 own = *all, *o = &own;
	struct cmd	 cmds[NCMD];
	struct stats	 st[NCMD];
	struct size	 zs[NSIZE];
	long		 rounds = o->rounds < 0 ? 30 : o->rounds, pg;
	uint64_t	 base;

	own.baseline = NULL;		/* -b has no command here */
	data_mode("smaps");
	zs[0].n = o->n_small;
	zs[1].n = o->n;
	for (int s = 0; s < NSIZE; s++) {
		struct target	*t = many_maps_start(o->many_maps, zs[s].n,
		    &base, &pg);

		zs[s].pid = xasprintf("%ld", (long)t->pid);
		zs[s].name = grouped(zs[s].n);
		set_cmds(&cmds[s * PER], o->memwalk, &zs[s]);
	}
	cmds[C_VERSION] = (struct cmd){ "memwalk -V",
	    { (char *)o->memwalk, "-V", NULL }, false, NULL };
	cmds[C_TRUE] = (struct cmd){ "true", { "true", NULL }, true, NULL };

	/* Checks, so that no timing is of a broken run. */
	for (int s = 0; s < NSIZE; s++) {
		check_rows(&zs[s], &cmds[s * PER]);
		check_rss(&zs[s], o->memwalk);
	}

	printf("## smaps\n\n");
	for (int s = 0; s < NSIZE; s++)
		printf("target (%s): pid %s, %zu mappings, RSS %" PRIu64
		    " bytes\n", zs[s].name, zs[s].pid, zs[s].lines, zs[s].rss);
	printf("checks: per target, smaps regions = maps lines = memwalk -x "
	    "rows; total RSS of memwalk -x = memwalk -x --totals (rollup) = "
	    "smaps_rollup; pmap -X lists all\n");
	print_header(o, rounds, o->warmup, NCMD);
	run_rounds(cmds, NCMD, rounds, o->warmup);
	targets_stop();
	print_loadavg("after");
	putchar('\n');
	print_times(cmds, NCMD, rounds, st);
	print_size_ratios(cmds, st, rounds, zs);
	print_goals(cmds, st, rounds, zs);
	return 0;
}
