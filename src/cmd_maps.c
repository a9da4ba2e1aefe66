/*
 * cmd_maps.c: `memwalk [-x] [--objects | --totals] PID`, the annotated map.
 *
 * Table: one row per region, columns sized to the content (addresses
 * zero-padded to the widest end, kinds to the longest present), what
 * memwalk knows of the region beyond its kind in the last column, then
 * the totals per kind in vocabulary order and the threads. JSON: the
 * same facts, one document, field names stable (see memwalk(1)).
 *
 * Without -x the rows are formatted while the map is still being read
 * (early_row), at the widest widths; once the deeper passes of
 * mw_proc_open_each are done, only the rows they changed are formatted
 * again. With -x the figures come from one read of smaps, its progress
 * shown on a terminal (progress.c). With colors on (color.c), the kind
 * column is colored per kind and the headings are bold; the columns stay
 * where they are.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

unsigned int
proc_flags(const struct options *o)
{
	return (o->extended ? MW_PROC_SMAPS : 0) | (o->stop ? MW_PROC_STOP : 0);
}

/* A region's fields, the object left open for more. */
void
json_region_open(const struct mw_region *r)
{
	char	perms[5];

	out_str("{\"start\": \"0x");
	out_hex(r->start, 0);
	out_str("\", \"end\": \"0x");
	out_hex(r->end, 0);
	out_str("\", \"size\": ");
	out_dec(r->end - r->start);
	out_str(", \"perms\": \"");
	out_str(mw_perms_str(r->perms, perms));
	out_str("\", \"offset\": ");
	out_dec(r->offset);
	out_str(", \"dev\": \"");
	out_hex(r->dev_major, 2);
	out_char(':');
	out_hex(r->dev_minor, 2);
	out_str("\", \"inode\": ");
	out_dec(r->inode);
	out_str(", \"path\": ");
	if (r->name != NULL)
		out_json_str(r->name);
	else
		out_str("null");
	out_str(", \"kind\": \"");
	out_str(mw_kind_name(r->kind));
	out_str("\", \"deleted\": ");
	out_str(r->flags & MW_REGION_DELETED ? "true" : "false");
}

void
json_region(const struct mw_region *r)
{
	json_region_open(r);
	out_char('}');
}

/* Figures per kind, and all together at [MW_KIND_COUNT]. */
static void
sum_smaps(const struct mw_maps *m, struct mw_smaps sums[MW_KIND_COUNT + 1])
{
	const struct mw_region	*v;
	const struct mw_smaps	*s;
	size_t			 n;

	memset(sums, 0, sizeof(*sums) * (MW_KIND_COUNT + 1));
	v = mw_maps_regions(m, &n);
	for (size_t i = 0; i < n; i++)
		if ((s = mw_maps_smaps(m, &v[i])) != NULL) {
			mw_smaps_add(&sums[v[i].kind], s);
			mw_smaps_add(&sums[MW_KIND_COUNT], s);
		}
}

static void
json_smaps_totals(const struct mw_maps *m)
{
	struct mw_smaps	sums[MW_KIND_COUNT + 1];
	struct mw_kind_totals t;
	size_t		n;

	sum_smaps(m, sums);
	mw_maps_totals(m, &t);
	mw_maps_regions(m, &n);
	out_str(", \"smaps_totals\": {");
	for (int k = 0; k <= MW_KIND_COUNT; k++) {
		if (k < MW_KIND_COUNT && t.count[k] == 0)
			continue;
		out_str("\n  \"");
		out_str(k == MW_KIND_COUNT ? "total" :
		    mw_kind_name((enum mw_kind)k));
		out_str("\": {\"regions\": ");
		out_dec(k == MW_KIND_COUNT ? n : t.count[k]);
		out_str(", ");
		json_smaps(&sums[k]);
		out_str(k == MW_KIND_COUNT ? "}" : "},");
	}
	out_str("}");
}

static const char *
sp_source(unsigned int from)
{
	return from == MW_SP_SYSCALL ? "syscall" :
	    from == MW_SP_PTRACE ? "ptrace" : "none";
}

