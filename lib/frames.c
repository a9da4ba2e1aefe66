/*
 * frames.c: the calling thread's stack frames, by libunwind's local
 * unwinder, and the probes that print them (p_frames, p_frame).
 *
 *   high addresses
 *        |  main            ...
 *        +----------------  cfa of b = sp of main
 *        |  b               return address into main at cfa - 8
 *        +----------------  cfa of c = sp of b
 *        |  c               calls mw_frames(): out[0] is c
 *        +----------------  sp of c (its sp at the call)
 *   low addresses: the stack grows down, frames go outward upwards
 *
 *   mw_backtrace   unw_backtrace into a buffer on the stack, its own
 *                  frame dropped; instruction pointers only
 *   mw_frames      unw_getcontext, unw_init_local, then per frame:
 *                  ip, sp, unw_step, the caller's sp = this frame's cfa
 *   names          the object of an ip (_dl_find_object), its ELF file
 *                  mapped read-only for the length of one call:
 *                  .symtab, else .dynsym, the FUNC symbol that holds it
 *
 * Invariants:
 *   - A frame spans [sp, cfa) and size = cfa - sp: each frame's cfa is
 *     the sp of the next one out. The walk stops where an sp does not
 *     grow (a broken stack), but at a signal frame, whose caller may be
 *     on another stack (sigaltstack): its size is then 0.
 *   - Nothing here calls malloc: libunwind's local stepping does not,
 *     and names are read from the files, not by unw_get_proc_name,
 *     whose libunwind 1.6 allocates a path on every call.
 *   - unw_getcontext is called by the function that walks, never by a
 *     helper that returns before the walk: a context must not outlive
 *     its frame. The frames of this module are skipped by count, so
 *     the functions that capture are noinline and call nothing as a
 *     tail call.
 */
#include "mwi.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <signal.h>
#include <stdalign.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BT_LOCAL	64	/* mw_backtrace's buffer: 512 bytes */
#define NO_NAME		"??"

/* A walk of the stack, one frame at a time (walk_next). */
struct walk {
	unw_cursor_t	 cur;
	bool		 done;
	bool		 prev_signal;	/* the frame before was a signal's */
};

/* The symbols of one loaded object, its file mapped (names). */
struct symfile {
	uintptr_t	 lo, hi;	/* its addresses; lo == hi: none */
	uintptr_t	 bias;		/* its load bias */
	const unsigned char *map;	/* its file; NULL: none */
	size_t		 len;
	bool		 mapped;	/* map is ours to unmap (not the vDSO) */
	const ElfW(Sym)	*syms;
	size_t		 nsyms;
	const char	*strs;
	size_t		 strsz;
};

/* ---- names: the FUNC symbol that holds an address ----------------------- */

/* The object that holds ip: its range, load bias and file. */
struct object {
	uintptr_t	 lo, hi, bias;
	const char	*path;
};

/*
 * glibc 2.35's _dl_find_object takes no lock (async-signal-safe); before
 * it, dl_iterate_phdr, which takes the loader's.
 */
#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
static bool
object_at(uintptr_t ip, struct object *o)
{
	struct dl_find_object	dlfo;

	if (_dl_find_object((void *)ip, &dlfo) != 0)
		return false;
	o->lo = (uintptr_t)dlfo.dlfo_map_start;
	o->hi = (uintptr_t)dlfo.dlfo_map_end;
	o->bias = dlfo.dlfo_link_map->l_addr;
	o->path = dlfo.dlfo_link_map->l_name;
	return true;
}
#else
static int
object_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct object	*o = ctx;
	uintptr_t	 ip = o->lo, lo = UINTPTR_MAX, hi = 0, a;
	bool		 in = false;

	(void)size;
	for (unsigned int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD)
			continue;
		a = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
		lo = a < lo ? a : lo;
		hi = a + info->dlpi_phdr[i].p_memsz > hi ?
		    a + info->dlpi_phdr[i].p_memsz : hi;
		in = in || (ip >= a && ip - a < info->dlpi_phdr[i].p_memsz);
	}
	if (!in)
		return 0;
	o->lo = lo;
	o->hi = hi;
	o->bias = info->dlpi_addr;
	o->path = info->dlpi_name;
	return 1;
}

