/*
 * mwi.h: what the modules of libmemwalk share and nobody else sees.
 *
 * Data flows one way:
 *
 *   os_linux.c   bytes of /proc, PROCMAP_QUERY, files     (the only I/O)
 *   stream.c     a whole file, parsed while it is read (a reader thread)
 *       |
 *   maps.c       text -> struct mw_maps: sorted, disjoint regions
 *   query.c      one address -> one region, by ioctl or from maps.c
 *       |
 *   elf.c        PT_LOAD segments of a mapped object (libelf), cached
 *   classify.c   region -> kind, asking elf.c and a lookup callback
 *       |
 *   elfsym.c     sections and symbols of a mapped object (libelf)
 *   smaps.c      smaps figures, parsed by maps.c's line parser
 *       |
 *   threads.c    tasks, their stack pointers and stack regions
 *   glibc.c      glibc malloc arena heaps and mmapped chunks
 *   python.c     CPython: version, small-int cache, pymalloc arenas
 *       |
 *   proc.c       struct mw_proc: all of the above on one map
 *   where.c      a struct mw_proc for one region: as little of the map
 *                as that region needs (query.c walks an image)
 *   probe.c      p_mem and p_diff, on a query handle of this process
 *
 *   alloc.c      the bundled allocator (its own arenas, through
 *                os_linux.c's mappings); ints.c, small ints on it
 *
 * Internal names shared between modules start with mwi_.
 */
#ifndef MWI_H
#define MWI_H

#ifndef MW_BUILDING
#error "mwi.h is private to libmemwalk"
#endif

#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <sys/types.h>

#include "memwalk.h"

/* Page arithmetic; pg is a power of two. */
static inline uint64_t
mwi_pagedown(uint64_t v, uint64_t pg)
{
	return v & ~(pg - 1);
}

static inline uint64_t
mwi_pageup(uint64_t v, uint64_t pg)
{
	return (v + pg - 1) & ~(pg - 1);
}

/* ---- util.c: allocation with fault injection ---------------------- */

/*
 * Fault injection for tests (SQLite style). Not thread-safe and meant
 * only for tests: 0 disables each one.
 *   alloc_fail: the Nth allocation from now fails with ENOMEM.
 *   read_fail:  the Nth read(2) from now fails with EIO.
 *   read_max:   every read(2) returns at most this many bytes.
 *   no_ioctl:   PROCMAP_QUERY fails with ENOTTY, as before Linux 6.11.
 *   query_esrch: the Nth PROCMAP_QUERY from now fails with ESRCH, as
 *               one through a descriptor opened before an exec does.
 */
struct mwi_faults {
	long	alloc_fail;
	long	read_fail;
	size_t	read_max;
	bool	no_ioctl;
	long	query_esrch;
};
extern struct mwi_faults mwi_faults;

void	*mwi_malloc(size_t size);
void	*mwi_reallocarray(void *p, size_t n, size_t size);
void	*mwi_calloc(size_t n, size_t size);

/* alloc.c: whether a lies in one of this process's mw_malloc arenas. */
bool	 mwi_alloc_is_arena(uintptr_t a);

/* probe.c: where p_mem, MW_MEASURE and the frame probes print (stdout
 * unless set). */
FILE	*mwi_probe_current(void);

/* ---- os_linux.c: the only file that touches /proc and friends ------- */

/* Anonymous memory for alloc.c: size bytes aligned to align (a power of
 * two), or NULL with ENOMEM; mwi_map_eager faults it in at once, as huge
 * pages where the kernel gives them; a name for it where it allows.
 * mwi_populate faults in any pages about to be written (util.c). */
void	*mwi_map_aligned(size_t size, size_t align);
void	 mwi_map_eager(void *p, size_t size);
void	 mwi_populate(void *p, size_t len);
void	 mwi_unmap(void *p, size_t size);
void	 mwi_name_anon(void *p, size_t size, const char *name);

int	 mwi_open_proc(pid_t pid, const char *file);
int	 mwi_open_task(pid_t pid, pid_t tid, const char *file);
ssize_t	 mwi_read_some(int fd, void *buf, size_t n);
ssize_t	 mwi_read_small(pid_t pid, const char *file, char *buf, size_t size);

/*
 * Tasks (threads.c): the TIDs of /proc/PID/task in *tids (to free), or
 * -1; and the registers of one thread of another process, stopped for
 * a moment by PTRACE_SEIZE + PTRACE_INTERRUPT and detached again (0, or
 * -1: ESRCH gone, EPERM not allowed). tp is the thread pointer (x86-64:
 * fs_base, which is glibc's struct pthread).
 */