static void
json_threads(const struct mw_proc *p)
{
	const struct mw_thread	*v;
	size_t			 n;
	char			 state[2] = { 0, 0 };

	v = mw_proc_threads(p, &n);
	out_str(", \"threads\": [");
	for (size_t i = 0; i < n; i++) {
		out_str(i == 0 ? "\n  {\"tid\": " : ",\n  {\"tid\": ");
		out_dec((uint64_t)v[i].tid);
		out_str(", \"name\": ");
		out_json_str(v[i].name);
		state[0] = v[i].state != '\0' ? v[i].state : '?';
		out_str(", \"state\": ");
		out_json_str(state);
		out_str(", \"sp_from\": \"");
		out_str(sp_source(v[i].sp_from));
		out_str("\", \"sp\": ");
		if (v[i].sp_from == MW_SP_NONE)
			out_str("null, \"ip\": null");
		else {
			out_str("\"0x");
			out_hex(v[i].sp, 0);
			out_str("\", \"ip\": \"0x");
			out_hex(v[i].ip, 0);
			out_char('"');
		}
		out_str(", \"stack_start\": ");
		if (v[i].stack_end == 0)
			out_str("null, \"stack_end\": null");
		else {
			out_str("\"0x");
			out_hex(v[i].stack_start, 0);
			out_str("\", \"stack_end\": \"0x");
			out_hex(v[i].stack_end, 0);
			out_char('"');
		}
		out_str(", \"stack_size\": ");
		out_dec(v[i].stack_size);
		out_str(", \"used\": ");
		if (v[i].sp_from == MW_SP_NONE)
			out_str("null, \"headroom\": null}");
		else {
			out_dec(v[i].used);
			out_str(", \"headroom\": ");
			out_dec(v[i].headroom);
			out_char('}');
		}
	}
	out_str(n > 0 ? "\n]" : "]");
}

/*
 * What makes `memwalk snap` output a snapshot that `memwalk diff` takes:
 * the format, when it was taken (seconds since the epoch, to the
 * microsecond) and by which memwalk.
 */
static void
json_snapshot_head(void)
{
	struct timespec	now;
	char		buf[64];

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(buf, sizeof(buf), "%lld.%06ld", (long long)now.tv_sec,
	    now.tv_nsec / 1000);
	out_str(", \"snapshot\": {\"format\": 1, \"time\": ");
	out_str(buf);
	out_str(", \"memwalk\": \"" PACKAGE_VERSION "\"}");
}

static void
print_json(pid_t pid, const struct mw_proc *p, const struct options *o)
{
	const struct mw_maps	*m = mw_proc_maps(p);
	const struct mw_region	*v;
	const struct mw_smaps	*s;
	struct mw_kind_totals	 t;
	size_t			 n;
	char			 comm[64];
	bool			 first = true;

	v = mw_maps_regions(m, &n);
	mw_maps_totals(m, &t);
	target_comm(pid, comm, sizeof(comm));
	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	out_str(", \"comm\": ");
	out_json_str(comm);
	if (o->snapshot)
		json_snapshot_head();
	out_str(", \"regions\": [");
	for (size_t i = 0; i < n && !o->totals; i++) {
		out_str(i == 0 ? "\n  " : ",\n  ");
		json_region_open(&v[i]);
		json_label(p, &v[i], mw_proc_label(p, &v[i]));
		if ((s = mw_maps_smaps(m, &v[i])) != NULL) {
			out_str(", ");
			json_smaps(s);
		}
		out_char('}');
	}
	out_str(n > 0 && !o->totals ? "\n], \"totals\": {" :
	    "], \"totals\": {");
	for (int k = 0; k < MW_KIND_COUNT; k++) {
		if (t.count[k] == 0)
			continue;
		out_str(first ? "\"" : ", \"");
		out_str(mw_kind_name((enum mw_kind)k));
		out_str("\": ");
		out_dec(t.bytes[k]);
		first = false;
	}
	out_char('}');
	if (o->extended)
		json_smaps_totals(m);
	if (!o->totals)
		json_threads(p);
	out_str("}\n");
}

/*
 * The row's fixed parts, ready to copy: each kind's name, in its color
 * when colors are on (color.c), space-padded to the kind column's width
 * and one more; the perms by their four bits (MW_PERM_*). Copies of
 * fixed size compile to a store or two; a row is 60,000 times this.
 *
 *   kind_cell[k]   ESC[..m name ESC[0m spaces ...   (KIND_CELL bytes)
 *                  |<-- kind_bare[k] -->|
 *                  |<-------- kind_step[k] -------->|
 */
