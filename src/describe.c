/*
 * describe.c: what a region's label and an address's object say, as a
 * few words for the table and as JSON fields, for cmd_maps.c and
 * cmd_where.c alike.
 *
 *   thread-stack   thread 1235 worker-1: 12K used, 8.0M left
 *   stack          main thread 1234: 132K used, 7.9M left
 *   guard          guard of thread 1235
 *   heap           arena 0
 *   glibc-arena    arena 2, heap 0       (reserve: "arena 2, heap 0 reserve")
 *   malloc-mmap    chunk of 1.0M
 *   pymalloc-arena pymalloc arena 3
 *   memwalk-arena  memwalk arena 0     (the index of its first arena)
 *   anything       the label's note, if any
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Append to buf[0..len) of size bytes; the new length, capped. */
static size_t __attribute__((format(printf, 4, 5)))
add(char *buf, size_t len, size_t size, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (len >= size)
		return len;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return len;
	return len + (size_t)n < size ? len + (size_t)n : size - 1;
}

static size_t
describe_thread(char *buf, size_t size, const struct mw_thread *t,
    bool main_thread)
{
	char	 used[8], left[8];
	size_t	 len;

	len = add(buf, 0, size, "%sthread %d %s", main_thread ? "main " : "",
	    (int)t->tid, t->name);
	if (t->sp_from == MW_SP_NONE)
		return add(buf, len, size, ": depth unknown (running)");
	size_text(t->used, used);
	size_text(t->headroom, left);
	return add(buf, len, size, ": %s used, %s left", used, left);
}

/* The words for region r with label l; "" when there is nothing to say. */
size_t
describe_region(char *buf, size_t size, const struct mw_proc *p,
    const struct mw_region *r, const struct mw_label *l)
{
	const struct mw_thread	*t;
	char			 chunk[8];
	size_t			 len = 0;

	buf[0] = '\0';
	if (l->tid != 0 && (t = mw_proc_thread(p, l->tid)) != NULL) {
		if (r->kind == MW_KIND_GUARD)
			return add(buf, 0, size, "guard of thread %d %s",
			    (int)l->tid, t->name);
		return describe_thread(buf, size, t, r->kind == MW_KIND_STACK);
	}
	switch (r->kind) {
	case MW_KIND_HEAP:
	case MW_KIND_GLIBC_ARENA:
		if (l->arena >= 0)
			len = add(buf, 0, size, "arena %d", l->arena);
		if (l->arena >= 0 && l->heap >= 0)
			len = add(buf, len, size, ", heap %d", l->heap);
		break;
	case MW_KIND_MALLOC_MMAP:
		size_text(l->chunk_size, chunk);
		len = add(buf, 0, size, "chunk of %s", chunk);
		break;
	case MW_KIND_PYMALLOC_ARENA:
		len = add(buf, 0, size, "pymalloc arena %d", l->arena);
		break;
	case MW_KIND_MEMWALK_ARENA:
		len = add(buf, 0, size, "memwalk arena %d", l->arena);
		break;
	default:
		break;
	}
	if (l->note != NULL)
		len = add(buf, len, size, "%s%s", len > 0 ? ": " : "", l->note);
	return len;
}

/* Does the label say anything the plain map does not? */
bool
label_says(const struct mw_label *l)
{
	return l->tid != 0 || l->arena >= 0 || l->chunk_size != 0 ||
	    l->note != NULL;
}

static void
json_u64(const char *key, uint64_t v)
{
	out_str(", \"");
	out_str(key);
	out_str("\": ");
	out_dec(v);
}

static void
json_addr(const char *key, uint64_t v)
{
	out_str(", \"");
	out_str(key);
	out_str("\": \"0x");
	out_hex(v, 0);
	out_char('"');
}

/* The thread fields of a stack region: tid, thread, sp, used, headroom. */
static void
json_thread(const struct mw_thread *t)
{
	json_u64("tid", (uint64_t)t->tid);
	out_str(", \"thread\": ");
	out_json_str(t->name);
	if (t->sp_from == MW_SP_NONE) {
		out_str(", \"sp\": null, \"used\": null, \"headroom\": null");
		return;
	}
	json_addr("sp", t->sp);
	json_u64("used", t->used);
	json_u64("headroom", t->headroom);
}

