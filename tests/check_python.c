/*
 * check_python.c: CPython seen from outside, on every Python this
 * machine has (python3 on PATH, /usr/bin/python3.11, the pyenv
 * versions), each running tests/py/objects.py, which prints the id() of
 * small ints, of ints outside the cache, of live and freed pymalloc
 * objects, and its sys.version_info. A non-Python target must not look
 * like one, and in this very process (with a libpython loaded but not
 * started) zeroed and near-miss pool headers must not make an arena
 * while a hand-built one does, block by block.
 */
#include "config.h"

#include <dlfcn.h>
#include <glob.h>
#include <sys/mman.h>

#include "mwi.h"
#include "tutil.h"

#define MAX_PYTHONS	24
#define POOL_HDR	48

static char	*pythons[MAX_PYTHONS];
static int	 npythons;

/* What a Python of this version must look like (x86-64). */
struct geom {
	uint64_t	pool, arena;
	unsigned int	align;
};

/* A process read the way mw_proc reads it. */
struct view {
	pid_t			 pid;
	struct mw_maps		*m;
	struct mwi_symcache	*syms;
	struct mw_label		*labels;
	struct mw_python	 py;
	int			 rc;
};

static void
add_python(const char *path)
{
	if (npythons < MAX_PYTHONS && (pythons[npythons] = strdup(path)) != NULL)
		npythons++;
}

static bool
on_path(const char *name)
{
	char	 path[4096], *dirs, *dir, *save = NULL;
	bool	 found = false;

	if (getenv("PATH") == NULL || (dirs = strdup(getenv("PATH"))) == NULL)
		return false;
	for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		found = access(path, X_OK) == 0;
	}
	free(dirs);
	return found;
}

static void
add_glob(const char *pattern)
{
	glob_t	g;

	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (access(g.gl_pathv[i], X_OK) == 0)
			add_python(g.gl_pathv[i]);
	globfree(&g);
}

static void
find_pythons(void)
{
	char		 pattern[1024];
	const char	*root = getenv("PYENV_ROOT");
	const char	*home = getenv("HOME");

	if (on_path("python3"))
		add_python("python3");
	if (access("/usr/bin/python3.11", X_OK) == 0)
		add_python("/usr/bin/python3.11");
	if (root != NULL)
		snprintf(pattern, sizeof(pattern), "%s/versions", root);
	else
		snprintf(pattern, sizeof(pattern), "%s/.pyenv/versions",
		    home != NULL ? home : "/root");
	strncat(pattern, "/3.*/bin/python3", sizeof(pattern) - strlen(pattern) - 1);
	add_glob(pattern);
	memcpy(strstr(pattern, "/3.*/bin/python3"), "/2.*/bin/python\0", 16);
	add_glob(pattern);
}

/* Maps, a cold symbol cache and fresh labels; no read yet. */
static void
view_prepare(struct view *v, pid_t pid)
{
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	v->m = mw_maps_read(pid);
	ck_assert_ptr_nonnull(v->m);
	v->syms = mwi_symcache_new(pid);
	ck_assert_ptr_nonnull(v->syms);
	v->labels = calloc(v->m->nregions + 1, sizeof(*v->labels));
	ck_assert_ptr_nonnull(v->labels);
	for (size_t i = 0; i < v->m->nregions; i++)
		v->labels[i].arena = v->labels[i].heap = -1;
}

static void
view_open(struct view *v, pid_t pid)
{
	view_prepare(v, pid);
	v->rc = mwi_python_read(pid, v->m, v->syms, v->labels, &v->py);
}

static void
view_close(struct view *v)
{
	mwi_symcache_free(v->syms);
	mw_maps_free(v->m);
	free(v->labels);
}

static size_t
count_kind(const struct mw_maps *m, enum mw_kind k)
{
	size_t	n = 0;

	for (size_t i = 0; i < m->nregions; i++)
		n += m->regions[i].kind == k;
	return n;
}

static struct geom
geom_of(unsigned int major, unsigned int minor)
{
	struct geom	g = { 4096, 256 << 10, 8 };

	if (major > 3 || (major == 3 && minor >= 10)) {
		g.pool = 16384;
		g.arena = 1 << 20;
	}
	if (major > 3 || (major == 3 && minor >= 8))
		g.align = 16;
	return g;
}

