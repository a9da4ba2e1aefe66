/*
 * check_maps.c: the /proc/PID/maps parser (lib/maps.c) and its reader
 * (lib/os_linux.c): mw_maps_parse, mw_maps_read, mw_maps_regions,
 * mw_maps_find, mw_maps_pid, mw_maps_free.
 *
 * Fixtures live in tests/data (see tests/data/README): target.maps and
 * many.maps were recorded from live processes; the rest are synthetic
 * forms this kernel cannot produce, torn reads, and malformed lines.
 *
 * The tests check the parser against hard-coded values, against an
 * independent sscanf-based reader (ref_parse below; slow but obvious),
 * and against the kernel's own text of live targets.
 *
 * Check forks every test, so the fault hooks (mwi_faults) start at 0 in
 * each; they are still reset after each use. Under --enable-sanitizers
 * LeakSanitizer runs at the end of every forked test, so every failing
 * call in the fault-injection loops is also checked not to leak.
 */
#include "mwi.h"

#include <inttypes.h>
#include <limits.h>

#include "tutil.h"

/* ---- helpers ------------------------------------------------------- */

/*
 * ck_assert for hot loops: a passing ck_assert reports its location to
 * the parent process through a pipe, which costs a write(2); this only
 * speaks up on failure.
 */
#define REQUIRE(cond, ...) do {						\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

static void
faults_reset(void)
{
	memset(&mwi_faults, 0, sizeof(mwi_faults));
}

/* Lines in a text: each '\n' ends one, and a non-empty tail is one. */
static size_t
text_lines(const char *buf, size_t len)
{
	size_t	n = 0;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	if (len > 0 && buf[len - 1] != '\n')
		n++;
	return n;
}

static unsigned int
perms_bits(const char *s)
{
	unsigned int	p = 0;

	ck_assert_uint_eq(strlen(s), 4);
	if (s[0] == 'r')
		p |= MW_PERM_READ;
	if (s[1] == 'w')
		p |= MW_PERM_WRITE;
	if (s[2] == 'x')
		p |= MW_PERM_EXEC;
	if (s[3] == 's')
		p |= MW_PERM_SHARED;
	return p;
}

static const struct mw_region *
regions_of(const struct mw_maps *m, size_t *n)
{
	const struct mw_region	*v = mw_maps_regions(m, n);

	ck_assert(*n == 0 || v != NULL);
	return v;
}

/* Parse a fixture that must parse; the caller frees *bufp and the maps. */
static struct mw_maps *
parse_fixture(const char *name, char **bufp, size_t *lenp)
{
	struct mw_maps	*m;
	size_t		 len, errline = 12345;
	char		*buf = tu_fixture(name, &len);

	errno = 0;
	m = mw_maps_parse(buf, len, &errline);
	ck_assert_msg(m != NULL, "%s: parse failed at line %zu: %s", name,
	    errline, strerror(errno));
	ck_assert_uint_eq(errline, 0);
	ck_assert_int_eq(mw_maps_pid(m), 0);
	if (bufp != NULL)
		*bufp = buf;
	else
		free(buf);
	if (lenp != NULL)
		*lenp = len;
	return m;
}

/* start < end <= next start, for every region. */
static void
assert_sorted_disjoint(const struct mw_maps *m, const char *what)
{
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);

	for (size_t i = 0; i < n; i++) {
		REQUIRE(v[i].start < v[i].end,
		    "%s: region %zu: start %" PRIx64 " >= end %" PRIx64,
		    what, i, v[i].start, v[i].end);
		if (i > 0)
			REQUIRE(v[i - 1].end <= v[i].start,
			    "%s: regions %zu and %zu overlap or are unsorted",
			    what, i - 1, i);
	}
}

static void
assert_region(const struct mw_region *r, uint64_t start, uint64_t end,
    const char *perms, uint64_t offset, unsigned int major,
    unsigned int minor, uint64_t inode, const char *name, unsigned int flags)
{
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->start == start, "start %" PRIx64 " != %" PRIx64,
	    r->start, start);
	ck_assert_msg(r->end == end, "[%" PRIx64 "] end %" PRIx64 " != %"
	    PRIx64, start, r->end, end);
	ck_assert_msg(r->perms == perms_bits(perms),
	    "[%" PRIx64 "] perms %#x != %s", start, r->perms, perms);
	ck_assert_msg(r->offset == offset, "[%" PRIx64 "] offset %" PRIx64
	    " != %" PRIx64, start, r->offset, offset);
	ck_assert_uint_eq(r->dev_major, major);
	ck_assert_uint_eq(r->dev_minor, minor);
	ck_assert_msg(r->inode == inode, "[%" PRIx64 "] inode %" PRIu64
	    " != %" PRIu64, start, r->inode, inode);
	if (name == NULL)
		ck_assert_msg(r->name == NULL, "[%" PRIx64 "] name \"%s\" "
		    "should be NULL", start, r->name);
	else {
		ck_assert_msg(r->name != NULL, "[%" PRIx64 "] name is NULL, "
		    "not \"%s\"", start, name);
		ck_assert_str_eq(r->name, name);
	}
	ck_assert_msg(r->flags == flags, "[%" PRIx64 "] flags %#x != %#x",
	    start, r->flags, flags);
}

static void
assert_same_region(const struct mw_region *a, const struct mw_region *b,
    size_t i)
{
	REQUIRE(a->start == b->start && a->end == b->end,
	    "region %zu: %" PRIx64 "-%" PRIx64 " != %" PRIx64 "-%" PRIx64,
	    i, a->start, a->end, b->start, b->end);
	REQUIRE(a->perms == b->perms && a->offset == b->offset &&
	    a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	    a->inode == b->inode && a->flags == b->flags &&
	    a->kind == b->kind, "region %zu (%" PRIx64 "): fields differ", i,
	    a->start);
	if (a->name == NULL || b->name == NULL)
		REQUIRE(a->name == b->name, "region %zu: name %s vs %s",
		    i, a->name ? a->name : "NULL", b->name ? b->name : "NULL");
	else
		REQUIRE(strcmp(a->name, b->name) == 0, "region %zu: name "
		    "\"%s\" vs \"%s\"", i, a->name, b->name);
}

static void
assert_same_maps(const struct mw_maps *a, const struct mw_maps *b)
{
	size_t			 na, nb;
	const struct mw_region	*va = regions_of(a, &na), *vb = regions_of(b, &nb);

	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_same_region(&va[i], &vb[i], i);
}

/*
 * An independent reader, for comparison: sscanf per line, the name is
 * whatever follows the padding, "\012" becomes '\n'. Slow and obvious.
 */
struct ref_line {
	uint64_t	 start, end, offset, inode;
	unsigned int	 major, minor, perms;
	bool		 deleted;
	char		*name;		/* NULL: no name */
};

