/*
 * cmd_diff.c: `memwalk diff A B`, two snapshots (memwalk snap) compared.
 *
 *   A, B  --json.c-->  trees  --load-->  struct snap { regions by start }
 *
 * Regions are paired first by start address, then, among those left,
 * by end address and kind (a [stack] that grew down keeps its end).
 * A pair whose size differs is grown or shrunk; one whose size is the
 * same but whose Rss or Pss moved is changed; a region of A without a
 * pair is removed, one of B added. Then the same figures summed per
 * kind. Each snapshot is checked before anything is printed: a file
 * that is no snapshot, or a malformed one (a region without start, end
 * or kind, a time out of range), is one line and exit 1.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

#define SNAP_MAX_BYTES	(1ULL << 30)
/*
 * A snapshot's time: seconds since the epoch, below 2^53 (where doubles
 * stop counting every second), so that two times are always seconds
 * apart that print whole ("seconds" of --json: "%.6f" in 32 bytes).
 */
#define SNAP_MAX_TIME	9007199254740992.0

struct snap_region {
	uint64_t	 start, end;
	uint64_t	 rss, pss;
	const char	*kind, *path, *perms;
	long		 pair;		/* index in the other snapshot; -1 */
};

struct snap {
	const char		*file;
	struct json		*doc;
	uint64_t		 pid;
	const char		*comm;
	double			 time;
	struct snap_region	*v;
	size_t			 n;
};

enum change { UNCHANGED, ADDED, REMOVED, GROWN, SHRUNK, CHANGED };
static const char *const change_name[] = {
	"unchanged", "added", "removed", "grown", "shrunk", "changed"
};

/* ---- reading ------------------------------------------------------------ */

static char *
read_file(const char *path, size_t *len)
{
	int	 fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
		    open(path, O_RDONLY | O_CLOEXEC);
	char	*buf = NULL, *nb;
	size_t	 cap = 0, n = 0;
	ssize_t	 got;

	if (fd == -1)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SNAP_MAX_BYTES + 1 ||
			    (nb = realloc(buf, cap)) == NULL) {
				errno = cap > SNAP_MAX_BYTES + 1 ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		if ((got = read(fd, buf + n, cap - n)) == 0)
			break;
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			goto fail;
		n += (size_t)got;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*len = n;
	return buf;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return NULL;
}

static bool
hex_u64(const char *s, uint64_t *out)
{
	char	*end;

	if (s == NULL || strncmp(s, "0x", 2) != 0 || s[2] == '\0')
		return false;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return errno == 0 && *end == '\0';
}

