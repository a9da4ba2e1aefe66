/*
 * check_fuzz.c: the fuzz targets (fuzz/fuzz.h) in the regular builds.
 *
 *   corpus   every seed of fuzz/corpus/<target>/ and every regression
 *            fixture of tests/data/fuzz/<target>/ through its target,
 *            which checks the invariants it states at its top (parse
 *            results sorted and disjoint or a line-numbered EINVAL,
 *            streamed and whole parses alike, tokens where the line
 *            has them, symbols at or below their addresses, diff
 *            output that is JSON, ...): each file must keep them, in
 *            the plain build and under ASan and UBSan
 *   fixed    what the code fixed after a finding answers now, one test
 *            per regression fixture (tests/data/fuzz/README)
 *
 * Each file is read into a buffer of its exact size, so that ASan sees
 * any read past its end.
 */
#include "config.h"

#include <dirent.h>
#include <sys/stat.h>

#include "cli.h"
#include "fuzz.h"
#include "json.h"
#include "tutil.h"

typedef const char *(*target_fn)(const uint8_t *, size_t);

static const struct {
	const char	*name;
	target_fn	 fn;
	size_t		 min_seeds;	/* fuzz/corpus/<name> has at least */
} targets[] = {
	{ "maps", fuzz_maps, 5 },
	{ "smaps", fuzz_smaps, 5 },
	{ "where", fuzz_where, 4 },
	{ "elfsym", fuzz_elfsym, 5 },
	{ "snap", fuzz_snap, 4 },
};
#define NTARGETS	((int)(sizeof(targets) / sizeof(targets[0])))

static uint8_t *
read_exact(const char *path, size_t *len)
{
	struct stat	 st;
	uint8_t		*buf;
	FILE		*fp;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) == -1)
		ck_abort_msg("%s: %s", path, strerror(errno));
	*len = (size_t)st.st_size;
	buf = malloc(*len > 0 ? *len : 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, *len, fp), *len);
	fclose(fp);
	return buf;
}

/* Every file of dir through fn; how many there were (dir may lack). */
static size_t
run_dir(const char *dir, target_fn fn)
{
	struct dirent	*e;
	DIR		*d;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		ck_assert_msg(errno == ENOENT, "%s: %s", dir, strerror(errno));
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char		 path[2048];
		const char	*why;
		uint8_t		*buf;
		size_t		 len;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf = read_exact(path, &len);
		why = fn(buf, len);
		ck_assert_msg(why == NULL, "%s: %s", path, why);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(test_corpus)
{
	char	dir[1024];
	size_t	n;

	fuzz_thorough = true;
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", TOP_SRCDIR,
	    targets[_i].name);
	n = run_dir(dir, targets[_i].fn);
	ck_assert_msg(n >= targets[_i].min_seeds, "%s: %zu seeds, want %zu",
	    dir, n, targets[_i].min_seeds);
	snprintf(dir, sizeof(dir), "%s/tests/data/fuzz/%s", TOP_SRCDIR,
	    targets[_i].name);
	(void)run_dir(dir, targets[_i].fn);
}
END_TEST

/* ---- fixed after a finding -------------------------------------------- */

/*
 * where/double_prefix: "0x0x77fb" was 0x77fb (strtoull took a "0x" of its
 * own after the one addr_parse skipped).
 */
START_TEST(test_where_double_prefix)
{
	static const char *const bad[] = {
		"0x0x77fb", "0x0X1", "0X0x1", "0x0x",
	};
	const char	*why;
	uint64_t	 v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_int_eq(addr_parse(bad[i], &v, &why), -1);
		ck_assert_str_eq(why, "not a hex (0x...) or decimal address");
	}
	ck_assert_int_eq(addr_parse("0x077fb", &v, &why), 0);
	ck_assert_uint_eq(v, 0x77fb);
	ck_assert_int_eq(addr_parse("0X77FB", &v, &why), 0);
	ck_assert_uint_eq(v, 0x77fb);
}
END_TEST

struct tokens {
	size_t		 n;
	uint64_t	 addr[4];
	const char	*why[4];
	char		 text[4][64];
};

static int
keep_token(void *ctx, const char *token, uint64_t addr, const char *why)
{
	struct tokens	*t = ctx;

	ck_assert_uint_lt(t->n, 4);
	ck_assert_uint_le(strlen(token), 63);
	strcpy(t->text[t->n], token);
	t->addr[t->n] = addr;
	t->why[t->n++] = why;
	return 0;
}

/*
 * where/long_zeros: a token longer than 63 bytes was cut to its first
 * 63, so "0x" and 70 zeros and "1" was 0x0, and "0x" and 61 zeros and
 * "dead" was 0x0 too: leading zeros go first now.
 */