/* The callback finds ip in o->lo, and replaces it with the answer. */
static bool
object_at(uintptr_t ip, struct object *o)
{
	o->lo = ip;
	return dl_iterate_phdr(object_cb, o) == 1;
}
#endif

/* Does [off, off + n * size) lie inside a buffer of len bytes, aligned? */
static bool
in_image(size_t len, uint64_t off, uint64_t n, size_t size, size_t align)
{
	return off % align == 0 && off <= len && n <= (len - off) / size;
}

/* The symbol table of an ELF image: .symtab, else .dynsym. */
static bool
find_symtab(struct symfile *sf)
{
	const ElfW(Ehdr)	*eh = (const void *)sf->map;
	const ElfW(Shdr)	*sh, *use = NULL, *str;

	if (sf->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 :
	    ELFCLASS32) || eh->e_shentsize != sizeof(*sh) ||
	    !in_image(sf->len, eh->e_shoff, eh->e_shnum, sizeof(*sh),
	    alignof(ElfW(Shdr))))
		return false;
	sh = (const void *)(sf->map + eh->e_shoff);
	for (unsigned int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB ||
		    (sh[i].sh_type == SHT_DYNSYM && use == NULL))
			use = &sh[i];
	if (use == NULL || use->sh_link >= eh->e_shnum ||
	    use->sh_entsize != sizeof(ElfW(Sym)) ||
	    !in_image(sf->len, use->sh_offset, use->sh_size / sizeof(ElfW(Sym)),
	    sizeof(ElfW(Sym)), alignof(ElfW(Sym))))
		return false;
	str = &sh[use->sh_link];
	if (!in_image(sf->len, str->sh_offset, str->sh_size, 1, 1))
		return false;
	sf->syms = (const void *)(sf->map + use->sh_offset);
	sf->nsyms = use->sh_size / sizeof(ElfW(Sym));
	sf->strs = (const char *)sf->map + str->sh_offset;
	sf->strsz = str->sh_size;
	return true;
}

static void
symfile_close(struct symfile *sf)
{
	if (sf->mapped)
		munmap((void *)(uintptr_t)sf->map, sf->len);
	memset(sf, 0, sizeof(*sf));
}

/*
 * Map the file of o. The vDSO has none, but the kernel maps its whole
 * image, section headers included, in the pages of its range.
 */
static void
symfile_map(struct symfile *sf, const struct object *o)
{
	struct stat	 st;
	void		*p;
	int		 fd;

	if (o->lo == getauxval(AT_SYSINFO_EHDR)) {
		sf->map = (const void *)o->lo;
		sf->len = mwi_pageup(o->hi, getauxval(AT_PAGESZ)) - o->lo;
	} else if ((fd = open(o->path, O_RDONLY | O_CLOEXEC)) != -1) {
		if (fstat(fd, &st) == 0 && st.st_size > 0 &&
		    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0)) != MAP_FAILED) {
			sf->map = p;
			sf->len = (size_t)st.st_size;
			sf->mapped = true;
		}
		close(fd);
	}
	if (sf->map != NULL && !find_symtab(sf))
		sf->nsyms = 0;
}

/* sf set for the object holding ip: kept from the frame before, or
 * opened. False when ip is in no object. */
static bool
symfile_for(struct symfile *sf, uintptr_t ip)
{
	struct object	o;

	if (sf->lo < sf->hi && ip >= sf->lo && ip < sf->hi)
		return true;
	symfile_close(sf);
	if (!object_at(ip, &o))
		return false;
	if (o.path == NULL || o.path[0] == '\0')	/* the main program */
		o.path = "/proc/self/exe";
	sf->lo = o.lo;
	sf->hi = o.hi;
	sf->bias = o.bias;
	symfile_map(sf, &o);
	return true;
}