static size_t
ref_parse(const char *buf, size_t len, struct ref_line **out)
{
	char		*copy = malloc(len + 1), *line, *save = NULL;
	size_t		 n = 0, cap = text_lines(buf, len) + 1;
	struct ref_line	*v = calloc(cap, sizeof(*v));

	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_nonnull(v);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ref_line	*r = &v[n++];
		char		 perms[5] = "";
		int		 used = -1;
		const char	*nm;

		ck_assert_uint_le(n, cap);
		ck_assert_msg(sscanf(line, "%" SCNx64 "-%" SCNx64 " %4c %"
		    SCNx64 " %x:%x %" SCNu64 "%n", &r->start, &r->end, perms,
		    &r->offset, &r->major, &r->minor, &r->inode, &used) == 7 &&
		    used > 0, "reference reader cannot read \"%s\"", line);
		r->perms = perms_bits(perms);
		nm = line + used;
		while (*nm == ' ')
			nm++;
		if (*nm != '\0') {
			char	*w, *p;

			r->name = strdup(nm);
			ck_assert_ptr_nonnull(r->name);
			for (w = p = r->name; *p != '\0'; )
				if (strncmp(p, "\\012", 4) == 0) {
					*w++ = '\n';
					p += 4;
				} else
					*w++ = *p++;
			*w = '\0';
			w = strstr(r->name, " (deleted)");
			r->deleted = w != NULL && w != r->name &&
			    strcmp(w, " (deleted)") == 0;
		}
	}
	free(copy);
	*out = v;
	return n;
}