static uint64_t
roundup(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * 2.7, 3.6 and 3.7 moved from 8- to 16-byte alignment in bug-fix
 * releases: read it off the pool of a live block, from the target's
 * own header (block size = POOL_SIZE - maxnextoffset, over szidx + 1).
 */
static void
fix_align(pid_t pid, uint64_t id, struct geom *g)
{
	uint32_t	w[4];	/* arenaindex, szidx, nextoffset, maxnextoffset */

	if (g->align == 16)
		return;
	ck_assert_int_eq(mwi_read_mem(pid, (id & ~(g->pool - 1)) + 32, w,
	    sizeof(w)), 0);
	g->align = (unsigned int)((g->pool - w[3]) / (w[1] + 1));
	ck_assert(g->align == 8 || g->align == 16);
}

/* "int_42" -> 42, "int_m5" -> -5. */
static int64_t
name_value(const char *name)
{
	const char	*p = strchr(name, '_') + 1;

	return *p == 'm' ? -strtoll(p + 1, NULL, 10) : strtoll(p, NULL, 10);
}

static uint64_t
must_addr(const struct tu_target *t, const char *name)
{
	uint64_t	a = tu_addr(t, name);

	ck_assert_msg(a != 0, "the script printed no %s", name);
	return a;
}

static void
check_version(const char *path, const struct view *v, unsigned int major,
    unsigned int minor, unsigned int micro)
{
	char	want[16];

	ck_assert_msg(v->py.version >> 24 == major &&
	    ((v->py.version >> 16) & 0xff) == minor,
	    "%s: version 0x%lx, sys.version_info %u.%u.%u", path,
	    v->py.version, major, minor, micro);
	if (major == 3 && minor >= 11) {
		ck_assert_uint_eq((v->py.version >> 8) & 0xff, micro);
		snprintf(want, sizeof(want), "%u.%u.%u", major, minor, micro);
	} else
		snprintf(want, sizeof(want), "%u.%u", major, minor);
	ck_assert_str_eq(v->py.version_str, want);
	ck_assert_ptr_nonnull(v->py.object);
	ck_assert_ptr_nonnull(strstr(v->py.object, "python"));
	ck_assert_uint_ne(v->py.long_type, 0);
	if (major == 3 && minor >= 7)
		ck_assert_uint_ne(v->py.runtime, 0);
}

/* The region of the cache: data of py->object, or the .bss after it. */
static void
check_small_ints_place(const char *path, const struct view *v,
    unsigned int major, unsigned int minor)
{
	const struct mw_region	*r = mw_maps_find(v->m, v->py.small_ints);
	enum mw_kind		 k = v->py.small_ints_kind;

	ck_assert_ptr_nonnull(r);
	if (major == 3 && (minor == 9 || minor == 10)) {
		ck_assert_msg(k == MW_KIND_HEAP || k == MW_KIND_PYMALLOC_ARENA,
		    "%s: small ints in %s", path, mw_kind_name(k));
		ck_assert_uint_eq(v->py.small_ints_end - v->py.small_ints,
		    (uint64_t)v->py.small_count * 8);
		return;
	}
	ck_assert_msg(k == MW_KIND_DATA || k == MW_KIND_BSS,
	    "%s: small ints in %s", path, mw_kind_name(k));
	/* A .bss merged with arenas above it may be labeled for them. */
	ck_assert(r->kind == k || (k == MW_KIND_BSS &&
	    r->kind == MW_KIND_PYMALLOC_ARENA));
	ck_assert_uint_eq(v->py.small_ints_end - v->py.small_ints,
	    (uint64_t)v->py.small_count * 32);
	if (k == MW_KIND_BSS)
		r--;
	ck_assert_ptr_nonnull(r->name);
	ck_assert_str_eq(r->name, v->py.object);
}

static void
check_ints(const char *path, const struct view *v, const struct tu_target *t,
    bool cached)
{
	size_t	nsmall = 0, nbig = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct mw_object	o;
		bool			small = strncmp(t->names[i], "int_", 4) == 0;
		int			rc;

		if (!small && strncmp(t->names[i], "big_", 4) != 0)
			continue;
		memset(&o, 0, sizeof(o));
		rc = mwi_python_object(v->pid, &v->py, v->m, v->labels,
		    t->addrs[i], &o);
		ck_assert_int_ne(rc, -1);
		if (!small || !cached) {
			ck_assert_msg(rc == 0 || o.type != MW_OBJECT_PY_INT,
			    "%s: %s claimed as small int %lld", path,
			    t->names[i], (long long)o.value);
			nbig++;
			continue;
		}
		ck_assert_msg(rc == 1 && o.type == MW_OBJECT_PY_INT,
		    "%s: %s not found as a small int", path, t->names[i]);
		ck_assert_int_eq(o.value, name_value(t->names[i]));
		ck_assert_uint_eq(o.start, t->addrs[i]);
		ck_assert_uint_eq(o.size, 32);
		ck_assert_uint_gt(o.refcnt, 0);
		/* Any byte of the object answers the same. */
		ck_assert_int_eq(mwi_python_object(v->pid, &v->py, v->m,
		    v->labels, t->addrs[i] + 31, &o), 1);
		ck_assert_int_eq(o.value, name_value(t->names[i]));
		nsmall++;
	}
	ck_assert_uint_eq(nbig, cached ? 10 : 30);
	ck_assert_uint_eq(nsmall, cached ? 20 : 0);
}

