/*
 * memwalk.h: the public interface of libmemwalk.
 *
 * libmemwalk answers one question: where does this pointer live, and why?
 * It reads /proc/PID/maps into a sorted array of regions, gives each
 * region one kind (heap, stack, text, data, ...), looks single addresses
 * up with the PROCMAP_QUERY ioctl, and prints pointers with their kind
 * from inside a program (p_mem, p_diff), and its stack frames too
 * (mw_frames, p_frames).
 *
 * Return conventions, kept everywhere:
 *   constructors return a handle, or NULL with errno set;
 *   other calls return 0 or a count on success, -1 with errno on failure;
 *   lookups return 1 = found, 0 = not found, -1 = error (errno set).
 *
 * Everything here is thread-safe except where a handle says otherwise.
 */
#ifndef MEMWALK_H
#define MEMWALK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MW_VERSION_MAJOR 0
#define MW_VERSION_MINOR 1
#define MW_VERSION_PATCH 0

/* What a region is. Exactly one per region; see mw_maps(3). */
enum mw_kind {
	MW_KIND_ANON = 0,	/* anonymous memory nothing else explains */
	MW_KIND_HEAP,		/* the brk heap, [heap] */
	MW_KIND_STACK,		/* the main thread's stack, [stack] */
	MW_KIND_VDSO,		/* [vdso] */
	MW_KIND_VVAR,		/* [vvar], [vvar_vclock] */
	MW_KIND_VSYSCALL,	/* [vsyscall] */
	MW_KIND_TEXT,		/* executable PT_LOAD segment of an ELF */
	MW_KIND_RODATA,		/* read-only PT_LOAD segment of an ELF */
	MW_KIND_DATA,		/* writable PT_LOAD segment (RELRO included) */
	MW_KIND_BSS,		/* anonymous tail of a writable segment */
	MW_KIND_FILE,		/* any other file mapping */
	MW_KIND_SHMEM,		/* memfd, SysV, /dev/shm, shared anonymous */
	MW_KIND_GUARD,		/* no access at all (---p) */
	/* Only struct mw_proc gives these: they need the target's memory. */
	MW_KIND_THREAD_STACK,	/* the stack of a thread other than the main one */
	MW_KIND_GLIBC_ARENA,	/* a heap of a glibc malloc arena but the main */
	MW_KIND_MALLOC_MMAP,	/* a chunk glibc malloc got from mmap */
	MW_KIND_PYMALLOC_ARENA,	/* a CPython pymalloc arena */
	MW_KIND_MEMWALK_ARENA,	/* an arena of mw_malloc (mw_malloc(3)) */
	MW_KIND_UNMAPPED,	/* an address in no region (never a region) */
	MW_KIND_COUNT
};

/* mw_region.perms */
#define MW_PERM_READ	0x1u
#define MW_PERM_WRITE	0x2u
#define MW_PERM_EXEC	0x4u
#define MW_PERM_SHARED	0x8u

/* mw_region.flags */
#define MW_REGION_DELETED	0x1u	/* name ends in " (deleted)" */
#define MW_REGION_ELF		0x2u	/* kind decided by ELF headers */

/*
 * One line of /proc/PID/maps. The name is the kernel's, with "\012"
 * turned back into a newline, or NULL for an unnamed mapping. It belongs
 * to whatever returned the region.
 */
struct mw_region {
	uint64_t	 start;		/* first byte */
	uint64_t	 end;		/* one past the last byte */
	uint64_t	 offset;	/* file offset of start */
	uint64_t	 inode;
	unsigned int	 dev_major;
	unsigned int	 dev_minor;
	unsigned int	 perms;		/* MW_PERM_* */
	unsigned int	 flags;		/* MW_REGION_* */
	enum mw_kind	 kind;
	const char	*name;
};

/* Kinds and permissions as text. */
const char	*mw_kind_name(enum mw_kind kind);
int		 mw_kind_from_name(const char *name);
char		*mw_perms_str(unsigned int perms, char buf[5]);