#define KIND_CELL	32	/* 5 + 14 + 4 + 1: an SGR, a name, a reset */
static char		kind_cell[MW_KIND_COUNT][KIND_CELL];
static unsigned char	kind_bare[MW_KIND_COUNT];
static unsigned char	kind_step[MW_KIND_COUNT];
static const char	perm_cell[16][4] = {
	"---p", "r--p", "-w-p", "rw-p", "--xp", "r-xp", "-wxp", "rwxp",
	"---s", "r--s", "-w-s", "rw-s", "--xs", "r-xs", "-wxs", "rwxs",
};

/* The cells for a kind column width columns wide (kind_width()). */
static void
fill_kind_cells(size_t width)
{
	for (int k = 0; k < MW_KIND_COUNT; k++) {
		const char	*name = mw_kind_name((enum mw_kind)k);
		const char	*sgr = color_kind((enum mw_kind)k);
		char		*p = kind_cell[k];

		memset(p, ' ', KIND_CELL);
		p = put_sgr(p, sgr);
		memcpy(p, name, strlen(name));
		p = put_sgr_end(p + strlen(name), sgr);
		kind_bare[k] = (unsigned char)(p - kind_cell[k]);
		kind_step[k] = (unsigned char)(kind_bare[k] + width + 1 -
		    strlen(name));
	}
}

/* The smaps columns of -x, each a humanized figure, right-aligned. */
#define NFIGURES	5
#define FIGURE_WIDTH	6
static const char *const figure_names[NFIGURES] = {
	"RSS", "PSS", "SHARED", "DIRTY", "SWAP",
};

static void
figures_of(const struct mw_smaps *s, uint64_t f[NFIGURES])
{
	f[0] = s->rss;
	f[1] = s->pss;
	f[2] = s->shared_clean + s->shared_dirty;
	f[3] = s->private_dirty + s->shared_dirty;
	f[4] = s->swap;
}

struct widths {
	int	addr;		/* hex digits of start and end */
	size_t	size;		/* humanized size */
	size_t	kind;
	bool	figures;	/* -x: the smaps columns after the size */
};

/* The longest kind name: the kind column is as wide, whatever is present. */
static size_t
kind_width(void)
{
	size_t	w = 4;

	for (int k = 0; k < MW_KIND_COUNT; k++)
		if (strlen(mw_kind_name((enum mw_kind)k)) > w)
			w = strlen(mw_kind_name((enum mw_kind)k));
	return w;
}

/*
 * The columns' widths, without a pass over the regions: the widest
 * address is the last region's end, a humanized size is at most four
 * characters. The kind column is always as wide as the longest kind
 * name, so that the rows formatted while the map is read (early_row)
 * stay right whichever kinds the deeper passes find.
 */
static void
measure(const struct mw_region *v, size_t n, struct widths *w)
{
	w->addr = n > 0 && hex_digits(v[n - 1].end - 1) > 8 ?
	    hex_digits(v[n - 1].end - 1) : 8;
	w->size = 4;
	w->kind = kind_width();
	fill_kind_cells(w->kind);
}

/* The most bytes the row of a region with an nlen-byte name takes. */
static size_t
row_room(size_t nlen)
{
	return 2 * 16 + 1 + 16 + NFIGURES * (FIGURE_WIDTH + 2) + 4 + 2 +
	    KIND_CELL + 2 + 4 * nlen + 1;
}

static char *
put_size(char *p, uint64_t bytes, size_t width)
{
	char	text[8];
	size_t	len = size_text(bytes, text);

	memset(p, ' ', width + 1);
	p += width - len + 1;
	memcpy(p, text, 8);
	return p + len;
}

/*
 * One row at p, which has row_room(nlen) bytes; returns its end:
 *   START-END  SIZE [RSS PSS SHARED DIRTY SWAP] PERM KIND     NAME\n
 * (sizes right-aligned in w->size, the kind padded to w->kind). The
 * name is the caller's: the region's, or what memwalk says of it.
 */