/*
 * The FUNC symbol whose [value, value + size) holds vaddr; a global one
 * rather than a local alias. (ELF64_ST_TYPE and ELF64_ST_BIND are the
 * same as ELF32's.)
 */
static const ElfW(Sym) *
symbol_at(const struct symfile *sf, uintptr_t vaddr)
{
	const ElfW(Sym)	*best = NULL;

	for (size_t i = 0; i < sf->nsyms; i++) {
		const ElfW(Sym)	*s = &sf->syms[i];
		unsigned int	 type = ELF64_ST_TYPE(s->st_info);

		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    s->st_shndx == SHN_UNDEF || s->st_size == 0 ||
		    vaddr < s->st_value || vaddr - s->st_value >= s->st_size ||
		    s->st_name >= sf->strsz)
			continue;
		if (best == NULL || (ELF64_ST_BIND(s->st_info) == STB_GLOBAL &&
		    ELF64_ST_BIND(best->st_info) != STB_GLOBAL))
			best = s;
	}
	return best;
}

/*
 * f->name and f->offset from the symbols of f->ip's object; look up
 * ip - 1 unless exact (a return address may be the first byte after a
 * call that ends its function).
 */
static void
frame_name(struct symfile *sf, struct mw_frame *f, bool exact)
{
	uintptr_t	 at = (uintptr_t)f->ip - (exact ? 0 : 1);
	const ElfW(Sym)	*s;
	const char	*name;
	size_t		 len, room;

	if (!symfile_for(sf, at) || (s = symbol_at(sf, at - sf->bias)) == NULL)
		return;
	name = sf->strs + s->st_name;
	room = sf->strsz - s->st_name;
	len = strnlen(name, room < MW_FRAME_NAME_MAX ? room :
	    MW_FRAME_NAME_MAX);
	if (len == MW_FRAME_NAME_MAX) {
		len = MW_FRAME_NAME_MAX - 1;
		f->flags |= MW_FRAME_NAME_CUT;
	}
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	f->offset = f->ip - (s->st_value + sf->bias);
}

/* ---- walking the stack ------------------------------------------------ */

/*
 * On an alternate signal stack, a signal frame and the frame it
 * interrupted are on two stacks, and the distance between them is no
 * size.
 */
static bool
same_stack(uint64_t a, uint64_t b)
{
	stack_t		ss;
	uint64_t	lo, hi;

	if (sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & SS_ONSTACK) == 0)
		return true;
	lo = (uintptr_t)ss.ss_sp;
	hi = lo + ss.ss_size;
	return (a >= lo && a < hi) == (b >= lo && b < hi);
}

/*
 * Is ip the kernel's way back from a signal handler, the sa_restorer of
 * glibc and musl (__restore_rt: mov $15,%rax; syscall)? libunwind's
 * unw_is_signal_frame cannot say: 1.6 answers for the frame the signal
 * stopped, later versions for this one. Only called on an ip libunwind
 * found unwind tables for, whose code is mapped.
 */
static bool
is_sigreturn(uint64_t ip)
{
#if defined(__x86_64__)
	static const unsigned char code[] = {
		0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05
	};

	return memcmp((const void *)(uintptr_t)ip, code, sizeof(code)) == 0;
#else
	(void)ip;
	return false;
#endif
}

/*
 * Step out of f: its cfa and size are the sp of its caller, and the
 * walk ends at the outermost frame, at a frame libunwind cannot step
 * past, and where the sp does not grow (but past a signal frame).
 */