/*
 * A process's maps, parsed, sorted by start, without overlaps, and
 * classified. Opaque; read-only once built, so threads may share it.
 */
struct mw_maps;

struct mw_maps	*mw_maps_read(pid_t pid);

/*
 * mw_maps_read, telling fn of each region as soon as it is classified,
 * in address order, on the calling thread, while the rest of the map is
 * still being read. fn(ctx, NULL) means the regions given so far are
 * void (a torn read had to be sorted): all of them follow again.
 */
typedef void	(*mw_region_fn)(void *ctx, const struct mw_region *region);
struct mw_maps	*mw_maps_read_each(pid_t pid, mw_region_fn fn, void *ctx);
struct mw_maps	*mw_maps_parse(const char *buf, size_t len, size_t *errline);
int		 mw_maps_classify(struct mw_maps *maps);
void		 mw_maps_free(struct mw_maps *maps);
pid_t		 mw_maps_pid(const struct mw_maps *maps);
const struct mw_region *mw_maps_regions(const struct mw_maps *maps,
		    size_t *count);
const struct mw_region *mw_maps_find(const struct mw_maps *maps,
		    uint64_t addr);

/* Bytes and regions of each kind, kept as the regions are classified. */
struct mw_kind_totals {
	uint64_t	bytes[MW_KIND_COUNT];
	size_t		count[MW_KIND_COUNT];
};

void		 mw_maps_totals(const struct mw_maps *maps,
		    struct mw_kind_totals *totals);

/*
 * Single-address lookups on a held /proc/PID/maps descriptor, by the
 * PROCMAP_QUERY ioctl where the kernel has it (Linux 6.11+), else from
 * the parsed text. A handle is not thread-safe; use one per thread.
 */
#define MW_QUERY_TEXT	0x1u	/* never use PROCMAP_QUERY */

struct mw_query;

struct mw_query	*mw_query_open(pid_t pid, unsigned int flags);
int		 mw_query_addr(struct mw_query *q, uint64_t addr,
		    struct mw_region *out);
int		 mw_query_uses_ioctl(const struct mw_query *q);
void		 mw_query_close(struct mw_query *q);

/*
 * smaps figures of one region, or summed, in bytes (see mw_smaps(3)).
 * mw_smaps_read reads /proc/PID/smaps once: the regions, classified as
 * mw_maps_read does, and these figures for each.
 */
struct mw_smaps {
	uint64_t	rss, pss, pss_dirty;
	uint64_t	shared_clean, shared_dirty;
	uint64_t	private_clean, private_dirty;
	uint64_t	referenced, anonymous, lazyfree;
	uint64_t	anon_huge, swap, swap_pss, locked;
};

struct mw_maps	*mw_smaps_read(pid_t pid);
struct mw_maps	*mw_smaps_parse(const char *buf, size_t len, size_t *errline);
const struct mw_smaps *mw_maps_smaps(const struct mw_maps *maps,
		    const struct mw_region *region);
int		 mw_smaps_rollup(pid_t pid, struct mw_smaps *out);
void		 mw_smaps_add(struct mw_smaps *sum, const struct mw_smaps *s);

/*
 * A thread of a process (see mw_proc(3)). Its stack pointer comes from
 * /proc/PID/task/TID/syscall when the thread is blocked, from its
 * registers when MW_PROC_STOP let memwalk interrupt it for a moment, or
 * is unknown (sp_from == MW_SP_NONE).
 */
#define MW_SP_NONE	0	/* running, or not allowed */
#define MW_SP_SYSCALL	1	/* /proc/PID/task/TID/syscall */
#define MW_SP_PTRACE	2	/* PTRACE_SEIZE + PTRACE_INTERRUPT */

