/*
 * cmd_where.c: `memwalk where PID ADDR... | -`, addresses -> regions.
 *
 * Arguments are all parsed before the target is touched, so a bad one
 * is a usage error with nothing printed. With "-", each stdin line that
 * holds 0x numbers (p_mem output, Python's hex(id(x)), a log) is
 * answered as it arrives, the line kept as the label: the producer may
 * still be running, and its addresses must be read while it lives.
 * addrscan.c reads the arguments, the lines and their 0x numbers.
 *
 * The region comes from the query handle (PROCMAP_QUERY: the map as it
 * is now); what memwalk knows beyond it (deep kind, label, section,
 * symbol, object) from a struct mw_proc that mw_proc_open_region opens
 * for the region: over the region's image, over the whole map when a
 * deep pass could claim it, or over the region alone (the rules are
 * lib/where.c's). The last MAX_PROCS are kept for later addresses; one
 * that no longer holds the query's region is not asked.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_LINE	(1024 * 1024)
#define MAX_PROCS	8	/* kept open for later addresses */

struct where {
	const struct options	*o;
	struct mw_query		*q;
	struct mw_proc		*procs[MAX_PROCS];	/* newest first */
	size_t			 nprocs;
	struct mw_proc		*p;	/* the one the answer came from */
	pid_t			 pid;
	size_t			 answered;
	const char		*line;	/* of stdin, being answered */
	size_t			 lineno;
	int			 rc;	/* of stdin, so far */
};

static void
print_deep(const struct where *w, const struct mw_region *r,
    const struct mw_answer *a)
{
	char	words[320];

	if (a->section != NULL || a->symbol != NULL) {
		out_str("  ");
		if (a->section != NULL)
			out_str(a->section);
		if (a->section != NULL && a->symbol != NULL)
			out_char(' ');
		if (a->symbol != NULL) {
			out_text_name(a->symbol);
			if (a->symbol_offset != 0) {
				out_str("+0x");
				out_hex(a->symbol_offset, 0);
			}
		}
	}
	if (w->p != NULL &&
	    describe_region(words, sizeof(words), w->p, r, &a->label) > 0) {
		out_str("  [");
		out_text_name(words);
		out_char(']');
	}
	if (describe_object(words, sizeof(words), &a->object) > 0) {
		out_str("  object: ");
		out_str(words);
	}
}

static void
print_text(const struct where *w, const char *label, uint64_t addr,
    int found, const struct mw_region *r, const struct mw_answer *a)
{
	char	perms[5];

	if (label != NULL) {
		out_text_name(label);
		out_str("  =>  ");
	}
	out_str("0x");
	out_hex(addr, 0);
	out_str("  ");
	if (!found) {
		out_str("unmapped");
		out_end_line();
		return;
	}
	out_kind(r->kind);
	out_str("  ");
	out_hex(r->start, 0);
	out_char('-');
	out_hex(r->end, 0);
	out_char(' ');
	out_str(mw_perms_str(r->perms, perms));
	out_str("  +0x");
	out_hex(addr - r->start, 0);
	if (r->name != NULL) {
		out_str("  ");
		out_text_name(r->name);
	}
	if (r->inode != 0) {
		out_str("  (file offset 0x");
		out_hex(r->offset + (addr - r->start), 0);
		out_char(')');
	}
	print_deep(w, r, a);
	out_end_line();
}

static void
json_null_or_str(const char *key, const char *s)
{
	out_str(", \"");
	out_str(key);
	out_str("\": ");
	if (s != NULL)
		out_json_str(s);
	else
		out_str("null");
}

static void
print_json(struct where *w, const char *label, uint64_t addr, int found,
    const struct mw_region *r, const struct mw_answer *a)
{
	out_str(w->answered == 0 ? "\n  " : ",\n  ");
	out_str("{\"address\": \"0x");
	out_hex(addr, 0);
	out_str("\", \"label\": ");
	if (label != NULL)
		out_json_str(label);
	else
		out_str("null");
	out_str(", \"kind\": \"");
	out_str(found ? mw_kind_name(r->kind) : "unmapped");
	out_str("\", \"offset\": ");
	if (found)
		out_dec(addr - r->start);
	else
		out_str("null");
	out_str(", \"file_offset\": ");
	if (found && r->inode != 0)
		out_dec(r->offset + (addr - r->start));
	else
		out_str("null");
	json_null_or_str("section", found ? a->section : NULL);
	json_null_or_str("symbol", found ? a->symbol : NULL);
	out_str(", \"symbol_offset\": ");
	if (found && a->symbol != NULL)
		out_dec(a->symbol_offset);
	else
		out_str("null");
	out_str(", \"object\": ");
	if (found && a->object.type != MW_OBJECT_NONE)
		json_object(&a->object);
	else
		out_str("null");
	out_str(", \"region\": ");
	if (found) {
		json_region_open(r);
		if (w->p != NULL)
			json_label(w->p, r, &a->label);
		out_char('}');
	} else
		out_str("null");
	out_char('}');
}

static bool
same_region(const struct mw_region *a, const struct mw_region *b)
{
	return a->start == b->start && a->end == b->end &&
	    a->perms == b->perms && a->inode == b->inode &&
	    a->offset == b->offset;
}

/*
 * The struct mw_procs opened so far, newest first: the whole map (which
 * knows every region), images, lone regions. One knows region r when
 * its answer for addr has r as the query has it now.
 */