static void
ref_free(struct ref_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static void
assert_matches_ref(const struct mw_maps *m, const char *text, size_t len,
    const char *what)
{
	struct ref_line		*ref;
	size_t			 nref = ref_parse(text, len, &ref), n;
	const struct mw_region	*v = regions_of(m, &n);

	ck_assert_msg(n == nref, "%s: %zu regions, the reference reader "
	    "has %zu lines", what, n, nref);
	for (size_t i = 0; i < n; i++) {
		const struct ref_line	*r = &ref[i];

		ck_assert_msg(v[i].start == r->start && v[i].end == r->end &&
		    v[i].perms == r->perms && v[i].offset == r->offset &&
		    v[i].dev_major == r->major && v[i].dev_minor == r->minor &&
		    v[i].inode == r->inode, "%s: line %zu (%" PRIx64 "-%"
		    PRIx64 ") differs from the reference reader", what, i + 1,
		    r->start, r->end);
		ck_assert_msg(((v[i].flags & MW_REGION_DELETED) != 0) ==
		    r->deleted, "%s: line %zu: deleted flag", what, i + 1);
		if (r->name == NULL)
			ck_assert_msg(v[i].name == NULL, "%s: line %zu: name "
			    "\"%s\" should be NULL", what, i + 1, v[i].name);
		else {
			ck_assert_msg(v[i].name != NULL, "%s: line %zu: no "
			    "name, want \"%s\"", what, i + 1, r->name);
			ck_assert_str_eq(v[i].name, r->name);
		}
	}
	ref_free(ref, nref);
}

/* Read a whole file with stdio (not through libmemwalk). */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*fp = fopen(path, "r");
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, r;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	do {
		if (cap - len < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		r = fread(buf + len, 1, cap - len, fp);
		len += r;
	} while (r > 0);
	ck_assert(!ferror(fp));
	fclose(fp);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* ---- fields -------------------------------------------------------- */

/* Selected lines of the real fixture, every field. */
START_TEST(test_fields_target)
{
	struct mw_maps		*m = parse_fixture("target.maps", NULL, NULL);
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);
	const char		*dir = "/tmp/mw target XGEbZL/";
	char			 want[256];

	ck_assert_uint_eq(n, 32);
	assert_region(&v[0], 0x5563ece4a000, 0x5563ece4b000, "r--p", 0,
	    0xfe, 0, 5308695, "/work/main/build/tests/target", 0);
	assert_region(&v[1], 0x5563ece4b000, 0x5563ece4c000, "r-xp", 0x1000,
	    0xfe, 0, 5308695, "/work/main/build/tests/target", 0);
	/* unnamed, with the kernel's trailing space */
	assert_region(&v[5], 0x5563ece4f000, 0x5563ece8f000, "rw-p", 0,
	    0, 0, 0, NULL, 0);
	assert_region(&v[6], 0x55640758e000, 0x5564075af000, "rw-p", 0,
	    0, 0, 0, "[heap]", 0);
	assert_region(&v[9], 0x7fb9c5237000, 0x7fb9c538d000, "r-xp",
	    0x26000, 0xfe, 0, 332835,
	    "/usr/lib/x86_64-linux-gnu/libc.so.6", 0);
	assert_region(&v[12], 0x7fb9c53e4000, 0x7fb9c53e6000, "rw-p",
	    0x1d3000, 0xfe, 0, 332835,
	    "/usr/lib/x86_64-linux-gnu/libc.so.6", 0);
	/* the guard page */
	assert_region(&v[14], 0x7fb9c53f4000, 0x7fb9c53f5000, "---p", 0,
	    0, 0, 0, NULL, 0);
	/* shared anonymous, SysV, memfd: shared, deleted */
	assert_region(&v[16], 0x7fb9c53f8000, 0x7fb9c53f9000, "rw-s", 0,
	    0, 1, 1047, "/dev/zero (deleted)", MW_REGION_DELETED);
	assert_region(&v[17], 0x7fb9c53f9000, 0x7fb9c53fa000, "rw-s", 0,
	    0, 1, 35, "/SYSV00000000 (deleted)", MW_REGION_DELETED);
	assert_region(&v[18], 0x7fb9c53fa000, 0x7fb9c53fb000, "rw-s", 0,
	    0, 1, 1045, "/memfd:mw-memfd (deleted)", MW_REGION_DELETED);
	/* an unlinked file, shared read-only */
	snprintf(want, sizeof(want), "%sgone (deleted)", dir);
	assert_region(&v[19], 0x7fb9c53fb000, 0x7fb9c53fd000, "r--s", 0,
	    0xfe, 0, 10953151, want, MW_REGION_DELETED);
	/* spaces kept, "\012" turned back into a newline */
	snprintf(want, sizeof(want), "%sodd name\nwith newline", dir);
	assert_region(&v[20], 0x7fb9c53fd000, 0x7fb9c53fe000, "r--p", 0,
	    0xfe, 0, 10953150, want, 0);
	assert_region(&v[22], 0x7fb9c5400000, 0x7fb9c5404000, "r--p", 0,
	    0, 0, 0, "[vvar]", 0);
	assert_region(&v[23], 0x7fb9c5404000, 0x7fb9c5406000, "r--p", 0,
	    0, 0, 0, "[vvar_vclock]", 0);
	assert_region(&v[24], 0x7fb9c5406000, 0x7fb9c5408000, "r-xp", 0,
	    0, 0, 0, "[vdso]", 0);
	assert_region(&v[30], 0x7fffaeb54000, 0x7fffaeb75000, "rw-p", 0,
	    0, 0, 0, "[stack]", 0);
	assert_region(&v[31], 0xffffffffff600000, 0xffffffffff601000, "--xp",
	    0, 0, 0, 0, "[vsyscall]", 0);
	mw_maps_free(m);
}
END_TEST

/* Every line of the synthetic forms. */
START_TEST(test_fields_synth)
{
	struct mw_maps		*m = parse_fixture("synth_forms.maps", NULL,
				    NULL);
	size_t			 n, i = 0;
	const struct mw_region	*v = regions_of(m, &n);

	ck_assert_uint_eq(n, 25);
	/* old 32-bit style, 8 digits and narrow padding */
	assert_region(&v[i++], 0x400000, 0x452000, "r-xp", 0, 8, 2, 173521,
	    "/usr/bin/dbus-daemon", 0);
	assert_region(&v[i++], 0x651000, 0x652000, "r--p", 0x51000, 8, 2,
	    173521, "/usr/bin/dbus-daemon", 0);
	assert_region(&v[i++], 0x652000, 0x655000, "rw-p", 0x52000, 8, 2,
	    173521, "/usr/bin/dbus-daemon", 0);
	assert_region(&v[i++], 0xe03000, 0xe24000, "rw-p", 0, 0, 0, 0,
	    "[heap]", 0);
	/* the name's own leading space is kept */
	assert_region(&v[i++], 0x7f1c00000000, 0x7f1c00021000, "rw-p", 0,
	    0, 0, 0, "[anon: glibc: malloc arena]", 0);
	assert_region(&v[i++], 0x7f1c00021000, 0x7f1c04000000, "---p", 0,
	    0, 0, 0, NULL, 0);
	assert_region(&v[i++], 0x7f1c10000000, 0x7f1c10004000, "rw-p", 0,
	    0, 0, 0, "[anon:mw-named]", 0);
	assert_region(&v[i++], 0x7f1c10004000, 0x7f1c10006000, "rw-s", 0,
	    0, 1, 2048, "[anon_shmem:ring buffer]", 0);
	assert_region(&v[i++], 0x7f1c10006000, 0x7f1c10007000, "rw-s", 0,
	    0, 1, 4, "/SYSV0000beef (deleted)", MW_REGION_DELETED);
	assert_region(&v[i++], 0x7f1c10007000, 0x7f1c10008000, "rw-s", 0,
	    0, 1, 5, "/memfd:jit  code (deleted)", MW_REGION_DELETED);
	/* backslashes that are not "\012" stay as they are */
	assert_region(&v[i++], 0x7f1c10008000, 0x7f1c10009000, "r--p", 0,
	    0xfe, 1, 4242, "/tmp/back\\slash\\01x\\end\\", 0);
	assert_region(&v[i++], 0x7f1c10009000, 0x7f1c1000a000, "r--p", 0,
	    0xfe, 1, 4243, "/tmp/two\nlines\n", 0);
	assert_region(&v[i++], 0x7f1c1000a000, 0x7f1c1000b000, "r--p", 0,
	    0xfe, 1, 4244, "/tmp/bs\\\n", 0);
	assert_region(&v[i++], 0x7f1c1000b000, 0x7f1c1000c000, "r-xp",
	    0x2000, 0xfe, 1, 4245, "/usr/lib/libgone.so.1 (deleted)",
	    MW_REGION_DELETED);
	/* " (deleted)" only counts at the very end, after a space */
	assert_region(&v[i++], 0x7f1c1000c000, 0x7f1c1000d000, "r--p", 0,
	    0xfe, 1, 4246, "/tmp/not (deleted) at end", 0);
	assert_region(&v[i++], 0x7f1c1000d000, 0x7f1c1000e000, "r--p", 0,
	    0xfe, 1, 4247, "/tmp/x(deleted)", 0);
	/* no name: with and without a trailing space */
	assert_region(&v[i++], 0x7f1c1000e000, 0x7f1c1000f000, "rw-p", 0,
	    0, 0, 0, NULL, 0);
	assert_region(&v[i++], 0x7f1c1000f000, 0x7f1c10010000, "rw-p", 0,
	    0, 0, 0, NULL, 0);
	/* 16-digit offset, largest device numbers, UINT64_MAX inode */
	assert_region(&v[i++], 0x7f1c10010000, 0x7f1c10011000, "r--s",
	    0x123456000, 0xfff, 0xfffff, UINT64_MAX, "/dev/dri/card0", 0);
	assert_region(&v[i++], 0x7ffd6c9f0000, 0x7ffd6ca11000, "rw-p", 0,
	    0, 0, 0, "[stack]", 0);
	assert_region(&v[i++], 0x7ffd6cbf0000, 0x7ffd6cbf4000, "r--p", 0,
	    0, 0, 0, "[vvar]", 0);
	assert_region(&v[i++], 0x7ffd6cbf4000, 0x7ffd6cbf6000, "r--p", 0,
	    0, 0, 0, "[vvar_vclock]", 0);
	assert_region(&v[i++], 0x7ffd6cbf6000, 0x7ffd6cbf8000, "r-xp", 0,
	    0, 0, 0, "[vdso]", 0);
	assert_region(&v[i++], 0x7ffff7ff0000, 0x7ffff7ff1000, "--xp", 0,
	    0, 0, 0, "[uprobes]", 0);
	/* 16-digit addresses, on a final line without a newline */
	assert_region(&v[i++], 0xffffffffff600000, 0xffffffffff601000, "--xp",
	    0, 0, 0, 0, "[vsyscall]", 0);
	ck_assert_uint_eq(i, n);
	mw_maps_free(m);
}
END_TEST

static const char *const clean_fixtures[] = {
	"target.maps", "many.maps", "synth_forms.maps",
};
#define NCLEAN	(int)(sizeof(clean_fixtures) / sizeof(clean_fixtures[0]))

/* Every line of the clean fixtures agrees with the reference reader. */
START_TEST(test_fields_vs_reference)
{
	const char	*name = clean_fixtures[_i];
	char		*buf;
	size_t		 len;
	struct mw_maps	*m = parse_fixture(name, &buf, &len);

	assert_matches_ref(m, buf, len, name);
	mw_maps_free(m);
	free(buf);
}
END_TEST

/* Names point into the maps, not into the caller's buffer. */
START_TEST(test_fields_own_copy)
{
	size_t			 len, n;
	char			*buf = tu_fixture("target.maps", &len);
	struct mw_maps		*m = mw_maps_parse(buf, len, NULL);
	const struct mw_region	*v;

	ck_assert_ptr_nonnull(m);
	memset(buf, 'X', len);
	free(buf);
	v = regions_of(m, &n);
	ck_assert_uint_eq(n, 32);
	ck_assert_str_eq(v[6].name, "[heap]");
	ck_assert_uint_eq(v[6].start, 0x55640758e000);
	mw_maps_free(m);
}
END_TEST

START_TEST(test_fields_empty)
{
	size_t		 errline = 7, n;
	struct mw_maps	*m = mw_maps_parse("", 0, &errline);

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(errline, 0);
	(void)mw_maps_regions(m, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(mw_maps_find(m, 0));
	ck_assert_ptr_null(mw_maps_find(m, UINT64_MAX));
	mw_maps_free(m);
	mw_maps_free(NULL);	/* a no-op */

	/* one bare newline is one empty line, and empty lines are bad */
	errno = 0;
	ck_assert_ptr_null(mw_maps_parse("\n", 1, &errline));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(errline, 1);
}
END_TEST

/* Only len bytes are read: what follows them is never looked at. */
START_TEST(test_fields_len_bounds)
{
	static const char text[] =
	    "1000-2000 r--p 00000000 00:00 0 /a\n"
	    "3000-4000 r--p 00000000 00:00 0 /b\ngarbage";
	size_t			 n, errline;
	struct mw_maps		*m;
	const struct mw_region	*v;
	char			*exact;

	/* stop right after the second line: the garbage is not read */
	m = mw_maps_parse(text, strlen(text) - strlen("garbage"), &errline);
	ck_assert_ptr_nonnull(m);
	v = regions_of(m, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1].name, "/b");
	mw_maps_free(m);

	/* the same without the newline, in a buffer with no NUL after it */
	exact = malloc(strlen("1000-2000 r--p 00000000 00:00 0 /a"));
	ck_assert_ptr_nonnull(exact);
	memcpy(exact, text, strlen("1000-2000 r--p 00000000 00:00 0 /a"));
	m = mw_maps_parse(exact,
	    strlen("1000-2000 r--p 00000000 00:00 0 /a"), &errline);
	free(exact);
	ck_assert_ptr_nonnull(m);
	v = regions_of(m, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "/a");
	mw_maps_free(m);

	/* and with it, the garbage is line 3 */
	ck_assert_ptr_null(mw_maps_parse(text, strlen(text), &errline));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(errline, 3);
	/* errline may be NULL */
	errno = 0;
	ck_assert_ptr_null(mw_maps_parse(text, strlen(text), NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- counts and invariants ----------------------------------------- */

/* A clean fixture gives one region per line. */
START_TEST(test_count_clean)
{
	const char	*name = clean_fixtures[_i];
	char		*buf;
	size_t		 len, n;
	struct mw_maps	*m = parse_fixture(name, &buf, &len);

	(void)regions_of(m, &n);
	ck_assert_msg(n == text_lines(buf, len), "%s: %zu regions for %zu "
	    "lines", name, n, text_lines(buf, len));
	ck_assert_uint_gt(n, 0);
	mw_maps_free(m);
	free(buf);
}
END_TEST

static const char *const all_valid_fixtures[] = {
	"target.maps", "many.maps", "synth_forms.maps", "torn_dup.maps",
	"torn_overlap.maps", "torn_order.maps", "torn_chain.maps",
};
#define NVALID	(int)(sizeof(all_valid_fixtures) / \
		    sizeof(all_valid_fixtures[0]))

START_TEST(test_invariant_all)
{
	const char	*name = all_valid_fixtures[_i];
	char		*buf;
	size_t		 len, n;
	struct mw_maps	*m = parse_fixture(name, &buf, &len);

	assert_sorted_disjoint(m, name);
	(void)regions_of(m, &n);
	ck_assert_uint_le(n, text_lines(buf, len));
	mw_maps_free(m);
	free(buf);
}
END_TEST

START_TEST(test_count_many)
{
	struct mw_maps	*m = parse_fixture("many.maps", NULL, NULL);
	size_t		 n;

	(void)regions_of(m, &n);
	ck_assert_uint_eq(n, 2031);
	mw_maps_free(m);
}
END_TEST

/* ---- torn reads ---------------------------------------------------- */

START_TEST(test_torn_duplicates)
{
	struct mw_maps		*m = parse_fixture("torn_dup.maps", NULL, NULL);
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);

	/* 6 lines, two of them exact copies of the line before */
	ck_assert_uint_eq(n, 4);
	assert_region(&v[0], 0x55d0c1a00000, 0x55d0c1a2f000, "r--p", 0,
	    0xfe, 0, 1234, "/usr/bin/bash", 0);
	assert_region(&v[1], 0x55d0c1a2f000, 0x55d0c1b1f000, "r-xp",
	    0x2f000, 0xfe, 0, 1234, "/usr/bin/bash", 0);
	assert_region(&v[2], 0x55d0c1b1f000, 0x55d0c1b54000, "r--p",
	    0x11f000, 0xfe, 0, 1234, "/usr/bin/bash", 0);
	assert_region(&v[3], 0xffffffffff600000, 0xffffffffff601000, "--xp",
	    0, 0, 0, 0, "[vsyscall]", 0);
	mw_maps_free(m);
}
END_TEST

START_TEST(test_torn_overlap_later_wins)
{
	struct mw_maps		*m = parse_fixture("torn_overlap.maps", NULL,
				    NULL);
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);

	ck_assert_uint_eq(n, 5);
	assert_region(&v[0], 0x7f0000000000, 0x7f0000001000, "r--p", 0,
	    0xfe, 0, 10, "/lib/a.so", 0);
	/* line 3 overlaps line 2 and starts after it */
	assert_region(&v[1], 0x7f0000004000, 0x7f0000006000, "r--p", 0,
	    0, 0, 0, "[anon:new tail]", 0);
	/* line 5 overlaps line 4 and starts before it */
	assert_region(&v[2], 0x7f0000007000, 0x7f0000009000, "r-xp", 0x1000,
	    0xfe, 0, 11, "/lib/b.so", 0);
	assert_region(&v[3], 0x7f000000c000, 0x7f000000d000, "rw-p", 0,
	    0, 0, 0, NULL, 0);
	/* line 8 contains line 7 */
	assert_region(&v[4], 0x7f000000f000, 0x7f0000012000, "r--p", 0,
	    0, 0, 0, "[anon:new outer]", 0);
	/* what lost is gone, also from lookups */
	ck_assert_ptr_null(mw_maps_find(m, 0x7f0000002000));
	ck_assert_ptr_null(mw_maps_find(m, 0x7f0000009000));
	mw_maps_free(m);
}
END_TEST

/* Two lines, both orders, overlapping in every way: the later one wins. */
START_TEST(test_torn_pairs)
{
	static const struct { uint64_t s, e; } shapes[] = {
		{ 0x1000, 0x3000 }, { 0x2000, 0x4000 }, { 0x1000, 0x2000 },
		{ 0x2000, 0x3000 }, { 0x0000, 0x5000 }, { 0x1800, 0x2800 },
	};
	char	 text[256];

	for (size_t a = 0; a < 6; a++)
		for (size_t b = 0; b < 6; b++) {
			struct mw_maps		*m;
			const struct mw_region	*v;
			size_t			 n, errline;
			bool			 overlap;

			snprintf(text, sizeof(text),
			    "%" PRIx64 "-%" PRIx64 " r--p 0 00:00 0 first\n"
			    "%" PRIx64 "-%" PRIx64 " rw-p 0 00:00 0 second\n",
			    shapes[a].s, shapes[a].e, shapes[b].s, shapes[b].e);
			m = mw_maps_parse(text, strlen(text), &errline);
			ck_assert_ptr_nonnull(m);
			v = regions_of(m, &n);
			overlap = shapes[a].s < shapes[b].e &&
			    shapes[b].s < shapes[a].e;
			if (overlap) {
				ck_assert_msg(n == 1, "%s", text);
				ck_assert_str_eq(v[0].name, "second");
				ck_assert_uint_eq(v[0].start, shapes[b].s);
				ck_assert_uint_eq(v[0].end, shapes[b].e);
				ck_assert_uint_eq(v[0].perms,
				    MW_PERM_READ | MW_PERM_WRITE);
			} else {
				ck_assert_msg(n == 2, "%s", text);
				ck_assert_uint_lt(v[0].start, v[1].start);
			}
			assert_sorted_disjoint(m, text);
			mw_maps_free(m);
		}
}
END_TEST

START_TEST(test_torn_order)
{
	struct mw_maps		*m = parse_fixture("torn_order.maps", NULL,
				    NULL);
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);
	static const char *const names[] = { "/a", "/b", "/c", "/d", "/e" };

	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_region(&v[i], 0x7f0000001000 + i * 0x1000,
		    0x7f0000002000 + i * 0x1000, "r--p", 0, 0xfe, 0, i + 1,
		    names[i], 0);
	mw_maps_free(m);
}
END_TEST