/* With the static `arenas` of .symtab: the first pool of the arena. */
static void
check_arena_base(const struct view *v, const struct mw_object *o,
    const struct geom *g)
{
	struct mwi_symbol	sym;
	uint64_t		arr, base;
	uint32_t		index;

	if (mwi_sym_find(v->syms, v->m, "arenas", &sym) != 1 ||
	    strcmp(sym.object, v->py.object) != 0)
		return;		/* 3.12+ keep it in the runtime state */
	ck_assert_int_eq(mwi_read_mem(v->pid, sym.value, &arr, 8), 0);
	ck_assert_int_eq(mwi_read_mem(v->pid, o->pool + 32, &index, 4), 0);
	ck_assert_int_eq(mwi_read_mem(v->pid, arr + 48 * (uint64_t)index,
	    &base, 8), 0);
	ck_assert_uint_le(base, o->pool);
	ck_assert_uint_lt(o->pool, base + g->arena);
	ck_assert_uint_eq(o->arena, roundup(base, g->pool));
}

/* A live or freed block: its pool, class and place are consistent. */
static void
check_block(const char *path, const struct view *v, uint64_t id,
    uint64_t pre, uint64_t getsizeof, int allocated, const struct geom *g)
{
	struct mw_object	 o;
	const struct mw_region	*r = mw_maps_find(v->m, id);
	uint64_t		 size = roundup(getsizeof, g->align);
	int			 rc;

	memset(&o, 0, sizeof(o));
	rc = mwi_python_object(v->pid, &v->py, v->m, v->labels, id, &o);
	ck_assert_msg(rc == 1 && o.type == MW_OBJECT_PY_BLOCK,
	    "%s: 0x%llx (%s) is no pymalloc block", path,
	    (unsigned long long)id, r != NULL ? mw_kind_name(r->kind) : "?");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(o.allocated, allocated);
	ck_assert_uint_eq(o.start, id - pre);
	ck_assert_msg(o.size == size, "%s: block of %llu bytes for %llu",
	    path, (unsigned long long)o.size, (unsigned long long)getsizeof);
	ck_assert_uint_eq(o.size_class, size / g->align - 1);
	ck_assert_uint_eq(o.pool, o.start & ~(g->pool - 1));
	ck_assert_uint_eq(o.block, (o.start - o.pool - POOL_HDR) / o.size);
	ck_assert_uint_le(o.arena, o.pool);
	ck_assert_uint_eq((o.pool - o.arena) % g->pool, 0);
	ck_assert_uint_lt(o.pool - o.arena, g->arena);
	/* An arena merged with a .bss bigger than it stays bss. */
	ck_assert(r->kind == MW_KIND_PYMALLOC_ARENA ||
	    (r->kind == MW_KIND_BSS &&
	    v->labels[r - v->m->regions].note != NULL));
	ck_assert_int_ge(v->labels[r - v->m->regions].arena, 0);
	check_arena_base(v, &o, g);
}