static void
walk_step(struct walk *w, struct mw_frame *f)
{
	unw_word_t	sp;
	bool		sig;

	if (unw_step(&w->cur) <= 0 ||
	    unw_get_reg(&w->cur, UNW_REG_SP, &sp) < 0) {
		w->done = true;
		return;
	}
	if ((sig = is_sigreturn(f->ip)))
		f->flags |= MW_FRAME_SIGNAL;
	if (!sig && sp <= f->sp) {
		w->done = true;
		return;
	}
	f->cfa = sp;
	if (sp > f->sp && (!sig || same_stack(f->sp, sp)))
		f->size = sp - f->sp;
}

/*
 * The frame the cursor is at, named through sf (NULL: no names), then
 * the cursor one frame out. 1 a frame, 0 the end (iterator convention;
 * a frame whose registers cannot be read ends the walk too).
 */
static int
walk_next(struct walk *w, struct mw_frame *f, struct symfile *sf)
{
	unw_word_t	ip, sp;

	if (w->done || unw_get_reg(&w->cur, UNW_REG_IP, &ip) < 0 ||
	    unw_get_reg(&w->cur, UNW_REG_SP, &sp) < 0 || ip == 0) {
		w->done = true;
		return 0;
	}
	memset(f, 0, sizeof(*f));
	f->ip = ip;
	f->sp = sp;
	walk_step(w, f);
	/* A return address may be past the call's function: look ip - 1
	 * up, but where the kernel's signal frame set ip exactly. */
	if (sf != NULL)
		frame_name(sf, f, (f->flags & MW_FRAME_SIGNAL) ||
		    w->prev_signal);
	w->prev_signal = (f->flags & MW_FRAME_SIGNAL) != 0;
	return 1;
}

/* The cursor at the frame of the function that captured uc, stepped
 * out of it: at its caller. 0, or -1 with errno. */
static int
walk_init(struct walk *w, unw_context_t *uc)
{
	int	r;

	w->done = w->prev_signal = false;
	if ((r = unw_init_local(&w->cur, uc)) < 0 ||
	    (r = unw_step(&w->cur)) <= 0) {
		errno = r == -UNW_ENOMEM ? ENOMEM : ENOTSUP;
		return -1;
	}
	return 0;
}

/* ---- the fast capture ------------------------------------------------ */

/*
 * BT_LOCAL or more asked for, and the stack at least as deep: the walk
 * of mw_frames, slower (libunwind's unw_step a frame), this function's
 * frame and mw_backtrace's skipped.
 */
static __attribute__((noinline)) int
backtrace_deep(void **ips, int max)
{
	unw_context_t	uc;
	struct walk	w;
	struct mw_frame	f;
	int		n = 0;

	if (unw_getcontext(&uc) != 0 || walk_init(&w, &uc) == -1)
		return 0;
	while (n <= max && walk_next(&w, &f, NULL) == 1) {
		if (n > 0)
			ips[n - 1] = (void *)(uintptr_t)f.ip;
		n++;
	}
	return n > 0 ? n - 1 : 0;
}

/*
 * unw_backtrace's first entry is its caller, this function: it is
 * captured into a buffer one longer and dropped in the copy.
 */