struct mw_thread {
	pid_t		 tid;
	char		 name[16];	/* comm */
	char		 state;		/* R, S, D, T, t, Z, ... as in stat */
	unsigned int	 sp_from;	/* MW_SP_* */
	uint64_t	 sp, ip;	/* 0 when unknown */
	uint64_t	 stack_start;	/* its stack region; 0, 0 when unknown */
	uint64_t	 stack_end;
	uint64_t	 stack_size;	/* main thread: up to RLIMIT_STACK */
	uint64_t	 used;		/* stack_end - sp; 0 when sp unknown */
	uint64_t	 headroom;	/* stack_size - used */
	uint64_t	 tcb;		/* glibc's struct pthread; 0 unknown */
};

/* What memwalk found out about a region beyond its kind. */
struct mw_label {
	pid_t		 tid;		/* thread-stack, and its guard */
	int		 arena;		/* glibc: 0 main, 1.. others; pymalloc:
					   the arena index; -1 none */
	int		 heap;		/* glibc-arena: heap of the arena, 0.. */
	uint64_t	 chunk_size;	/* malloc-mmap: the chunk's size */
	const char	*note;		/* static text, or NULL */
};

/* CPython's pymalloc, per size class (16-byte steps: 16 .. 512). */
#define MW_PY_CLASSES	32

struct mw_py_class {
	uint64_t	 block_size;
	size_t		 pools_used;	/* some blocks in use */
	size_t		 pools_full;	/* every block in use */
	size_t		 pools_empty;	/* initialised, no block in use */
	size_t		 blocks_used;
};

struct mw_python {
	unsigned long	 version;	/* PY_VERSION_HEX; 0 unknown */
	char		 version_str[16];	/* "3.11.7" or "" */
	const char	*object;	/* ELF that defines PyLong_Type */
	uint64_t	 long_type;	/* &PyLong_Type */
	uint64_t	 runtime;	/* &_PyRuntime, 0 when absent */
	uint64_t	 runtime_size;
	uint64_t	 small_ints;	/* the object of small_min; 0 not found;
					   3.9, 3.10: the array of pointers to
					   the objects (8 bytes an entry) */
	uint64_t	 small_ints_end;
	int		 small_min;	/* -5 */
	int		 small_count;	/* 262 */
	enum mw_kind	 small_ints_kind;	/* of the objects: data, bss,
					   heap, pymalloc-arena, ... */
	size_t		 arenas;	/* pymalloc arenas found */
	uint64_t	 arena_bytes;
	struct mw_py_class classes[MW_PY_CLASSES];
};

/* An object found at an address (mw_proc_where). */
enum mw_object_type {
	MW_OBJECT_NONE = 0,
	MW_OBJECT_PY_INT,	/* a small int of CPython's cache */
	MW_OBJECT_PY_BLOCK,	/* a block of a pymalloc pool */
	MW_OBJECT_MALLOC_CHUNK,	/* a glibc chunk served by mmap */
	MW_OBJECT_MW_BLOCK,	/* a block of a pool of mw_malloc */
};

struct mw_object {
	enum mw_object_type type;
	uint64_t	 start;		/* the object's or block's first byte */
	uint64_t	 size;		/* its size in bytes */
	int64_t		 value;		/* PY_INT */
	uint64_t	 refcnt;	/* PY_INT */
	uint64_t	 arena, pool;	/* PY_BLOCK, MW_BLOCK: their addresses */
	unsigned int	 size_class;	/* PY_BLOCK, MW_BLOCK */
	unsigned int	 block;		/* PY_BLOCK, MW_BLOCK: index in the pool */
	int		 allocated;	/* PY_BLOCK, MW_BLOCK: 1 in use, 0 free */
};

/* Everything memwalk can say about one address. */
struct mw_answer {
	uint64_t	 addr;
	struct mw_region region;	/* kind UNMAPPED when in none */
	struct mw_label	 label;
	const char	*section;	/* ".text", ".bss", ...; NULL */
	const char	*symbol;	/* nearest symbol at or below; NULL */
	uint64_t	 symbol_offset;
	struct mw_object object;
};

/*
 * A process looked at closely: its map, each region's deep kind and
 * label, its threads and, for a CPython process, its interpreter.
 * Reads the target's memory (process_vm_readv), never writes it.
 */
