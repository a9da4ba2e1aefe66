/*
 * mode_py.c: `run py`, memwalk on a live CPython, an ordinary small
 * process (a hundred-odd regions, not 60,000).
 *
 * The target is the python3 on PATH (or -p), running SCRIPT: it builds
 * 100,000 small lists, strings and dicts, prints its pid, version, the
 * address of one list (OBJ, a pymalloc block) and of PyList_Append (FUNC,
 * in the text of libpython, or of python itself when it is static), then
 * "ready", and blocks reading stdin. One run each per round:
 *
 *   memwalk py PID                 version, small ints, pymalloc arenas
 *   memwalk where PID OBJ          region, then the object in its pool
 *   memwalk where PID FUNC         region, then section and symbol
 *   memwalk PID                    the annotated map of the python
 *   cat /proc/PID/maps             its floor
 *   pmap PID                       procps
 *   memwalk -V                     memwalk's start-up, no work
 *   true                           any process's start-up here
 *   [baseline memwalk PID]         with -b, another build's
 *   [baseline memwalk where PID OBJ]
 *   [py-spy dump --pid PID]        the peers of `memwalk py`, when on
 *   [pystack remote PID]           PATH (not on this machine: no PyPI)
 *
 * Checks before timing: `memwalk py` names the version the script
 * printed and some pymalloc arenas; where OBJ names a pymalloc block,
 * where FUNC names PyList_Append; memwalk PID has one row per maps line.
 * Goals: memwalk py under 20 ms (median, p90 shown); where under 1 ms.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum {
	C_PY, C_WHERE_OBJ, C_WHERE_SYM, C_MAPS, C_CAT, C_PMAP, C_VERSION,
	C_TRUE, C_MAPS_BASE, C_WHERE_BASE,	/* these two with -b */
	MAXCMD = C_WHERE_BASE + 3		/* and up to two peers */
};

static const char SCRIPT[] =
    "import ctypes, os, sys\n"
    "objs = [[i, str(i), {'k': i}] for i in range(100000)]\n"
    "fn = ctypes.cast(ctypes.pythonapi.PyList_Append, ctypes.c_void_p)\n"
    "sys.stdout.write('pid %d version %s obj 0x%x func 0x%x\\n' % (\n"
    "    os.getpid(), sys.version.split()[0], id(objs[50000]), fn.value))\n"
    "sys.stdout.write('exe %s\\nready\\n' % sys.executable)\n"
    "sys.stdout.flush()\n"
    "sys.stdin.read()\n";

static const struct ratio ratios[] = {
	{ "memwalk py - memwalk -V", C_PY, C_VERSION, true },
	{ "memwalk py - true", C_PY, C_TRUE, true },
	{ "where OBJ - memwalk -V", C_WHERE_OBJ, C_VERSION, true },
	{ "where FUNC - memwalk -V", C_WHERE_SYM, C_VERSION, true },
	{ "memwalk PID / cat", C_MAPS, C_CAT, false },
	{ "pmap / memwalk PID", C_PMAP, C_MAPS, false },
	{ "memwalk -V - true", C_VERSION, C_TRUE, true },
	/* with -b only: */
	{ "memwalk PID / baseline memwalk PID", C_MAPS, C_MAPS_BASE, false },
	{ "where OBJ - baseline where OBJ", C_WHERE_OBJ, C_WHERE_BASE, true },
	{ "baseline where OBJ - memwalk -V", C_WHERE_BASE, C_VERSION, true },
};
enum { NRATIO_ALONE = 7, NRATIO = sizeof(ratios) / sizeof(ratios[0]) };

struct py {
	char	*pid, *version, *obj, *func, *exe;
	size_t	 lines;
};

static void
parse_said(const struct target *t, struct py *p)
{
	char		version[64], exe[4096];
	unsigned long	obj, func;
	long		pid;

	if (sscanf(t->said, "pid %ld version %63s obj %lx func %lx exe %4095s",
	    &pid, version, &obj, &func, exe) != 5)
		die("the python target said \"%s\"", t->said);
	if (pid != t->pid)
		die("the python target is pid %ld, not %ld (a launcher that "
		    "forks?)", pid, (long)t->pid);
	p->pid = xasprintf("%ld", pid);
	p->version = xstrdup(version);
	p->obj = xasprintf("0x%lx", obj);
	p->func = xasprintf("0x%lx", func);
	p->exe = xstrdup(exe);
}