static int
region_cmp(const void *a, const void *b)
{
	const struct snap_region	*x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Region i of the "regions" array; false: it is not one. */
static bool
load_region(const struct json *j, struct snap_region *r)
{
	memset(r, 0, sizeof(*r));
	r->pair = -1;
	if (!hex_u64(json_string(j, "start"), &r->start) ||
	    !hex_u64(json_string(j, "end"), &r->end) || r->end <= r->start ||
	    (r->kind = json_string(j, "kind")) == NULL ||
	    mw_kind_from_name(r->kind) < 0)
		return false;
	r->path = json_string(j, "path");
	r->perms = json_string(j, "perms");
	(void)json_u64(j, "rss", &r->rss);	/* 0 without -x */
	(void)json_u64(j, "pss", &r->pss);
	return true;
}

static int
load_fail(struct snap *s, const char *why, size_t i)
{
	if (i == (size_t)-1)
		warnx("%s: %s", s->file, why);
	else
		warnx("%s: region %zu: %s", s->file, i, why);
	return EXIT_TARGET;
}

static int
load_snap(const char *file, struct snap *s)
{
	const struct json	*head, *regs, *t;
	char			*text, why[160];
	size_t			 len;

	memset(s, 0, sizeof(*s));
	s->file = file;
	if ((text = read_file(file, &len)) == NULL) {
		warn("%s", file);
		return EXIT_TARGET;
	}
	s->doc = json_parse(text, len, why, sizeof(why));
	free(text);
	if (s->doc == NULL)
		return load_fail(s, why, (size_t)-1);
	head = json_get(s->doc, "snapshot");
	if (head == NULL || head->type != JSON_OBJECT)
		return load_fail(s, "not a memwalk snapshot (make one with "
		    "memwalk snap PID > FILE)", (size_t)-1);
	if ((t = json_get(head, "format")) == NULL || !t->is_u64 ||
	    t->u64 != 1)
		return load_fail(s, "a snapshot format this memwalk does not "
		    "know (it reads format 1)", (size_t)-1);
	if ((t = json_get(head, "time")) != NULL && t->type == JSON_NUMBER) {
		if (!(t->number >= 0 && t->number < SNAP_MAX_TIME))
			return load_fail(s, "a \"time\" that is no time (seconds "
			    "since the epoch, below 2^53)", (size_t)-1);
		s->time = t->number;
	}
	(void)json_u64(s->doc, "pid", &s->pid);
	s->comm = json_string(s->doc, "comm");
	regs = json_get(s->doc, "regions");
	if (regs == NULL || regs->type != JSON_ARRAY)
		return load_fail(s, "no \"regions\" array", (size_t)-1);
	if ((s->v = calloc(regs->n ? regs->n : 1, sizeof(*s->v))) == NULL)
		err(EXIT_TARGET, "diff");
	for (size_t i = 0; i < regs->n; i++)
		if (!load_region(&regs->items[i], &s->v[i]))
			return load_fail(s, "no start, end or kind, or a bad "
			    "one", i);
	s->n = regs->n;
	qsort(s->v, s->n, sizeof(*s->v), region_cmp);
	return 0;
}

static void
snap_free(struct snap *s)
{
	json_free(s->doc);
	free(s->v);
}

/* ---- pairing ------------------------------------------------------------ */

static void
pair_by_start(struct snap *a, struct snap *b)
{
	for (size_t i = 0, j = 0; i < a->n && j < b->n; ) {
		if (a->v[i].start < b->v[j].start)
			i++;
		else if (a->v[i].start > b->v[j].start)
			j++;
		else {
			a->v[i].pair = (long)j;
			b->v[j].pair = (long)i;
			i++;
			j++;
		}
	}
}

static void
pair_by_end(struct snap *a, struct snap *b)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].pair != -1)
			continue;
		for (size_t j = 0; j < b->n; j++)
			if (b->v[j].pair == -1 && b->v[j].end == a->v[i].end &&
			    strcmp(b->v[j].kind, a->v[i].kind) == 0) {
				a->v[i].pair = (long)j;
				b->v[j].pair = (long)i;
				break;
			}
	}
}

static enum change
change_of(const struct snap_region *x, const struct snap_region *y)
{
	uint64_t	sx = x->end - x->start, sy = y->end - y->start;

	if (sy > sx)
		return GROWN;
	if (sy < sx)
		return SHRUNK;
	return x->rss != y->rss || x->pss != y->pss ? CHANGED : UNCHANGED;
}

/* ---- printing ----------------------------------------------------------- */

static void
count_cell(int64_t d, size_t width)
{
	char	buf[24];
	size_t	n = (size_t)snprintf(buf, sizeof(buf), d > 0 ? "+%lld" : "%lld",
		    (long long)d);

	out_pad(width > n ? width - n : 0);
	out_str(buf);
}

struct kind_sum {
	uint64_t	regions[2], size[2], rss[2], pss[2];
};

static void
sum_kinds(const struct snap *s, int side, struct kind_sum *k)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_region	*r = &s->v[i];
		struct kind_sum			*ks = &k[mw_kind_from_name(r->kind)];

		ks->regions[side]++;
		ks->size[side] += r->end - r->start;
		ks->rss[side] += r->rss;
		ks->pss[side] += r->pss;
	}
}

static int64_t
delta(const uint64_t v[2])
{
	return (int64_t)(v[1] - v[0]);
}

static bool
kind_moved(const struct kind_sum *k)
{
	return k->regions[0] != k->regions[1] || k->size[0] != k->size[1] ||
	    k->rss[0] != k->rss[1] || k->pss[0] != k->pss[1];
}