static bool
knows(struct mw_proc *p, uint64_t addr, const struct mw_region *r,
    struct mw_answer *a)
{
	return mw_proc_where(p, addr, a) == 1 && same_region(&a->region, r);
}

static struct mw_proc *
cached(struct where *w, uint64_t addr, const struct mw_region *r,
    struct mw_answer *a)
{
	for (size_t i = 0; i < w->nprocs; i++)
		if (knows(w->procs[i], addr, r, a))
			return w->procs[i];
	return NULL;
}

static void
keep(struct where *w, struct mw_proc *p)
{
	if (w->nprocs == MAX_PROCS)
		mw_proc_close(w->procs[--w->nprocs]);
	memmove(w->procs + 1, w->procs, w->nprocs * sizeof(*w->procs));
	w->procs[0] = p;
	w->nprocs++;
}

/*
 * What the deeper passes say of addr in region r (lib/where.c decides
 * how much of the map that needs). Without an answer (the target
 * changes faster than it can be read, or its memory cannot be read),
 * the answer holds r alone.
 */
static int
deep_answer(struct where *w, uint64_t addr, struct mw_region *r,
    struct mw_answer *a)
{
	struct mw_proc	*p;

	errno = 0;
	if ((w->p = cached(w, addr, r, a)) != NULL) {
		r->kind = a->region.kind;
		return 0;
	}
	if ((p = mw_proc_open_region(w->q, r, proc_flags(w->o))) != NULL) {
		keep(w, p);
		if (knows(p, addr, r, a)) {
			r->kind = a->region.kind;
			w->p = p;
			return 0;
		}
	}
	if (errno == ESRCH)
		return -1;
	memset(a, 0, sizeof(*a));
	a->label.arena = a->label.heap = -1;
	return 0;
}

/* Answer one address; 0, or an exit status. */
static int
answer(struct where *w, const char *label, uint64_t addr)
{
	struct mw_region	r;
	struct mw_answer	a;
	int			found;

	memset(&a, 0, sizeof(a));
	a.label.arena = a.label.heap = -1;
	if ((found = mw_query_addr(w->q, addr, &r)) == -1 ||
	    (found == 1 && deep_answer(w, addr, &r, &a) == -1))
		return target_fail(w->pid, errno, "maps");
	if (w->o->json)
		print_json(w, label, addr, found, &r, &a);
	else
		print_text(w, label, addr, found, &r, &a);
	w->answered++;
	return 0;
}

/* addr_token_fn: answer one address of the line being read. */
static int
stdin_token(void *ctx, const char *token, uint64_t addr, const char *why)
{
	struct where	*w = ctx;

	if (why != NULL) {
		warnx("stdin:%zu: %s: %s", w->lineno, token, why);
		return EXIT_USAGE;
	}
	return answer(w, w->line, addr);
}

/*
 * addr_line_fn: every 0x number of a line that stands as a word. A bad
 * one ends the line; a target that cannot be read ends the input.
 */
static int
stdin_line(void *ctx, const char *line, size_t lineno)
{
	struct where	*w = ctx;
	int		 r;

	if (line == NULL) {
		warnx("stdin:%zu: line longer than %d bytes, skipped",
		    lineno, MAX_LINE);
		w->rc = EXIT_USAGE;
		return 0;
	}
	w->line = line;
	w->lineno = lineno;
	r = addr_scan_line(line, stdin_token, w);
	out_flush();
	if (r == EXIT_TARGET) {
		w->rc = r;
		return r;
	}
	if (r != 0)
		w->rc = r;
	return 0;
}

static int
answer_stdin(struct where *w)
{
	w->rc = 0;
	(void)addr_read_lines(stdin, MAX_LINE, stdin_line, w);
	if (ferror(stdin)) {
		warn("stdin");
		w->rc = EXIT_USAGE;
	}
	return w->rc;
}

int
cmd_where(const struct options *o, int argc, char **argv)
{
	struct where	 w = { .o = o };
	uint64_t	*addrs = NULL;
	const char	*why;
	bool		 from_stdin;
	int		 rc = 0, i;

	if (argc < 2) {
		warnx("where: a PID and at least one address (or -) are needed");
		return EXIT_USAGE;
	}
	from_stdin = argc == 2 && strcmp(argv[1], "-") == 0;
	if (!from_stdin) {
		if ((addrs = calloc((size_t)argc, sizeof(*addrs))) == NULL)
			err(EXIT_TARGET, "calloc");
		for (i = 1; i < argc; i++)
			if (addr_parse(argv[i], &addrs[i], &why) == -1) {
				warnx("%s: invalid address: %s", argv[i], why);
				free(addrs);
				return EXIT_USAGE;
			}
	}
	if ((rc = target_resolve(argv[0], &w.pid)) != 0)
		goto done;
	w.q = mw_query_open(w.pid, o->text_only ? MW_QUERY_TEXT : 0);
	if (w.q == NULL) {
		rc = target_fail(w.pid, errno, "maps");
		goto done;
	}
	out_init(from_stdin);
	if (o->json) {
		out_str("{\"pid\": ");
		out_dec((uint64_t)w.pid);
		out_str(", \"addresses\": [");
	}
	if (from_stdin)
		rc = answer_stdin(&w);
	else
		for (i = 1; i < argc && rc == 0; i++)
			rc = answer(&w, NULL, addrs[i]);
	if (o->json)
		out_str("\n]}\n");
	mw_query_close(w.q);
	while (w.nprocs > 0)
		mw_proc_close(w.procs[--w.nprocs]);
done:
	free(addrs);
	return rc;
}
