/*
 * mode_stack.c: `run stack`, every thread's frames of a live process,
 * against eu-stack and gdb.
 *
 * Two targets, both tests/stack_target (built here as stack_target)
 * with 5 threads (the main one and 4 others) parked in read(2) 5
 * recursions deep under a 4-call chain, 67 frames in all: one as is,
 * one with -n (60,000) more mappings. One run each per round:
 *
 *   memwalk stack PID              stopped, unwound, named
 *   eu-stack -p PID                elfutils
 *   gdb -batch -p PID -ex 'thread apply all bt'   (with -g also)
 *   memwalk stack --no-stop PID    no ptrace: SPs of blocked threads
 *   memwalk -V                     memwalk's start-up
 *
 * for each target. Checks before timing: memwalk, eu-stack and gdb all
 * name chain_c in every thread of the target. Goals: memwalk stack
 * faster than eu-stack on both targets, and at least 50x faster than
 * gdb (per-round ratios).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum {
	C_MW, C_EU, C_GDB, C_NOSTOP,			/* plain target */
	C_MW_MAPS, C_EU_MAPS, C_GDB_MAPS, C_NOSTOP_MAPS,	/* + maps */
	C_VERSION, NCMD
};

static const struct ratio ratios[] = {
	{ "memwalk stack / eu-stack", C_MW, C_EU, false },
	{ "memwalk stack / gdb", C_MW, C_GDB, false },
	{ "memwalk stack / eu-stack, +maps", C_MW_MAPS, C_EU_MAPS, false },
	{ "memwalk stack / gdb, +maps", C_MW_MAPS, C_GDB_MAPS, false },
	{ "memwalk stack +maps / as is", C_MW_MAPS, C_MW, false },
	{ "eu-stack +maps / as is", C_EU_MAPS, C_EU, false },
	{ "memwalk stack - memwalk -V", C_MW, C_VERSION, true },
};
enum { NRATIO = sizeof(ratios) / sizeof(ratios[0]) };

#define THREADS		"4"
#define CHAIN		"5"
#define NTHREADS	5

static char *
start_target(const char *exe, long maps)
{
	char	*argv[] = { (char *)exe, "--threads", THREADS, "--chain",
	    CHAIN, maps > 0 ? "--maps" : NULL, xasprintf("%ld", maps),
	    NULL };
	struct target *t = target_start(argv, false);

	wait_parked(t->pid, NTHREADS);
	return xasprintf("%ld", (long)t->pid);
}

static void
set_cmds(struct cmd *c, int base, const char *mw, char *pid)
{
	c[base + 0] = (struct cmd){ "memwalk stack PID",
	    { (char *)mw, "stack", pid, NULL }, false, NULL };
	c[base + 1] = (struct cmd){ "eu-stack -p PID",
	    { "eu-stack", "-p", pid, NULL }, true, NULL };
	c[base + 2] = (struct cmd){ "gdb -batch -p PID -ex 'thread apply all "
	    "bt'", { "gdb", "-nx", "-batch", "-p", pid, "-ex",
	    "thread apply all bt", NULL }, true, NULL };
	c[base + 3] = (struct cmd){ "memwalk stack --no-stop PID",
	    { (char *)mw, "stack", "--no-stop", pid, NULL }, false, NULL };
}

/* Each of the NTHREADS threads shows chain_c: count the lines. */
static void
check_chains(const struct cmd *c)
{
	char	*out = capture(c), *p = out;
	int	 n = 0;

	while ((p = strstr(p, "chain_c")) != NULL) {
		n++;
		p++;
	}
	if (n < NTHREADS)
		die("`%s` names chain_c %d times, not %d:\n%s", cmd_text(c), n,
		    NTHREADS, out);
	free(out);
}

int
mode_stack(const struct opts *o)
{
	struct cmd	 cmds[NCMD];
	struct stats	 st[NCMD];
	long		 rounds = o->rounds < 0 ? 20 : o->rounds;
	const char	*exe = o->stack_target;
	char		*pid, *pid_maps;

	data_mode("stack");
	if (!on_path("eu-stack") || !on_path("gdb"))
		die("run stack needs eu-stack (elfutils) and gdb on PATH");
	pid = start_target(exe, 0);
	pid_maps = start_target(exe, o->n);
	set_cmds(cmds, C_MW, o->memwalk, pid);
	set_cmds(cmds, C_MW_MAPS, o->memwalk, pid_maps);
	cmds[C_VERSION] = (struct cmd){ "memwalk -V",
	    { (char *)o->memwalk, "-V", NULL }, false, NULL };
	for (int i = 0; i < C_VERSION; i++)
		if (i % 4 != 3)
			check_chains(&cmds[i]);
		else
			run_once(&cmds[i]);

	printf("## stack\n\n");
	printf("targets: %s --threads %s --chain %s (pid %s: %d threads, 67 "
	    "frames), and the same with --maps %ld (pid %s)\n", exe, THREADS,
	    CHAIN, pid, NTHREADS, o->n, pid_maps);
	printf("checks: memwalk stack, eu-stack and gdb name chain_c in "
	    "each of the %d threads\n", NTHREADS);
	print_header(o, rounds, o->warmup, NCMD);
	run_rounds(cmds, NCMD, rounds, o->warmup);
	targets_stop();
	print_loadavg("after");
	putchar('\n');
	print_times(cmds, NCMD, rounds, st);
	print_ratios(cmds, st, rounds, ratios, NRATIO);
	printf("\n| goal | figure (per-round ratio) | verdict |\n");
	printf("|---|---:|---|\n");
	for (int i = 0; i < 4; i++) {
		double	r = ratio_rounds(cmds, rounds, &ratios[i]);
		bool	gdb = i % 2 == 1;

		printf("| %s %s | %.3f | %s |\n", ratios[i].label,
		    gdb ? "at most 0.02 (50x faster)" : "below 1", r,
		    verdict(gdb ? r <= 0.02 : r < 1));
	}
	for (int i = 0; i < 4; i++) {
		double	r = ratio_rounds(cmds, rounds, &ratios[i]);
		double	m = ratio_medians(st, &ratios[i]);
		char	*what = i < 2 ? "" : xasprintf(", with %s more "
		    "mappings", grouped(o->n));

		if (i % 2 == 0)
			data_goal(xasprintf("`memwalk stack PID` faster than "
			    "`eu-stack -p PID` (%d threads, 67 frames%s)",
			    NTHREADS, what), r, "x", "<", 1,
			    "per-round ratio memwalk / eu-stack",
			    "of medians %.3fx", m);
		else
			data_goal(xasprintf("`memwalk stack PID` at least 50x "
			    "faster than `gdb -batch -p PID -ex 'thread apply "
			    "all bt'` (%d threads%s)", NTHREADS, what), 1 / r,
			    "x", ">=", 50, "per-round ratio gdb / memwalk",
			    "of medians %.1fx", 1 / m);
	}
	return 0;
}