static int
set_cmds(struct cmd *c, const struct opts *o, const struct py *p)
{
	char	*mw = (char *)o->memwalk, *pid = p->pid;
	char	*bl = (char *)o->baseline;
	int	 n = C_TRUE + 1;

	c[C_PY] = (struct cmd){ "memwalk py PID", { mw, "py", pid, NULL },
	    false, NULL };
	c[C_WHERE_OBJ] = (struct cmd){ "memwalk where PID OBJ",
	    { mw, "where", pid, p->obj, NULL }, false, NULL };
	c[C_WHERE_SYM] = (struct cmd){ "memwalk where PID FUNC",
	    { mw, "where", pid, p->func, NULL }, false, NULL };
	c[C_MAPS] = (struct cmd){ "memwalk PID", { mw, pid, NULL }, false,
	    NULL };
	c[C_CAT] = (struct cmd){ "cat /proc/PID/maps",
	    { "cat", xasprintf("/proc/%s/maps", pid), NULL }, true, NULL };
	c[C_PMAP] = (struct cmd){ "pmap PID", { "pmap", pid, NULL }, true,
	    NULL };
	c[C_VERSION] = (struct cmd){ "memwalk -V", { mw, "-V", NULL }, false,
	    NULL };
	c[C_TRUE] = (struct cmd){ "true", { "true", NULL }, true, NULL };
	if (bl != NULL) {
		c[n++] = (struct cmd){ "baseline memwalk PID", { bl, pid, NULL },
		    false, NULL };
		c[n++] = (struct cmd){ "baseline memwalk where PID OBJ",
		    { bl, "where", pid, p->obj, NULL }, false, NULL };
	}
	if (on_path("py-spy"))
		c[n++] = (struct cmd){ "py-spy dump --pid PID",
		    { "py-spy", "dump", "--pid", pid, NULL }, true, NULL };
	if (on_path("pystack"))
		c[n++] = (struct cmd){ "pystack remote PID",
		    { "pystack", "remote", pid, NULL }, true, NULL };
	return n;
}

static void
check_has(const struct cmd *c, const char *out, const char *want)
{
	if (strstr(out, want) == NULL)
		die("`%s` does not say \"%s\":\n%s", c->label, want, out);
}

static void
check_outputs(const struct cmd *c, struct py *p, int ncmd, bool baseline)
{
	char	*out, *want, *maps;
	size_t	 rows;

	out = capture(&c[C_PY]);
	want = xasprintf("python        %s\n", p->version);
	check_has(&c[C_PY], out, want);
	check_has(&c[C_PY], out, "pymalloc ");
	if (strstr(out, "pymalloc      0 arenas") != NULL)
		die("`memwalk py` found no pymalloc arenas:\n%s", out);
	free(want);
	free(out);
	out = capture(&c[C_WHERE_OBJ]);
	check_has(&c[C_WHERE_OBJ], out, "pymalloc block");
	free(out);
	out = capture(&c[C_WHERE_SYM]);
	check_has(&c[C_WHERE_SYM], out, "PyList_Append");
	free(out);
	maps = slurp_path(c[C_CAT].argv[1], NULL);
	p->lines = count_char(maps, '\n');
	free(maps);
	out = capture(&c[C_MAPS]);
	if ((rows = count_rows(out)) != p->lines)
		die("`memwalk PID` printed %zu rows for %zu lines of maps",
		    rows, p->lines);
	free(out);
	for (int i = C_CAT; i < ncmd; i++)
		run_once(&c[i]);
	if (baseline) {
		out = capture(&c[C_WHERE_BASE]);
		check_has(&c[C_WHERE_BASE], out, p->obj);
		if (strstr(out, "unmapped") != NULL)
			die("the baseline's where: %s", out);
		free(out);
	}
}