static char *
format_row(char *p, const struct mw_region *r, const char *name, size_t nlen,
    const struct mw_smaps *s, const struct widths *w)
{
	uint64_t	f[NFIGURES];

	p = put_hex(p, r->start, w->addr);
	*p++ = '-';
	p = put_hex(p, r->end, w->addr);
	p = put_size(p, r->end - r->start, w->size);
	if (w->figures) {
		figures_of(s, f);
		for (int i = 0; i < NFIGURES; i++)
			p = put_size(p, f[i], FIGURE_WIDTH);
	}
	*p++ = ' ';
	memcpy(p, perm_cell[r->perms & 0xf], 4);
	p[4] = ' ';
	p += 5;
	memcpy(p, kind_cell[r->kind], KIND_CELL);
	if (name == NULL)
		p += kind_bare[r->kind];
	else
		p = put_text_name(p + kind_step[r->kind], name, nlen);
	*p++ = '\n';
	return p;
}

/*
 * The row of a region with what memwalk knows of it: the name followed
 * by "  (words)", or "[words]" for an unnamed region.
 */
static void
print_row(const struct mw_proc *p, const struct mw_region *r,
    const struct widths *w)
{
	const struct mw_label	*l = mw_proc_label(p, r);
	const struct mw_smaps	*s = mw_maps_smaps(mw_proc_maps(p), r);
	static const struct mw_smaps none;
	char			 words[160], name[4096 + 200];
	const char		*shown = r->name;

	if (describe_region(words, sizeof(words), p, r, l) > 0) {
		if (r->name == NULL)
			snprintf(name, sizeof(name), "[%s]", words);
		else
			snprintf(name, sizeof(name), "%s  (%s)", r->name, words);
		shown = name;
	}
	size_t nlen = shown != NULL ? strlen(shown) : 0;

	out_commit(format_row(out_reserve(row_room(nlen)), r, shown, nlen,
	    s != NULL ? s : &none, w));
}

/*
 * Rows formatted while the map is still being read, at the widest
 * widths: 16 address digits, the longest kind name. They are the table
 * as it stands whenever those are the map's own widths, as on x86-64,
 * where the vsyscall page is mapped, and the row's region was not
 * changed by the deeper passes (its kind, as streamed, is kept).
 */
struct early_rows {
	struct widths	 w;
	char		*buf;
	size_t		 len, cap;
	size_t		*ends;		/* ends[i]: where row i ends in buf */
	unsigned char	*kinds;		/* kinds[i]: row i's kind, as read */
	size_t		 n, ncap;
	bool		 failed;	/* out of memory: format afterwards */
};

static bool
early_grow(struct early_rows *e, size_t room)
{
	if (e->cap - e->len < room) {
		size_t	ncap = e->cap * 2 > e->len + room ? e->cap * 2 :
		    e->len + room;
		char	*nbuf;

		if ((nbuf = realloc(e->buf, ncap)) == NULL)
			return false;
		e->buf = nbuf;
		e->cap = ncap;
	}
	if (e->n == e->ncap) {
		size_t		 ncap = e->ncap == 0 ? 1024 : e->ncap * 2;
		size_t		*nends;
		unsigned char	*nkinds;

		if ((nends = reallocarray(e->ends, ncap, sizeof(*nends))) == NULL)
			return false;
		e->ends = nends;
		if ((nkinds = realloc(e->kinds, ncap)) == NULL)
			return false;
		e->kinds = nkinds;
		e->ncap = ncap;
	}
	return true;
}

static void
early_row(void *ctx, const struct mw_region *r)
{
	struct early_rows	*e = ctx;
	size_t			 nlen;

	if (r == NULL || e->failed) {
		e->len = e->n = 0;	/* a torn read was sorted: all follow */
		return;
	}
	nlen = r->name != NULL ? strlen(r->name) : 0;
	if (!early_grow(e, row_room(nlen))) {
		e->failed = true;
		return;
	}
	e->len = (size_t)(format_row(e->buf + e->len, r, r->name, nlen, NULL,
	    &e->w) - e->buf);
	e->kinds[e->n] = (unsigned char)r->kind;
	e->ends[e->n++] = e->len;
}