__attribute__((noinline)) int
mw_backtrace(void **ips, int max)
{
	void	*local[BT_LOCAL];
	int	 n, saved = errno;

	if (max < 0 || (ips == NULL && max > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (max < BT_LOCAL) {
		n = unw_backtrace(local, max + 1) - 1;
		if (n > 0)
			memcpy(ips, local + 1, (size_t)n * sizeof(*ips));
	} else if ((n = unw_backtrace(ips, max)) < max) {
		if (--n > 0)
			memmove(ips, ips + 1, (size_t)n * sizeof(*ips));
	} else
		n = backtrace_deep(ips, max);
	errno = saved;
	return n < 0 ? 0 : n;
}

/* ---- the detailed capture --------------------------------------------- */

__attribute__((noinline)) int
mw_frames(struct mw_frame *out, int max, unsigned int flags)
{
	unw_context_t	 uc;
	struct walk	 w;
	struct symfile	 sf;
	int		 n = 0, saved = errno;

	if (max < 0 || (out == NULL && max > 0) ||
	    (flags & ~MW_FRAMES_NONAMES) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (unw_getcontext(&uc) != 0 || walk_init(&w, &uc) == -1)
		return -1;
	memset(&sf, 0, sizeof(sf));
	while (n < max && walk_next(&w, &out[n],
	    (flags & MW_FRAMES_NONAMES) ? NULL : &sf) == 1)
		n++;
	symfile_close(&sf);
	errno = saved;
	return n;
}

/* ---- the probes ------------------------------------------------------- */

/* The kind of the region last looked up, and its bounds. */
struct kind_cache {
	uint64_t	 start, end;
	const char	*kind;
};

/* The kind of addr's region, as p_mem finds it: one lookup a region. */
static const char *
kind_at(struct kind_cache *kc, uint64_t addr)
{
	struct mw_region	r;

	if (addr >= kc->start && addr < kc->end)
		return kc->kind;
	if (mwi_probe_region((const void *)(uintptr_t)addr, &r) == -1)
		return "unknown";
	kc->start = r.start;
	kc->end = r.end;
	kc->kind = mw_kind_name(r.kind);
	return kc->kind;
}

/*
 * One line a frame: label (with [index] unless index < 0), sp in hex
 * and decimal, its region's kind, size, function+offset, ip.
 */
static void
print_frame(FILE *fp, const char *label, int index,
    const struct mw_frame *f, const char *kind)
{
	char	at[16] = "", fn[MW_FRAME_NAME_MAX + 24];

	if (index >= 0)
		snprintf(at, sizeof(at), "[%d]", index);
	if (f->name[0] != '\0')
		snprintf(fn, sizeof(fn), "%s+0x%" PRIx64, f->name, f->offset);
	else
		snprintf(fn, sizeof(fn), "%s", (f->flags & MW_FRAME_SIGNAL) ?
		    "[signal]" : NO_NAME);
	fprintf(fp, "%s%s:\t0x%" PRIx64 "\t%" PRIu64 "\t%s\t%" PRIu64
	    "\t%s\t0x%" PRIx64 "\n", label, at, f->sp, f->sp, kind, f->size,
	    fn, f->ip);
}

/*
 * The walk's frames printed, all of them or the first (one). The kind
 * of this stack is looked up before any file is mapped for names: on
 * kernels without PROCMAP_QUERY, the probe keeps the map it reads then,
 * and a file mapped only for the call would stay in it.
 */
static void
print_walk(struct walk *w, const char *label, bool one)
{
	FILE			*fp = mwi_probe_current();
	struct symfile		 sf;
	struct kind_cache	 kc;
	struct mw_frame		 f;

	memset(&sf, 0, sizeof(sf));
	memset(&kc, 0, sizeof(kc));
	kind_at(&kc, (uintptr_t)__builtin_frame_address(0));
	flockfile(fp);
	for (int i = 0; walk_next(w, &f, &sf) == 1; i++) {
		print_frame(fp, label, one ? -1 : i, &f, kind_at(&kc, f.sp));
		if (one)
			break;
	}
	funlockfile(fp);
	symfile_close(&sf);
}

/* A probe leaves errno as it found it, as p_mem does. */
__attribute__((noinline)) void
p_frames(const char *label)
{
	unw_context_t	uc;
	struct walk	w;
	int		saved = errno;

	if (unw_getcontext(&uc) != 0 || walk_init(&w, &uc) == -1)
		fprintf(mwi_probe_current(), "%s:\tunknown\n", label);
	else
		print_walk(&w, label, false);
	errno = saved;
}

__attribute__((noinline)) void
p_frame(const char *label)
{
	unw_context_t	uc;
	struct walk	w;
	int		saved = errno;

	if (unw_getcontext(&uc) != 0 || walk_init(&w, &uc) == -1)
		fprintf(mwi_probe_current(), "%s:\tunknown\n", label);
	else
		print_walk(&w, label, true);
	errno = saved;
}
