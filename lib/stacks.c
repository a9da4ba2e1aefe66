/*
 * stacks.c: every thread's call stack in a live process (memwalk stack).
 *
 *   mwi_stop_all (os_linux.c)     every thread stopped, its registers
 *        |
 *   libunwind, remote             unw_init_remote + unw_step per thread,
 *        |                        through the accessors below, never
 *        |                        through libunwind-ptrace's stock ones
 *   mwi_sym_at (elfsym.c)         function+offset: .symtab when the file
 *        |                        has one, else .dynsym; past the end of
 *        |                        any: the debug file (debugsym.c)
 *   mwi_resume_all                every thread running again
 *
 * The accessors and where they read:
 *
 *   find_proc_info   ip -> its image (one PROCMAP_QUERY, then the few
 *                    regions of that image: mwi_query_image), its
 *                    .eh_frame_hdr table (PT_GNU_EH_FRAME), searched by
 *                    libunwind's own dwarf_search_unwind_table
 *   access_mem       read-only parts of an image: from the file, mapped
 *                    here (the target's Rss does not grow, and no call);
 *                    the rest (stacks): the target's memory by the page,
 *                    CACHE_SLOTS pages kept
 *   access_reg       the registers PTRACE_GETREGS gave, once per thread
 *
 * so that the cost grows with the frames, not with the target's maps.
 *
 * Invariants: the target is only read; images and their maps belong to
 * the unwinder and live until mwi_stacks_free, as do the names (the
 * symbol cache's strings). Frames go outward: each frame's sp is above
 * the one before, or the walk stops there.
 */
#include "mwi.h"
#include "stacks.h"

#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libunwind.h>

/* Exported by libunwind (1.1 .. 1.8) and what its own ptrace and
 * coredump accessors call; not in its headers. perf declares it so. */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
    unw_word_t ip, unw_dyn_info_t *di, unw_proc_info_t *pi,
    int need_unwind_info, void *arg);

#define CACHE_SLOTS	64
#define CACHE_PAGE	4096
#define MAX_FRAMES	256
#define NAMED_SLOTS	64
#define DW_EH_PE_udata4	0x03
#define DW_EH_PE_sdata4	0x0b
#define DW_EH_PE_datarel 0x30

struct image {
	uint64_t		 lo, hi;	/* runtime range */
	struct mw_maps		*maps;		/* its regions; NULL: vdso */
	const unsigned char	*bytes;		/* the file, or a vdso copy */
	size_t			 len;
	bool			 mapped;	/* bytes is an mmap */
	bool			 has_table;
	unw_dyn_info_t		 di;
	uint64_t		 bias;		/* run time - link time */
	struct mwi_debugsyms	*debug;		/* its debug file's symbols */
	bool			 debug_tried;
};

/*
 * A slot's bytes are allocated on its first use: a stack walk reads a
 * few pages (5 threads: about 10), and each fresh page costs a fault
 * (11-14 us on the paravirtualized machine of bench/HISTORY.md), or,
 * in one calloc of every slot (which util.c populates), 64 of them.
 */
struct page {
	uint64_t	 addr;		/* CACHE_PAGE aligned; 0: empty */
	bool		 bad;		/* unreadable */
	unsigned char	*data;		/* CACHE_PAGE bytes, or NULL */
};

struct unwinder {
	pid_t			 pid;
	struct mw_query		*q;
	struct mwi_symcache	*syms;
	struct image		*img;
	size_t			 nimg, capimg, last;
	struct page		*cache;
	const uint64_t		*regs;		/* the thread being unwound */
	unw_addr_space_t	 as;
	struct mwi_frame	 named[NAMED_SLOTS];	/* ip: the address looked
						   up, sp: 1 for a frame 0 */
};

/* ---- images --------------------------------------------------------- */

static struct image *
image_at(struct unwinder *u, uint64_t addr)
{
	if (u->nimg > 0 && addr >= u->img[u->last].lo &&
	    addr < u->img[u->last].hi)
		return &u->img[u->last];
	for (size_t i = 0; i < u->nimg; i++)
		if (addr >= u->img[i].lo && addr < u->img[i].hi) {
			u->last = i;
			return &u->img[i];
		}
	return NULL;
}