#define MW_PROC_SMAPS	0x1u	/* read smaps: mw_maps_smaps works */
#define MW_PROC_STOP	0x2u	/* interrupt running threads for their SP */

struct mw_proc;
struct mw_alloc_arena;
struct mw_alloc_stats;

struct mw_proc	*mw_proc_open(pid_t pid, unsigned int flags);
struct mw_proc	*mw_proc_open_each(pid_t pid, unsigned int flags,
		    mw_region_fn fn, void *ctx);
struct mw_proc	*mw_proc_open_region(struct mw_query *q,
		    const struct mw_region *region, unsigned int flags);
const struct mw_maps *mw_proc_maps(const struct mw_proc *p);
const struct mw_label *mw_proc_label(const struct mw_proc *p,
		    const struct mw_region *region);
const struct mw_thread *mw_proc_threads(const struct mw_proc *p,
		    size_t *count);
const struct mw_thread *mw_proc_thread(const struct mw_proc *p, pid_t tid);
const struct mw_python *mw_proc_python(const struct mw_proc *p);
int		 mw_proc_where(struct mw_proc *p, uint64_t addr,
		    struct mw_answer *answer);
const struct mw_alloc_arena *mw_proc_alloc_arenas(const struct mw_proc *p,
		    size_t *count);
int		 mw_proc_alloc_stats(const struct mw_proc *p,
		    struct mw_alloc_stats *stats);
void		 mw_proc_close(struct mw_proc *p);

/*
 * The bundled allocator (see mw_malloc(3)): requests up to
 * MW_ALLOC_SMALL_MAX bytes from MW_ALLOC_CLASSES classes of
 * MW_ALLOC_ALIGNMENT bytes in 16 KiB pools of 1 MiB arenas, larger ones
 * from malloc(3). Thread-safe; misuse aborts with one line on stderr.
 */
#define MW_ALLOC_ALIGNMENT	16
#define MW_ALLOC_CLASSES	32
#define MW_ALLOC_SMALL_MAX	(MW_ALLOC_CLASSES * MW_ALLOC_ALIGNMENT)

void		*mw_malloc(size_t size);
void		*mw_calloc(size_t n, size_t size);
void		*mw_realloc(void *p, size_t size);
void		 mw_free(void *p);
size_t		 mw_usable_size(const void *p);

/* The block of an arena that holds an address (mw_alloc_info). */
struct mw_alloc_info {
	const void	*arena;		/* its arena (1 MiB) */
	const void	*pool;		/* its pool (16 KiB) */
	unsigned int	 size_class;	/* 0 .. MW_ALLOC_CLASSES - 1 */
	size_t		 block_size;	/* (size_class + 1) * 16 */
	unsigned int	 block;		/* index in the pool */
	const void	*block_start;	/* its first byte */
	int		 allocated;	/* 1 handed out, 0 free */
};

/* Pools by state, blocks in use by class (mw_alloc_stats). */
struct mw_alloc_stats {
	size_t		 arenas;	/* mapped */
	size_t		 bytes_mapped;	/* arenas * 1 MiB */
	size_t		 pools_used;	/* some blocks in use, room left */
	size_t		 pools_full;	/* every block in use */
	size_t		 pools_empty;	/* none in use (free or kept) */
	struct {
		size_t	 pools;		/* pools of the class */
		size_t	 blocks;	/* blocks in use */
		size_t	 bytes;		/* blocks * block size */
	}		 classes[MW_ALLOC_CLASSES];
	size_t		 large_blocks;	/* from malloc(3) */
	size_t		 large_bytes;	/* as asked */
};

/* An arena of another process, read from outside (mw_proc_alloc_arenas). */
struct mw_alloc_arena {
	uint64_t	 start;		/* 1 MiB from here */
	size_t		 pools_used, pools_full, pools_empty;
	size_t		 blocks;	/* in use */
	size_t		 bytes;		/* blocks * their size */
};