/* many.maps reversed, and with a copy of some lines appended. */
START_TEST(test_torn_many)
{
	char		*buf, *rev, *dup, *p, *lines[2100];
	size_t		 len, nl = 0, off = 0;
	struct mw_maps	*m = parse_fixture("many.maps", &buf, &len), *m2;

	for (p = buf; p < buf + len; p = strchr(p, '\n') + 1) {
		ck_assert_uint_lt(nl, 2100);
		lines[nl++] = p;
	}
	ck_assert_uint_eq(nl, 2031);
	rev = malloc(len);
	ck_assert_ptr_nonnull(rev);
	for (size_t i = nl; i-- > 0; ) {
		size_t	ll = (size_t)(strchr(lines[i], '\n') - lines[i]) + 1;

		memcpy(rev + off, lines[i], ll);
		off += ll;
	}
	ck_assert_uint_eq(off, len);
	m2 = mw_maps_parse(rev, len, NULL);
	ck_assert_ptr_nonnull(m2);
	assert_same_maps(m, m2);
	mw_maps_free(m2);

	/* lines 101..400 read again at the end: each kept once */
	dup = malloc(2 * len);
	ck_assert_ptr_nonnull(dup);
	memcpy(dup, buf, len);
	off = (size_t)(lines[400] - lines[100]);
	memcpy(dup + len, lines[100], off);
	m2 = mw_maps_parse(dup, len + off, NULL);
	ck_assert_ptr_nonnull(m2);
	assert_same_maps(m, m2);
	mw_maps_free(m2);

	free(dup);
	free(rev);
	free(buf);
	mw_maps_free(m);
}
END_TEST

