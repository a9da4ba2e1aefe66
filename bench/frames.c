/*
 * frames.c: ns per call of an in-process stack capture 10 frames deep
 * (issue 5's goal: mw_backtrace under 150 ns): mw_backtrace against
 * unw_backtrace and glibc's backtrace (found in libc.so.6 itself, as
 * libunwind's alias may shadow it), and mw_frames with and without
 * names; -r rounds (default 15), each method once per round in turn;
 * a markdown table of the median, min and p90 of ns per call with the
 * ratios to unw_backtrace and glibc's backtrace (of medians and the
 * median of per-round ratios), the goal, and a `goal` line to
 * $BENCH_DATA for bench/all (see harness.h).
 *
 *   make -C bench frames MWLIB=build/lib/.libs && \
 *       LD_LIBRARY_PATH=build/lib/.libs bench/frames [-r rounds]
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <memwalk.h>

#define MAX_ROUNDS	64
enum { M_MW, M_MW64, M_UNW, M_GLIBC, M_FRAMES, M_FRAMES_NAMES, M_N };
static const char *mname[M_N] = { "mw_backtrace(32)", "mw_backtrace(64)", "unw_backtrace", "glibc backtrace", "mw_frames NONAMES", "mw_frames names" };
static long iters[M_N] = { 200000, 200000, 200000, 20000, 2000, 200 };
static int (*glibc_bt)(void **, int);
static int method, got;
static void *ips[64];
static struct mw_frame fr[64];
static volatile int sink;

static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }

__attribute__((noipa)) static void leaf(long n) {
	for (long i = 0; i < n; i++) {
		switch (method) {
		case M_MW: got = mw_backtrace(ips, 32); break;
		case M_MW64: got = mw_backtrace(ips, 64); break;
		case M_UNW: got = unw_backtrace(ips, 64); break;
		case M_GLIBC: got = glibc_bt(ips, 64); break;
		case M_FRAMES: got = mw_frames(fr, 64, MW_FRAMES_NONAMES); break;
		case M_FRAMES_NAMES: got = mw_frames(fr, 64, 0); break;
		}
	}
	sink = got;
}
__attribute__((noipa)) static void rec(int d, long n) { if (d > 1) rec(d - 1, n); else leaf(n); sink = d; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

/* median, min, p90 (nearest rank) of n values; v is left as it was */
static void stats(const double *v, int n, double *med, double *min, double *p90) {
	double s[MAX_ROUNDS];
	int k = (9 * n + 9) / 10 - 1;

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(double), cmp);
	*med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	*min = s[0];
	*p90 = s[k < 0 ? 0 : k];
}

static double median_of(const double *v, int n) { double m, lo, hi; stats(v, n, &m, &lo, &hi); return m; }

/* the median over rounds of a[r] / b[r] */
static double per_round(const double *a, const double *b, int n) {
	double v[MAX_ROUNDS];

	for (int r = 0; r < n; r++)
		v[r] = a[r] / b[r];
	return median_of(v, n);
}

int main(int argc, char **argv) {
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	static double ns[M_N][MAX_ROUNDS];
	int rounds = 15, frames[M_N];
	const char *data = getenv("BENCH_DATA");

	if (argc == 3 && strcmp(argv[1], "-r") == 0)
		rounds = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: frames [-r rounds]\n");
		return 2;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "frames: -r: 1 to %d rounds\n", MAX_ROUNDS);
		return 2;
	}
	glibc_bt = (int (*)(void **, int))dlsym(h, "backtrace");
	printf("glibc backtrace %p, unw_backtrace %p, 'backtrace' here %p\n", (void *)glibc_bt, (void *)unw_backtrace, dlsym(RTLD_DEFAULT, "backtrace"));
	printf("rounds: %d, each method once per round in turn (calls per round: %ld, %ld, %ld, %ld, %ld, %ld)\n\n", rounds, iters[0], iters[1], iters[2], iters[3], iters[4], iters[5]);
	for (method = 0; method < M_N; method++) rec(5, 10);	/* warm: caches, first calls */
	for (int r = 0; r < rounds; r++)
		for (method = 0; method < M_N; method++) {
			long long t0 = now();
			rec(5, iters[method]);
			ns[method][r] = (double)(now() - t0) / iters[method];
		}
	printf("| capture | frames | median ns per call | min | p90 | vs unw_backtrace (of medians) | (per round) | vs glibc backtrace (per round) |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (method = 0; method < M_N; method++) {
		double med, min, p90;

		rec(5, 1);
		frames[method] = got;
		stats(ns[method], rounds, &med, &min, &p90);
		printf("| `%s` | %d | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.3fx |\n", mname[method], frames[method], med, min, p90,
		    med / median_of(ns[M_UNW], rounds), per_round(ns[method], ns[M_UNW], rounds), per_round(ns[method], ns[M_GLIBC], rounds));
	}
	{
		double med, min, p90;

		stats(ns[M_MW], rounds, &med, &min, &p90);
		printf("\n| goal | figure | verdict |\n|---|---:|---|\n");
		printf("| fast capture (`mw_backtrace`) at depth %d under 150 ns (median) | %.1f ns | %s |\n", frames[M_MW], med, med < 150 ? "met" : "NOT met");
		if (data != NULL && *data != '\0') {
			FILE *f = fopen(data, "a");

			if (f != NULL) {
				fprintf(f, "goal\tframes\tfast capture (`mw_backtrace`) at depth %d under 150 ns\t%.6g\tns\t<\t150\tmedian\tmin %.1f ns, p90 %.1f ns; %.2fx unw_backtrace's time, %.3fx glibc backtrace's (per round)\n",
				    frames[M_MW], med, min, p90, per_round(ns[M_MW], ns[M_UNW], rounds), per_round(ns[M_MW], ns[M_GLIBC], rounds));
				fclose(f);
			}
		}
	}
	return 0;
}