/* One pool, as mw_alloc_walk shows it. */
struct mw_alloc_pool {
	const void	*arena;
	const void	*pool;
	unsigned int	 index;		/* 1 .. 63 in its arena */
	int		 in_use;	/* 0: free, in its arena's list */
	unsigned int	 size_class;	/* when in use */
	size_t		 block_size, blocks, used;
};
typedef int	(*mw_alloc_walk_fn)(void *ctx, const struct mw_alloc_pool *pool);

int		 mw_alloc_info(const void *p, struct mw_alloc_info *info);
void		 mw_alloc_stats(struct mw_alloc_stats *stats);
int		 mw_alloc_walk(mw_alloc_walk_fn fn, void *ctx);

/*
 * Integers with a reference count, and a cache of -5 .. 256 as CPython
 * keeps one (see mw_int(3)).
 */
#define MW_INT_SMALL_MIN	(-5)
#define MW_INT_SMALL_MAX	256

struct mw_int {
	long		 refcnt;	/* cached ones: immortal, never 0 */
	long		 value;
};

struct mw_int	*mw_int_from_long(long value);
struct mw_int	*mw_int_incref(struct mw_int *i);
void		 mw_int_decref(struct mw_int *i);
int		 mw_int_is_cached(const struct mw_int *i);

/*
 * The probe: print a pointer of the calling process with the kind of
 * the region it is in (see p_mem(3)).
 */
void		 p_mem(const char *label, const void *p);
void		 p_diff(const char *label, const void *p1, const void *p2);
int		 mw_probe_kind(const void *p);
FILE		*mw_probe_stream(FILE *fp);

/*
 * The seed article's MEASURE and AUTO_FREE (see mw_measure(3)): time a
 * call, and free a block when its pointer variable goes out of scope.
 */
struct mw_measure {
	const char	*label;
	double		 cpu, wall;	/* at the start, in seconds */
};

void		 mw_measure_begin(struct mw_measure *m, const char *label);
double		 mw_measure_end(struct mw_measure *m);
void		 mw_auto_free(void *pointer_to_pointer);

#define MW_MEASURE(label, fn) do {					\
	struct mw_measure mw_measure_;					\
	mw_measure_begin(&mw_measure_, (label));			\
	fn();								\
	mw_measure_end(&mw_measure_);					\
} while (0)
#define MW_AUTO_FREE	__attribute__((cleanup(mw_auto_free)))

/*
 * The calling thread's stack frames, innermost (the caller's) first
 * (see mw_frames(3)). mw_backtrace gives the instruction pointers only,
 * at the cost of libunwind's unw_backtrace, and may be called from a
 * signal handler; mw_frames gives each frame's place and size too, and
 * its function. Neither allocates; nor do p_frames and p_frame, which
 * print them as p_mem prints a pointer.
 */
#define MW_FRAME_NAME_MAX	128

/* mw_frames flags */
#define MW_FRAMES_NONAMES	0x1u	/* no names: faster, signal-safe */

/* mw_frame.flags */
#define MW_FRAME_SIGNAL		0x1u	/* the kernel's signal frame */
#define MW_FRAME_NAME_CUT	0x2u	/* name cut to MW_FRAME_NAME_MAX - 1 */

struct mw_frame {
	uint64_t	 ip;		/* where it runs: a return address, or
					   the instruction a signal stopped */
	uint64_t	 sp;		/* its stack pointer: its lowest byte */
	uint64_t	 cfa;		/* the caller's sp: its end; 0 unknown */
	uint64_t	 size;		/* cfa - sp; 0 unknown */
	uint64_t	 offset;	/* ip - the function's start */
	unsigned int	 flags;		/* MW_FRAME_* */
	char		 name[MW_FRAME_NAME_MAX];	/* "" unknown */
};

int		 mw_backtrace(void **ips, int max);
int		 mw_frames(struct mw_frame *out, int max, unsigned int flags);
void		 p_frames(const char *label);
void		 p_frame(const char *label);

#ifdef __cplusplus
}
#endif

#endif /* MEMWALK_H */
