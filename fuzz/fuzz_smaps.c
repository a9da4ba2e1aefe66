/*
 * fuzz_smaps.c: the smaps parser (lib/maps.c's parse_smaps_lines, read
 * through lib/smaps.c's mw_smaps_parse and mw_maps_smaps) on any text.
 *
 *   mw_smaps_parse(input): NULL with EINVAL (ENOMEM) and errline a line
 *   of the text, or maps that keep fuzz_check_maps (each region has
 *   its figures, in whole KiB, found from a copy of the region too),
 *   and again once classified.
 *
 * A parsed text is then read again by other means, which must agree:
 *
 *   - its header lines (every line that does not start with "Key:",
 *     a key being letters, digits and '_') through the maps parser:
 *     the same regions;
 *   - the figures a few keys give, read by this file with strtoull
 *     from the last such line of each region's record: the same bytes
 *     (a torn text, whose records the parser sorted, is left out).
 */
#include "mwi.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const struct {
	const char	*key;
	size_t		 off;
} keys[] = {
	{ "Rss:", offsetof(struct mw_smaps, rss) },
	{ "Pss:", offsetof(struct mw_smaps, pss) },
	{ "Private_Dirty:", offsetof(struct mw_smaps, private_dirty) },
	{ "Swap:", offsetof(struct mw_smaps, swap) },
	{ "Locked:", offsetof(struct mw_smaps, locked) },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static bool
is_key_line(const char *p, const char *end)
{
	const char	*q = p;

	while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
		q++;
	return q > p && q < end && *q == ':';
}

/* The value of "Key: N kB" in bytes (the parser took it: it is one). */
static uint64_t
kb_value(const char *p, size_t klen)
{
	return strtoull(p + klen, NULL, 10) << 10;
}

/*
 * The header lines of text into hdr (NUL-free: the parse succeeded),
 * and, region by region, the figures of keys[] into want.
 */
static size_t
split(const char *text, size_t len, char *hdr, uint64_t (*want)[NKEYS],
    size_t nwant)
{
	const char	*p = text, *end = text + len, *eol;
	size_t		 hlen = 0, nreg = 0;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (!is_key_line(p, eol)) {
			memcpy(hdr + hlen, p, (size_t)(eol - p));
			hlen += (size_t)(eol - p);
			hdr[hlen++] = '\n';
			if (nreg < nwant)
				memset(want[nreg], 0, sizeof(want[nreg]));
			nreg++;
			continue;
		}
		for (size_t k = 0; k < NKEYS && nreg > 0 && nreg <= nwant; k++)
			if ((size_t)(eol - p) >= strlen(keys[k].key) &&
			    memcmp(p, keys[k].key, strlen(keys[k].key)) == 0)
				want[nreg - 1][k] = kb_value(p,
				    strlen(keys[k].key));
	}
	return hlen;
}

static const char *
cross_check(const struct mw_maps *m, const char *text, size_t len,
    size_t nlines, bool figures)
{
	const struct mw_region	*v, *w;
	struct mw_maps		*hm;
	uint64_t		(*want)[NKEYS];
	const char		*why = NULL;
	char			*hdr;
	size_t			 n, nh, hlen, errline;

	v = mw_maps_regions(m, &n);
	want = calloc(nlines + 1, sizeof(*want));
	hdr = malloc(len + nlines + 1);
	if (want == NULL || hdr == NULL)
		goto out;
	hlen = split(text, len, hdr, want, nlines + 1);
	errno = 0;
	if ((hm = mw_maps_parse(hdr, hlen, &errline)) == NULL) {
		if (errno != ENOMEM)
			why = fuzz_why("its header lines do not parse as maps: "
			    "line %zu", errline);
		goto out;
	}
	w = mw_maps_regions(hm, &nh);
	if (nh != n)
		why = fuzz_why("%zu regions; its header lines, %zu", n, nh);
	for (size_t i = 0; why == NULL && i < n; i++)
		if (v[i].start != w[i].start || v[i].end != w[i].end ||
		    v[i].perms != w[i].perms || v[i].inode != w[i].inode ||
		    (v[i].name == NULL) != (w[i].name == NULL) ||
		    (v[i].name != NULL && strcmp(v[i].name, w[i].name) != 0))
			why = fuzz_why("region %zu: not that of its header", i);
	/* Records in text order, none dropped: figures by record. */
	for (size_t i = 0; why == NULL && figures && i < n; i++) {
		const struct mw_smaps	*s = mw_maps_smaps(m, &v[i]);

		for (size_t k = 0; k < NKEYS; k++)
			if (*(const uint64_t *)(const void *)((const char *)s +
			    keys[k].off) != want[i][k])
				why = fuzz_why("region %zu: %s %llu, its text "
				    "says %llu", i, keys[k].key,
				    (unsigned long long)*(const uint64_t *)
				    (const void *)((const char *)s +
				    keys[k].off),
				    (unsigned long long)want[i][k]);
	}
	mw_maps_free(hm);
out:
	free(hdr);
	free(want);
	return why;
}

/* Are the regions of m in the order of the text (no record sorted)? */
static bool
text_order(const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *eol;
	uint64_t	 prev_end = 0;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (!is_key_line(p, eol)) {
			uint64_t	start = strtoull(p, NULL, 16);

			if (start < prev_end)
				return false;
			prev_end = strtoull(strchr(p, '-') + 1, NULL, 16);
		}
	}
	return true;
}

static const char *
parsed(struct mw_maps *m, const uint8_t *data, size_t size, size_t nlines)
{
	const char	*why;
	char		*text;

	if ((why = fuzz_check_maps(m, nlines)) != NULL)
		return why;
	/* NUL-terminated, for strtoull; the parse took no NUL. */
	if ((text = malloc(size + 1)) == NULL)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	why = cross_check(m, text, size, nlines, text_order(text, size));
	free(text);
	return why != NULL ? why : fuzz_check_classified(m);
}

const char *
fuzz_smaps(const uint8_t *data, size_t size)
{
	struct mw_maps	*m;
	const char	*why;
	size_t		 errline = (size_t)-1, nlines = fuzz_lines(data, size);

	errno = 0;
	if ((m = mw_smaps_parse((const char *)data, size, &errline)) == NULL) {
		if (errno == ENOMEM)
			return NULL;
		if (errno != EINVAL)
			return fuzz_why("NULL with errno %d", errno);
		if (errline < 1 || errline > nlines)
			return fuzz_why("errline %zu of %zu lines", errline,
			    nlines);
		return NULL;
	}
	if (errline != 0)
		why = fuzz_why("parsed, with errline %zu", errline);
	else
		why = parsed(m, data, size, nlines);
	mw_maps_free(m);
	return why;
}
