/*
 * probe.c: p_mem and p_diff, the seed article's helpers, plus the kind
 * of the region each pointer is in.
 *
 *   probe_lock guards:
 *     probe_q     a query handle on this process (mw_query), opened on
 *                 first use and again after fork (probe_pid changes):
 *                 one PROCMAP_QUERY per answer on a descriptor kept
 *                 open, the ELF headers cached in the handle
 *     probe_fp    where the lines go; NULL means stdout
 *
 * The kind is computed under the lock and printed after it is dropped:
 * stdio locks the stream itself, so lines never interleave.
 */
#include "mwi.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t	 probe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_query	*probe_q;
static pid_t		 probe_pid;
static FILE		*probe_fp;

int
mw_probe_kind(const void *p)
{
	struct mw_region	r;
	pid_t			self = getpid();
	int			found, kind = -1, saved, entry_errno = errno;

	pthread_mutex_lock(&probe_lock);
	if (probe_q != NULL && probe_pid != self) {
		mw_query_close(probe_q);
		probe_q = NULL;
	}
	if (probe_q == NULL) {
		probe_q = mw_query_open(0, 0);
		probe_pid = self;
	}
	if (probe_q != NULL) {
		found = mw_query_addr(probe_q, (uintptr_t)p, &r);
		if (found == 1)
			kind = (int)r.kind;
		/* Its own arenas the process knows without reading them. */
		if (found == 1 && r.kind == MW_KIND_ANON &&
		    mwi_alloc_is_arena((uintptr_t)p))
			kind = MW_KIND_MEMWALK_ARENA;
		else if (found == 0)
			kind = MW_KIND_UNMAPPED;
	}
	saved = kind == -1 ? errno : entry_errno;
	pthread_mutex_unlock(&probe_lock);
	errno = saved;
	return kind;
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