struct mwi_regs {
	uint64_t	sp, ip, tp;
};
ssize_t	 mwi_list_tasks(pid_t pid, pid_t **tids);
int	 mwi_task_regs(pid_t tid, struct mwi_regs *out);

/*
 * Every thread of pid stopped at once, for a consistent picture (see
 * os_linux.c): mwi_stop_all seizes and interrupts them all, with the
 * caller's catchable signals blocked until mwi_resume_all detaches
 * them, which it must call whatever happens (also after -1: nothing is
 * then left to do, but it is safe). regs: the general registers in
 * DWARF order (x86-64: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip).
 */
#define MWI_NREGS		17
#define MWI_TASK_STOPPED	0
#define MWI_TASK_GONE		1
#define MWI_TASK_LATE		2

struct mwi_task {
	pid_t		 tid;
	int		 state;		/* MWI_TASK_* */
	int		 sig;		/* to give back at the detach */
	uint64_t	 regs[MWI_NREGS];
};

struct mwi_stop {
	pid_t		 pid;
	struct mwi_task	*v;		/* by tid */
	size_t		 n, cap;
	sigset_t	 old_mask;
};

int	 mwi_stop_all(pid_t pid, struct mwi_stop *s);
void	 mwi_resume_all(struct mwi_stop *s);

/*
 * The target's memory, by process_vm_readv (pid 0: this process). Never
 * writes it. mwi_read_mem returns 0 when all len bytes were read, -1
 * (errno set; EFAULT for an unmapped address) otherwise. mwi_read_memv
 * reads n remote ranges into n local buffers of the same lengths in as
 * few calls as IOV_MAX allows and returns the number of ranges read
 * whole, in order (it stops at the first that fails), or -1.
 */
struct iovec;
int	 mwi_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
ssize_t	 mwi_read_memv(pid_t pid, const struct iovec *local,
	    const struct iovec *remote, size_t n);

/*
 * The same for private anonymous memory, without populating it: a page
 * the target never touched (pagemap: neither present nor swapped) is
 * not read but reads as the zeros it holds, so looking does not grow
 * the target's Rss. Where pagemap cannot be read, as mwi_read_memv.
 */
int	 mwi_peek_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
ssize_t	 mwi_peek_memv(pid_t pid, const struct iovec *local,
	    const struct iovec *remote, size_t n);

/* ---- stream.c: a big file read while its start is parsed ------------ */

/*
 * Called with each next part of the file, in order: writable, with
 * data[len] and the MWI_SLACK - 1 bytes after it zero (the parser reads
 * eight bytes at a time); last set on the final call. Returns 0 to go
 * on, -1 (errno set) to stop the read.
 */
#define MWI_SLACK	16
typedef int (*mwi_consume_fn)(void *ctx, char *data, size_t len, bool last);

int	 mwi_read_stream(int fd, mwi_consume_fn consume, void *ctx);
int	 mwi_open_object(pid_t pid, const struct mw_region *r);

/* PROCMAP_QUERY, from <linux/fs.h> of Linux 6.11; Debian 12 lacks it. */
#if !HAVE_DECL_PROCMAP_QUERY
#include <linux/ioctl.h>
#include <linux/types.h>
struct procmap_query {
	__u64	size;
	__u64	query_flags;
	__u64	query_addr;
	__u64	vma_start;
	__u64	vma_end;
	__u64	vma_flags;
	__u64	vma_page_size;
	__u64	vma_offset;
	__u64	inode;
	__u32	dev_major;
	__u32	dev_minor;
	__u32	vma_name_size;
	__u32	build_id_size;
	__u64	vma_name_addr;
	__u64	build_id_addr;
};
#define PROCMAP_QUERY	_IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE	0x01
#define PROCMAP_QUERY_VMA_WRITABLE	0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE	0x04
#define PROCMAP_QUERY_VMA_SHARED	0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#define PROCMAP_QUERY_FILE_BACKED_VMA	0x20
#endif
_Static_assert(sizeof(struct procmap_query) == 104,
    "struct procmap_query is 104 bytes in the kernel's UAPI");

int	 mwi_procmap_query(int fd, uint64_t addr, unsigned int qflags,
	    struct mw_region *out, char *name, size_t namesz);

/* ---- maps.c ------------------------------------------------------- */

/* Names live in chunks that never move, so regions can point into them. */
struct mwi_chunk {
	struct mwi_chunk *next;
	size_t		  used, size;
	char		  data[];
};