/*
 * A chain of overlaps, resolved pairwise (torn_chain.maps):
 *   line 1  7f0000005000-7f0000006000  C
 *   line 2  7f0000001000-7f0000009000  A   (overlaps C, read later: wins)
 *   line 3  7f0000002000-7f0000003000  B   (overlaps A, read later: wins)
 * A beats C and B beats A, so only B may remain. A first version of
 * sort_and_resolve kept C too: once A was replaced by the shorter B,
 * nothing compared C with A any more.
 */
START_TEST(test_torn_chain)
{
	struct mw_maps		*m = parse_fixture("torn_chain.maps", NULL,
				    NULL);
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);

	assert_sorted_disjoint(m, "torn_chain.maps");
	ck_assert_msg(mw_maps_find(m, 0x7f0000005000) == NULL,
	    "line 1 (7f0000005000-7f0000006000) lost to line 2 "
	    "(7f0000001000-7f0000009000) but was kept");
	ck_assert_uint_eq(n, 1);
	assert_region(&v[0], 0x7f0000002000, 0x7f0000003000, "r--p", 0,
	    0, 0, 0, "[anon:B read third]", 0);
	mw_maps_free(m);
}
END_TEST

/* ---- mw_maps_find -------------------------------------------------- */

/* First byte, last byte, one past the end, gaps, below and above. */
static void
check_find_everywhere(const struct mw_maps *m, const char *what)
{
	size_t			 n;
	const struct mw_region	*v = regions_of(m, &n);

	ck_assert_uint_gt(n, 0);
	if (v[0].start > 0) {
		ck_assert_ptr_null(mw_maps_find(m, 0));
		ck_assert_ptr_null(mw_maps_find(m, v[0].start - 1));
	}
	for (size_t i = 0; i < n; i++) {
		REQUIRE(mw_maps_find(m, v[i].start) == &v[i],
		    "%s: first byte of region %zu", what, i);
		REQUIRE(mw_maps_find(m, v[i].end - 1) == &v[i],
		    "%s: last byte of region %zu", what, i);
		REQUIRE(mw_maps_find(m, v[i].start +
		    (v[i].end - v[i].start) / 2) == &v[i],
		    "%s: middle of region %zu", what, i);
		if (i + 1 < n && v[i].end == v[i + 1].start)
			REQUIRE(mw_maps_find(m, v[i].end) == &v[i + 1],
			    "%s: one past region %zu is the next", what, i);
		else if (i + 1 < n) {
			/* a gap: both its ends are in no region */
			REQUIRE(mw_maps_find(m, v[i].end) == NULL,
			    "%s: one past region %zu", what, i);
			REQUIRE(mw_maps_find(m, v[i + 1].start - 1) == NULL,
			    "%s: one below region %zu", what, i + 1);
		}
	}
	if (v[n - 1].end != 0) {	/* end 0 would mean 2^64 */
		ck_assert_ptr_null(mw_maps_find(m, v[n - 1].end));
		ck_assert_ptr_null(mw_maps_find(m, UINT64_MAX));
	}
}

START_TEST(test_find_fixtures)
{
	const char	*name = all_valid_fixtures[_i];
	struct mw_maps	*m = parse_fixture(name, NULL, NULL);

	check_find_everywhere(m, name);
	mw_maps_free(m);
}
END_TEST

START_TEST(test_find_target)
{
	struct mw_maps		*m = parse_fixture("target.maps", NULL, NULL);
	const struct mw_region	*r;

	/* the guard page, and the gap of one page below it */
	r = mw_maps_find(m, 0x7fb9c53f4000);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->perms, 0);
	ck_assert_uint_eq(r->end, 0x7fb9c53f5000);
	ck_assert_ptr_null(mw_maps_find(m, 0x7fb9c53f3000));
	ck_assert_ptr_null(mw_maps_find(m, 0x7fb9c53f3fff));
	ck_assert_ptr_nonnull(mw_maps_find(m, 0x7fb9c53f2fff));
	/* below the first region, and between the heap and the libs */
	ck_assert_ptr_null(mw_maps_find(m, 0x5563ece49fff));
	ck_assert_ptr_null(mw_maps_find(m, 0x6000000000));
	r = mw_maps_find(m, 0x5564075aefff);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "[heap]");
	ck_assert_ptr_null(mw_maps_find(m, 0x5564075af000));
	/* inside the big stack, above it, [vsyscall], above everything */
	r = mw_maps_find(m, 0x7fffaeb739cc);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "[stack]");
	ck_assert_ptr_null(mw_maps_find(m, 0x7fffaeb75000));
	r = mw_maps_find(m, 0xffffffffff600fff);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "[vsyscall]");
	ck_assert_ptr_null(mw_maps_find(m, 0xffffffffff601000));
	ck_assert_ptr_null(mw_maps_find(m, UINT64_MAX));
	mw_maps_free(m);
}
END_TEST

/* A region that ends at the top of the address space. */
START_TEST(test_find_top)
{
	static const char text[] =
	    "0000000000000000-0000000000001000 r--p 0 00:00 0 [bottom]\n"
	    "fffffffffffff000-ffffffffffffffff r--p 0 00:00 0 [top]\n";
	struct mw_maps		*m = mw_maps_parse(text, strlen(text), NULL);
	const struct mw_region	*r;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "[bottom]");
	ck_assert_ptr_null(mw_maps_find(m, 0x1000));
	r = mw_maps_find(m, UINT64_MAX - 1);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "[top]");
	/* the end is exclusive, so UINT64_MAX is in no region */
	ck_assert_ptr_null(mw_maps_find(m, UINT64_MAX));
	mw_maps_free(m);
}
END_TEST

/* ---- malformed input ----------------------------------------------- */

static const struct {
	const char	*fixture;
	size_t		 errline;
} bad_fixtures[] = {
	{ "bad_nodash.maps", 3 },
	{ "bad_perms_rwxx.maps", 2 },
	{ "bad_perms_short.maps", 1 },
	{ "bad_hexdigit.maps", 4 },
	{ "bad_17digits.maps", 2 },
	{ "bad_start_eq_end.maps", 3 },
	{ "bad_start_gt_end.maps", 2 },
	{ "bad_noinode.maps", 2 },
	{ "bad_inode_overflow.maps", 3 },
	{ "bad_inode_2pow64.maps", 1 },
	{ "bad_nul.maps", 3 },
	{ "bad_emptyline.maps", 3 },
	{ "bad_truncated.maps", 4 },
	{ "bad_garbage.maps", 2 },
	{ "bad_dev_major.maps", 5 },
	{ "bad_inode_junk.maps", 3 },
};
#define NBAD	(int)(sizeof(bad_fixtures) / sizeof(bad_fixtures[0]))

