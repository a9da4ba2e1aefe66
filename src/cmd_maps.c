/*
 * cmd_maps.c: `memwalk PID`, the annotated map.
 *
 * Table: one row per region, columns sized to the content (addresses
 * zero-padded to the widest end, kinds to the longest present), then
 * the totals per kind in vocabulary order. JSON: the same facts, one
 * document, field names stable (see memwalk(1)).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <string.h>

#include "cli.h"

struct totals {
	uint64_t	bytes[MW_KIND_COUNT];
	size_t		count[MW_KIND_COUNT];
};

static void
sum_kinds(const struct mw_region *v, size_t n, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t->bytes[v[i].kind] += v[i].end - v[i].start;
		t->count[v[i].kind]++;
	}
}

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
print_json(pid_t pid, const struct mw_region *v, size_t n)
{
	struct totals	t;
	char		comm[64];
	bool		first = true;

	sum_kinds(v, n, &t);
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

struct widths {
	int	addr;		/* hex digits of start and end */
	size_t	size;		/* humanized size */
	size_t	kind;
};

static void
measure(const struct mw_region *v, size_t n, struct widths *w)
{
	char	text[8];
	size_t	len;

	w->addr = 8;
	w->size = 4;
	w->kind = 4;
	for (size_t i = 0; i < n; i++) {
		if (hex_digits(v[i].end - 1) > w->addr)
			w->addr = hex_digits(v[i].end - 1);
		if ((len = size_text(v[i].end - v[i].start, text)) > w->size)
			w->size = len;
		if ((len = strlen(mw_kind_name(v[i].kind))) > w->kind)
			w->kind = len;
	}
}

static char *
put_pad(char *p, size_t n)
{
	memset(p, ' ', n);
	return p + n;
}

/* Everything but the name is bounded: written in one reserved span. */
static void
print_row(const struct mw_region *r, const struct widths *w)
{
	const char	*kind = mw_kind_name(r->kind);
	size_t		 klen = strlen(kind), len;
	char		 text[8], *p;

	len = size_text(r->end - r->start, text);
	p = out_reserve(2 * 16 + 2 + 8 + 6 + 2 * w->kind + 2);
	p = put_hex(p, r->start, w->addr);
	*p++ = '-';
	p = put_hex(p, r->end, w->addr);
	p = put_pad(p, w->size - len + 1);
	memcpy(p, text, len);
	p += len;
	*p++ = ' ';
	mw_perms_str(r->perms, p);
	p[4] = ' ';
	p += 5;
	memcpy(p, kind, klen);
	p += klen;
	if (r->name != NULL)
		p = put_pad(p, w->kind - klen + 1);
	out_commit(p);
	if (r->name != NULL)
		out_text_name(r->name);
	out_end_line();
}

static void
print_totals(const struct mw_region *v, size_t n, const struct widths *w)
{
	struct totals	t;
	uint64_t	all = 0;

	sum_kinds(v, n, &t);
	out_str("\nKIND");
	out_pad(w->kind - 4);
	out_str(" REGIONS  SIZE\n");
	for (int k = 0; k <= MW_KIND_COUNT; k++) {
		const char	*name = k == MW_KIND_COUNT ? "total" :
		    mw_kind_name((enum mw_kind)k);
		uint64_t	 bytes = k == MW_KIND_COUNT ? all : t.bytes[k];
		size_t		 count = k == MW_KIND_COUNT ? n : t.count[k];
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
print_table(pid_t pid, const struct mw_region *v, size_t n)
{
	struct widths	w;
	char		comm[64];

	measure(v, n, &w);
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
	for (size_t i = 0; i < n; i++)
		print_row(&v[i], &w);
	print_totals(v, n, &w);
}

int
cmd_maps(const struct options *o, int argc, char **argv)
{
	struct mw_maps		*m;
	const struct mw_region	*v;
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
	if ((m = mw_maps_read(pid)) == NULL)
		return target_fail(pid, errno, "maps");
	v = mw_maps_regions(m, &n);
	if (n == 0) {
		mw_maps_free(m);
		return target_fail(pid, ESRCH, "maps");
	}
	if (o->json)
		print_json(pid, v, n);
	else
		print_table(pid, v, n);
	mw_maps_free(m);
	return 0;
}
