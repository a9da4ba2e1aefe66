/*
 * cli.h: what the files of memwalk(1) share.
 *
 *   memwalk.c   arguments, usage, dispatch to a command
 *   target.c    PID|NAME -> pid, and why a target cannot be read
 *   out.c       buffered stdout: text, numbers, JSON strings
 *   color.c     whether text is colored (--color, NO_COLOR); the colors
 *   progress.c  how far a long read has got, on a terminal's stderr
 *   describe.c  a region's label, an address's object: words and JSON
 *   cmd_maps.c  the annotated map (table or JSON), smaps figures, threads
 *   cmd_where.c addresses -> regions, sections, symbols, objects
 *   addrscan.c  the addresses of where: arguments, stdin lines, tokens
 *   objects.c   the map summed per ELF object (--objects)
 *   cmd_py.c    a CPython process: version, small ints, pymalloc
 *   cmd_arenas.c the arenas of mw_malloc, glibc and pymalloc, one format
 *   cmd_stack.c every thread's stack and frames (ptrace, libunwind)
 *   cmd_diff.c  two snapshots (memwalk snap) compared; json.c reads them
 *   cmd_watch.c the growth per kind, live, one line per interval
 *   cmd_layout.c the address space as a picture: text or SVG
 *
 * The CLI knows nothing of memory: libmemwalk answers, the CLI formats.
 * Exit status: 0 ok, 1 a target could not be read, 2 usage error.
 */
#ifndef MEMWALK_CLI_H
#define MEMWALK_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "memwalk.h"

#define EXIT_TARGET	1
#define EXIT_USAGE	2

/* --color=WHEN: COLOR_UNSET when not given (auto). */
enum color { COLOR_UNSET, COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct options {
	bool	json;
	bool	text_only;	/* --no-procmap-query */
	bool	extended;	/* -x: smaps figures */
	bool	totals;		/* --totals: the totals only */
	bool	stop;		/* --stop: interrupt running threads */
	bool	objects;	/* --objects: the map summed per ELF object */
	bool	no_stop;	/* stack --no-stop: no ptrace at all */
	bool	snapshot;	/* snap: -x --json, with a snapshot head */
	double	interval;	/* watch --interval S (seconds) */
	long	count;		/* watch --count N; 0: until the end */
	bool	watch_opts;	/* --interval or --count given */
	const char *svg;	/* layout --svg FILE: "-" is stdout */
	enum color color;	/* --color=WHEN */
};

/* target.c */
int	 target_resolve(const char *arg, pid_t *pid);
bool	 target_replaced(pid_t *pid);
void	 target_forget(void);
int	 target_fail(pid_t pid, int err, const char *file);
int	 target_fail_attach(pid_t pid);
int	 target_check_process(pid_t pid);
void	 target_comm(pid_t pid, char *buf, size_t len);
void	 target_print_head(pid_t pid);
int	 target_open_proc(const char *cmd, const struct options *o,
	    int argc, char **argv, pid_t *pid, struct mw_proc **pp);

/* out.c */
void	 out_init(bool line_buffered);
int	 out_set_fd(int fd);
void	 out_bytes(const char *s, size_t n);
void	 out_str(const char *s);
void	 out_char(char c);
void	 out_pad(size_t n);
void	 out_hex(uint64_t v, int width);
char	*out_reserve(size_t n);
void	 out_commit(const char *end);
char	*put_hex(char *p, uint64_t v, int width);
void	 out_dec(uint64_t v);
void	 out_json_str(const char *s);
void	 out_xml(const char *s, size_t len);
void	 out_text_name(const char *s);
char	*put_text_name(char *p, const char *name, size_t len);
size_t	 size_text(uint64_t bytes, char buf[8]);
void	 out_end_line(void);
int	 out_flush(void);
int	 hex_digits(uint64_t v);
void	 out_signed_size(int64_t d, size_t width);
void	 json_key_addr(const char *key, uint64_t v);
void	 json_key_dec(const char *key, uint64_t v);

/* color.c */
void	 color_init(enum color when, bool text);
bool	 color_on(void);
const char *color_kind(enum mw_kind k);
const char *color_heading(void);
char	*put_sgr(char *p, const char *sgr);
char	*put_sgr_end(char *p, const char *sgr);
void	 out_sgr(const char *sgr);
void	 out_sgr_end(const char *sgr);
void	 out_kind(enum mw_kind k);
void	 out_heading(const char *s);

/* progress.c */
void	 progress_start(const char *what);
void	 progress_region(void *ctx, const struct mw_region *r);
void	 progress_end(void);

/* addrscan.c: why is NULL for a token that is an address. */
typedef int (*addr_token_fn)(void *ctx, const char *token, uint64_t addr,
	    const char *why);
typedef int (*addr_line_fn)(void *ctx, const char *line, size_t lineno);
int	 addr_parse(const char *s, uint64_t *out, const char **why);
int	 addr_scan_line(const char *line, addr_token_fn fn, void *ctx);
int	 addr_read_lines(FILE *fp, size_t max, addr_line_fn fn, void *ctx);

/* describe.c */
size_t	 describe_region(char *buf, size_t size, const struct mw_proc *p,
	    const struct mw_region *r, const struct mw_label *l);
size_t	 describe_object(char *buf, size_t size, const struct mw_object *o);
bool	 label_says(const struct mw_label *l);
void	 json_label(const struct mw_proc *p, const struct mw_region *r,
	    const struct mw_label *l);
void	 json_smaps(const struct mw_smaps *s);
void	 json_object(const struct mw_object *o);

/* commands */
void	 json_region(const struct mw_region *r);
void	 json_region_open(const struct mw_region *r);
unsigned int proc_flags(const struct options *o);
int	 cmd_py(const struct options *o, int argc, char **argv);
int	 cmd_arenas(const struct options *o, int argc, char **argv);
int	 cmd_stack(const struct options *o, int argc, char **argv);
int	 cmd_diff(const struct options *o, int argc, char **argv);
int	 cmd_watch(const struct options *o, int argc, char **argv);
int	 cmd_layout(const struct options *o, int argc, char **argv);
int	 show_objects(pid_t pid, const struct mw_maps *m,
	    const struct options *o);
int	 cmd_maps(const struct options *o, int argc, char **argv);
int	 cmd_where(const struct options *o, int argc, char **argv);

#endif
