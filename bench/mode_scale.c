/*
 * mode_scale.c: the scaling curves, `run scale-maps` and `run
 * scale-threads`; bench/plot.py draws them from the `scale` lines of
 * $BENCH_DATA (harness.h).
 *
 * scale-maps: for each size N of -N (default 1000,2000,5000,10000,20000,
 * 40000,60000 pages), a many_maps of N pages (N + ~24 mappings), and in
 * its own rounds, one run each per round:
 *
 *   cat /proc/PID/maps     memwalk PID     pmap PID
 *   cat /proc/PID/smaps    memwalk -x PID  pmap -X PID
 *
 * Checks per size: memwalk prints one row per maps line, memwalk -x one
 * per smaps region, pmap and pmap -X a line per mapping at least.
 *
 * scale-threads: for each count N of -N (default 1,10,100,1000), a
 * stack_target --threads N --chain 5 (N + 1 threads, each parked in
 * read(2) under the same chain as `run stack`), and in its own rounds:
 *
 *   memwalk stack PID   eu-stack -p PID   gdb -batch -p PID -ex 'thread
 *                                         apply all bt' (N <= -G only)
 *
 * Checks per count, once all N + 1 threads sleep in read(2): each
 * command names chain_c in all of them.
 *
 * Sizes run one after the other, each with -w warm-up and -r timed
 * rounds (default 10), the order shuffled each round, so the ratios at
 * one size are paired; across sizes they are not (nor need they be: a
 * curve's shape is what they show). Tables: medians (ms) per size, then
 * per-round ratios per size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_POINTS	16

/* "1000,2000" -> values; at most MAX_POINTS, each in lo..hi. */
static int
parse_points(const char *s, long *v, long lo, long hi)
{
	char	*dup = xstrdup(s), *tok, *save = NULL, *e;
	int	 n = 0;

	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_POINTS)
			die("-N %s: at most %d points", s, MAX_POINTS);
		errno = 0;
		v[n] = strtol(tok, &e, 10);
		if (errno != 0 || *e != '\0' || v[n] < lo || v[n] > hi)
			die("-N %s: %s is no number from %ld to %ld", s, tok,
			    lo, hi);
		n++;
	}
	free(dup);
	if (n == 0)
		die("-N %s: no points", s);
	return n;
}

/* 60000 -> "60k", 1500 -> "1500", 10 -> "10" */
static char *
short_num(long v)
{
	if (v >= 1000 && v % 1000 == 0)
		return xasprintf("%ldk", v / 1000);
	return xasprintf("%ld", v);
}

