/*
 * cmd_arenas.c: `memwalk arenas PID`, the arenas of every allocator
 * memwalk knows, in one format.
 *
 *   ALLOCATOR  ARENA  START-END  SIZE  POOLS U/F/E  BLOCKS  IN USE
 *   memwalk    one row per 1 MiB arena of mw_malloc, read from outside:
 *              its pools used/full/empty, blocks and bytes in use
 *   glibc      one row per heap: [heap] is arena 0, the others are
 *              numbered as malloc_info numbers them ("heap N" of its arena)
 *   pymalloc   one row per region of pymalloc arenas (its first arena)
 *
 * then, for memwalk and pymalloc, the size classes: pools, blocks and
 * bytes in use. What memwalk cannot see from outside is "-": glibc's
 * pools (it has none) and blocks, the blocks of one pymalloc arena.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

enum allocator { A_MEMWALK, A_GLIBC, A_PYMALLOC };
static const char *const allocator_names[] = { "memwalk", "glibc",
    "pymalloc" };

/* One row: an arena (memwalk), a heap (glibc), a region (pymalloc). */
struct row {
	enum allocator	 allocator;
	int		 index, heap;		/* heap: glibc only, else -1 */
	uint64_t	 start, end;
	const char	*name;
	const struct mw_alloc_arena *mw;	/* memwalk only */
};

/* One size class, for both allocators with classes. */
struct class_row {
	unsigned int	 c;
	uint64_t	 block_size;
	size_t		 pools, blocks;
};

static bool
glibc_row(const struct mw_region *r, const struct mw_label *l)
{
	return (r->kind == MW_KIND_HEAP && l->arena == 0) ||
	    (r->kind == MW_KIND_GLIBC_ARENA && (r->perms & MW_PERM_WRITE));
}

static void
region_row(struct row *w, enum allocator a, const struct mw_region *r,
    const struct mw_label *l)
{
	memset(w, 0, sizeof(*w));
	w->allocator = a;
	w->index = l->arena;
	w->heap = a == A_GLIBC && r->kind == MW_KIND_GLIBC_ARENA ? l->heap : -1;
	w->start = r->start;
	w->end = r->end;
	w->name = r->name;
}

/* Visit every row in address order of its kind: memwalk, glibc, pymalloc. */
static void
each_row(const struct mw_proc *p, void (*fn)(void *, const struct row *),
    void *ctx)
{
	const struct mw_alloc_arena	*a;
	const struct mw_region		*v;
	const struct mw_label		*l;
	struct row			 w;
	size_t				 n;

	a = mw_proc_alloc_arenas(p, &n);
	for (size_t i = 0; i < n; i++) {
		memset(&w, 0, sizeof(w));
		w.allocator = A_MEMWALK;
		w.index = (int)i;
		w.heap = -1;
		w.start = a[i].start;
		w.end = a[i].start + (1u << 20);
		w.mw = &a[i];
		fn(ctx, &w);
	}
	v = mw_maps_regions(mw_proc_maps(p), &n);
	for (int pass = A_GLIBC; pass <= A_PYMALLOC; pass++)
		for (size_t i = 0; i < n; i++) {
			l = mw_proc_label(p, &v[i]);
			if (pass == A_GLIBC ? !glibc_row(&v[i], l) :
			    v[i].kind != MW_KIND_PYMALLOC_ARENA)
				continue;
			region_row(&w, (enum allocator)pass, &v[i], l);
			fn(ctx, &w);
		}
}

/* ---- the table ------------------------------------------------------ */

#define ROW_FORMAT	"%-10s %5s  %-25s %5s %12s %8s %7s"

/* An allocator's name in the color of the kind of its arenas. */
static const enum mw_kind allocator_kinds[] = { MW_KIND_MEMWALK_ARENA,
    MW_KIND_GLIBC_ARENA, MW_KIND_PYMALLOC_ARENA };

