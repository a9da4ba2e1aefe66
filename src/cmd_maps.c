/*
 * cmd_maps.c: `memwalk PID`, the annotated map.
 *
 * Table: one row per region, columns sized to the content (addresses
 * zero-padded to the widest end, kinds to the longest present), then
 * the totals per kind in vocabulary order, as libmemwalk kept them: the
 * rows are the only pass over the regions. JSON: the same facts, one
 * document, field names stable (see memwalk(1)).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void
json_region(const struct mw_region *r)
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
	out_char('}');
}

static void
print_json(pid_t pid, const struct mw_maps *m)
{
	struct mw_kind_totals	 t;
	const struct mw_region	*v;
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
	out_str(", \"regions\": [");
	for (size_t i = 0; i < n; i++) {
		out_str(i == 0 ? "\n  " : ",\n  ");
		json_region(&v[i]);
	}
	out_str("\n], \"totals\": {");
	for (int k = 0; k < MW_KIND_COUNT; k++) {
		if (t.count[k] == 0)
			continue;
		out_str(first ? "\"" : ", \"");
		out_str(mw_kind_name((enum mw_kind)k));
		out_str("\": ");
		out_dec(t.bytes[k]);
		first = false;
	}
	out_str("}}\n");
}

/*
 * The row's fixed parts, ready to copy: each kind's name space-padded
 * to 16 bytes, the perms by their four bits (MW_PERM_*). Copies of fixed
 * size compile to a store or two; a row is 60,000 times this.
 */
static char		kind_cell[MW_KIND_COUNT][16];
static const char	perm_cell[16][4] = {
	"---p", "r--p", "-w-p", "rw-p", "--xp", "r-xp", "-wxp", "rwxp",
	"---s", "r--s", "-w-s", "rw-s", "--xs", "r-xs", "-wxs", "rwxs",
};

static void
fill_kind_cells(void)
{
	for (int k = 0; k < MW_KIND_COUNT; k++) {
		const char *name = mw_kind_name((enum mw_kind)k);

		memset(kind_cell[k], ' ', sizeof(kind_cell[k]));
		memcpy(kind_cell[k], name, strlen(name));
	}
}

struct widths {
	int	addr;		/* hex digits of start and end */
	size_t	size;		/* humanized size */
	size_t	kind;
};

/*
 * The columns' widths, without a pass over the regions: the widest
 * address is the last region's end, a humanized size is at most four
 * characters, and the totals say which kinds are present.
 */
static void
measure(const struct mw_region *v, size_t n,
    const struct mw_kind_totals *t, struct widths *w)
{
	w->addr = n > 0 && hex_digits(v[n - 1].end - 1) > 8 ?
	    hex_digits(v[n - 1].end - 1) : 8;
	w->size = 4;
	w->kind = 4;
	fill_kind_cells();
	for (int k = 0; k < MW_KIND_COUNT; k++)
		if (t->count[k] > 0 && strlen(mw_kind_name(k)) > w->kind)
			w->kind = strlen(mw_kind_name(k));
}

/* The most bytes the row of a region with an nlen-byte name takes. */
static size_t
row_room(size_t nlen)
{
	return 2 * 16 + 1 + 16 + 4 + 2 + 16 + 2 + 4 * nlen + 1;
}

/*
 * One row at p, which has row_room(nlen) bytes; returns its end:
 *   START-END  SIZE PERM KIND     NAME\n
 * (the size right-aligned in w->size, the kind padded to w->kind).
 */
static char *
format_row(char *p, const struct mw_region *r, size_t nlen,
    const struct widths *w)
{
	char	text[8];
	size_t	len = size_text(r->end - r->start, text);

	p = put_hex(p, r->start, w->addr);
	*p++ = '-';
	p = put_hex(p, r->end, w->addr);
	memset(p, ' ', 16);
	p += w->size - len + 1;
	memcpy(p, text, 8);
	p += len;
	*p++ = ' ';
	memcpy(p, perm_cell[r->perms & 0xf], 4);
	p[4] = ' ';
	p += 5;
	memcpy(p, kind_cell[r->kind], 16);
	if (r->name == NULL)
		p += strlen(mw_kind_name(r->kind));
	else
		p = put_text_name(p + w->kind + 1, r->name, nlen);
	*p++ = '\n';
	return p;
}

static void
print_row(const struct mw_region *r, const struct widths *w)
{
	size_t	nlen = r->name != NULL ? strlen(r->name) : 0;

	out_commit(format_row(out_reserve(row_room(nlen)), r, nlen, w));
}