static void
check_pymalloc(const char *path, const struct view *v,
    const struct tu_target *t, const struct geom *g)
{
	static const char *const live[] = { "tuple_0", "tuple_500",
	    "tuple_999" };
	static const char *const floats[] = { "float_0", "float_500",
	    "float_999" };
	uint64_t	tsize = must_addr(t, "tuple_size");
	size_t		entry = (size_t)(roundup(tsize, 16) / 16 - 1);

	ck_assert_uint_gt(v->py.arenas, 0);
	if (tu_addr(t, "arenas") != 0)		/* pymalloc's own count */
		ck_assert_msg(v->py.arenas == tu_addr(t, "arenas"),
		    "%s: %zu arenas found, %llu live", path, v->py.arenas,
		    (unsigned long long)tu_addr(t, "arenas"));
	ck_assert_uint_eq(v->py.arena_bytes, v->py.arenas * g->arena);
	ck_assert_uint_ge(count_kind(v->m, MW_KIND_PYMALLOC_ARENA), 1);
	ck_assert_uint_lt(entry, MW_PY_CLASSES);
	ck_assert_uint_eq(v->py.classes[entry].block_size, 16 * (entry + 1));
	ck_assert_uint_ge(v->py.classes[entry].blocks_used, 1000);
	for (size_t i = 0; i < 3; i++) {
		check_block(path, v, must_addr(t, live[i]),
		    tu_addr(t, "tuple_pre"), tsize, 1, g);
		/* 2.7 keeps floats in blocks of its own, from malloc. */
		if (v->py.version >> 24 >= 3)
			check_block(path, v, must_addr(t, floats[i]),
			    tu_addr(t, "float_pre"),
			    must_addr(t, "float_size"), 1, g);
	}
	check_block(path, v, must_addr(t, "freed"), 0,
	    must_addr(t, "freed_size"), 0, g);
}

static void
script_path(char *buf, size_t size)
{
	snprintf(buf, size, "%s/tests/py/objects.py", TOP_SRCDIR);
}

START_TEST(test_python_version)
{
	const char		*path = pythons[_i];
	char			 script[1024];
	const char		*args[] = { script, NULL };
	struct tu_target	*t;
	struct view		 v;
	uint64_t		 ver;
	unsigned int		 major, minor, micro;
	struct geom		 g;

	script_path(script, sizeof(script));
	t = tu_spawn(path, args);
	ver = must_addr(t, "version");
	major = (unsigned int)(ver >> 16);
	minor = (unsigned int)(ver >> 8) & 0xff;
	micro = (unsigned int)ver & 0xff;
	g = geom_of(major, minor);
	fix_align(t->pid, must_addr(t, "tuple_0"), &g);
	view_open(&v, t->pid);
	ck_assert_msg(v.rc == 1, "%s: mwi_python_read %d", path, v.rc);
	check_version(path, &v, major, minor, micro);
	if (major == 3 && minor >= 6) {
		ck_assert_msg(v.py.small_ints != 0, "%s: no small ints", path);
		ck_assert_int_eq(v.py.small_min, -5);
		ck_assert_int_ge(v.py.small_count, 262);
		check_small_ints_place(path, &v, major, minor);
	} else
		ck_assert_uint_eq(v.py.small_ints, 0);
	check_ints(path, &v, t, major == 3 && minor >= 6);
	check_pymalloc(path, &v, t, &g);
	view_close(&v);
	tu_target_stop(t);
}
END_TEST