/* The file offset of runtime address a in image im; false: none. */
static bool
image_offset(const struct image *im, uint64_t a, size_t len, size_t *off)
{
	const struct mw_region	*r;
	uint64_t		 o;

	if (im->maps == NULL)
		o = a - im->lo;
	else if ((r = mw_maps_find(im->maps, a)) == NULL ||
	    (r->perms & MW_PERM_WRITE) || a + len > r->end)
		return false;
	else
		o = a - r->start + r->offset;
	if (o + len > im->len || o + len < o)
		return false;
	*off = (size_t)o;
	return true;
}

/*
 * Where the .eh_frame_hdr of image im sits at run time (0: none); the
 * image's load bias on the way.
 */
static uint64_t
eh_frame_hdr(struct image *im)
{
	const Elf64_Ehdr	*eh = (const void *)im->bytes;
	uint64_t		 first_load = UINT64_MAX, hdr = 0;

	if (im->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > im->len)
		return 0;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr	ph;

		memcpy(&ph, im->bytes + eh->e_phoff + i * sizeof(ph),
		    sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_vaddr < first_load)
			first_load = ph.p_vaddr;
		if (ph.p_type == PT_GNU_EH_FRAME)
			hdr = ph.p_vaddr;
	}
	if (first_load == UINT64_MAX)
		return 0;
	/* bias = where the first PT_LOAD's page went */
	im->bias = im->lo - mwi_pagedown(first_load,
	    (uint64_t)sysconf(_SC_PAGESIZE));
	return hdr == 0 ? 0 : im->bias + hdr;
}

/*
 * The binary-search table of .eh_frame_hdr, as libunwind wants it:
 * version 1, a 4-byte eh_frame_ptr, a udata4 count, datarel|sdata4
 * entries (what GNU ld and lld write). Other encodings: no table, and
 * the walk stops at such an image.
 */