/*
 * Rows formatted while the map is still being read (mw_maps_read_each),
 * at the widest widths: 16 address digits, the longest kind name. They
 * are the table as it stands whenever those are the map's own widths,
 * as on x86-64, where the vsyscall page is mapped; otherwise the rows
 * are formatted again once the widths are known.
 */
struct early_rows {
	struct widths	 w;
	char		*buf;
	size_t		 len, cap;
	bool		 failed;	/* out of memory: format afterwards */
};

static void
early_row(void *ctx, const struct mw_region *r)
{
	struct early_rows	*e = ctx;
	size_t			 nlen, room;
	char			*nbuf;

	if (r == NULL || e->failed) {
		e->len = 0;	/* a torn read was sorted: all rows follow */
		return;
	}
	nlen = r->name != NULL ? strlen(r->name) : 0;
	room = row_room(nlen);
	if (e->cap - e->len < room) {
		size_t	ncap = e->cap * 2 > e->len + room ? e->cap * 2 :
		    e->len + room;

		if ((nbuf = realloc(e->buf, ncap)) == NULL) {
			e->failed = true;
			return;
		}
		e->buf = nbuf;
		e->cap = ncap;
	}
	e->len = (size_t)(format_row(e->buf + e->len, r, nlen, &e->w) -
	    e->buf);
}

static void
early_rows_init(struct early_rows *e)
{
	memset(e, 0, sizeof(*e));
	e->w.addr = 16;
	e->w.size = 4;
	for (int k = 0; k < MW_KIND_COUNT; k++)
		if (strlen(mw_kind_name(k)) > e->w.kind)
			e->w.kind = strlen(mw_kind_name(k));
	fill_kind_cells();
}

static void
print_totals(const struct mw_kind_totals *t, size_t n, const struct widths *w)
{
	uint64_t	all = 0;

	out_str("\nKIND");
	out_pad(w->kind - 4);
	out_str(" REGIONS  SIZE\n");
	for (int k = 0; k <= MW_KIND_COUNT; k++) {
		const char	*name = k == MW_KIND_COUNT ? "total" :
		    mw_kind_name((enum mw_kind)k);
		uint64_t	 bytes = k == MW_KIND_COUNT ? all : t->bytes[k];
		size_t		 count = k == MW_KIND_COUNT ? n : t->count[k];
		char		 num[24], text[8];
		size_t		 len;

		if (count == 0)
			continue;
		all += k == MW_KIND_COUNT ? 0 : bytes;
		out_str(name);
		out_pad(w->kind - strlen(name));
		len = (size_t)snprintf(num, sizeof(num), "%zu", count);
		out_pad(len < 8 ? 8 - len : 0);
		out_str(num);
		len = size_text(bytes, text);
		out_pad(len < 6 ? 6 - len : 0);
		out_bytes(text, len);
		out_char('\n');
	}
}

static void
print_table(pid_t pid, const struct mw_maps *m, const struct early_rows *e)
{
	struct mw_kind_totals	 t;
	struct widths		 w;
	const struct mw_region	*v;
	size_t			 n;
	char			 comm[64];

	v = mw_maps_regions(m, &n);
	mw_maps_totals(m, &t);
	measure(v, n, &t, &w);
	target_comm(pid, comm, sizeof(comm));
	out_dec((uint64_t)pid);
	out_str(" (");
	out_text_name(comm);
	out_str(")\n");
	out_str("START-END");
	out_pad((size_t)w.addr * 2 + 1 - 9 + w.size + 1 - 4);
	out_str("SIZE PERM KIND");
	out_pad(w.kind - 4 + 1);
	out_str("NAME\n");
	if (!e->failed && w.addr == e->w.addr && w.size == e->w.size &&
	    w.kind == e->w.kind)
		out_bytes(e->buf, e->len);
	else
		for (size_t i = 0; i < n; i++)
			print_row(&v[i], &w);
	print_totals(&t, n, &w);
}

int
cmd_maps(const struct options *o, int argc, char **argv)
{
	struct early_rows	 e;
	struct mw_maps		*m;
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
	early_rows_init(&e);
	m = o->json ? mw_maps_read(pid) : mw_maps_read_each(pid, early_row, &e);
	if (m == NULL) {
		rc = target_fail(pid, errno, "maps");
		free(e.buf);
		return rc;
	}
	mw_maps_regions(m, &n);
	if (n == 0) {
		mw_maps_free(m);
		free(e.buf);
		return target_fail(pid, ESRCH, "maps");
	}
	if (o->json)
		print_json(pid, m);
	else
		print_table(pid, m, &e);
	mw_maps_free(m);
	free(e.buf);
	return 0;
}