START_TEST(test_where_long_zeros)
{
	struct tokens	t = { 0 };
	char		line[400], *p = line;

	p += sprintf(p, "a 0x%070d, b 0x", 1);
	memset(p, '0', 61);
	p += 61;
	p += sprintf(p, "dead c 0x1");
	memset(p, 'f', 70);
	strcpy(p + 70, " d");
	ck_assert_int_eq(addr_scan_line(line, keep_token, &t), 0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_ptr_null(t.why[0]);
	ck_assert_uint_eq(t.addr[0], 1);
	ck_assert_ptr_null(t.why[1]);
	ck_assert_uint_eq(t.addr[1], 0xdead);
	ck_assert_str_eq(t.why[2], "beyond 64 bits");
	ck_assert_uint_eq(strlen(t.text[2]), 63);
	ck_assert(strncmp(t.text[2], "0x1fff", 6) == 0);
}
END_TEST

/*
 * snap/rss_delta_int64_min: a delta of -2^63 (Rss from 0 to 2^63 wraps
 * there) was negated as an int64_t, which UBSan stops at.
 */
START_TEST(test_snap_int64_min)
{
	char	buf[64];
	ssize_t	n;
	int	fd = fuzz_memfd("out");

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(out_set_fd(fd), 0);
	out_signed_size(INT64_MIN, 0);
	out_char(' ');
	out_signed_size(INT64_MAX, 0);
	out_char(' ');
	out_signed_size(-4096, 7);
	ck_assert_int_eq(out_set_fd(STDOUT_FILENO), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "-8E +8.0E   -4.0K");
	close(fd);
}
END_TEST

/* cmd_diff on two texts; its exit status, and what it printed in out. */
static int
diff_texts(const char *a, const char *b, bool json, char *out, size_t size)
{
	struct options	 o = { .json = json };
	char		 pa[64], pb[64], *argv[] = { pa, pb, NULL };
	int		 fa = fuzz_memfd("a"), fb = fuzz_memfd("b");
	int		 fo = fuzz_memfd("out"), rc;
	ssize_t		 n;

	ck_assert(fa != -1 && fb != -1 && fo != -1);
	ck_assert_int_eq(fuzz_memfd_set(fa, a, strlen(a)), 0);
	ck_assert_int_eq(fuzz_memfd_set(fb, b, strlen(b)), 0);
	snprintf(pa, sizeof(pa), "/proc/self/fd/%d", fa);
	snprintf(pb, sizeof(pb), "/proc/self/fd/%d", fb);
	ck_assert_int_eq(out_set_fd(fo), 0);
	rc = cmd_diff(&o, 2, argv);
	ck_assert_int_eq(out_set_fd(STDOUT_FILENO), 0);
	n = pread(fo, out, size - 1, 0);
	ck_assert_int_ge(n, 0);
	out[n] = '\0';
	close(fa);
	close(fb);
	close(fo);
	return rc;
}

/*
 * snap/time_inf_apart: snapshots taken at -1e308 and 1e308 s were "inf"
 * seconds apart, and diff --json printed that, which is no JSON; times
 * far apart were cut to 31 digits. A time must be seconds since the
 * epoch below 2^53 now, or the file is malformed.
 */
START_TEST(test_snap_time)
{
	static const char *const bad[] = { "-1e308", "1e308", "-0.5",
	    "9007199254740992" };
	char	 a[160], b[160], err[160], out[4096];
	struct json *j;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(a, sizeof(a), "{\"snapshot\": {\"format\": 1, "
		    "\"time\": %s}, \"regions\": []}", bad[i]);
		ck_assert_int_eq(diff_texts(a, a, true, out, sizeof(out)),
		    EXIT_TARGET);
		ck_assert_str_eq(out, "");
	}
	snprintf(a, sizeof(a), "{\"snapshot\": {\"format\": 1, \"time\": 0}, "
	    "\"regions\": []}");
	snprintf(b, sizeof(b), "{\"snapshot\": {\"format\": 1, \"time\": "
	    "9007199254740991}, \"regions\": []}");
	ck_assert_int_eq(diff_texts(a, b, true, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(j = json_parse(out, strlen(out), err, sizeof(err)));
	ck_assert_ptr_nonnull(json_get(j, "seconds"));
	ck_assert(json_get(j, "seconds")->number == 9007199254740991.0);
	json_free(j);
	ck_assert_int_eq(diff_texts(b, a, false, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, ": -9007199254740991.0 s apart\n"));
}
END_TEST

static Suite *
fuzz_suite(void)
{
	Suite	*s = suite_create("fuzz");
	TCase	*tc;

	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_corpus, 0, NTARGETS);
	suite_add_tcase(s, tc);

	tc = tcase_create("fixed");
	tcase_add_test(tc, test_where_double_prefix);
	tcase_add_test(tc, test_where_long_zeros);
	tcase_add_test(tc, test_snap_int64_min);
	tcase_add_test(tc, test_snap_time);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(fuzz_suite());
}