struct mw_maps {
	pid_t		 pid;		/* 0: parsed from a buffer */
	struct mwi_chunk *names;	/* owned; region names point here */
	size_t		 nregions;
	struct mw_region *regions;	/* sorted by start, disjoint */
	struct mw_smaps	*smaps;		/* NULL, or one per region */
	struct mw_kind_totals totals;	/* always those of regions[] */
};

void		 mwi_maps_count(struct mw_maps *m);
void		 mwi_maps_set_kind(struct mw_maps *m, size_t i, enum mw_kind k);
size_t		 mwi_maps_index(const struct mw_maps *m, uint64_t addr);
struct mw_maps	*mwi_maps_new(pid_t pid);
int		 mwi_maps_append(struct mw_maps *m, const struct mw_region *r,
		    size_t *cap);

struct mw_maps	*mwi_maps_read_fd(int fd, pid_t pid, bool classify,
		    mw_region_fn fn, void *ctx);
struct mw_maps	*mwi_smaps_read_each(pid_t pid, mw_region_fn fn,
		    void *ctx);
bool		 mwi_name_is_deleted(const char *name);

/* ---- elf.c: PT_LOAD segments of mapped objects ---------------------- */

#define MWI_MAX_LOADS	16

struct mwi_load {
	uint64_t	vaddr, memsz;	/* p_vaddr, p_memsz */
	uint64_t	offset, filesz;	/* p_offset, p_filesz */
	unsigned int	flags;		/* PF_R | PF_W | PF_X */
};

struct mwi_elf {
	uint64_t	 inode;		/* key, with the device */
	unsigned int	 dev_major, dev_minor;
	bool		 is_elf;	/* false: not an ELF, or unreadable */
	unsigned int	 nloads;
	struct mwi_load	 loads[MWI_MAX_LOADS];
	uint64_t	 relro_vaddr, relro_memsz;	/* PT_GNU_RELRO */
	uint64_t	 pagesize;
};

struct mwi_elf_cache {
	struct mwi_elf	*v;
	size_t		 n, cap;
	size_t		 last;		/* index of the last hit */
	bool		 oom;		/* an allocation failed */
};

const struct mwi_elf *mwi_elf_get(struct mwi_elf_cache *c, pid_t pid,
		    const struct mw_region *r);
void		 mwi_elf_cache_free(struct mwi_elf_cache *c);

/* ---- elfsym.c: sections and symbols of mapped objects ----------------- */

/*
 * What an address inside a loaded ELF is: its section and the nearest
 * symbol at or below it (.symtab when the file has one, else .dynsym).
 * Strings belong to the cache and live as long as it.
 */
struct mwi_symbol {
	const char	*object;	/* the file's path as mapped */
	const char	*section;	/* NULL: in no section */
	const char	*name;		/* NULL: no symbol */
	uint64_t	 value;		/* the symbol's run-time address */
	uint64_t	 size;
	uint64_t	 offset;	/* address - value */
	uint64_t	 bias;		/* the object's load bias */
};

struct mwi_symcache;

struct mwi_symcache *mwi_symcache_new(pid_t pid);
/* Lookups by address per object that scan its table before it is
 * sorted (16; the tests and fuzz/ set 1 to compare both ways). */
void	 mwi_symcache_scan_first(struct mwi_symcache *c,
	    unsigned int lookups);
void	 mwi_symcache_free(struct mwi_symcache *c);
int	 mwi_sym_at(struct mwi_symcache *c, const struct mw_maps *m,
	    uint64_t addr, struct mwi_symbol *out);
int	 mwi_sym_find(struct mwi_symcache *c, const struct mw_maps *m,
	    const char *name, struct mwi_symbol *out);
/* As mwi_sym_find, in exports only (.dynsym by its hash): no .symtab. */
int	 mwi_sym_find_dynamic(struct mwi_symcache *c, const struct mw_maps *m,
	    const char *name, struct mwi_symbol *out);

/* ---- threads.c: tasks, stack pointers, stack regions ---------------- */

struct mwi_threads {
	size_t		 n;		/* live threads: v[0 .. n) */
	size_t		 ncached;	/* glibc's cached stacks: v[n .. n+ncached) */
	struct mw_thread *v;		/* the main thread first, then by tid */
};

int	 mwi_threads_read(pid_t pid, const struct mw_maps *m,
	    unsigned int flags, struct mwi_threads *t);
void	 mwi_threads_label(const struct mwi_threads *t, struct mw_maps *m,
	    struct mw_label *labels);
void	 mwi_threads_free(struct mwi_threads *t);
/* RLIMIT_STACK's soft limit from /proc/PID/limits; 0: none or unknown. */
uint64_t mwi_stack_rlimit(pid_t pid);