static void
image_table(struct image *im)
{
	uint64_t	hdr = eh_frame_hdr(im);
	size_t		off;
	unsigned char	h[12];
	uint32_t	count;

	if (hdr == 0 || !image_offset(im, hdr, sizeof(h), &off))
		return;
	memcpy(h, im->bytes + off, sizeof(h));
	if (h[0] != 1 || (h[1] & 0x0f) != DW_EH_PE_sdata4 ||
	    h[2] != DW_EH_PE_udata4 ||
	    h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return;
	memcpy(&count, h + 8, 4);
	im->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	im->di.start_ip = im->lo;
	im->di.end_ip = im->hi;
	im->di.u.rti.segbase = hdr;
	im->di.u.rti.table_data = hdr + 12;
	im->di.u.rti.table_len = (uint64_t)count * 8 / sizeof(unw_word_t);
	im->has_table = true;
}

/* Map the file of image im (its first region's file). */
static int
image_map_file(struct unwinder *u, struct image *im)
{
	size_t			 n;
	const struct mw_region	*r = &mw_maps_regions(im->maps, &n)[0];
	struct stat		 st;
	void			*p;
	int			 fd;

	if ((fd = mwi_open_object(u->pid, r)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	close(fd);
	im->bytes = p;
	im->len = (size_t)st.st_size;
	im->mapped = true;
	return 0;
}

/* The vdso has no file: a copy of its memory stands for one. */
static int
image_copy_vdso(struct unwinder *u, struct image *im)
{
	unsigned char	*b;

	if (im->hi - im->lo > (1u << 20) ||
	    (b = mwi_malloc((size_t)(im->hi - im->lo))) == NULL)
		return -1;
	if (mwi_read_mem(u->pid, im->lo, b, (size_t)(im->hi - im->lo)) == -1) {
		free(b);
		return -1;
	}
	im->bytes = b;
	im->len = (size_t)(im->hi - im->lo);
	return 0;
}

static struct image *
image_add(struct unwinder *u)
{
	if (u->nimg == u->capimg) {
		size_t	 cap = u->capimg ? u->capimg * 2 : 16;
		void	*v = mwi_reallocarray(u->img, cap, sizeof(*u->img));

		if (v == NULL)
			return NULL;
		u->img = v;
		u->capimg = cap;
	}
	memset(&u->img[u->nimg], 0, sizeof(u->img[0]));
	return &u->img[u->nimg++];
}

/*
 * The image holding code address ip, found and kept on first use. An
 * image that cannot be read is kept too (no table), so that it is not
 * tried again. NULL: ip is in no image.
 */
static struct image *
image_for(struct unwinder *u, uint64_t ip)
{
	struct image		*im;
	struct mw_region	 r;
	struct mw_maps		*maps = NULL;
	size_t			 n;

	if ((im = image_at(u, ip)) != NULL)
		return im;
	if (mw_query_addr(u->q, ip, &r) != 1 || !(r.perms & MW_PERM_EXEC))
		return NULL;
	if (r.kind == MW_KIND_VDSO) {
		if ((im = image_add(u)) == NULL)
			return NULL;
		im->lo = r.start;
		im->hi = r.end;
		if (image_copy_vdso(u, im) == 0)
			image_table(im);
		return im;
	}
	if (r.inode == 0 || mwi_query_image(u->q, &r, &maps) != 1)
		return NULL;
	if ((im = image_add(u)) == NULL) {
		mw_maps_free(maps);
		return NULL;
	}
	im->maps = maps;
	im->lo = mw_maps_regions(maps, &n)[0].start;
	im->hi = mw_maps_regions(maps, &n)[n - 1].end;
	if (image_map_file(u, im) == 0)
		image_table(im);
	return im;
}

/* ---- the target's memory, by the page ------------------------------- */

static int
read_target(struct unwinder *u, uint64_t addr, void *out, size_t len)
{
	uint64_t	 base = addr & ~(uint64_t)(CACHE_PAGE - 1);
	struct page	*pg = &u->cache[(base / CACHE_PAGE) % CACHE_SLOTS];

	if (addr - base + len > CACHE_PAGE || (pg->data == NULL &&
	    (pg->data = mwi_malloc(CACHE_PAGE)) == NULL))
		return mwi_read_mem(u->pid, addr, out, len);
	if (pg->addr != base) {
		pg->addr = base;
		pg->bad = mwi_read_mem(u->pid, base, pg->data, CACHE_PAGE) == -1;
	}
	if (pg->bad)
		return -1;
	memcpy(out, pg->data + (addr - base), len);
	return 0;
}

/* ---- the accessors ---------------------------------------------------- */

static int
acc_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
    int need_unwind_info, void *arg)
{
	struct image	*im = image_for(arg, ip);

	if (im == NULL || !im->has_table)
		return -UNW_ENOINFO;
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &im->di, pi,
	    need_unwind_info, arg);
}

static void
acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)as;	/* libunwind frees what dwarf_search_unwind_table */
	(void)pi;	/* allocated (format TABLE) itself */
	(void)arg;
}

static int
acc_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int
acc_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
    int write, void *arg)
{
	struct unwinder	*u = arg;
	struct image	*im;
	size_t		 off;

	(void)as;
	if (write)
		return -UNW_EREADONLYREG;	/* never written */
	if ((im = image_at(u, addr)) != NULL &&
	    image_offset(im, addr, sizeof(*val), &off)) {
		memcpy(val, im->bytes + off, sizeof(*val));
		return 0;
	}
	return read_target(u, addr, val, sizeof(*val)) == 0 ? 0 :
	    -UNW_EINVAL;
}

static int
acc_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
    int write, void *arg)
{
	struct unwinder	*u = arg;

	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	if (reg < 0 || reg >= MWI_NREGS)
		return -UNW_EBADREG;
	*val = u->regs[reg];
	return 0;
}

static int
acc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
    int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int
acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;
}

static int
acc_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
    size_t len, unw_word_t *off, void *arg)
{
	(void)as;	/* names come from elfsym.c, after the walk */
	(void)addr;
	(void)buf;
	(void)len;
	(void)off;
	(void)arg;
	return -UNW_ENOINFO;
}

