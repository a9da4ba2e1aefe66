/*
 * harness.c: spawning and timing commands, targets, statistics and the
 * tables that every mode of bench/run prints (see harness.h).
 *
 * Statistics: the median, min and p90 (nearest rank) of each command's
 * timed rounds; ratios both as the ratio of two medians and as the
 * median of the per-round ratios (each round's runs are neighbours in
 * time: the paired figure, which holds up on a machine whose speed
 * drifts between phases of a few seconds).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

enum { MAX_TARGETS = 8 };

static struct target	targets[MAX_TARGETS];
static int		ntargets;
static const char	*cur_mode = "";

void
targets_stop(void)
{
	int	st;

	for (int i = 0; i < ntargets; i++) {
		struct target	*t = &targets[i];

		if (t->in_fd != -1) {
			close(t->in_fd);
			t->in_fd = -1;
		}
		if (t->pid > 0) {
			if (waitpid(t->pid, &st, 0) == -1)
				kill(t->pid, SIGKILL);
			t->pid = -1;
		}
		free(t->said);
		t->said = NULL;
	}
	ntargets = 0;
}

void
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	targets_stop();
	exit(1);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n, size);

	if (p == NULL)
		die("out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*d = strdup(s);

	if (d == NULL)
		die("out of memory");
	return d;
}

char *
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

/* 60000 -> "60,000" */
char *
grouped(long v)
{
	char	digits[32], out[48];
	int	len, j = 0;

	len = snprintf(digits, sizeof(digits), "%ld", v);
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[j++] = ',';
		out[j++] = digits[i];
	}
	out[j] = '\0';
	return xstrdup(out);
}

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

char *
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
 * Run c once with stdout to out_fd (-1: /dev/null), stdin from
 * /dev/null; returns the wait status, *ms the wall time of spawn + wait.
 */
int
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

void
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

void
run_once(const struct cmd *c)
{
	check_status(c, spawn_wait(c, -1, NULL));
}

/* The whole of fd, from where it stands, NUL-terminated. */
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

char *
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
char *
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

size_t
count_char(const char *s, char ch)
{
	size_t	n = 0;

	for (; (s = strchr(s, ch)) != NULL; s++)
		n++;
	return n;
}

/*
 * Rows of memwalk's table, or region lines of smaps: lines that begin
 * "HEX-HEX ".
 */
size_t
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

/* Whether an executable of this name is on PATH (as posix_spawnp looks). */
bool
on_path(const char *name)
{
	const char	*path = getenv("PATH");
	char		*dirs, *dir, *save = NULL, *f;
	bool		 found = false;

	if (path == NULL)
		return false;
	dirs = xstrdup(path);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		f = xasprintf("%s/%s", *dir == '\0' ? "." : dir, name);
		found = access(f, X_OK) == 0;
		free(f);
	}
	free(dirs);
	return found;
}

