/*
 * common.c: what the fuzz targets share.
 *
 *   fuzz_check_maps        the invariants of a struct mw_maps (maps.c):
 *                          regions sorted, disjoint, start < end; the
 *                          totals those of the regions; a name's
 *                          MW_REGION_DELETED flag its " (deleted)";
 *                          mw_maps_find agreeing with the array; an
 *                          smaps map's figures whole KiB, found for
 *                          each region and for a copy of it
 *   fuzz_check_classified  mw_maps_classify, then the same, and every
 *                          kind one the array classifier can give
 *   fuzz_memfd, _set       a file in memory whose contents are the input
 *   fuzz_why               a message about a broken invariant, in one
 *                          static buffer (good until the next call)
 */
#include "mwi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

bool		fuzz_thorough;
static char	why_buf[512];

const char *
fuzz_why(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

/* Lines of a text: its newlines, and a last line without one. */
size_t
fuzz_lines(const uint8_t *data, size_t size)
{
	size_t	n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size > 0 && data[size - 1] != '\n');
}

/* FNV-1a: a choice (a read size, a split) that the input decides. */
uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	return h;
}

int
fuzz_memfd(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

/* The file holds exactly data, and fd reads from its start. */
int
fuzz_memfd_set(int fd, const void *data, size_t size)
{
	const char	*p = data;
	size_t		 off = 0;
	ssize_t		 w;

	if (ftruncate(fd, 0) == -1)
		return -1;
	while (off < size) {
		if ((w = pwrite(fd, p + off, size - off, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return lseek(fd, 0, SEEK_SET) == -1 ? -1 : 0;
}

static const char *
check_smaps(const struct mw_maps *m, const struct mw_region *v, size_t i)
{
	const struct mw_smaps	*s = mw_maps_smaps(m, &v[i]);
	struct mw_region	 copy = v[i];
	const uint64_t		*f;

	if (s == NULL)
		return fuzz_why("region %zu: no smaps figures", i);
	if (mw_maps_smaps(m, &copy) != s)
		return fuzz_why("region %zu: a copy finds other figures", i);
	f = (const uint64_t *)s;
	for (size_t k = 0; k < sizeof(*s) / sizeof(*f); k++)
		if (f[k] % 1024 != 0)
			return fuzz_why("region %zu: figure %zu is %llu, not "
			    "whole KiB", i, k, (unsigned long long)f[k]);
	return NULL;
}

static const char *
check_region(const struct mw_maps *m, const struct mw_region *v, size_t i)
{
	const struct mw_region	*r = &v[i];
	bool			 deleted;

	if (r->start >= r->end)
		return fuzz_why("region %zu: start %#llx >= end %#llx", i,
		    (unsigned long long)r->start, (unsigned long long)r->end);
	if (i > 0 && v[i - 1].end > r->start)
		return fuzz_why("region %zu: overlaps or precedes region %zu",
		    i, i - 1);
	if ((unsigned int)r->kind >= MW_KIND_UNMAPPED)
		return fuzz_why("region %zu: kind %d", i, (int)r->kind);
	if (r->perms & ~(MW_PERM_READ | MW_PERM_WRITE | MW_PERM_EXEC |
	    MW_PERM_SHARED))
		return fuzz_why("region %zu: perms %#x", i, r->perms);
	deleted = r->name != NULL && mwi_name_is_deleted(r->name);
	if (deleted != ((r->flags & MW_REGION_DELETED) != 0))
		return fuzz_why("region %zu: deleted flag %#x for \"%s\"", i,
		    r->flags, r->name != NULL ? r->name : "(none)");
	if (mw_maps_find(m, r->start) != r || mw_maps_find(m, r->end - 1) != r)
		return fuzz_why("region %zu: mw_maps_find misses it", i);
	if (i > 0 && v[i - 1].end < r->start &&
	    mw_maps_find(m, v[i - 1].end) != NULL)
		return fuzz_why("region %zu: mw_maps_find finds the gap", i);
	return NULL;
}

const char *
fuzz_check_maps(const struct mw_maps *m, size_t maxregions)
{
	const struct mw_region	*v;
	struct mw_kind_totals	 t, want;
	const char		*why;
	size_t			 n;
	bool			 smaps;

	v = mw_maps_regions(m, &n);
	if (n > maxregions)
		return fuzz_why("%zu regions of %zu lines", n, maxregions);
	if (n > 0 && v[0].start > 0 && mw_maps_find(m, v[0].start - 1) != NULL)
		return "mw_maps_find finds an address below the first region";
	smaps = m->smaps != NULL;
	memset(&want, 0, sizeof(want));
	for (size_t i = 0; i < n; i++) {
		if ((why = check_region(m, v, i)) != NULL ||
		    (smaps && (why = check_smaps(m, v, i)) != NULL))
			return why;
		want.bytes[v[i].kind] += v[i].end - v[i].start;
		want.count[v[i].kind]++;
	}
	if (n > 0 && mw_maps_find(m, v[n - 1].end) != NULL)
		return "mw_maps_find finds an address past the last region";
	mw_maps_totals(m, &t);
	if (memcmp(&t, &want, sizeof(t)) != 0)
		return "the totals are not those of the regions";
	return NULL;
}

const char *
fuzz_check_classified(struct mw_maps *m)
{
	const struct mw_region	*v;
	const char		*why;
	size_t			 n;

	errno = 0;
	if (mw_maps_classify(m) == -1 && errno != ENOMEM)
		return fuzz_why("mw_maps_classify: -1 with errno %d", errno);
	v = mw_maps_regions(m, &n);
	if ((why = fuzz_check_maps(m, n)) != NULL)
		return why;
	for (size_t i = 0; i < n; i++)
		if (v[i].kind > MW_KIND_GUARD)
			return fuzz_why("region %zu: classified %s", i,
			    mw_kind_name(v[i].kind));
	return NULL;
}