static unw_accessors_t accessors = {
	.find_proc_info = acc_find_proc_info,
	.put_unwind_info = acc_put_unwind_info,
	.get_dyn_info_list_addr = acc_get_dyn_info_list_addr,
	.access_mem = acc_access_mem,
	.access_reg = acc_access_reg,
	.access_fpreg = acc_access_fpreg,
	.resume = acc_resume,
	.get_proc_name = acc_get_proc_name,
};

/* ---- one thread ------------------------------------------------------- */

static int
push_frame(struct mwi_stack *st, uint64_t ip, uint64_t sp)
{
	struct mwi_frame	*f;

	if (st->nframes % 16 == 0) {
		void *v = mwi_reallocarray(st->frames, st->nframes + 16,
		    sizeof(*st->frames));
		if (v == NULL)
			return -1;
		st->frames = v;
	}
	f = &st->frames[st->nframes++];
	memset(f, 0, sizeof(*f));
	f->ip = ip;
	f->sp = sp;
	return 0;
}

static int
walk(struct unwinder *u, struct mwi_stack *st, const uint64_t *regs)
{
	unw_cursor_t	c;
	unw_word_t	ip, sp;

	u->regs = regs;
	if (unw_init_remote(&c, u->as, u) < 0)
		return push_frame(st, regs[16], regs[7]);
	do {
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&c, UNW_REG_SP, &sp) < 0 || ip == 0)
			break;
		if (st->nframes > 0 && sp <= st->frames[st->nframes - 1].sp)
			break;		/* not outward: a broken chain */
		if (st->nframes == MAX_FRAMES) {
			st->truncated = true;
			break;
		}
		if (push_frame(st, ip, sp) == -1)
			return -1;
	} while (unw_step(&c) > 0);
	for (size_t i = 0; i + 1 < st->nframes; i++)
		st->frames[i].size = st->frames[i + 1].sp - st->frames[i].sp;
	return 0;
}

/* A function the object's own symbols miss, from its debug file. */
static void
debug_name(struct image *im, uint64_t at, struct mwi_frame *f)
{
	uint64_t	value;

	f->offset = f->ip - im->lo;
	if (!im->debug_tried && im->mapped) {
		im->debug_tried = true;
		im->debug = mwi_debugsyms_open(im->bytes, im->len);
	}
	if (im->debug != NULL && (f->function = mwi_debugsyms_find(im->debug,
	    at - im->bias, &value)) != NULL)
		f->offset = f->ip - (value + im->bias);
}

/* The name of frame f, whose image is im, looked up at address at. */
static int
name_frame(struct unwinder *u, struct image *im, uint64_t at,
    struct mwi_frame *f)
{
	struct mwi_symbol	sym;
	size_t			n;
	int			rc;

	if ((rc = mwi_sym_at(u->syms, im->maps, at, &sym)) == -1)
		return -1;
	f->object = mw_maps_regions(im->maps, &n)[0].name;
	/*
	 * Past the end of the nearest symbol is no part of it: a local
	 * function of a file without .symtab (start_thread in Debian's
	 * libc). Then the offset is the image's.
	 */
	if (rc == 1 && sym.name != NULL &&
	    (sym.size == 0 || at - sym.value < sym.size)) {
		f->function = sym.name;
		f->offset = f->ip - sym.value;
	} else
		debug_name(im, at, f);
	return 0;
}

/*
 * The slot of a return address: Fibonacci hashing, as the addresses of
 * one small object differ in few low bits (their low bits alone put
 * __clone3 and a frame of the same thread in one slot, and every
 * thread looked __clone3 up again).
 */
static size_t
named_slot(uint64_t at)
{
	_Static_assert((NAMED_SLOTS & (NAMED_SLOTS - 1)) == 0,
	    "a power of two");
	return (size_t)((at * UINT64_C(0x9e3779b97f4a7c15)) >>
	    (64 - __builtin_ctz(NAMED_SLOTS)));
}