static void
print_row(void *ctx, const struct row *w)
{
	char	line[256], size[8], bytes[8], pools[48], blocks[24];
	char	range[40], index[16];
	const char *sgr;

	(void)ctx;
	size_text(w->end - w->start, size);
	if (w->mw != NULL) {
		snprintf(pools, sizeof(pools), "%zu/%zu/%zu",
		    w->mw->pools_used, w->mw->pools_full, w->mw->pools_empty);
		snprintf(blocks, sizeof(blocks), "%zu", w->mw->blocks);
		size_text(w->mw->bytes, bytes);
	} else {
		if (w->heap >= 0)
			snprintf(pools, sizeof(pools), "heap %d", w->heap);
		else
			strcpy(pools, "-");
		strcpy(blocks, "-");
		strcpy(bytes, "-");
	}
	snprintf(range, sizeof(range), "%012llx-%012llx",
	    (unsigned long long)w->start, (unsigned long long)w->end);
	snprintf(index, sizeof(index), "%d", w->index);
	snprintf(line, sizeof(line), ROW_FORMAT, allocator_names[w->allocator],
	    index, range, size, pools, blocks, bytes);
	sgr = color_kind(allocator_kinds[w->allocator]);
	out_sgr(sgr);
	out_str(allocator_names[w->allocator]);
	out_sgr_end(sgr);
	out_str(line + strlen(allocator_names[w->allocator]));
	if (w->name != NULL) {
		out_str("  ");
		out_text_name(w->name);
	}
	out_char('\n');
}

static void
print_classes(const char *what, const struct class_row *k, size_t n,
    size_t arenas, uint64_t mapped)
{
	char	line[160], size[8], bytes[8];

	size_text(mapped, size);
	snprintf(line, sizeof(line), "\n%s: %zu arena%s, %s\n", what, arenas,
	    arenas == 1 ? "" : "s", size);
	out_str(line);
	out_heading("CLASS  SIZE  POOLS    BLOCKS  IN USE\n");
	for (size_t i = 0; i < n; i++) {
		size_text(k[i].blocks * k[i].block_size, bytes);
		snprintf(line, sizeof(line), "%5u %5llu %6zu %9zu %7s\n",
		    k[i].c, (unsigned long long)k[i].block_size, k[i].pools,
		    k[i].blocks, bytes);
		out_str(line);
	}
}

/* The classes of each allocator that has some, in one shape. */
static size_t
memwalk_classes(const struct mw_alloc_stats *st, struct class_row *k)
{
	size_t	n = 0;

	for (unsigned int c = 0; c < MW_ALLOC_CLASSES; c++)
		if (st->classes[c].pools > 0)
			k[n++] = (struct class_row){ c,
			    (c + 1) * MW_ALLOC_ALIGNMENT, st->classes[c].pools,
			    st->classes[c].blocks };
	return n;
}

static size_t
pymalloc_classes(const struct mw_python *py, struct class_row *k)
{
	size_t	n = 0;

	for (unsigned int c = 0; c < MW_PY_CLASSES; c++) {
		const struct mw_py_class *pc = &py->classes[c];
		size_t	pools = pc->pools_used + pc->pools_full +
			    pc->pools_empty;

		if (pools > 0)
			k[n++] = (struct class_row){ c, pc->block_size, pools,
			    pc->blocks_used };
	}
	return n;
}

static void
print_table(pid_t pid, const struct mw_proc *p)
{
	struct class_row	 k[MW_ALLOC_CLASSES + MW_PY_CLASSES];
	struct mw_alloc_stats	 st;
	const struct mw_python	*py = mw_proc_python(p);
	char			 line[160];

	target_print_head(pid);
	snprintf(line, sizeof(line), ROW_FORMAT "\n", "ALLOCATOR", "ARENA",
	    "START-END", "SIZE", "POOLS U/F/E", "BLOCKS", "IN USE");
	out_heading(line);
	each_row(p, print_row, NULL);
	if (mw_proc_alloc_stats(p, &st))
		print_classes("memwalk", k, memwalk_classes(&st, k), st.arenas,
		    st.bytes_mapped);
	if (py != NULL && py->arenas > 0)
		print_classes("pymalloc", k, pymalloc_classes(py, k),
		    py->arenas, py->arena_bytes);
}