static size_t
count_of(const char *s, const char *what)
{
	size_t	n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* ---- scale-maps ---- */

enum { M_CAT, M_MW, M_PMAP, M_CATS, M_MWX, M_PMAPX, NM };

static const char *const m_series[NM] = {
	"cat /proc/PID/maps", "memwalk PID", "pmap PID",
	"cat /proc/PID/smaps", "memwalk -x PID", "pmap -X PID",
};

static const struct ratio m_ratios[] = {
	{ "memwalk / cat maps", M_MW, M_CAT, false },
	{ "pmap / memwalk", M_PMAP, M_MW, false },
	{ "memwalk -x / cat smaps", M_MWX, M_CATS, false },
	{ "pmap -X / memwalk -x", M_PMAPX, M_MWX, false },
};
enum { NMR = sizeof(m_ratios) / sizeof(m_ratios[0]) };

static void
check_lines(const struct cmd *c, size_t want, bool rows)
{
	char	*out = capture(c);
	size_t	 got = rows ? count_rows(out) : count_char(out, '\n');

	if (rows ? got != want : got < want)
		die("`%s` printed %zu %s for %zu mappings", cmd_text(c), got,
		    rows ? "rows" : "lines", want);
	free(out);
}

int
mode_scale_maps(const struct opts *o)
{
	long		 pts[MAX_POINTS], rounds = o->rounds < 0 ? 10 :
	    o->rounds, pg;
	int		 np = parse_points(o->points != NULL ? o->points :
	    "1000,2000,5000,10000,20000,40000,60000", pts, 2, 10000000);
	struct stats	 st[MAX_POINTS][NM];
	double		 rr[MAX_POINTS][NMR];
	size_t		 lines[MAX_POINTS];
	uint64_t	 base;
	char		*mw = (char *)o->memwalk;

	data_mode("scale-maps");
	printf("## scale-maps\n\n");
	printf("targets: many_maps of %d sizes, one at a time: %s pages\n",
	    np, o->points != NULL ? o->points :
	    "1000,2000,5000,10000,20000,40000,60000");
	printf("checks: per size, memwalk rows = maps lines, memwalk -x rows "
	    "= smaps regions, pmap and pmap -X list all\n");
	print_header(o, rounds, o->warmup, NM);
	for (int i = 0; i < np; i++) {
		struct target	*t = many_maps_start(o->many_maps, pts[i], &base,
		    &pg);
		char		*pid = xasprintf("%ld", (long)t->pid);
		char		*maps = xasprintf("/proc/%s/maps", pid);
		char		*smaps = xasprintf("/proc/%s/smaps", pid);
		char		*text = slurp_path(maps, NULL);
		struct cmd	 c[NM] = {
			{ m_series[M_CAT], { "cat", maps, NULL }, true, NULL },
			{ m_series[M_MW], { mw, pid, NULL }, false, NULL },
			{ m_series[M_PMAP], { "pmap", pid, NULL }, true, NULL },
			{ m_series[M_CATS], { "cat", smaps, NULL }, true, NULL },
			{ m_series[M_MWX], { mw, "-x", pid, NULL }, false,
			    NULL },
			{ m_series[M_PMAPX], { "pmap", "-X", pid, NULL }, true,
			    NULL },
		};

		lines[i] = count_char(text, '\n');
		free(text);
		if (lines[i] < (size_t)pts[i])
			die("%s has %zu lines, fewer than the %ld pages", maps,
			    lines[i], pts[i]);
		check_lines(&c[M_MW], lines[i], true);
		check_lines(&c[M_CATS], lines[i], true);
		check_lines(&c[M_MWX], lines[i], true);
		check_lines(&c[M_PMAP], lines[i], false);
		check_lines(&c[M_PMAPX], lines[i], false);
		run_rounds(c, NM, rounds, o->warmup);
		targets_stop();
		for (int k = 0; k < NM; k++) {
			st[i][k] = stats_of(c[k].ms, (int)rounds);
			data_line("scale\tmaps\t%s\t%zu\t%.6f\t%.6f\t%.6f",
			    m_series[k], lines[i], st[i][k].median,
			    st[i][k].min, st[i][k].p90);
		}
		for (int r = 0; r < NMR; r++)
			rr[i][r] = ratio_rounds(c, rounds, &m_ratios[r]);
		for (int k = 0; k < NM; k++)
			free(c[k].ms);
		printf("size %s: %zu mappings, done\n", short_num(pts[i]),
		    lines[i]);
		fflush(stdout);
		free(maps);
		free(smaps);
		free(pid);
	}
	print_loadavg("after");
	printf("\n| pages | mappings |");
	for (int k = 0; k < NM; k++)
		printf(" `%s` ms |", m_series[k]);
	printf("\n|---:|---:|");
	for (int k = 0; k < NM; k++)
		printf("---:|");
	putchar('\n');
	for (int i = 0; i < np; i++) {
		printf("| %s | %zu |", short_num(pts[i]), lines[i]);
		for (int k = 0; k < NM; k++)
			printf(" %.3f |", st[i][k].median);
		putchar('\n');
	}
	printf("\nMedians; min and p90 of each point are in the plot's data "
	    "(`scale` lines). Per-round ratios:\n\n| pages |");
	for (int r = 0; r < NMR; r++)
		printf(" %s |", m_ratios[r].label);
	printf("\n|---:|");
	for (int r = 0; r < NMR; r++)
		printf("---:|");
	putchar('\n');
	for (int i = 0; i < np; i++) {
		printf("| %s |", short_num(pts[i]));
		for (int r = 0; r < NMR; r++)
			printf(" %.2fx |", rr[i][r]);
		putchar('\n');
	}
	return 0;
}

/* ---- scale-threads ---- */

enum { T_MW, T_EU, T_GDB, NT };

static const char *const t_series[NT] = {
	"memwalk stack PID", "eu-stack -p PID",
	"gdb -batch -p PID -ex 'thread apply all bt'",
};

static void
check_chains(const struct cmd *c, long threads)
{
	char	*out = capture(c);
	size_t	 n = count_of(out, "chain_c");

	if (n < (size_t)threads)
		die("`%s` names chain_c %zu times, not %ld", cmd_text(c), n,
		    threads);
	free(out);
}

int
mode_scale_threads(const struct opts *o)
{
	long		 pts[MAX_POINTS], rounds = o->rounds < 0 ? 10 :
	    o->rounds;
	int		 np = parse_points(o->points != NULL ? o->points :
	    "1,10,100,1000", pts, 0, 1000);
	struct stats	 st[MAX_POINTS][NT];
	double		 r_eu[MAX_POINTS], r_gdb[MAX_POINTS];
	bool		 has_gdb[MAX_POINTS];
	char		*mw = (char *)o->memwalk;

	data_mode("scale-threads");
	if (!on_path("eu-stack") || !on_path("gdb"))
		die("scale-threads needs eu-stack (elfutils) and gdb on PATH");
	printf("## scale-threads\n\n");
	printf("targets: %s --threads N --chain 5, one at a time, N = %s "
	    "(N + 1 threads: the main one too); gdb up to N = %ld\n",
	    o->stack_target, o->points != NULL ? o->points : "1,10,100,1000",
	    o->gdb_max);
	printf("checks: per N, each command names chain_c in all N + 1 "
	    "threads\n");
	print_header(o, rounds, o->warmup, NT);
	for (int i = 0; i < np; i++) {
		char		*n = xasprintf("%ld", pts[i]);
		char		*argv[] = { (char *)o->stack_target, "--threads",
		    n, "--chain", "5", NULL };
		struct target	*t = target_start(argv, false);
		char		*pid = xasprintf("%ld", (long)t->pid);
		struct cmd	 c[NT] = {
			{ t_series[T_MW], { mw, "stack", pid, NULL }, false,
			    NULL },
			{ t_series[T_EU], { "eu-stack", "-p", pid, NULL }, true,
			    NULL },
			{ t_series[T_GDB], { "gdb", "-nx", "-batch", "-p", pid,
			    "-ex", "thread apply all bt", NULL }, true, NULL },
		};
		int		 nc = pts[i] <= o->gdb_max ? NT : T_GDB;
		struct ratio	 eu = { "", T_MW, T_EU, false };
		struct ratio	 gdb = { "", T_MW, T_GDB, false };

		wait_parked(t->pid, pts[i] + 1);
		for (int k = 0; k < nc; k++)
			check_chains(&c[k], pts[i] + 1);
		run_rounds(c, nc, rounds, o->warmup);
		targets_stop();
		has_gdb[i] = nc == NT;
		for (int k = 0; k < nc; k++) {
			st[i][k] = stats_of(c[k].ms, (int)rounds);
			data_line("scale\tthreads\t%s\t%ld\t%.6f\t%.6f\t%.6f",
			    t_series[k], pts[i] + 1, st[i][k].median,
			    st[i][k].min, st[i][k].p90);
		}
		r_eu[i] = ratio_rounds(c, rounds, &eu);
		r_gdb[i] = has_gdb[i] ? ratio_rounds(c, rounds, &gdb) : 0;
		for (int k = 0; k < nc; k++)
			free(c[k].ms);
		printf("N %ld: %ld threads, done\n", pts[i], pts[i] + 1);
		fflush(stdout);
		free(pid);
		free(n);
	}
	print_loadavg("after");
	printf("\n| N | threads | `%s` ms | `%s` ms | `%s` ms | memwalk / "
	    "eu-stack (per round) | memwalk / gdb (per round) |\n",
	    t_series[T_MW], t_series[T_EU], t_series[T_GDB]);
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < np; i++) {
		printf("| %ld | %ld | %.3f | %.3f |", pts[i], pts[i] + 1,
		    st[i][T_MW].median, st[i][T_EU].median);
		if (has_gdb[i])
			printf(" %.3f | %.3fx | %.4fx |\n", st[i][T_GDB].median,
			    r_eu[i], r_gdb[i]);
		else
			printf(" not run | %.3fx | |\n", r_eu[i]);
	}
	return 0;
}
