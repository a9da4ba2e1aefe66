/*
 * frames.c: ns per call of an in-process stack capture 10 frames deep
 * (issue 5's goal: mw_backtrace under 150 ns): mw_backtrace against
 * unw_backtrace and glibc's backtrace (found in libc.so.6 itself, as
 * libunwind's alias may shadow it), and mw_frames with and without
 * names; ROUNDS rounds, each method once per round in turn, medians.
 *
 *   make -C bench frames MWLIB=build/lib/.libs && \
 *       LD_LIBRARY_PATH=build/lib/.libs bench/frames
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

#define ROUNDS	15
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

int main(void) {
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	double ns[M_N][ROUNDS];
	glibc_bt = (int (*)(void **, int))dlsym(h, "backtrace");
	printf("glibc backtrace %p, unw_backtrace %p, 'backtrace' here %p\n", (void *)glibc_bt, (void *)unw_backtrace, dlsym(RTLD_DEFAULT, "backtrace"));
	for (method = 0; method < M_N; method++) rec(5, 10);	/* warm: caches, first calls */
	for (int r = 0; r < ROUNDS; r++)
		for (method = 0; method < M_N; method++) {
			long long t0 = now();
			rec(5, iters[method]);
			ns[method][r] = (double)(now() - t0) / iters[method];
		}
	for (method = 0; method < M_N; method++) {
		int frames;

		rec(5, 1);
		frames = got;
		qsort(ns[method], ROUNDS, sizeof(double), cmp);
		printf("%-18s %2d frames  median %9.1f ns  (min %.1f, max %.1f)\n", mname[method], frames, ns[method][ROUNDS / 2], ns[method][0], ns[method][ROUNDS - 1]);
	}
	return 0;
}