/* A target that dies between two reads: ESRCH, not a wrong answer. */
START_TEST(test_gone)
{
	char			 script[1024];
	const char		*args[] = { script, NULL };
	struct tu_target	*t;
	struct view		 v;
	struct mw_python	 py;
	struct mw_object	 o;

	script_path(script, sizeof(script));
	t = tu_spawn(pythons[0], args);
	view_open(&v, t->pid);
	ck_assert_int_eq(v.rc, 1);
	tu_target_stop(t);
	ck_assert_int_eq(mwi_python_read(v.pid, v.m, v.syms, v.labels, &py),
	    -1);
	ck_assert_int_eq(errno, ESRCH);
	if (v.py.small_ints != 0) {
		ck_assert_int_eq(mwi_python_object(v.pid, &v.py, v.m, v.labels,
		    v.py.small_ints, &o), -1);
		ck_assert_int_eq(errno, ESRCH);
	}
	view_close(&v);
}
END_TEST

START_TEST(test_not_python)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct view		 v;

	view_open(&v, t->pid);
	ck_assert_int_eq(v.rc, 0);
	ck_assert_uint_eq(count_kind(v.m, MW_KIND_PYMALLOC_ARENA), 0);
	ck_assert_uint_eq(v.py.arenas, 0);
	ck_assert_uint_eq(v.py.small_ints, 0);
	view_close(&v);
	tu_target_stop(t);
}
END_TEST

/* ---- this process, with a libpython loaded but never started ------- */

static void *libpython;

/* A shared libpython: python3's own, else any pyenv one. */
static void
load_libpython(void)
{
	char	 line[1024];
	FILE	*fp;
	glob_t	 g;

	fp = popen("python3 -c 'import sysconfig as s; print(\"%s/%s\" % "
	    "(s.get_config_var(\"LIBDIR\"), s.get_config_var(\"INSTSONAME\")))'"
	    " 2>/dev/null", "r");
	if (fp != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			libpython = dlopen(line, RTLD_LAZY | RTLD_LOCAL);
		}
		pclose(fp);
	}
	if (libpython != NULL || glob("/root/.pyenv/versions/3.1*/lib/"
	    "libpython3.*.so.1.0", 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc && libpython == NULL; i++)
		libpython = dlopen(g.gl_pathv[i], RTLD_LAZY | RTLD_LOCAL);
	globfree(&g);
}

