/*
 * memwalk.h: the public interface of libmemwalk.
 *
 * libmemwalk answers one question: where does this pointer live, and why?
 * It reads /proc/PID/maps into a sorted array of regions, gives each
 * region one kind (heap, stack, text, data, ...), looks single addresses
 * up with the PROCMAP_QUERY ioctl, and prints pointers with their kind
 * from inside a program (p_mem, p_diff).
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
 * The probe: print a pointer of the calling process with the kind of
 * the region it is in (see p_mem(3)).
 */
void		 p_mem(const char *label, const void *p);
void		 p_diff(const char *label, const void *p1, const void *p2);
int		 mw_probe_kind(const void *p);
FILE		*mw_probe_stream(FILE *fp);

#ifdef __cplusplus
}
#endif

#endif /* MEMWALK_H */