/* ---- JSON ------------------------------------------------------------ */

static void
json_dec(const char *key, uint64_t v)
{
	out_str(", \"");
	out_str(key);
	out_str("\": ");
	out_dec(v);
}

static void
json_row(void *ctx, const struct row *w)
{
	size_t	*count = ctx;

	out_str(*count == 0 ? "\n  " : ",\n  ");
	(*count)++;
	out_str("{\"allocator\": \"");
	out_str(allocator_names[w->allocator]);
	out_str("\", \"index\": ");
	out_dec((uint64_t)w->index);
	if (w->heap >= 0)
		json_dec("heap", (uint64_t)w->heap);
	out_str(", \"start\": \"0x");
	out_hex(w->start, 0);
	out_str("\", \"end\": \"0x");
	out_hex(w->end, 0);
	out_char('"');
	json_dec("size", w->end - w->start);
	out_str(", \"path\": ");
	if (w->name != NULL)
		out_json_str(w->name);
	else
		out_str("null");
	if (w->mw != NULL) {
		json_dec("pools_used", w->mw->pools_used);
		json_dec("pools_full", w->mw->pools_full);
		json_dec("pools_empty", w->mw->pools_empty);
		json_dec("blocks", w->mw->blocks);
		json_dec("bytes", w->mw->bytes);
	}
	out_char('}');
}

static void
json_classes(const struct class_row *k, size_t n)
{
	out_str(", \"classes\": [");
	for (size_t i = 0; i < n; i++) {
		out_str(i == 0 ? "{\"class\": " : ", {\"class\": ");
		out_dec(k[i].c);
		json_dec("block_size", k[i].block_size);
		json_dec("pools", k[i].pools);
		json_dec("blocks", k[i].blocks);
		json_dec("bytes", k[i].blocks * k[i].block_size);
		out_char('}');
	}
	out_char(']');
}

static void
print_json(pid_t pid, const struct mw_proc *p)
{
	struct class_row	 k[MW_ALLOC_CLASSES + MW_PY_CLASSES];
	struct mw_alloc_stats	 st;
	const struct mw_python	*py = mw_proc_python(p);
	size_t			 count = 0;

	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	out_str(", \"arenas\": [");
	each_row(p, json_row, &count);
	out_str(count > 0 ? "\n], \"memwalk\": " : "], \"memwalk\": ");
	if (mw_proc_alloc_stats(p, &st)) {
		out_str("{\"arenas\": ");
		out_dec(st.arenas);
		json_dec("bytes_mapped", st.bytes_mapped);
		json_dec("pools_used", st.pools_used);
		json_dec("pools_full", st.pools_full);
		json_dec("pools_empty", st.pools_empty);
		json_classes(k, memwalk_classes(&st, k));
		out_char('}');
	} else
		out_str("null");
	out_str(", \"pymalloc\": ");
	if (py != NULL && py->arenas > 0) {
		out_str("{\"arenas\": ");
		out_dec(py->arenas);
		json_dec("bytes_mapped", py->arena_bytes);
		json_classes(k, pymalloc_classes(py, k));
		out_char('}');
	} else
		out_str("null");
	out_str("}\n");
}

int
cmd_arenas(const struct options *o, int argc, char **argv)
{
	struct mw_proc	*p;
	pid_t		 pid;
	int		 rc;

	if ((rc = target_open_proc("arenas", o, argc, argv, &pid, &p)) != 0)
		return rc;
	if (o->json)
		print_json(pid, p);
	else
		print_table(pid, p);
	mw_proc_close(p);
	return 0;
}