/* ---- query.c, where.c: where without the whole map ------------------ */

/*
 * The smallest anonymous region a pass reads for an mmapped malloc chunk
 * (glibc's mmap threshold starts at 128 KiB and only grows, unless a
 * program lowers it with mallopt(M_MMAP_THRESHOLD), whose smaller
 * chunks are then not found) or for pymalloc arenas (256 KiB or 1 MiB
 * mmaps). Without a floor, a process of 60,000 small anonymous regions
 * would cost 60,000 reads; where.c relies on it to answer for a smaller
 * region without the whole map.
 */
#define MWI_DEEP_MIN	(128ULL << 10)
#define MWI_HEAP_MAX	(64ULL << 20)	/* glibc's non-main heaps: size, align */

int	 mwi_query_image(struct mw_query *q, const struct mw_region *r,
	    struct mw_maps **out);
struct mw_proc *mwi_proc_from_maps(pid_t pid, unsigned int flags,
	    struct mw_maps *m);
pid_t	 mwi_query_pid(const struct mw_query *q);
int	 mwi_task_sp(pid_t pid, pid_t tid, uint64_t *sp);

/* ---- glibc.c: malloc arena heaps and mmapped chunks ------------------ */

struct mwi_glibc {
	uint64_t	 main_arena;	/* &main_arena, from the ring; 0 unknown */
	size_t		 arenas;	/* the main one included */
	size_t		 heaps;		/* heaps of the non-main arenas */
	size_t		 mmapped;	/* mmapped chunks found */
};

int	 mwi_glibc_label(pid_t pid, struct mw_maps *m, struct mw_label *labels,
	    struct mwi_glibc *g);
int	 mwi_glibc_chunk_at(pid_t pid, const struct mw_region *r,
	    uint64_t addr, uint64_t *start, uint64_t *size);

/* ---- python.c: CPython's small ints and pymalloc arenas -------------- */

int	 mwi_python_read(pid_t pid, struct mw_maps *m,
	    struct mwi_symcache *syms, struct mw_label *labels,
	    struct mw_python *py);
int	 mwi_python_object(pid_t pid, const struct mw_python *py,
	    const struct mw_maps *m, const struct mw_label *labels,
	    uint64_t addr, struct mw_object *obj);

/* ---- alloc.c: the bundled allocator, as its arenas lie in memory ------ */

/*
 * The layout that alloc.c writes and arenas.c reads from outside (see
 * the drawing at the top of alloc.c). An arena is MWI_ARENA_SIZE bytes
 * at an address aligned to its size; struct mwi_arena is at its start,
 * in pool 0. The magic words are keyed to their own addresses, so that a
 * copy of a header elsewhere does not pass for one.
 */
#define MWI_ARENA_SHIFT		20
#define MWI_ARENA_SIZE		(1u << MWI_ARENA_SHIFT)
#define MWI_POOL_SHIFT		14
#define MWI_POOL_SIZE		(1u << MWI_POOL_SHIFT)
#define MWI_ARENA_POOLS		(MWI_ARENA_SIZE / MWI_POOL_SIZE)
#define MWI_BITMAP_WORDS	(MWI_POOL_SIZE / MW_ALLOC_ALIGNMENT / 64)
#define MWI_ARENA_MAGIC		0x6d7761726e613031ULL	/* "mwarna01" */
#define MWI_POOL_MAGIC		0x6d77706f6f6c3031ULL	/* "mwpool01" */
#define MWI_ARENA_VERSION	2
#define MWI_ARENA_NAME		"memwalk arena"
#define MWI_POOL_UNUSED		0xffffu

enum { MWI_POOL_FREE, MWI_POOL_USED, MWI_POOL_FULL };

struct mwi_heap;

/*
 * A pool's metadata: one cache line, all that a malloc or a free of its
 * blocks reads but for its word of the arena's bitmaps. The blocks
 * themselves are never read or written by the allocator (but a block
 * another thread frees, whose first word links it into its owner's
 * thread_free until the owner takes it back).
 */
struct mwi_pool {
	uint64_t	 check;		/* MWI_POOL_MAGIC ^ the pool's address */
	struct mwi_heap	*heap;		/* owner; NULL while free */
	struct mwi_pool	*next, *prev;	/* the owner's usedpools[szidx] */
	uint16_t	 szidx;		/* size class; MWI_POOL_UNUSED */
	uint16_t	 state;		/* MWI_POOL_* */
	uint16_t	 bsize;		/* (szidx + 1) * 16 */
	uint16_t	 nblocks;	/* POOL_SIZE / bsize */
	uint32_t	 recip;		/* 2^32 / bsize + 1: offset -> index */
	uint16_t	 nused;		/* blocks handed out */
	uint16_t	 hint;		/* bitmap words below it are all 0 */
	uint32_t	 next_free;	/* the arena's free pools; 0 ends */
	uint32_t	 pad[3];
} __attribute__((aligned(64)));