START_TEST(test_malformed_fixture)
{
	const char	*name = bad_fixtures[_i].fixture;
	size_t		 len, errline = 0;
	char		*buf = tu_fixture(name, &len);
	struct mw_maps	*m;

	errno = 0;
	m = mw_maps_parse(buf, len, &errline);
	ck_assert_msg(m == NULL, "%s parsed", name);
	ck_assert_msg(errno == EINVAL, "%s: errno %d, not EINVAL", name,
	    errno);
	ck_assert_msg(errline == bad_fixtures[_i].errline,
	    "%s: errline %zu, want %zu", name, errline,
	    bad_fixtures[_i].errline);
	free(buf);
}
END_TEST

/* One bad line in the middle of 2,000 good ones. */
START_TEST(test_malformed_deep)
{
	size_t	 len, errline = 0, line = 1;
	char	*buf = tu_fixture("many.maps", &len), *p = buf;

	while (line < 1500) {
		p = strchr(p, '\n') + 1;
		line++;
	}
	p[4] = 'z';		/* a non-hex digit in the start */
	errno = 0;
	ck_assert_ptr_null(mw_maps_parse(buf, len, &errline));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(errline, 1500);
	free(buf);
}
END_TEST

/* More defects, each as line 2 of three. */
START_TEST(test_malformed_inline)
{
	static const char *const bad[] = {
		"1000-2000\tr--p 00000000 00:00 0",	/* tab */
		"1000-2000 r--p 00000000 00:00\t0",
		"1000-2000  r--p 00000000 00:00 0",	/* two spaces */
		"1000-2000 r--p 00000000 0000 0",	/* no ':' */
		"1000-2000 r--p 00000000 00: 0",
		"1000-2000 r--p 00000000 :00 0",
		"1000-2000 r--p 00:00 0",		/* no offset */
		"1000-2000 00000000 00:00 0",		/* no perms */
		"1000-2000 r--pp 00000000 00:00 0",
		"1000-2000 R--p 00000000 00:00 0",
		"1000-2000 r--S 00000000 00:00 0",
		"1000-2000 -r-p 00000000 00:00 0",
		"-2000 r--p 00000000 00:00 0",		/* no start */
		"1000- r--p 00000000 00:00 0",		/* no end */
		"1000--2000 r--p 00000000 00:00 0",
		"0x1000-0x2000 r--p 00000000 00:00 0",
		"1000-2000 r--p 00000000 00:00 -1",
		"1000-2000 r--p 00000000 00:00 +1",
		"1000-2000 r--p 00000000000000000 00:00 0",	/* 17 */
		"1000-2000 r--p 00000000 00:100000 0",	/* minor > 0xfffff */
		"1000-2000 r--p 00000000 00:00 0x1 /x",
		" 1000-2000 r--p 00000000 00:00 0",
		"1000-2000 r--p 00000000 00:00",
		"1000-2000 r--p 00000000 00:00 ",
		"1000-2000 r--p",
		"1000-2000",
		"1000",
		"\r",
		" ",
	};
	char	text[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t	errline = 0;

		snprintf(text, sizeof(text),
		    "0-1000 r--p 00000000 00:00 0\n%s\n"
		    "3000-4000 r--p 00000000 00:00 0\n", bad[i]);
		errno = 0;
		ck_assert_msg(mw_maps_parse(text, strlen(text), &errline) ==
		    NULL, "parsed: \"%s\"", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_msg(errline == 2, "\"%s\": errline %zu", bad[i],
		    errline);
	}
}
END_TEST

/* ---- fuzz-ish ------------------------------------------------------ */

/*
 * Every prefix of a clean fixture: it parses iff its last line is whole
 * enough, and then agrees with the whole text; otherwise EINVAL on the
 * last line, never anywhere else.
 */
static void
check_prefixes(const char *name)
{
	size_t			 len, nfull, nok = 0, nbad = 0;
	char			*buf = tu_fixture(name, &len), *pre;
	struct mw_maps		*full = mw_maps_parse(buf, len, NULL);
	const struct mw_region	*fv;

	ck_assert_ptr_nonnull(full);
	fv = regions_of(full, &nfull);
	for (size_t plen = 0; plen <= len; plen++) {
		size_t			 errline = 0, nl = text_lines(buf, plen);
		size_t			 n;
		struct mw_maps		*m;
		const struct mw_region	*v;

		/* an exact-size copy, so ASan sees any read past plen */
		pre = malloc(plen > 0 ? plen : 1);
		REQUIRE(pre != NULL, "out of memory");
		memcpy(pre, buf, plen);
		errno = 0;
		m = mw_maps_parse(pre, plen, &errline);
		free(pre);
		if (m == NULL) {
			nbad++;
			REQUIRE(errno == EINVAL, "%s[0..%zu): errno %d",
			    name, plen, errno);
			REQUIRE(errline == nl, "%s[0..%zu): errline %zu "
			    "of %zu lines", name, plen, errline, nl);
			REQUIRE(plen > 0 && buf[plen - 1] != '\n',
			    "%s[0..%zu): whole lines did not parse", name,
			    plen);
			continue;
		}
		nok++;
		v = regions_of(m, &n);
		REQUIRE(errline == 0, "%s[0..%zu): errline %zu on success",
		    name, plen, errline);
		REQUIRE(n == nl, "%s[0..%zu): %zu regions, %zu lines",
		    name, plen, n, nl);
		for (size_t i = 0; i + 1 < n; i++)
			assert_same_region(&v[i], &fv[i], i);
		if (n > 0) {
			const struct mw_region	*a = &v[n - 1], *b = &fv[n - 1];

			REQUIRE(a->start == b->start && a->end == b->end &&
			    a->perms == b->perms && a->offset == b->offset,
			    "%s[0..%zu): last region differs", name, plen);
			/* a cut name is a prefix, unless "\012" was cut */
			REQUIRE(a->name == NULL || (b->name != NULL &&
			    strncmp(a->name, b->name, strlen(a->name)) == 0) ||
			    strchr(a->name, '\\') != NULL,
			    "%s[0..%zu): name \"%s\"", name, plen, a->name);
		}
		assert_sorted_disjoint(m, name);
		mw_maps_free(m);
	}
	/* both outcomes happened, and every whole line was a success */
	ck_assert_uint_gt(nok, nfull);
	ck_assert_uint_gt(nbad, nfull);
	mw_maps_free(full);
	free(buf);
}

START_TEST(test_fuzz_prefixes_target)
{
	check_prefixes("target.maps");
}
END_TEST

START_TEST(test_fuzz_prefixes_synth)
{
	check_prefixes("synth_forms.maps");
}
END_TEST

/* Each byte replaced by several values: no crash, a sane answer. */
static void
check_flips(const char *name)
{
	static const unsigned char vals[] = {
		0x00, ' ', '\n', '-', ':', '0', 'f', 'g', '\\', 0xff, '9',
	};
	size_t	 len, ok = 0, bad = 0;
	char	*buf = tu_fixture(name, &len), *mut;

	mut = malloc(len);
	ck_assert_ptr_nonnull(mut);
	for (size_t i = 0; i < len; i++)
		for (size_t k = 0; k < sizeof(vals); k++) {
			size_t			 errline = 0, n;
			struct mw_maps		*m;
			const struct mw_region	*v;

			memcpy(mut, buf, len);
			mut[i] = (char)vals[k];
			errno = 0;
			m = mw_maps_parse(mut, len, &errline);
			if (m == NULL) {
				bad++;
				REQUIRE(errno == EINVAL, "%s: byte %zu = %#x: "
				    "errno %d", name, i, vals[k], errno);
				REQUIRE(errline >= 1 &&
				    errline <= text_lines(mut, len),
				    "%s: byte %zu = %#x: errline %zu", name, i,
				    vals[k], errline);
				continue;
			}
			ok++;
			REQUIRE(errline == 0, "errline set on success");
			v = mw_maps_regions(m, &n);
			REQUIRE(n <= text_lines(mut, len), "%s: byte %zu = "
			    "%#x: %zu regions", name, i, vals[k], n);
			assert_sorted_disjoint(m, name);
			for (size_t j = 0; j < n; j++) {
				REQUIRE(mw_maps_find(m, v[j].start) == &v[j],
				    "%s: byte %zu = %#x: find", name, i,
				    vals[k]);
				REQUIRE(v[j].name == NULL ||
				    v[j].name[0] != '\0', "empty name");
			}
			mw_maps_free(m);
		}
	ck_assert_uint_gt(ok, 0);
	ck_assert_uint_gt(bad, 0);
	free(mut);
	free(buf);
}

START_TEST(test_fuzz_flips_torn)
{
	check_flips("torn_overlap.maps");
}
END_TEST

START_TEST(test_fuzz_flips_synth)
{
	check_flips("synth_forms.maps");
}
END_TEST

/* ---- fault injection ----------------------------------------------- */

/*
 * Fixtures and how many allocations of mw_maps_parse can fail at least:
 * text, struct, regions; the array's growth (many short lines); the two
 * sort buffers (torn).
 */
static const struct {
	const char	*fixture;
	long		 min_failures;
} alloc_fixtures[] = {
	{ "target.maps", 3 },
	{ "synth_forms.maps", 3 },
	{ "many.maps", 4 },
	{ "torn_overlap.maps", 5 },
};

START_TEST(test_fault_alloc_parse)
{
	const char	*name = alloc_fixtures[_i].fixture;
	size_t		 len, errline;
	char		*buf;
	struct mw_maps	*good = parse_fixture(name, &buf, &len), *m;
	long		 failures = 0;

	for (long nth = 1; ; nth++) {
		ck_assert_int_lt(nth, 100);
		faults_reset();
		mwi_faults.alloc_fail = nth;
		errno = 0;
		errline = 99;
		m = mw_maps_parse(buf, len, &errline);
		if (m != NULL) {
			/* the call made fewer than nth allocations */
			ck_assert_int_gt(mwi_faults.alloc_fail, 0);
			faults_reset();
			break;
		}
		faults_reset();
		failures++;
		ck_assert_msg(errno == ENOMEM, "%s: allocation %ld failed, "
		    "errno %d", name, nth, errno);
		ck_assert_uint_eq(errline, 0);
	}
	ck_assert_msg(failures >= alloc_fixtures[_i].min_failures,
	    "%s: only %ld allocations", name, failures);
	assert_same_maps(m, good);
	mw_maps_free(m);
	mw_maps_free(good);
	free(buf);
}
END_TEST

static void
alloc_loop_read(pid_t pid, long min_failures)
{
	struct mw_maps	*m;
	long		 failures = 0;

	for (long nth = 1; ; nth++) {
		ck_assert_int_lt(nth, 1000);
		faults_reset();
		mwi_faults.alloc_fail = nth;
		errno = 0;
		m = mw_maps_read(pid);
		if (m != NULL) {
			ck_assert_msg(mwi_faults.alloc_fail > 0,
			    "allocation %ld failed but mw_maps_read(%d) "
			    "succeeded", nth, (int)pid);
			faults_reset();
			break;
		}
		faults_reset();
		failures++;
		ck_assert_msg(errno == ENOMEM, "pid %d: allocation %ld "
		    "failed, errno %d (%s)", (int)pid, nth, errno,
		    strerror(errno));
	}
	ck_assert_int_ge(failures, min_failures);
	ck_assert_int_eq(mw_maps_pid(m), pid == 0 ? getpid() : pid);
	mw_maps_free(m);
}

START_TEST(test_fault_alloc_read_self)
{
	/* buffer, struct, regions, ELF cache */
	alloc_loop_read(0, 4);
}
END_TEST

/* More than 256 KiB of maps: the read buffer has to grow. */
START_TEST(test_fault_alloc_read_big)
{
	const char *const	 args[] = { "--maps", "8000", NULL };
	struct tu_target	*t = tu_target_start(args);
	size_t			 len;
	char			 path[64], *text;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	text = slurp(path, &len);
	free(text);
	ck_assert_uint_gt(len, 256 * 1024);
	/* buffer, its growth, struct, regions, ELF cache */
	alloc_loop_read(t->pid, 5);
	tu_target_stop(t);
}
END_TEST

static void
check_read_max(const char *const *args, const size_t *maxes, size_t nmax)
{
	struct tu_target	*t = tu_target_start(args);
	struct mw_maps		*normal, *m;
	size_t			 n;

	faults_reset();
	normal = mw_maps_read(t->pid);
	ck_assert_ptr_nonnull(normal);
	(void)regions_of(normal, &n);
	ck_assert_uint_gt(n, 20);
	for (size_t i = 0; i < nmax; i++) {
		mwi_faults.read_max = maxes[i];
		m = mw_maps_read(t->pid);
		faults_reset();
		ck_assert_msg(m != NULL, "read_max %zu: %s", maxes[i],
		    strerror(errno));
		assert_same_maps(m, normal);
		mw_maps_free(m);
	}
	mw_maps_free(normal);
	tu_target_stop(t);
}

START_TEST(test_fault_short_reads)
{
	static const size_t	maxes[] = { 1, 7, 4096 };

	check_read_max(NULL, maxes, 3);
}
END_TEST

START_TEST(test_fault_short_reads_big)
{
	static const char *const	args[] = { "--maps", "3000", NULL };
	static const size_t		maxes[] = { 7, 4096 };

	check_read_max(args, maxes, 2);
}
END_TEST

START_TEST(test_fault_read_fail)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_maps		*m;
	/* read_max 0 reads this small file in two read(2)s: data, EOF */
	static const struct { long fail; size_t max; } cases[] = {
		{ 1, 0 }, { 2, 0 }, { 1, 64 }, { 2, 64 }, { 3, 64 },
		{ 1, 1 }, { 2, 1 }, { 3, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		faults_reset();
		mwi_faults.read_fail = cases[i].fail;
		mwi_faults.read_max = cases[i].max;
		errno = 0;
		m = mw_maps_read(t->pid);
		ck_assert_msg(m == NULL, "read_fail %ld read_max %zu: read "
		    "succeeded", cases[i].fail, cases[i].max);
		ck_assert_int_eq(errno, EIO);
		ck_assert_int_eq(mwi_faults.read_fail, 0);	/* consumed */
		faults_reset();
	}
	/* and with the faults off again it reads */
	m = mw_maps_read(t->pid);
	ck_assert_ptr_nonnull(m);
	mw_maps_free(m);
	/* read_fail also applies to the caller's own maps */
	mwi_faults.read_fail = 1;
	errno = 0;
	ck_assert_ptr_null(mw_maps_read(0));
	ck_assert_int_eq(errno, EIO);
	faults_reset();
	tu_target_stop(t);
}
END_TEST

/* ---- live processes ------------------------------------------------ */

static void
check_live_vs_kernel(const char *const *args)
{
	struct tu_target	*t = tu_target_start(args);
	struct mw_maps		*m;
	char			 path[64], *text;
	size_t			 len, n;

	m = mw_maps_read(t->pid);
	ck_assert_msg(m != NULL, "mw_maps_read: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	text = slurp(path, &len);
	ck_assert_int_eq(mw_maps_pid(m), t->pid);
	assert_matches_ref(m, text, len, path);
	(void)regions_of(m, &n);
	ck_assert_uint_eq(n, text_lines(text, len));
	assert_sorted_disjoint(m, path);
	free(text);
	mw_maps_free(m);
	tu_target_stop(t);
}

START_TEST(test_live_vs_kernel)
{
	check_live_vs_kernel(NULL);
}
END_TEST

START_TEST(test_live_vs_kernel_threads)
{
	static const char *const	args[] = { "--threads", "3", NULL };

	check_live_vs_kernel(args);
}
END_TEST

START_TEST(test_live_vs_kernel_many)
{
	static const char *const	args[] = { "--maps", "2000", NULL };

	check_live_vs_kernel(args);
}
END_TEST

/* The target's odd mappings, found by the addresses it printed. */
START_TEST(test_live_odd_mappings)
{
	struct tu_target	*t = tu_target_start(NULL);
	struct mw_maps		*m = mw_maps_read(t->pid);
	const struct mw_region	*r;

	ck_assert_ptr_nonnull(m);
	r = mw_maps_find(m, tu_addr(t, "odd_file"));
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(r->name);
	ck_assert_msg(strstr(r->name, "/odd name\nwith newline") != NULL,
	    "odd file: \"%s\"", r->name);
	ck_assert_uint_eq(r->flags & MW_REGION_DELETED, 0);
	ck_assert_uint_eq(r->perms, MW_PERM_READ);
	ck_assert_uint_ne(r->inode, 0);

	r = mw_maps_find(m, tu_addr(t, "deleted"));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->flags & MW_REGION_DELETED, MW_REGION_DELETED);
	ck_assert_uint_eq(r->perms, MW_PERM_READ | MW_PERM_SHARED);
	ck_assert_uint_eq(r->end - r->start, 2 * (uint64_t)getpagesize());

	r = mw_maps_find(m, tu_addr(t, "memfd"));
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(r->name);
	ck_assert_msg(strncmp(r->name, "/memfd:mw-memfd", 15) == 0, "%s",
	    r->name);
	ck_assert_uint_eq(r->perms, MW_PERM_READ | MW_PERM_WRITE |
	    MW_PERM_SHARED);

	r = mw_maps_find(m, tu_addr(t, "sysv"));
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(r->name);
	ck_assert_msg(strncmp(r->name, "/SYSV", 5) == 0, "%s", r->name);
	ck_assert_uint_ne(r->perms & MW_PERM_SHARED, 0);

	r = mw_maps_find(m, tu_addr(t, "anon_shared"));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_ne(r->perms & MW_PERM_SHARED, 0);

	r = mw_maps_find(m, tu_addr(t, "guard"));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->perms, 0);
	ck_assert_ptr_null(r->name);

	r = mw_maps_find(m, tu_addr(t, "stack"));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "[stack]");
	mw_maps_free(m);
	tu_target_stop(t);
}
END_TEST