/*
 * Names: a return address names its call, so the byte before it. The
 * threads of a process share most of their frames (read, start_thread,
 * the same chain): a frame named before is copied, from NAMED_SLOTS.
 */
static int
name_frames(struct unwinder *u, struct mwi_stack *st)
{
	for (size_t i = 0; i < st->nframes; i++) {
		struct mwi_frame	*f = &st->frames[i];
		struct image		*im = image_at(u, f->ip);
		uint64_t		 at = i == 0 ? f->ip : f->ip - 1;
		struct mwi_frame	*seen = &u->named[named_slot(at)];

		if (seen->ip == at && seen->sp == (i == 0)) {
			f->function = seen->function;
			f->offset = seen->offset;
			f->object = seen->object;
			continue;
		}
		if (im == NULL)
			im = image_for(u, f->ip);
		if (im == NULL || im->maps == NULL)
			f->object = im != NULL ? "[vdso]" : NULL;
		else if (name_frame(u, im, at, f) == -1)
			return -1;
		*seen = (struct mwi_frame){ .ip = at, .sp = i == 0,
		    .function = f->function, .offset = f->offset,
		    .object = f->object };
	}
	return 0;
}

/* ---- facts that need no stop ---------------------------------------- */

/*
 * "TID (comm) S ...": the name and the state, read before the stop (a
 * stopped thread is 't'), as threads.c reads them.
 */
static void
task_facts(pid_t pid, struct mwi_stack *st)
{
	char	file[64], buf[512], *open, *close_;

	snprintf(file, sizeof(file), "task/%d/stat", (int)st->tid);
	if (mwi_read_small(pid, file, buf, sizeof(buf)) <= 0 ||
	    (open = strchr(buf, '(')) == NULL ||
	    (close_ = strrchr(buf, ')')) == NULL || close_ < open)
		return;
	snprintf(st->name, sizeof(st->name), "%.*s",
	    (int)(close_ - open - 1), open + 1);
	if (close_[1] == ' ')
		st->state = close_[2];
}

/* Name and state of every thread there is now; *n of them, or NULL. */
static struct mwi_stack *
tasks_before(pid_t pid, size_t *n)
{
	struct mwi_stack	*v;
	pid_t			*tids;
	ssize_t			 k = mwi_list_tasks(pid, &tids);

	*n = 0;
	if (k <= 0)
		return NULL;
	if ((v = mwi_calloc((size_t)k, sizeof(*v))) != NULL) {
		for (ssize_t i = 0; i < k; i++) {
			v[i].tid = tids[i];
			task_facts(pid, &v[i]);
		}
		*n = (size_t)k;
	}
	free(tids);
	return v;
}

static void
name_and_state(pid_t pid, const struct mwi_stack *before, size_t nbefore,
    struct mwi_stack *st)
{
	for (size_t i = 0; i < nbefore; i++)
		if (before[i].tid == st->tid) {
			memcpy(st->name, before[i].name, sizeof(st->name));
			st->state = before[i].state;
			return;
		}
	task_facts(pid, st);	/* born since: as it is now */
}

static void
stack_facts(struct unwinder *u, struct mwi_stack *st, uint64_t limit)
{
	struct mw_region	r;
	uint64_t		size;

	if (st->sp == 0 || mw_query_addr(u->q, st->sp, &r) != 1)
		return;
	st->stack_start = r.start;
	st->stack_end = r.end;
	/* a region that holds a live thread's SP is its stack */
	st->stack_kind = r.kind == MW_KIND_ANON ? MW_KIND_THREAD_STACK : r.kind;
	st->used = r.end - st->sp;
	size = r.end - r.start;
	if (r.kind == MW_KIND_STACK && limit > size)
		size = limit;
	st->headroom = size > st->used ? size - st->used : 0;
}

/* ---- the whole process ---------------------------------------------- */