static uint8_t *
map_between_guards(size_t len, uint64_t align, uint64_t skew, void **whole,
    size_t *wlen)
{
	size_t		 pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t		*p, *a;

	*wlen = len + 2 * align + 2 * pg;
	p = mmap(NULL, *wlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	a = (uint8_t *)roundup((uintptr_t)p + pg, align) + skew;
	ck_assert_int_eq(mprotect(a, len, PROT_READ | PROT_WRITE), 0);
	*whole = p;
	return a;
}

static void
put_pool(uint8_t *pool, uint32_t count, uint32_t index, uint32_t szidx,
    uint32_t nextoffset, uint64_t freeblock, const struct geom *g)
{
	uint32_t	w[4] = { index, szidx, nextoffset,
			    (uint32_t)(g->pool - (szidx + 1) * g->align) };

	memset(pool, 0, POOL_HDR);
	memcpy(pool, &count, 4);
	memcpy(pool + 8, &freeblock, 8);
	memcpy(pool + 32, w, sizeof(w));
}

/* Link the blocks of a pool whose offsets are given into its free list. */
static void
link_free(uint8_t *pool, const uint64_t *offs, size_t n)
{
	uint64_t	head = 0;

	for (size_t i = n; i-- > 0;) {
		memcpy(pool + offs[i], &head, 8);
		head = (uintptr_t)pool + offs[i];
	}
	memcpy(pool + 8, &head, 8);
}

/*
 * An arena of 4 pools at a page-aligned base that is not pool-aligned:
 *   0: class 1, full;  1: class 3, 3 blocks carved, block 1 in use,
 *   blocks 0 and 2 free;  2: class 3, empty (all 4 carved free);
 *   3: class 1, full.
 */
static void
build_arena(uint8_t *f, const struct geom *g)
{
	uint32_t	bs1 = 2 * g->align, bs3 = 4 * g->align;
	uint32_t	full1 = (uint32_t)((g->pool - POOL_HDR) / bs1);
	uint64_t	free1[] = { POOL_HDR, POOL_HDR + 2 * bs3 };
	uint64_t	free2[4];

	put_pool(f, full1, 7, 1, POOL_HDR + full1 * bs1, 0, g);
	put_pool(f + g->pool, 1, 7, 3, POOL_HDR + 3 * bs3, 0, g);
	link_free(f + g->pool, free1, 2);
	put_pool(f + 2 * g->pool, 0, 7, 3, POOL_HDR + 4 * bs3, 0, g);
	for (size_t i = 0; i < 4; i++)
		free2[i] = POOL_HDR + i * bs3;
	link_free(f + 2 * g->pool, free2, 4);
	put_pool(f + 3 * g->pool, full1, 7, 1, POOL_HDR + full1 * bs1, 0, g);
}

/* Pools that each break one rule of a valid header. */
static void
build_near_misses(uint8_t *a, size_t len, const struct geom *g)
{
	uint32_t	bs = 4 * g->align;

	for (size_t k = 0; (k + 1) * g->pool <= len; k++) {
		uint8_t		*p = a + k * g->pool;
		uint32_t	 next = POOL_HDR + 10 * bs;
		uint64_t	 fb = (uintptr_t)p + POOL_HDR + bs;
		uint32_t	 bad;

		put_pool(p, 5, 3, 3, next, fb, g);
		switch (k % 7) {
		case 0: bad = 64; memcpy(p + 36, &bad, 4); break; /* szidx */
		case 1: bad = (uint32_t)g->pool - bs + 16;	/* maxnext */
			memcpy(p + 44, &bad, 4); break;
		case 2: bad = next + 8; memcpy(p + 40, &bad, 4); break;
		case 3: bad = 11; memcpy(p, &bad, 4); break;	/* count */
		case 4: fb += 8; memcpy(p + 8, &fb, 8); break;
		case 5: fb = 0; memcpy(p + 8, &fb, 8); break;	/* not full */
		default: fb = (uintptr_t)p + next; memcpy(p + 8, &fb, 8);
		}
	}
}

static struct mw_object
object_at(const struct view *v, uint64_t addr, int want_rc)
{
	struct mw_object	o;

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(mwi_python_object(0, &v->py, v->m, v->labels, addr,
	    &o), want_rc);
	return o;
}

static void
check_synthetic_blocks(const struct view *v, uint8_t *f, const struct geom *g)
{
	uint64_t		 p1 = (uintptr_t)f + g->pool;
	uint64_t		 bs3 = 4 * g->align;
	struct mw_object	 o;

	object_at(v, p1 + 10, 0);			/* a pool header */
	o = object_at(v, p1 + POOL_HDR + bs3 + 5, 1);	/* block 1: used */
	ck_assert_int_eq(o.type, MW_OBJECT_PY_BLOCK);
	ck_assert_int_eq(o.allocated, 1);
	ck_assert_uint_eq(o.block, 1);
	ck_assert_uint_eq(o.size, bs3);
	ck_assert_uint_eq(o.size_class, 3);
	ck_assert_uint_eq(o.start, p1 + POOL_HDR + bs3);
	ck_assert_uint_eq(o.pool, p1);
	ck_assert_uint_eq(o.arena, (uintptr_t)f);
	ck_assert_int_eq(object_at(v, p1 + POOL_HDR, 1).allocated, 0);
	ck_assert_int_eq(object_at(v, p1 + POOL_HDR + 2 * bs3, 1).allocated, 0);
	o = object_at(v, p1 + POOL_HDR + 3 * bs3, 1);	/* never carved */
	ck_assert_int_eq(o.allocated, 0);
	ck_assert_uint_eq(o.block, 3);
	ck_assert_int_eq(object_at(v, p1 + g->pool + POOL_HDR, 1).allocated, 0);
	o = object_at(v, (uintptr_t)f + 3 * g->pool + g->pool - 1 -
	    (g->pool - POOL_HDR) % (2 * g->align), 1);	/* last block */
	ck_assert_int_eq(o.allocated, 1);
	ck_assert_uint_eq(o.arena, (uintptr_t)f);
	if ((g->pool - POOL_HDR) % (2 * g->align) != 0)
		object_at(v, (uintptr_t)f + 4 * g->pool - 1, 0); /* slack */
	object_at(v, (uintptr_t)f + 4 * g->pool + 100, 0);	/* uncarved */
}

static void
check_synthetic_stats(const struct view *v, const struct geom *g)
{
	const struct mw_py_class *c1 = &v->py.classes[2 * g->align / 16 - 1];
	const struct mw_py_class *c3 = &v->py.classes[4 * g->align / 16 - 1];

	ck_assert_uint_eq(v->py.arenas, 1);
	ck_assert_uint_eq(v->py.arena_bytes, g->arena);
	ck_assert_uint_eq(c1->pools_full, 2);
	ck_assert_uint_eq(c1->blocks_used,
	    2 * ((g->pool - POOL_HDR) / (2 * g->align)));
	ck_assert_uint_eq(c3->pools_used, 1);
	ck_assert_uint_eq(c3->pools_empty, 1);
	ck_assert_uint_eq(c3->blocks_used, 1);
}

static enum mw_kind
kind_at(const struct view *v, const void *p)
{
	const struct mw_region	*r = mw_maps_find(v->m, (uintptr_t)p);

	ck_assert_ptr_nonnull(r);
	return r->kind;
}

START_TEST(test_synthetic_arenas)
{
	struct view	 v;
	struct geom	 g;
	void		*w1, *w2, *w3;
	size_t		 l1, l2, l3;
	uint8_t		*zeros, *near, *arena;
	size_t		 pg = (size_t)sysconf(_SC_PAGESIZE);

	view_open(&v, 0);
	if (libpython == NULL) {	/* no shared libpython to load */
		ck_assert_int_eq(v.rc, 0);
		view_close(&v);
		return;
	}
	ck_assert_int_eq(v.rc, 1);
	g = geom_of((unsigned int)(v.py.version >> 24),
	    (unsigned int)(v.py.version >> 16) & 0xff);
	view_close(&v);
	zeros = map_between_guards(1 << 20, g.pool, 0, &w1, &l1);
	near = map_between_guards(1 << 20, g.pool, 0, &w2, &l2);
	build_near_misses(near, 1 << 20, &g);
	/* The arena's mmap starts a page below its first pool. */
	arena = map_between_guards(g.arena, g.pool, g.pool - pg, &w3, &l3);
	build_arena(arena + pg, &g);

	view_open(&v, 0);
	ck_assert_int_eq(v.rc, 1);
	ck_assert_int_eq(kind_at(&v, zeros), MW_KIND_ANON);
	ck_assert_int_eq(kind_at(&v, near), MW_KIND_ANON);
	ck_assert_int_eq(kind_at(&v, arena), MW_KIND_PYMALLOC_ARENA);
	ck_assert_int_eq(v.labels[mw_maps_find(v.m, (uintptr_t)arena) -
	    v.m->regions].arena, 7);
	object_at(&v, (uintptr_t)near + g.pool + POOL_HDR, 0);
	check_synthetic_blocks(&v, arena + pg, &g);
	check_synthetic_stats(&v, &g);
	view_close(&v);
	munmap(w1, l1);
	munmap(w2, l2);
	munmap(w3, l3);
}
END_TEST

/*
 * An arena whose mapping the kernel merged with an mmapped malloc chunk
 * below it: one region, that the glibc pass sees first. The whole
 * mw_proc pass order must still find the arena, and call the region
 * pymalloc-arena since the arena makes up most of it.
 */
START_TEST(test_arena_above_chunk)
{
	const size_t	 chunk = 160 << 10;
	struct mw_proc	*p;
	const struct mw_region *r;
	struct geom	 g;
	struct view	 v;
	uint64_t	*hdr;
	uint8_t		*a;
	void		*w;
	size_t		 l;

	view_open(&v, 0);
	if (libpython == NULL) {
		view_close(&v);
		return;
	}
	g = geom_of((unsigned int)(v.py.version >> 24),
	    (unsigned int)(v.py.version >> 16) & 0xff);
	view_close(&v);
	/* The chunk's pages, then the arena's pools, pool-aligned. */
	a = map_between_guards(chunk + g.arena, g.pool, 0, &w, &l);
	hdr = (uint64_t *)(void *)a;
	hdr[0] = 0;
	hdr[1] = chunk | 2;		/* IS_MMAPPED */
	build_arena(a + chunk, &g);
	p = mw_proc_open(0, 0);
	ck_assert_ptr_nonnull(p);
	r = mw_maps_find(mw_proc_maps(p), (uintptr_t)a + chunk);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->start, (uintptr_t)a);
	ck_assert_int_eq(r->kind, MW_KIND_PYMALLOC_ARENA);
	ck_assert_int_eq(mw_proc_label(p, r)->arena, 7);
	ck_assert_uint_ge(mw_proc_python(p)->arenas, 1);
	mw_proc_close(p);
	munmap(w, l);
}
END_TEST