static void
early_rows_init(struct early_rows *e)
{
	memset(e, 0, sizeof(*e));
	e->w.addr = 16;
	e->w.size = 4;
	e->w.kind = kind_width();
	fill_kind_cells(e->w.kind);
}

static void
early_rows_free(struct early_rows *e)
{
	free(e->buf);
	free(e->ends);
	free(e->kinds);
}

/* The early rows, but those the deeper passes changed formatted anew. */
static void
print_early_rows(const struct mw_proc *p, const struct early_rows *e,
    const struct mw_region *v, const struct widths *w)
{
	size_t	from = 0, i;

	for (i = 0; i < e->n; i++) {
		size_t	start = i == 0 ? 0 : e->ends[i - 1];

		if (v[i].kind == e->kinds[i] &&
		    !label_says(mw_proc_label(p, &v[i])))
			continue;
		out_bytes(e->buf + from, start - from);
		print_row(p, &v[i], w);
		from = e->ends[i];
	}
	out_bytes(e->buf + from, e->len - from);
}

static void
print_header(const struct widths *w)
{
	out_sgr(color_heading());
	out_str("START-END");
	out_pad((size_t)w->addr * 2 + 1 - 9 + w->size + 1 - 4);
	out_str("SIZE");
	for (int i = 0; w->figures && i < NFIGURES; i++) {
		out_pad(FIGURE_WIDTH + 1 - strlen(figure_names[i]));
		out_str(figure_names[i]);
	}
	out_str(" PERM KIND");
	out_pad(w->kind - 4 + 1);
	out_str("NAME");
	out_sgr_end(color_heading());
	out_char('\n');
}

static void
print_count_size(size_t count, uint64_t bytes)
{
	char	num[24], text[8];
	size_t	len;

	len = (size_t)snprintf(num, sizeof(num), "%zu", count);
	out_pad(len < 8 ? 8 - len : 0);
	out_str(num);
	len = size_text(bytes, text);
	out_pad(len < 6 ? 6 - len : 0);
	out_bytes(text, len);
}

static void
print_figures(const struct mw_smaps *s)
{
	uint64_t	f[NFIGURES];
	char		text[8];
	size_t		len;

	figures_of(s, f);
	for (int i = 0; i < NFIGURES; i++) {
		len = size_text(f[i], text);
		out_pad(FIGURE_WIDTH + 1 - len);
		out_bytes(text, len);
	}
}

static void
print_totals(const struct mw_maps *m, const struct widths *w, bool alone)
{
	struct mw_smaps		sums[MW_KIND_COUNT + 1];
	struct mw_kind_totals	t;
	uint64_t		all = 0;
	size_t			n;

	mw_maps_totals(m, &t);
	mw_maps_regions(m, &n);
	if (w->figures)
		sum_smaps(m, sums);
	out_str(alone ? "" : "\n");
	out_sgr(color_heading());
	out_str("KIND");
	out_pad(w->kind - 4);
	out_str(" REGIONS  SIZE");
	for (int i = 0; w->figures && i < NFIGURES; i++) {
		out_pad(FIGURE_WIDTH + 1 - strlen(figure_names[i]));
		out_str(figure_names[i]);
	}
	out_sgr_end(color_heading());
	out_char('\n');
	for (int k = 0; k <= MW_KIND_COUNT; k++) {
		const char	*name = k == MW_KIND_COUNT ? "total" :
		    mw_kind_name((enum mw_kind)k);

		if (k < MW_KIND_COUNT && t.count[k] == 0)
			continue;
		all += k < MW_KIND_COUNT ? t.bytes[k] : 0;
		if (k < MW_KIND_COUNT)
			out_kind((enum mw_kind)k);
		else
			out_str(name);
		out_pad(w->kind - strlen(name));
		print_count_size(k == MW_KIND_COUNT ? n : t.count[k],
		    k == MW_KIND_COUNT ? all : t.bytes[k]);
		if (w->figures)
			print_figures(&sums[k]);
		out_char('\n');
	}
}