/* The images' maps go to out, whose frames name their objects in them. */
static void
unwinder_free(struct unwinder *u, struct mwi_stacks *out)
{
	for (size_t i = 0; i < u->nimg; i++) {
		struct image *im = &u->img[i];

		if (im->mapped)
			munmap((void *)im->bytes, im->len);
		else
			free((void *)im->bytes);
		if (im->maps != NULL && out->maps != NULL)
			out->maps[out->nmaps++] = im->maps;
		else
			mw_maps_free(im->maps);
		if (im->debug != NULL && out->debug != NULL)
			out->debug[out->ndebug++] = im->debug;
		else
			mwi_debugsyms_free(im->debug);
	}
	free(u->img);
	for (size_t i = 0; u->cache != NULL && i < CACHE_SLOTS; i++)
		free(u->cache[i].data);
	free(u->cache);
	if (u->as != NULL)
		unw_destroy_addr_space(u->as);
	if (u->q != NULL)
		mw_query_close(u->q);
}

static int
unwinder_init(struct unwinder *u, pid_t pid, struct mwi_stacks *out)
{
	memset(u, 0, sizeof(*u));
	u->pid = pid;
	if ((u->q = mw_query_open(pid, 0)) == NULL)
		return -1;
	if ((out->syms = mwi_symcache_new(pid)) == NULL ||
	    (u->cache = mwi_calloc(CACHE_SLOTS, sizeof(*u->cache))) == NULL)
		return -1;
	u->syms = out->syms;
	if ((u->as = unw_create_addr_space(&accessors, 0)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	return 0;
}

/* One thread from what the stop gave: its frames, while it is stopped. */
static int
stack_of(struct unwinder *u, const struct mwi_task *t, struct mwi_stack *st)
{
	st->tid = t->tid;
	st->stopped = t->state == MWI_TASK_STOPPED;
	if (!st->stopped)
		return 0;
	st->sp = t->regs[7];
	st->ip = t->regs[16];
	return walk(u, st, t->regs);
}

/* Walk every thread while they are all stopped; -1 only on ENOMEM. */
static int
walk_all(struct unwinder *u, const struct mwi_stop *stop,
    struct mwi_stacks *out)
{
	if ((out->v = mwi_calloc(stop->n, sizeof(*out->v))) == NULL)
		return -1;
	out->n = stop->n;
	for (size_t i = 0; i < stop->n; i++)
		if (stack_of(u, &stop->v[i], &out->v[i]) == -1)
			return -1;
	return 0;
}

int
mwi_stacks_read(pid_t pid, struct mwi_stacks *out)
{
	struct unwinder		 u;
	struct mwi_stop		 stop;
	struct mwi_stack	*before = NULL;
	size_t			 nbefore = 0;
	uint64_t		 limit;
	int			 rc = -1, saved;

	memset(out, 0, sizeof(*out));
	if (unwinder_init(&u, pid, out) == -1)
		goto done;
	limit = mwi_stack_rlimit(pid);
	before = tasks_before(pid, &nbefore);
	if (mwi_stop_all(pid, &stop) == -1)
		goto done;
	rc = walk_all(&u, &stop, out);
	mwi_resume_all(&stop);
	for (size_t i = 0; i < out->n && rc == 0; i++) {
		name_and_state(pid, before, nbefore, &out->v[i]);
		stack_facts(&u, &out->v[i], limit);
		rc = name_frames(&u, &out->v[i]);
	}
done:
	saved = errno;
	if ((out->maps = mwi_calloc(u.nimg + 1, sizeof(*out->maps))) == NULL ||
	    (out->debug = mwi_calloc(u.nimg + 1, sizeof(*out->debug))) == NULL)
		rc = -1;
	unwinder_free(&u, out);
	free(before);
	if (rc == -1)
		mwi_stacks_free(out);
	errno = saved;
	return rc;
}

void
mwi_stacks_free(struct mwi_stacks *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].frames);
	free(s->v);
	for (size_t i = 0; i < s->nmaps; i++)
		mw_maps_free(s->maps[i]);
	free(s->maps);
	for (size_t i = 0; i < s->ndebug; i++)
		mwi_debugsyms_free(s->debug[i]);
	free(s->debug);
	if (s->syms != NULL)
		mwi_symcache_free(s->syms);
	memset(s, 0, sizeof(*s));
}
