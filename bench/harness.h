/*
 * harness.h: what the modes of bench/run share (harness.c).
 *
 * A mode fills an array of commands, checks their output once, then
 * hands the array to run_rounds(), which times every command once per
 * round, in turn, the order rotated by one each round:
 *
 *   round 0:  c0 c1 c2 ... cN-1
 *   round 1:  c1 c2 ... cN-1 c0
 *   ...
 *
 * so that a command's runs and its peer's are neighbours in time, and
 * paired() can take the median of the per-round ratios. Each run's time
 * is the wall time of posix_spawn + waitpid, stdout to /dev/null;
 * any run that exits non-zero ends the benchmark (die()).
 *
 * Targets are processes the harness starts, that print their facts on
 * stdout, then a line "ready", then wait until their stdin closes; die()
 * and targets_stop() close it and reap them. When $BENCH_PIDS names a
 * file, each target's pid is appended to it (bench/all's trap ends any
 * target left behind, should run itself be killed mid-way).
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cmd {
	const char	*label;
	char		*argv[10];
	bool		 path_search;	/* posix_spawnp */
	double		*ms;		/* one per timed round */
};

struct stats {
	double	median, min, p90, max;
};

struct target {
	pid_t	 pid;
	int	 in_fd;		/* its stdin: closing it ends it */
	char	*said;		/* its stdout up to "ready" */
};

/* A row of a ratio table: cmds[a] / cmds[b], or cmds[a] - cmds[b] (ms). */
struct ratio {
	const char	*label;
	int		 a, b;
	bool		 diff;
};

struct opts {
	const char	*memwalk;	/* the binary measured */
	const char	*baseline;	/* -b: another build, or NULL */
	const char	*many_maps;	/* the target of maps and smaps */
	const char	*python;	/* the interpreter of py */
	const char	*stack_target;	/* the target of stack */
	const char	*points;	/* -N: the x values of a scale mode */
	long		 gdb_max;	/* -G: scale-threads runs gdb up to this */
	long		 n;		/* mappings (maps; the larger of smaps) */
	long		 n_small;	/* the smaller size of smaps */
	long		 rounds;	/* -1: the mode's default */
	long		 warmup;
};

void __attribute__((noreturn, format(printf, 1, 2)))
	 die(const char *, ...);
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*grouped(long);

char	*cmd_text(const struct cmd *);
int	 spawn_wait(const struct cmd *, int, double *);
void	 check_status(const struct cmd *, int);
char	*capture(const struct cmd *);
void	 run_once(const struct cmd *);
char	*slurp_path(const char *, size_t *);
size_t	 count_char(const char *, char);
size_t	 count_rows(const char *);
bool	 on_path(const char *);

struct target *target_start(char *const [], bool);
struct target *many_maps_start(const char *, long, uint64_t *, long *);
void	 targets_stop(void);
void	 wait_parked(pid_t, long);

struct stats stats_of(const double *, int);
double	 paired(const double *, const double *, int, bool);
void	 run_rounds(struct cmd *, int, long, long);
void	 print_times(const struct cmd *, int, long, struct stats *);
double	 ratio_medians(const struct stats *, const struct ratio *);
double	 ratio_rounds(const struct cmd *, long, const struct ratio *);
void	 print_ratios(const struct cmd *, const struct stats *, long,
	    const struct ratio *, int);
const char *verdict(bool);
void	 print_header(const struct opts *, long, long, int);
void	 print_loadavg(const char *);

/*
 * Machine-readable lines for bench/all (bench/report.py), appended to
 * the file $BENCH_DATA names, when it names one; tab-separated:
 *
 *   time  MODE  LABEL  MEDIAN  MIN  P90  ROUNDS       (print_times, ms)
 *   goal  MODE  TEXT  FIGURE  UNIT  OP  LIMIT  BASIS  OTHER
 *   scale PLOT  SERIES  X  MEDIAN  MIN  P90          (ms)
 *
 * OP is <= or >= (the figure's side of LIMIT when the goal is met).
 */
void	 data_mode(const char *);
void	 data_line(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 data_goal(const char *, double, const char *, const char *, double,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 7, 8)));

int	 mode_maps(const struct opts *);
int	 mode_smaps(const struct opts *);
int	 mode_py(const struct opts *);
int	 mode_stack(const struct opts *);
int	 mode_scale_maps(const struct opts *);
int	 mode_scale_threads(const struct opts *);

#endif