static void
print_threads(const struct mw_proc *p)
{
	const struct mw_thread	*v;
	size_t			 n;
	char			 a[8], b[8], c[8];

	v = mw_proc_threads(p, &n);
	if (n == 0)
		return;
	out_heading("\nTID      STATE SP                  STACK   USED   LEFT "
	    "NAME\n");
	for (size_t i = 0; i < n; i++) {
		char	line[160];

		size_text(v[i].stack_size, a);
		size_text(v[i].used, b);
		size_text(v[i].headroom, c);
		if (v[i].sp_from == MW_SP_NONE)
			snprintf(line, sizeof(line), "%-8d %-5c %-18s %6s %6s %6s ",
			    (int)v[i].tid, v[i].state ? v[i].state : '?',
			    "running", v[i].stack_end ? a : "?", "?", "?");
		else
			snprintf(line, sizeof(line),
			    "%-8d %-5c 0x%-16llx %6s %6s %6s ", (int)v[i].tid,
			    v[i].state ? v[i].state : '?',
			    (unsigned long long)v[i].sp, a, b, c);
		out_str(line);
		out_text_name(v[i].name);
		out_char('\n');
	}
}

static void
print_table(pid_t pid, const struct mw_proc *p, const struct early_rows *e,
    const struct options *o)
{
	const struct mw_maps	*m = mw_proc_maps(p);
	struct widths		 w;
	const struct mw_region	*v;
	size_t			 n;

	v = mw_maps_regions(m, &n);
	measure(v, n, &w);
	w.figures = o->extended;
	target_print_head(pid);
	if (!o->totals) {
		print_header(&w);
		if (!o->extended && !e->failed && e->n == n &&
		    w.addr == e->w.addr && w.size == e->w.size &&
		    w.kind == e->w.kind)
			print_early_rows(p, e, v, &w);
		else
			for (size_t i = 0; i < n; i++)
				print_row(p, &v[i], &w);
	}
	print_totals(m, &w, o->totals);
	if (!o->totals)
		print_threads(p);
}

/* -x --totals: smaps_rollup alone, without a pass over the regions. */
static int
print_rollup(pid_t pid, const struct options *o)
{
	struct mw_smaps	s;

	if (mw_smaps_rollup(pid, &s) == -1)
		return target_fail(pid, errno, "smaps_rollup");
	if (o->json) {
		out_str("{\"pid\": ");
		out_dec((uint64_t)pid);
		out_str(", \"rollup\": {");
		json_smaps(&s);
		out_str("}}\n");
		return 0;
	}
	target_print_head(pid);
	out_sgr(color_heading());
	for (int i = 0; i < NFIGURES; i++) {
		out_pad(FIGURE_WIDTH + 1 - strlen(figure_names[i]));
		out_str(figure_names[i]);
	}
	out_sgr_end(color_heading());
	out_char('\n');
	print_figures(&s);
	out_char('\n');
	return 0;
}

int
cmd_maps(const struct options *o, int argc, char **argv)
{
	struct early_rows	 e;
	struct mw_proc		*p;
	size_t			 n;
	pid_t			 pid;
	int			 rc;

	if (argc != 1) {
		warnx(argc == 0 ? "a PID or process name is needed" :
		    "one PID or process name at a time");
		return EXIT_USAGE;
	}
	if ((rc = target_resolve(argv[0], &pid)) != 0)
		return rc;
	if (o->extended && o->totals)
		return print_rollup(pid, o);
	early_rows_init(&e);
	if (o->extended) {	/* 60,000 mappings: a second; say how far */
		progress_start("reading smaps");
		p = mw_proc_open_each(pid, proc_flags(o), progress_region,
		    NULL);
		progress_end();
	} else
		p = mw_proc_open_each(pid, proc_flags(o),
		    o->json || o->totals || o->objects ? NULL : early_row, &e);
	if (p == NULL) {
		rc = target_fail(pid, errno, o->extended ? "smaps" : "maps");
		early_rows_free(&e);
		return rc;
	}
	mw_maps_regions(mw_proc_maps(p), &n);
	if (n == 0) {
		mw_proc_close(p);
		early_rows_free(&e);
		return target_fail(pid, ESRCH, "maps");
	}
	if (o->objects)
		rc = show_objects(pid, mw_proc_maps(p), o);
	else if (o->json)
		print_json(pid, p, o);
	else
		print_table(pid, p, &e, o);
	mw_proc_close(p);
	early_rows_free(&e);
	return rc;
}