/* In-process small ints of a libpython 3.11+ that never started. */
START_TEST(test_static_small_ints)
{
	struct view		v;
	struct mw_object	o;

	view_open(&v, 0);
	if (libpython == NULL || v.py.version < 0x030b0000) {
		view_close(&v);
		return;
	}
	ck_assert_int_eq(v.rc, 1);
	ck_assert_uint_ne(v.py.small_ints, 0);
	ck_assert_int_eq(v.py.small_ints_kind, MW_KIND_DATA);
	ck_assert_int_eq(mwi_python_object(0, &v.py, v.m, v.labels,
	    v.py.small_ints + 32 * 105 + 7, &o), 1);
	ck_assert_int_eq(o.value, 100);
	ck_assert_uint_eq(o.start, v.py.small_ints + 32 * 105);
	ck_assert_int_eq(mwi_python_object(0, &v.py, v.m, v.labels,
	    v.py.small_ints_end, &o), 0);
	view_close(&v);
}
END_TEST

/*
 * Every allocation failing in turn, from a cold symbol cache: -1 ENOMEM
 * or the full answer, the same as without faults; and a second read of
 * the same map gives the same answer.
 */
START_TEST(test_alloc_faults)
{
	char			 script[1024];
	const char		*args[] = { script, NULL };
	struct tu_target	*t;
	struct view		 v;
	size_t			 arenas;
	long			 n;

	script_path(script, sizeof(script));
	t = tu_spawn(pythons[0], args);
	view_open(&v, t->pid);
	ck_assert_int_eq(v.rc, 1);
	arenas = v.py.arenas;
	ck_assert_int_eq(mwi_python_read(t->pid, v.m, v.syms, v.labels,
	    &v.py), 1);
	ck_assert_uint_eq(v.py.arenas, arenas);
	view_close(&v);
	for (n = 1; n < 100000; n++) {
		struct mw_object	o;
		int			rc, rc2;

		view_prepare(&v, t->pid);
		mwi_faults.alloc_fail = n;
		rc = mwi_python_read(t->pid, v.m, v.syms, v.labels, &v.py);
		if (rc == -1)
			ck_assert_int_eq(errno, ENOMEM);
		else {
			ck_assert_int_eq(rc, 1);	/* the full answer */
			ck_assert_uint_eq(v.py.arenas, arenas);
		}
		rc2 = mwi_python_object(t->pid, &v.py, v.m, v.labels,
		    must_addr(t, "tuple_0"), &o);
		ck_assert(rc2 == 1 || (rc2 == -1 && errno == ENOMEM) ||
		    (rc == -1 && rc2 == 0));
		view_close(&v);
		if (mwi_faults.alloc_fail > 0)
			break;		/* no allocation was left to fail */
		mwi_faults.alloc_fail = 0;
	}
	mwi_faults.alloc_fail = 0;
	ck_assert_int_gt(n, 10);
	ck_assert_int_lt(n, 100000);
	tu_target_stop(t);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("python");
	TCase	*tc = tcase_create("python");

	find_pythons();
	if (npythons == 0) {
		fprintf(stderr, "check_python: no Python on this machine\n");
		return 1;
	}
	load_libpython();
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_python_version, 0, npythons);
	tcase_add_test(tc, test_gone);
	tcase_add_test(tc, test_not_python);
	tcase_add_test(tc, test_synthetic_arenas);
	tcase_add_test(tc, test_arena_above_chunk);
	tcase_add_test(tc, test_static_small_ints);
	tcase_add_test(tc, test_alloc_faults);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