START_TEST(test_live_self)
{
	struct mw_maps		*m = mw_maps_read(0);
	const struct mw_region	*r;
	static const int	 here = 1;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mw_maps_pid(m), getpid());
	assert_sorted_disjoint(m, "self");
	r = mw_maps_find(m, (uint64_t)(uintptr_t)&here);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_ne(r->perms & MW_PERM_READ, 0);
	/* a function of this program (START_TEST names are data) */
	r = mw_maps_find(m, (uint64_t)(uintptr_t)&text_lines);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_ne(r->perms & MW_PERM_EXEC, 0);
	mw_maps_free(m);
	/* by our own pid, the same thing */
	m = mw_maps_read(getpid());
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mw_maps_pid(m), getpid());
	mw_maps_free(m);
}
END_TEST

START_TEST(test_live_errors)
{
	pid_t	pid;
	int	status;

	errno = 0;
	ck_assert_ptr_null(mw_maps_read(-1));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(mw_maps_read(INT_MIN));
	ck_assert_int_eq(errno, EINVAL);
	/* above PID_MAX_LIMIT (4194304): no such process, ever */
	errno = 0;
	ck_assert_ptr_null(mw_maps_read(0x3fffffff));
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_ptr_null(mw_maps_read(4194304 + 1));
	ck_assert_int_eq(errno, ESRCH);
	/* a child that is gone */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	errno = 0;
	ck_assert_ptr_null(mw_maps_read(pid));
	ck_assert_int_eq(errno, ESRCH);
}
END_TEST

