/*
 * probe.c: p_mem and p_diff, the seed article's helpers, plus the kind
 * of the region each pointer is in.
 *
 *   probe_lock guards:
 *     probe_qs    a query handle on this process (mw_query) in static
 *                 memory, opened on first use and again after fork
 *                 (probe_pid changes): one PROCMAP_QUERY per answer on
 *                 a descriptor kept open, the ELF headers cached in the
 *                 handle
 *     probe_q     &probe_qs while it is open, else NULL
 *     probe_fp    where the lines go; NULL means stdout
 *
 * The handle is static so that a probe allocates nothing of its own:
 * the frame probes (frames.c) are proved not to call malloc.
 *
 * The kind is computed under the lock and printed after it is dropped:
 * stdio locks the stream itself, so lines never interleave.
 */
#include "mwi.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t	 probe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_query	 probe_qs;
static struct mw_query	*probe_q;
static pid_t		 probe_pid;
static FILE		*probe_fp;

/* The handle, open on this process; NULL (errno set) if it cannot be. */
static struct mw_query *
probe_handle(void)
{
	pid_t	self = getpid();

	if (probe_q != NULL && probe_pid != self) {
		mwi_query_fini(probe_q);
		probe_q = NULL;
	}
	if (probe_q == NULL && mwi_query_init(&probe_qs, 0, 0) == 0) {
		probe_q = &probe_qs;
		probe_pid = self;
	}
	return probe_q;
}

/*
 * Its own arenas the process knows without reading them: an anonymous
 * region that holds one is memwalk-arena, as far as the arena goes (the
 * kernel may have merged it with its neighbours).
 */
static void
own_arena(const void *p, struct mw_region *r)
{
	uintptr_t	a = (uintptr_t)p;

	if (r->kind != MW_KIND_ANON || !mwi_alloc_is_arena(a))
		return;
	r->kind = MW_KIND_MEMWALK_ARENA;
	r->start = a & ~(uintptr_t)(MWI_ARENA_SIZE - 1);
	r->end = r->start + MWI_ARENA_SIZE;
}

int
mwi_probe_region(const void *p, struct mw_region *out)
{
	struct mw_query	*q;
	int		 found = -1, saved, entry_errno = errno;

	pthread_mutex_lock(&probe_lock);
	if ((q = probe_handle()) != NULL)
		found = mw_query_addr(q, (uintptr_t)p, out);
	saved = found == -1 ? errno : entry_errno;
	pthread_mutex_unlock(&probe_lock);
	if (found == 0) {
		memset(out, 0, sizeof(*out));
		out->kind = MW_KIND_UNMAPPED;
	}
	if (found == 1)
		own_arena(p, out);
	out->name = NULL;	/* the handle's, and the lock is dropped */
	errno = saved;
	return found == -1 ? -1 : 0;
}

int
mw_probe_kind(const void *p)
{
	struct mw_region	r;

	if (mwi_probe_region(p, &r) == -1)
		return -1;
	return (int)r.kind;
}

FILE *
mw_probe_stream(FILE *fp)
{
	FILE	*old;

	pthread_mutex_lock(&probe_lock);
	old = probe_fp != NULL ? probe_fp : stdout;
	probe_fp = fp;
	pthread_mutex_unlock(&probe_lock);
	return old;
}

FILE *
mwi_probe_current(void)
{
	FILE	*fp;

	pthread_mutex_lock(&probe_lock);
	fp = probe_fp != NULL ? probe_fp : stdout;
	pthread_mutex_unlock(&probe_lock);
	return fp;
}

static const char *
kind_text(const void *p)
{
	int	kind = mw_probe_kind(p);

	return kind < 0 ? "unknown" : mw_kind_name((enum mw_kind)kind);
}

/* A probe leaves errno as it found it: printing must not disturb. */
void
p_mem(const char *label, const void *p)
{
	int		 saved = errno;
	const char	*kind = kind_text(p);

	fprintf(mwi_probe_current(), "%s:\t0x%" PRIxPTR "\t%" PRIuPTR "\t%s\n",
	    label, (uintptr_t)p, (uintptr_t)p, kind);
	errno = saved;
}

void
p_diff(const char *label, const void *p1, const void *p2)
{
	int		 saved = errno;
	const char	*k1 = kind_text(p1), *k2 = kind_text(p2);
	intmax_t	 diff = (intmax_t)((uintptr_t)p2 - (uintptr_t)p1);

	fprintf(mwi_probe_current(),
	    "%s:\tp1:0x%" PRIxPTR "\tp2:0x%" PRIxPTR "\tdiff:\t%jd\t%s\t%s\n",
	    label, (uintptr_t)p1, (uintptr_t)p2, diff, k1, k2);
	errno = saved;
}
