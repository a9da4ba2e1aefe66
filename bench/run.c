/*
 * run.c: the paired benchmark of memwalk against its peers.
 *
 * usage: run [-m memwalk] [-t target] [-n mappings] [-r rounds] [-w warmup]
 *
 * It starts the target (many_maps, next to this program) with N pages of
 * alternating protection, then times, round by round, each of
 *
 *   cat /proc/PID/maps                      the kernel's text, the floor
 *   memwalk PID                             the annotated map
 *   pmap PID                                procps
 *   memwalk where PID ADDR                  PROCMAP_QUERY lookup
 *   memwalk where --no-procmap-query PID ADDR   the same by a full read
 *   memwalk -V                              memwalk's start-up, no work
 *   true                                    any process's start-up here
 *
 * once, in turn, the order rotated by one each round, so that drift of
 * the machine (frequency, cache, other load) falls on all commands
 * alike. Each run's wall time is clock_gettime(CLOCK_MONOTONIC) around
 * posix_spawn + waitpid, stdout to /dev/null (stderr kept). ADDR is
 * inside the target's middle page. Any run that exits non-zero stops
 * the benchmark; before timing, it checks that memwalk's table has one
 * row per line of /proc/PID/maps, that both `where` paths give the same
 * answer and name the middle page, and that pmap lists every mapping.
 *
 * Report: per command the median, min and p90 (nearest rank) in ms;
 * the ratios of medians, with the median of the per-round ratios beside
 * them (each round's runs are neighbours in time: a paired figure); the
 * goals of the issue, met or not. No goal is a test: this only reports.
 *
 * memwalk is -m, else $MEMWALK, else ../build/src/memwalk from the
 * directory of this program; the target is -t, else many_maps beside it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum {
	C_CAT, C_MAPS, C_PMAP, C_WHERE, C_WHERE_TEXT, C_VERSION, C_TRUE, NCMD
};

struct cmd {
	const char	*label;
	char		*argv[8];
	bool		 path_search;	/* posix_spawnp */
	double		*ms;		/* one per timed round */
};

static struct cmd	cmds[NCMD];
static pid_t		target_pid = -1;
static int		target_in = -1;

static void
stop_target(void)
{
	int	st;

	if (target_in != -1) {
		close(target_in);
		target_in = -1;
	}
	if (target_pid > 0) {
		if (waitpid(target_pid, &st, 0) == -1)
			kill(target_pid, SIGKILL);
		target_pid = -1;
	}
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	stop_target();
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n, size);

	if (p == NULL)
		die("out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*d = strdup(s);

	if (d == NULL)
		die("out of memory");
	return d;
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		die("out of memory");
	return s;
}

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *
cmd_text(const struct cmd *c)
{
	size_t	 len = 0;
	char	*s;

	for (int i = 0; c->argv[i] != NULL; i++)
		len += strlen(c->argv[i]) + 1;
	s = xcalloc(1, len + 1);
	for (int i = 0; c->argv[i] != NULL; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, c->argv[i]);
	}
	return s;
}

/*
 * Run c once with stdout to out_fd (-1: /dev/null); returns the wait
 * status, *ms the wall time of spawn + wait.
 */