/* ---- the suite ----------------------------------------------------- */

static Suite *
maps_suite(void)
{
	Suite	*s = suite_create("maps");
	TCase	*tc;

	tc = tcase_create("fields");
	tcase_add_test(tc, test_fields_target);
	tcase_add_test(tc, test_fields_synth);
	tcase_add_loop_test(tc, test_fields_vs_reference, 0, NCLEAN);
	tcase_add_test(tc, test_fields_own_copy);
	tcase_add_test(tc, test_fields_empty);
	tcase_add_test(tc, test_fields_len_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("counts");
	tcase_add_loop_test(tc, test_count_clean, 0, NCLEAN);
	tcase_add_loop_test(tc, test_invariant_all, 0, NVALID);
	tcase_add_test(tc, test_count_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("torn");
	tcase_add_test(tc, test_torn_duplicates);
	tcase_add_test(tc, test_torn_overlap_later_wins);
	tcase_add_test(tc, test_torn_pairs);
	tcase_add_test(tc, test_torn_order);
	tcase_add_test(tc, test_torn_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("find");
	tcase_add_loop_test(tc, test_find_fixtures, 0, NVALID);
	tcase_add_test(tc, test_find_target);
	tcase_add_test(tc, test_find_top);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_malformed_fixture, 0, NBAD);
	tcase_add_test(tc, test_malformed_deep);
	tcase_add_test(tc, test_malformed_inline);
	suite_add_tcase(s, tc);

	tc = tcase_create("fuzz");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fuzz_prefixes_target);
	tcase_add_test(tc, test_fuzz_prefixes_synth);
	tcase_add_test(tc, test_fuzz_flips_torn);
	tcase_add_test(tc, test_fuzz_flips_synth);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_fault_alloc_parse, 0,
	    (int)(sizeof(alloc_fixtures) / sizeof(alloc_fixtures[0])));
	tcase_add_test(tc, test_fault_alloc_read_self);
	tcase_add_test(tc, test_fault_alloc_read_big);
	tcase_add_test(tc, test_fault_short_reads);
	tcase_add_test(tc, test_fault_short_reads_big);
	tcase_add_test(tc, test_fault_read_fail);
	suite_add_tcase(s, tc);

	tc = tcase_create("live");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_live_vs_kernel);
	tcase_add_test(tc, test_live_vs_kernel_threads);
	tcase_add_test(tc, test_live_vs_kernel_many);
	tcase_add_test(tc, test_live_odd_mappings);
	tcase_add_test(tc, test_live_self);
	tcase_add_test(tc, test_live_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("torn_chain");
	tcase_add_test(tc, test_torn_chain);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(maps_suite());
}