static void
text_kinds(const struct kind_sum *k)
{
	struct kind_sum	total;

	memset(&total, 0, sizeof(total));
	out_heading("KIND             REGIONS      SIZE       RSS       PSS\n");
	for (int i = 0; i <= MW_KIND_COUNT; i++) {
		const struct kind_sum	*ks = i < MW_KIND_COUNT ? &k[i] : &total;

		if (i < MW_KIND_COUNT) {
			for (int s = 0; s < 2; s++) {
				total.regions[s] += ks->regions[s];
				total.size[s] += ks->size[s];
				total.rss[s] += ks->rss[s];
				total.pss[s] += ks->pss[s];
			}
			if (!kind_moved(ks))
				continue;
		}
		if (i < MW_KIND_COUNT)
			out_kind((enum mw_kind)i);
		else
			out_str("total");
		out_pad(14 - strlen(i < MW_KIND_COUNT ?
		    mw_kind_name((enum mw_kind)i) : "total"));
		count_cell(delta(ks->regions), 10);
		for (int c = 0; c < 3; c++)
			out_signed_size(delta(c == 0 ? ks->size : c == 1 ? ks->rss :
			    ks->pss), 10);
		out_char('\n');
	}
}

static void
text_region(enum change c, const struct snap_region *x,
    const struct snap_region *y)
{
	const struct snap_region	*r = y != NULL ? y : x;
	char				 buf[8];
	int64_t				 ds, dr, dp;

	ds = (int64_t)((y ? y->end - y->start : 0) - (x ? x->end - x->start :
	    0));
	dr = (int64_t)((y ? y->rss : 0) - (x ? x->rss : 0));
	dp = (int64_t)((y ? y->pss : 0) - (x ? x->pss : 0));
	out_str(change_name[c]);
	out_pad(10 - strlen(change_name[c]));
	out_hex(r->start, 16);
	out_char('-');
	out_hex(r->end, 16);
	size_text(r->end - r->start, buf);
	out_pad(7 - strlen(buf));
	out_str(buf);
	out_str("  size ");
	out_signed_size(ds, 0);
	out_str("  rss ");
	out_signed_size(dr, 0);
	out_str("  pss ");
	out_signed_size(dp, 0);
	out_str("  ");
	out_kind(mw_kind_from_name(r->kind));
	if (r->path != NULL) {
		out_char(' ');
		out_text_name(r->path);
	}
	out_char('\n');
}

static void
json_pair(const char *key, uint64_t a, uint64_t b)
{
	out_str(", \"");
	out_str(key);
	out_str("\": {\"a\": ");
	out_dec(a);
	out_str(", \"b\": ");
	out_dec(b);
	out_str(", \"delta\": ");
	if (b >= a)
		out_dec(b - a);
	else {
		out_char('-');
		out_dec(a - b);
	}
	out_char('}');
}

static void
json_region_change(enum change c, const struct snap_region *x,
    const struct snap_region *y)
{
	const struct snap_region	*r = y != NULL ? y : x;

	out_str("{\"change\": \"");
	out_str(change_name[c]);
	out_str("\", \"start\": \"0x");
	out_hex(r->start, 0);
	out_str("\", \"end\": \"0x");
	out_hex(r->end, 0);
	out_str("\", \"kind\": ");
	out_json_str(r->kind);
	out_str(", \"path\": ");
	if (r->path != NULL)
		out_json_str(r->path);
	else
		out_str("null");
	json_pair("size", x ? x->end - x->start : 0, y ? y->end - y->start : 0);
	json_pair("rss", x ? x->rss : 0, y ? y->rss : 0);
	json_pair("pss", x ? x->pss : 0, y ? y->pss : 0);
	out_char('}');
}

struct change_row {
	uint64_t			 at;
	enum change			 c;
	const struct snap_region	*x, *y;		/* in A, in B */
};

static int
row_cmp(const void *a, const void *b)
{
	const struct change_row	*p = a, *q = b;

	return (p->at > q->at) - (p->at < q->at);
}