/* The label's facts as JSON fields, each after ", ". */
void
json_label(const struct mw_proc *p, const struct mw_region *r,
    const struct mw_label *l)
{
	const struct mw_thread	*t;

	if (l->tid != 0 && r->kind != MW_KIND_GUARD &&
	    (t = mw_proc_thread(p, l->tid)) != NULL)
		json_thread(t);
	else if (l->tid != 0)
		json_u64("tid", (uint64_t)l->tid);
	if (l->arena >= 0) {
		out_str(", \"arena\": ");
		out_dec((uint64_t)l->arena);
	}
	if (l->heap >= 0)
		json_u64("heap", (uint64_t)l->heap);
	if (l->chunk_size != 0)
		json_u64("chunk_size", l->chunk_size);
	if (l->note != NULL) {
		out_str(", \"note\": ");
		out_json_str(l->note);
	}
}

/* One smaps figure set as JSON fields, in bytes, the first without ", ". */
void
json_smaps(const struct mw_smaps *s)
{
	out_str("\"rss\": ");
	out_dec(s->rss);
	json_u64("pss", s->pss);
	json_u64("pss_dirty", s->pss_dirty);
	json_u64("shared_clean", s->shared_clean);
	json_u64("shared_dirty", s->shared_dirty);
	json_u64("private_clean", s->private_clean);
	json_u64("private_dirty", s->private_dirty);
	json_u64("referenced", s->referenced);
	json_u64("anonymous", s->anonymous);
	json_u64("lazyfree", s->lazyfree);
	json_u64("anon_huge", s->anon_huge);
	json_u64("swap", s->swap);
	json_u64("swap_pss", s->swap_pss);
	json_u64("locked", s->locked);
}

/* An object at an address, in words ("python small int 42, refcnt 3"). */
size_t
describe_object(char *buf, size_t size, const struct mw_object *o)
{
	char	chunk[8];

	switch (o->type) {
	case MW_OBJECT_PY_INT:
		return add(buf, 0, size, "python small int %lld (refcnt %llu)",
		    (long long)o->value, (unsigned long long)o->refcnt);
	case MW_OBJECT_PY_BLOCK:
		return add(buf, 0, size, "pymalloc block %u of %llu bytes "
		    "(class %u), pool 0x%llx, arena 0x%llx, %s", o->block,
		    (unsigned long long)o->size, o->size_class,
		    (unsigned long long)o->pool, (unsigned long long)o->arena,
		    o->allocated ? "allocated" : "free");
	case MW_OBJECT_MALLOC_CHUNK:
		size_text(o->size, chunk);
		return add(buf, 0, size, "malloc chunk of %s at 0x%llx", chunk,
		    (unsigned long long)o->start);
	case MW_OBJECT_MW_BLOCK:
		return add(buf, 0, size, "memwalk block %u of %llu bytes "
		    "(class %u) at 0x%llx, pool 0x%llx, arena 0x%llx, %s",
		    o->block, (unsigned long long)o->size, o->size_class,
		    (unsigned long long)o->start, (unsigned long long)o->pool,
		    (unsigned long long)o->arena,
		    o->allocated ? "allocated" : "free");
	default:
		buf[0] = '\0';
		return 0;
	}
}

void
json_object(const struct mw_object *o)
{
	out_str("{\"type\": \"");
	switch (o->type) {
	case MW_OBJECT_PY_INT:
		out_str("python-int\", \"value\": ");
		if (o->value < 0) {
			out_char('-');
			out_dec((uint64_t)-o->value);
		} else
			out_dec((uint64_t)o->value);
		json_u64("refcnt", o->refcnt);
		break;
	case MW_OBJECT_PY_BLOCK:
	case MW_OBJECT_MW_BLOCK:
		out_str(o->type == MW_OBJECT_PY_BLOCK ? "pymalloc-block\"" :
		    "memwalk-block\"");
		json_addr("arena", o->arena);
		json_addr("pool", o->pool);
		json_u64("size_class", o->size_class);
		json_u64("block", o->block);
		out_str(", \"allocated\": ");
		out_str(o->allocated ? "true" : "false");
		break;
	case MW_OBJECT_MALLOC_CHUNK:
		out_str("malloc-chunk\"");
		break;
	default:
		out_str("none\"");
		break;
	}
	json_addr("start", o->start);
	json_u64("size", o->size);
	out_char('}');
}