static void
print_goals(const struct cmd *cmds, const struct stats *st, long rounds)
{
	double	net_py = ratio_rounds(cmds, rounds, &ratios[0]);
	double	net_obj = ratio_rounds(cmds, rounds, &ratios[2]);
	double	net_sym = ratio_rounds(cmds, rounds, &ratios[3]);

	printf("\n| goal | figure | verdict |\n");
	printf("|---|---:|---|\n");
	printf("| memwalk py under 20 ms (median; p90) | %.3f ms; %.3f ms "
	    "| %s (p90: %s) |\n", st[C_PY].median, st[C_PY].p90,
	    verdict(st[C_PY].median < 20), verdict(st[C_PY].p90 < 20));
	printf("| memwalk py, net of start-up (-V), per round | %.3f ms | "
	    "%s |\n", net_py, verdict(net_py < 20));
	printf("| where OBJ under 1 ms, whole process (median; p90) | %.3f "
	    "ms; %.3f ms | %s |\n", st[C_WHERE_OBJ].median,
	    st[C_WHERE_OBJ].p90, verdict(st[C_WHERE_OBJ].median < 1));
	printf("| where OBJ under 1 ms, net of start-up (-V) | %.3f ms | %s "
	    "|\n", net_obj, verdict(net_obj < 1));
	printf("| where FUNC under 1 ms, whole process (median; p90) | %.3f "
	    "ms; %.3f ms | %s |\n", st[C_WHERE_SYM].median,
	    st[C_WHERE_SYM].p90, verdict(st[C_WHERE_SYM].median < 1));
	printf("| where FUNC under 1 ms, net of start-up (-V) | %.3f ms | %s "
	    "|\n", net_sym, verdict(net_sym < 1));
	printf("\n(`true`, a process that does nothing, takes %.3f ms median "
	    "here: the floor of any whole-process time.)\n",
	    st[C_TRUE].median);

	data_goal("`memwalk py PID` under 20 ms (a live python3)",
	    st[C_PY].median, "ms", "<", 20, "median", "p90 %.3f ms; net of "
	    "start-up %.3f ms", st[C_PY].p90, net_py);
	data_goal("`memwalk where PID OBJ` under 1 ms (python3, a pymalloc "
	    "block), whole process", st[C_WHERE_OBJ].median, "ms", "<", 1,
	    "median", "p90 %.3f ms; net of start-up %.3f ms",
	    st[C_WHERE_OBJ].p90, net_obj);
	data_goal("`memwalk where PID FUNC` under 1 ms (python3, "
	    "PyList_Append), whole process", st[C_WHERE_SYM].median, "ms", "<",
	    1, "median", "p90 %.3f ms; net of start-up %.3f ms",
	    st[C_WHERE_SYM].p90, net_sym);
}

int
mode_py(const struct opts *o)
{
	struct cmd	 cmds[MAXCMD];
	struct stats	 st[MAXCMD];
	struct py	 p;
	long		 rounds = o->rounds < 0 ? 100 : o->rounds;
	char		*argv[] = { (char *)o->python, "-c", (char *)SCRIPT,
	    NULL };
	int		 ncmd;

	data_mode("py");
	parse_said(target_start(argv, true), &p);
	ncmd = set_cmds(cmds, o, &p);
	check_outputs(cmds, &p, ncmd, o->baseline != NULL);

	printf("## py\n\n");
	printf("target: %s (%s, Python %s), pid %s, %zu mappings; OBJ %s (a "
	    "list), FUNC %s (PyList_Append)\n", o->python, p.exe, p.version,
	    p.pid, p.lines, p.obj, p.func);
	printf("checks: memwalk py names %s and its pymalloc arenas; where "
	    "OBJ names a pymalloc block, where FUNC PyList_Append; memwalk "
	    "rows = maps lines\n", p.version);
	printf("peers of memwalk py: py-spy %s, pystack %s\n",
	    on_path("py-spy") ? "timed" : "not on PATH",
	    on_path("pystack") ? "timed" : "not on PATH");
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