struct mwi_arena {
	uint64_t	 magic;		/* MWI_ARENA_MAGIC ^ its address */
	uint32_t	 version;	/* MWI_ARENA_VERSION */
	uint32_t	 pool_size, arena_size, npools;
	struct mwi_arena *next, *prev;	/* in use, or spare */
	struct mwi_arena *next_usable;	/* those with a free pool */
	uint32_t	 nfree;		/* free pools */
	uint32_t	 free_head;	/* the first free pool; 0: none */
	struct mwi_pool	 pools[MWI_ARENA_POOLS];	/* [0]: this header */
	uint64_t	 bitmaps[MWI_ARENA_POOLS][MWI_BITMAP_WORDS];
					/* pool i's 16-byte granules: 1
					   where a free block starts */
};

void	 mwi_alloc_count_pool(struct mw_alloc_stats *st,
	    const struct mwi_pool *p);

/* ---- mwarena.c: the bundled allocator's arenas, from outside ---------- */

struct mwi_mwalloc {
	size_t			 n, cap;
	struct mw_alloc_arena	*v;		/* by address */
	struct mw_alloc_stats	 stats;		/* large_*: unknown, 0 */
};
int	 mwi_mwalloc_label(pid_t pid, struct mw_maps *m,
	    struct mw_label *labels, struct mwi_mwalloc *w);
void	 mwi_mwalloc_free(struct mwi_mwalloc *w);
int	 mwi_mwalloc_object(pid_t pid, uint64_t addr, struct mw_object *obj);

/* ---- classify.c ---------------------------------------------------- */

/*
 * The classifier asks its owner for the region covering an address
 * (1 found, 0 none, -1 error); the name may point into scratch storage
 * that the next call overwrites.
 */
typedef int (*mwi_lookup_fn)(void *ctx, uint64_t addr, struct mw_region *out);

struct mwi_classifier {
	pid_t			 pid;	/* files opened through /proc/PID */
	struct mwi_elf_cache	 elves;
	mwi_lookup_fn		 lookup;
	void			*ctx;
};

void	 mwi_classify(struct mwi_classifier *c, struct mw_region *r);
bool	 mwi_image_bounds(struct mwi_classifier *c, const struct mw_region *r,
	    uint64_t *lo, uint64_t *hi);

/* A classifier over the regions of a struct mw_maps, in order. */
struct mwi_array_classifier {
	struct mwi_classifier	 c;
	struct mw_maps		*m;
	size_t			 i;	/* the region at hand */
};

void	 mwi_array_classifier_init(struct mwi_array_classifier *ac,
	    struct mw_maps *m);
void	 mwi_classify_at(struct mwi_array_classifier *ac, size_t i);
int	 mwi_array_classifier_done(struct mwi_array_classifier *ac);

/* ---- query.c: a handle where its owner wants it -------------------- */

/*
 * Opaque to users; here so that probe.c can keep its handle in static
 * memory and no probe allocates (mwi_query_init, mwi_query_fini). The
 * fields are drawn at the top of query.c.
 */
#define MWI_QUERY_NAME_MAX	(PATH_MAX + 64)

struct mw_query {
	pid_t			 pid;
	int			 fd;
	bool			 text_mode;
	struct mw_maps		*snap;
	struct mwi_classifier	 cls;
	char			 name[MWI_QUERY_NAME_MAX];
	char			 scratch[MWI_QUERY_NAME_MAX];
	char			 image_name[MWI_QUERY_NAME_MAX];
};

int	 mwi_query_init(struct mw_query *q, pid_t pid, unsigned int flags);
void	 mwi_query_fini(struct mw_query *q);

/* ---- probe.c: its lookups, for the frame probes ---------------------- */

/*
 * The region of p in this process, as mw_probe_kind finds it (kind
 * MW_KIND_UNMAPPED, start = end = 0, when in none; its name is not
 * kept: NULL). 0, or -1 with errno. With PROCMAP_QUERY, it allocates
 * nothing for an address in a stack: the handle is static memory, and
 * the kind of a stack needs no ELF headers.
 */
int	 mwi_probe_region(const void *p, struct mw_region *out);

#endif /* MWI_H */