/* Every region that changed, by address. */
static void
each_change(const struct snap *a, const struct snap *b, bool json)
{
	struct change_row	*rows;
	size_t			 n = 0;

	if ((rows = calloc(a->n + b->n + 1, sizeof(*rows))) == NULL)
		err(EXIT_TARGET, "diff");
	for (size_t j = 0; j < b->n; j++) {
		const struct snap_region *x = b->v[j].pair != -1 ?
		    &a->v[b->v[j].pair] : NULL;
		enum change c = x != NULL ? change_of(x, &b->v[j]) : ADDED;

		if (c != UNCHANGED)
			rows[n++] = (struct change_row){ b->v[j].start, c, x,
			    &b->v[j] };
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].pair == -1)
			rows[n++] = (struct change_row){ a->v[i].start, REMOVED,
			    &a->v[i], NULL };
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!json)
			text_region(rows[i].c, rows[i].x, rows[i].y);
		else {
			out_str(i ? ",\n  " : "\n  ");
			json_region_change(rows[i].c, rows[i].x, rows[i].y);
		}
	}
	if (json)
		out_str(n ? "\n]" : "]");
	free(rows);
}

static void
json_side(const char *key, const struct snap *s)
{
	out_str("\"");
	out_str(key);
	out_str("\": {\"file\": ");
	out_json_str(s->file);
	out_str(", \"pid\": ");
	out_dec(s->pid);
	out_str(", \"comm\": ");
	if (s->comm != NULL)
		out_json_str(s->comm);
	else
		out_str("null");
	out_str(", \"regions\": ");
	out_dec(s->n);
	out_char('}');
}

static void
print_json(const struct snap *a, const struct snap *b,
    const struct kind_sum *k)
{
	bool	first = true;
	char	buf[32];

	out_char('{');
	json_side("a", a);
	out_str(", ");
	json_side("b", b);
	snprintf(buf, sizeof(buf), "%.6f", b->time - a->time);
	out_str(", \"seconds\": ");
	out_str(buf);
	out_str(", \"kinds\": [");
	for (int i = 0; i < MW_KIND_COUNT; i++) {
		if (!kind_moved(&k[i]))
			continue;
		out_str(first ? "\n  {\"kind\": \"" : ",\n  {\"kind\": \"");
		first = false;
		out_str(mw_kind_name((enum mw_kind)i));
		out_char('"');
		json_pair("regions", k[i].regions[0], k[i].regions[1]);
		json_pair("size", k[i].size[0], k[i].size[1]);
		json_pair("rss", k[i].rss[0], k[i].rss[1]);
		json_pair("pss", k[i].pss[0], k[i].pss[1]);
		out_char('}');
	}
	out_str(first ? "], \"regions\": [" : "\n], \"regions\": [");
	each_change(a, b, true);
	out_str("}\n");
}

static void
print_text(const struct snap *a, const struct snap *b,
    const struct kind_sum *k)
{
	char	buf[64];

	out_str(a->file);
	out_str(" -> ");
	out_str(b->file);
	snprintf(buf, sizeof(buf), ": %.1f s apart", b->time - a->time);
	out_str(buf);
	if (a->pid != b->pid)
		out_str(" (two processes)");
	out_str("\n");
	text_kinds(k);
	out_char('\n');
	each_change(a, b, false);
}

int
cmd_diff(const struct options *o, int argc, char **argv)
{
	struct snap	a, b;
	struct kind_sum	k[MW_KIND_COUNT];
	int		rc;

	memset(k, 0, sizeof(k));
	if (argc != 2) {
		warnx("diff: two snapshots are needed (memwalk diff A.json "
		    "B.json)");
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "-") == 0 && strcmp(argv[1], "-") == 0) {
		warnx("diff: only one snapshot can come from the standard "
		    "input");
		return EXIT_USAGE;
	}
	memset(&b, 0, sizeof(b));
	if ((rc = load_snap(argv[0], &a)) == 0)
		rc = load_snap(argv[1], &b);
	if (rc != 0) {
		snap_free(&a);
		snap_free(&b);
		return rc;
	}
	pair_by_start(&a, &b);
	pair_by_end(&a, &b);
	sum_kinds(&a, 0, k);
	sum_kinds(&b, 1, k);
	if (o->json)
		print_json(&a, &b, k);
	else
		print_text(&a, &b, k);
	snap_free(&a);
	snap_free(&b);
	return 0;
}