static int
spawn_wait(const struct cmd *c, int out_fd, double *ms)
{
	posix_spawn_file_actions_t	fa;
	pid_t				pid;
	double				t0, t1;
	int				st, rc;

	posix_spawn_file_actions_init(&fa);
	if (out_fd == -1)
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
		    "/dev/null", O_WRONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	t0 = now_ms();
	rc = (c->path_search ? posix_spawnp : posix_spawn)(&pid, c->argv[0],
	    &fa, NULL, c->argv, environ);
	if (rc != 0) {
		posix_spawn_file_actions_destroy(&fa);
		die("%s: %s", c->argv[0], strerror(rc));
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	t1 = now_ms();
	posix_spawn_file_actions_destroy(&fa);
	if (ms != NULL)
		*ms = t1 - t0;
	return st;
}

static void
check_status(const struct cmd *c, int st)
{
	char	*s;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	s = cmd_text(c);
	if (WIFEXITED(st))
		die("`%s` exited %d", s, WEXITSTATUS(st));
	die("`%s` killed by signal %d", s, WTERMSIG(st));
}

/* The whole of fd, from its start, NUL-terminated. */
static char *
slurp_fd(int fd, size_t *lenp)
{
	size_t	 cap = 1 << 20, len = 0;
	char	*buf = xcalloc(1, cap), *nbuf;
	ssize_t	 r;

	for (;;) {
		if (cap - len < 2) {
			if ((nbuf = realloc(buf, cap * 2)) == NULL)
				die("out of memory");
			buf = nbuf;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read: %s", strerror(errno));
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static char *
slurp_path(const char *path, size_t *lenp)
{
	char	*buf;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die("%s: %s", path, strerror(errno));
	buf = slurp_fd(fd, lenp);
	close(fd);
	return buf;
}

/* Run c once, its stdout captured (through a temporary file). */
static char *
capture(const struct cmd *c)
{
	char	 tmpl[] = "/tmp/memwalk-bench-XXXXXX";
	char	*out;
	int	 fd;

	if ((fd = mkostemp(tmpl, O_CLOEXEC)) == -1)
		die("mkostemp: %s", strerror(errno));
	unlink(tmpl);
	check_status(c, spawn_wait(c, fd, NULL));
	if (lseek(fd, 0, SEEK_SET) == -1)
		die("lseek: %s", strerror(errno));
	out = slurp_fd(fd, NULL);
	close(fd);
	return out;
}

static size_t
count_char(const char *s, char ch)
{
	size_t	n = 0;

	for (; (s = strchr(s, ch)) != NULL; s++)
		n++;
	return n;
}

/* Rows of memwalk's table: lines that begin "HEX-HEX ". */
static size_t
count_rows(const char *s)
{
	size_t	n = 0;

	for (const char *line = s; *line != '\0'; ) {
		const char	*p = line, *eol = strchr(line, '\n');

		while (isxdigit((unsigned char)*p))
			p++;
		if (p > line && *p == '-') {
			const char	*q = ++p;

			while (isxdigit((unsigned char)*p))
				p++;
			if (p > q && *p == ' ')
				n++;
		}
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double	median, min, p90, max;
};

static struct stats
stats_of(const double *v, int n)
{
	double		*s = xcalloc((size_t)n, sizeof(*s));
	struct stats	 st;
	int		 k;

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	st.min = s[0];
	st.max = s[n - 1];
	st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	k = (int)ceil(0.9 * n) - 1;		/* nearest rank */
	st.p90 = s[k < 0 ? 0 : k];
	free(s);
	return st;
}

/* Median over rounds of a[i] / b[i] (div) or a[i] - b[i]. */
static double
paired(const double *a, const double *b, int n, bool div)
{
	double		*v = xcalloc((size_t)n, sizeof(*v));
	struct stats	 st;

	for (int i = 0; i < n; i++)
		v[i] = div ? a[i] / b[i] : a[i] - b[i];
	st = stats_of(v, n);
	free(v);
	return st.median;
}

static void
start_target(const char *path, long n, uint64_t *base, long *pg)
{
	posix_spawn_file_actions_t	 fa;
	char				 arg[32], line[256];
	char				*argv[] = { (char *)path, arg, NULL };
	int				 in[2], out[2], rc;
	long				 pid, pages;
	unsigned long			 b;
	FILE				*f;
	bool				 ready = false, have = false;

	snprintf(arg, sizeof(arg), "%ld", n);
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	rc = posix_spawn(&target_pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		die("%s: %s (build it: make -C bench)", path, strerror(rc));
	close(in[0]);
	close(out[1]);
	target_in = in[1];
	if ((f = fdopen(out[0], "r")) == NULL)
		die("fdopen: %s", strerror(errno));
	while (!ready && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "pid %ld base %lx pages %ld pagesize %ld",
		    &pid, &b, &pages, pg) == 4)
			have = true;
		else if (strcmp(line, "ready\n") == 0)
			ready = true;
	}
	fclose(f);
	if (!ready || !have)
		die("the target did not get ready (see its message above)");
	if (pid != target_pid || pages != n)
		die("the target reports pid %ld, %ld pages; expected %ld, %ld",
		    pid, pages, (long)target_pid, n);
	*base = b;
}

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
num_arg(const char *opt, const char *s, long lo, long hi)
{
	char	*e;
	long	 v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (errno != 0 || *e != '\0' || v < lo || v > hi)
		die("-%s %s: a number from %ld to %ld is needed", opt, s, lo,
		    hi);
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: run [-m memwalk] [-t target] [-n mappings] "
	    "[-r rounds] [-w warmup]\n");
	exit(2);
}

static const char *
verdict(bool met)
{
	return met ? "met" : "NOT met";
}

int
main(int argc, char **argv)
{
	const char	*memwalk = getenv("MEMWALK"), *target = NULL;
	char		*dir = self_dir(), *pidstr, *addrstr, *maps_path;
	char		*maps, *out, *out_text, range[64];
	long		 n = 60000, rounds = 30, warmup = 3, pg;
	size_t		 maps_lines, rows;
	uint64_t	 base, addr, mid_start;
	struct stats	 st[NCMD];
	int		 opt;

	while ((opt = getopt(argc, argv, "m:t:n:r:w:h")) != -1) {
		switch (opt) {
		case 'm':
			memwalk = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'n':
			n = num_arg("n", optarg, 2, 10000000);
			break;
		case 'r':
			rounds = num_arg("r", optarg, 1, 100000);
			break;
		case 'w':
			warmup = num_arg("w", optarg, 0, 100000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (memwalk == NULL || *memwalk == '\0')
		memwalk = xasprintf("%s/../build/src/memwalk", dir);
	if (target == NULL)
		target = xasprintf("%s/many_maps", dir);
	if (access(memwalk, X_OK) == -1)
		die("%s: %s (build it, or give -m / MEMWALK)", memwalk,
		    strerror(errno));

	start_target(target, n, &base, &pg);
	mid_start = base + (uint64_t)(n / 2) * (uint64_t)pg;
	addr = mid_start + (uint64_t)pg / 2;
	pidstr = xasprintf("%ld", (long)target_pid);
	addrstr = xasprintf("0x%llx", (unsigned long long)addr);
	maps_path = xasprintf("/proc/%ld/maps", (long)target_pid);

	cmds[C_CAT] = (struct cmd){ "cat /proc/PID/maps",
	    { "cat", maps_path, NULL }, true, NULL };
	cmds[C_MAPS] = (struct cmd){ "memwalk PID",
	    { (char *)memwalk, pidstr, NULL }, false, NULL };
	cmds[C_PMAP] = (struct cmd){ "pmap PID",
	    { "pmap", pidstr, NULL }, true, NULL };
	cmds[C_WHERE] = (struct cmd){ "memwalk where PID ADDR",
	    { (char *)memwalk, "where", pidstr, addrstr, NULL }, false, NULL };
	cmds[C_WHERE_TEXT] = (struct cmd){
	    "memwalk where --no-procmap-query PID ADDR",
	    { (char *)memwalk, "where", "--no-procmap-query", pidstr, addrstr,
	    NULL }, false, NULL };
	cmds[C_VERSION] = (struct cmd){ "memwalk -V",
	    { (char *)memwalk, "-V", NULL }, false, NULL };
	cmds[C_TRUE] = (struct cmd){ "true",
	    { "true", NULL }, true, NULL };

	/* Checks, so that no timing is of a broken run. */
	maps = slurp_path(maps_path, NULL);
	maps_lines = count_char(maps, '\n');
	if (maps_lines < (size_t)n)
		die("%s has %zu lines, fewer than the %ld pages: the kernel "
		    "merged them?", maps_path, maps_lines, n);
	snprintf(range, sizeof(range), "%llx-%llx ",
	    (unsigned long long)mid_start,
	    (unsigned long long)(mid_start + (uint64_t)pg));
	if (strstr(maps, range) == NULL)
		die("the middle page %s is no mapping of its own", range);
	out = capture(&cmds[C_MAPS]);
	rows = count_rows(out);
	free(out);
	free(maps);
	maps = slurp_path(maps_path, NULL);
	if (count_char(maps, '\n') != maps_lines)
		die("the target's maps changed during the checks");
	if (rows != maps_lines)
		die("memwalk printed %zu rows for %zu lines of %s", rows,
		    maps_lines, maps_path);
	free(maps);
	out = capture(&cmds[C_WHERE]);
	out_text = capture(&cmds[C_WHERE_TEXT]);
	range[strlen(range) - 1] = '\0';
	if (strstr(out, range) == NULL)
		die("`memwalk where` answered \"%.*s\", not the region %s",
		    (int)strcspn(out, "\n"), out, range);
	if (strcmp(out, out_text) != 0)
		die("the two `where` paths disagree:\n%s%s", out, out_text);
	free(out);
	free(out_text);
	out = capture(&cmds[C_PMAP]);
	if (count_char(out, '\n') < maps_lines)
		die("pmap printed %zu lines for %zu mappings",
		    count_char(out, '\n'), maps_lines);
	free(out);
	check_status(&cmds[C_CAT], spawn_wait(&cmds[C_CAT], -1, NULL));
	check_status(&cmds[C_VERSION], spawn_wait(&cmds[C_VERSION], -1,
	    NULL));

	printf("target: pid %ld, %zu mappings (%ld pages of alternating "
	    "protection), ADDR %s (middle page %s)\n", (long)target_pid,
	    maps_lines, n, addrstr, range);
	printf("memwalk: %s\n", memwalk);
	printf("checks: memwalk rows = maps lines = %zu; both where paths "
	    "agree; pmap lists all\n", maps_lines);
	printf("rounds: %ld timed (after %ld warm-up), %d commands "
	    "interleaved, order rotated each round\n\n", rounds, warmup, NCMD);
	fflush(stdout);

	for (int c = 0; c < NCMD; c++)
		cmds[c].ms = xcalloc((size_t)rounds, sizeof(double));
	for (long r = -warmup; r < rounds; r++) {
		long	rot = (r % NCMD + NCMD) % NCMD;

		for (int j = 0; j < NCMD; j++) {
			struct cmd	*c = &cmds[(j + rot) % NCMD];
			double		 ms;

			check_status(c, spawn_wait(c, -1, &ms));
			if (r >= 0)
				c->ms[r] = ms;
		}
	}
	stop_target();

	printf("| command | median ms | min ms | p90 ms |\n");
	printf("|---|---:|---:|---:|\n");
	for (int c = 0; c < NCMD; c++) {
		st[c] = stats_of(cmds[c].ms, (int)rounds);
		printf("| `%s` | %.3f | %.3f | %.3f |\n", cmds[c].label,
		    st[c].median, st[c].min, st[c].p90);
	}

	double	r_cat = st[C_MAPS].median / st[C_CAT].median;
	double	r_pmap = st[C_PMAP].median / st[C_MAPS].median;
	double	r_where = st[C_WHERE_TEXT].median / st[C_WHERE].median;
	double	net_q = st[C_WHERE].median - st[C_VERSION].median;
	double	net_t = st[C_WHERE_TEXT].median - st[C_VERSION].median;
	double	p_cat = paired(cmds[C_MAPS].ms, cmds[C_CAT].ms, (int)rounds,
	    true);
	double	p_pmap = paired(cmds[C_PMAP].ms, cmds[C_MAPS].ms, (int)rounds,
	    true);
	double	p_where = paired(cmds[C_WHERE_TEXT].ms, cmds[C_WHERE].ms,
	    (int)rounds, true);
	double	p_net_q = paired(cmds[C_WHERE].ms, cmds[C_VERSION].ms,
	    (int)rounds, false);
	double	p_net_t = paired(cmds[C_WHERE_TEXT].ms, cmds[C_VERSION].ms,
	    (int)rounds, false);
	double	net_v = st[C_VERSION].median - st[C_TRUE].median;
	double	p_net_v = paired(cmds[C_VERSION].ms, cmds[C_TRUE].ms,
	    (int)rounds, false);

	printf("\n| ratio | of medians | median of per-round |\n");
	printf("|---|---:|---:|\n");
	printf("| memwalk PID / cat | %.2fx | %.2fx |\n", r_cat, p_cat);
	printf("| pmap / memwalk PID | %.2fx | %.2fx |\n", r_pmap, p_pmap);
	printf("| where full read / where PROCMAP_QUERY | %.1fx | %.1fx |\n",
	    r_where, p_where);
	printf("| where PROCMAP_QUERY - memwalk -V (ms) | %.3f | %.3f |\n",
	    net_q, p_net_q);
	printf("| where full read - memwalk -V (ms) | %.3f | %.3f |\n",
	    net_t, p_net_t);
	printf("| memwalk -V - true (ms) | %.3f | %.3f |\n", net_v, p_net_v);

	printf("\n| goal | figure | verdict |\n");
	printf("|---|---:|---|\n");
	printf("| memwalk PID within 1.3x of cat | %.2fx | %s (%s by %.0f%%) "
	    "|\n", r_cat, verdict(r_cat <= 1.3),
	    r_cat <= 1.3 ? "under the limit" : "over the limit",
	    fabs(r_cat / 1.3 - 1) * 100);
	printf("| memwalk PID at least 5x faster than pmap | %.2fx | %s "
	    "(%.0f%% of the goal) |\n", r_pmap, verdict(r_pmap >= 5),
	    r_pmap / 5 * 100);
	printf("| where under 1 ms, whole process | %.3f ms | %s |\n",
	    st[C_WHERE].median, verdict(st[C_WHERE].median < 1));
	printf("| where under 1 ms, net of start-up (-V) | %.3f ms | %s |\n",
	    net_q, verdict(net_q < 1));
	printf("\n(`true`, a process that does nothing, takes %.3f ms median "
	    "here: the floor of any whole-process time.)\n",
	    st[C_TRUE].median);
	return 0;
}