/* Append a target's pid to $BENCH_PIDS, for bench/all's trap. */
static void
note_pid(pid_t pid)
{
	const char	*path = getenv("BENCH_PIDS");
	FILE		*f;

	if (path == NULL || *path == '\0')
		return;
	if ((f = fopen(path, "ae")) == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

/*
 * Start argv with its stdin a pipe of ours and read its stdout until a
 * line "ready"; what came before is kept in ->said.
 */
struct target *
target_start(char *const argv[], bool path_search)
{
	posix_spawn_file_actions_t	 fa;
	struct target			*t;
	int				 in[2], out[2], rc;
	char				*said;
	size_t				 len;
	FILE				*f;

	if (ntargets == MAX_TARGETS)
		die("too many targets");
	t = &targets[ntargets];
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	rc = (path_search ? posix_spawnp : posix_spawn)(&t->pid, argv[0], &fa,
	    NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		die("%s: %s", argv[0], strerror(rc));
	close(in[0]);
	close(out[1]);
	t->in_fd = in[1];
	ntargets++;
	note_pid(t->pid);
	if ((f = fdopen(out[0], "r")) == NULL)
		die("fdopen: %s", strerror(errno));
	said = xcalloc(1, 1);
	for (;;) {
		char	*line = NULL;
		size_t	 cap = 0;

		if (getline(&line, &cap, f) == -1)
			die("%s ended before it was ready (see its message "
			    "above)", argv[0]);
		if (strcmp(line, "ready\n") == 0) {
			free(line);
			break;
		}
		len = strlen(said);
		if ((said = realloc(said, len + strlen(line) + 1)) == NULL)
			die("out of memory");
		strcpy(said + len, line);
		free(line);
	}
	fclose(f);
	t->said = said;
	return t;
}

/*
 * Until every one of the target's threads (at least n of them) sleeps in
 * read(2), syscall 0 in /proc/PID/task/TID/syscall: stack_target says
 * "ready" before its threads, the main one too, have gone down their
 * call chains to park (on a loaded machine, some way before). 10 s at
 * most.
 */
void
wait_parked(pid_t pid, long n)
{
	char	*dir = xasprintf("/proc/%ld/task", (long)pid);

	for (int tries = 0; tries < 2000; tries++) {
		DIR		*d = opendir(dir);
		struct dirent	*e;
		long		 tasks = 0, parked = 0;

		if (d == NULL)
			die("%s: %s", dir, strerror(errno));
		while ((e = readdir(d)) != NULL) {
			char	*path, text[64], *end;
			ssize_t	 len;
			int	 fd;

			if (e->d_name[0] == '.')
				continue;
			tasks++;
			path = xasprintf("%s/%s/syscall", dir, e->d_name);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
				len = read(fd, text, sizeof(text) - 1);
				close(fd);
				text[len > 0 ? len : 0] = '\0';
				if (strtol(text, &end, 10) == 0 && end > text &&
				    *end == ' ')
					parked++;
			}
			free(path);
		}
		closedir(d);
		if (tasks >= n && parked == tasks) {
			free(dir);
			return;
		}
		usleep(5000);
	}
	die("the threads of %ld did not all park in read(2) within 10 s",
	    (long)pid);
}

/* many_maps with n pages: its base and page size. */
struct target *
many_maps_start(const char *path, long n, uint64_t *base, long *pg)
{
	char		 arg[32];
	char		*argv[] = { (char *)path, arg, NULL };
	struct target	*t;
	long		 pid, pages;
	unsigned long	 b;

	snprintf(arg, sizeof(arg), "%ld", n);
	if (access(path, X_OK) == -1)
		die("%s: %s (build it: make -C bench)", path, strerror(errno));
	t = target_start(argv, false);
	if (sscanf(t->said, "pid %ld base %lx pages %ld pagesize %ld", &pid,
	    &b, &pages, pg) != 4)
		die("%s said \"%s\", not its pid and base", path, t->said);
	if (pid != t->pid || pages != n)
		die("the target reports pid %ld, %ld pages; expected %ld, %ld",
		    pid, pages, (long)t->pid, n);
	*base = b;
	return t;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats
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
double
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

/*
 * The order of round r: a permutation of the ncmd commands, drawn from a
 * fixed seed (the same rounds every run). Not a rotation: rotated, each
 * command always followed the same one, and the run after a heavy one
 * pays for it (memwalk stack ran 0.7 ms slower right after `memwalk
 * stack --no-stop` on 60,000 mappings, so `memwalk stack +maps`, always
 * its successor, came out 1.3x its twin on a small target).
 */
static void
round_order(int *order, int ncmd, uint64_t *seed)
{
	for (int i = 0; i < ncmd; i++)
		order[i] = i;
	for (int i = ncmd - 1; i > 0; i--) {
		int	j, t;

		*seed ^= *seed << 13;
		*seed ^= *seed >> 7;
		*seed ^= *seed << 17;
		j = (int)(*seed % (uint64_t)(i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* Warm-up rounds first, their times dropped; the order shuffled each round. */
void
run_rounds(struct cmd *cmds, int ncmd, long rounds, long warmup)
{
	int		*order = xcalloc((size_t)ncmd, sizeof(*order));
	uint64_t	 seed = UINT64_C(0x9e3779b97f4a7c15);

	for (int c = 0; c < ncmd; c++)
		cmds[c].ms = xcalloc((size_t)rounds, sizeof(double));
	for (long r = -warmup; r < rounds; r++) {
		round_order(order, ncmd, &seed);
		for (int j = 0; j < ncmd; j++) {
			struct cmd	*c = &cmds[order[j]];
			double		 ms;

			check_status(c, spawn_wait(c, -1, &ms));
			if (r >= 0)
				c->ms[r] = ms;
		}
	}
	free(order);
}

void
print_times(const struct cmd *cmds, int ncmd, long rounds, struct stats *st)
{
	printf("| command | median ms | min ms | p90 ms |\n");
	printf("|---|---:|---:|---:|\n");
	for (int c = 0; c < ncmd; c++) {
		st[c] = stats_of(cmds[c].ms, (int)rounds);
		printf("| `%s` | %.3f | %.3f | %.3f |\n", cmds[c].label,
		    st[c].median, st[c].min, st[c].p90);
		data_line("time\t%s\t%s\t%.6f\t%.6f\t%.6f\t%ld", cur_mode,
		    cmds[c].label, st[c].median, st[c].min, st[c].p90, rounds);
	}
}

double
ratio_medians(const struct stats *st, const struct ratio *r)
{
	return r->diff ? st[r->a].median - st[r->b].median :
	    st[r->a].median / st[r->b].median;
}

double
ratio_rounds(const struct cmd *cmds, long rounds, const struct ratio *r)
{
	return paired(cmds[r->a].ms, cmds[r->b].ms, (int)rounds, !r->diff);
}

void
print_ratios(const struct cmd *cmds, const struct stats *st, long rounds,
    const struct ratio *rs, int n)
{
	printf("\n| ratio | of medians | median of per-round |\n");
	printf("|---|---:|---:|\n");
	for (int i = 0; i < n; i++) {
		const struct ratio	*r = &rs[i];

		if (r->diff)
			printf("| %s (ms) | %.3f | %.3f |\n", r->label,
			    ratio_medians(st, r), ratio_rounds(cmds, rounds, r));
		else
			printf("| %s | %.2fx | %.2fx |\n", r->label,
			    ratio_medians(st, r), ratio_rounds(cmds, rounds, r));
	}
}

const char *
verdict(bool met)
{
	return met ? "met" : "NOT met";
}

void
print_loadavg(const char *when)
{
	char	*la = slurp_path("/proc/loadavg", NULL);

	la[strcspn(la, "\n")] = '\0';
	printf("load average %s: %s\n", when, la);
}

void
print_header(const struct opts *o, long rounds, long warmup, int ncmd)
{
	struct cmd	 v = { "memwalk -V", { (char *)o->memwalk, "-V", NULL },
	    false, NULL };
	char		*out = capture(&v);

	out[strcspn(out, "\n")] = '\0';
	printf("memwalk: %s (%s)\n", o->memwalk, out);
	free(out);
	if (o->baseline != NULL)
		printf("baseline: %s\n", o->baseline);
	printf("rounds: %ld timed (after %ld warm-up), %d commands "
	    "interleaved, order shuffled each round\n", rounds, warmup, ncmd);
	print_loadavg("before");
	fflush(stdout);
}

void
data_mode(const char *mode)
{
	cur_mode = mode;
}

/* One line (a newline added) to $BENCH_DATA, if it names a file. */
void
data_line(const char *fmt, ...)
{
	const char	*path = getenv("BENCH_DATA");
	va_list		 ap;
	FILE		*f;

	if (path == NULL || *path == '\0')
		return;
	if ((f = fopen(path, "ae")) == NULL)
		die("%s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (fclose(f) == EOF)
		die("%s: %s", path, strerror(errno));
}

/*
 * A goal: text, the figure its verdict is taken on (unit "x", "ms" or
 * "ns"), op "<=" or ">=" and the limit, the basis of the figure ("per
 * round", "median"), and other figures as free text.
 */
void
data_goal(const char *text, double figure, const char *unit, const char *op,
    double limit, const char *basis, const char *fmt, ...)
{
	va_list	 ap;
	char	*other;

	va_start(ap, fmt);
	if (vasprintf(&other, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	data_line("goal\t%s\t%s\t%.6g\t%s\t%s\t%g\t%s\t%s", cur_mode, text,
	    figure, unit, op, limit, basis, other);
	free(other);
}
