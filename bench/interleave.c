/*
 * interleave.c: churn's patterns with several allocators in one process,
 * their segments interleaved, for A/B comparisons on a noisy machine.
 *
 * usage: interleave [-p random|batch] [-r rounds] [-n ops] lib.so ...
 *
 * Each lib.so is dlopen'ed on its own (RTLD_LOCAL: two builds of
 * libmemwalk are two allocators) and called through mw_malloc/mw_free,
 * or mi_malloc/mi_free when it has them. Each gets its own working set
 * of 100,000 blocks (sizes 8..512, each block's first byte written, as
 * churn does). Then, for every round, each allocator runs a segment of
 * ops operations of the pattern in turn (the order rotated each round,
 * after 2 warm-up rounds): the allocators share the machine's state of
 * the moment, so that the ratio of two segments of one round is paired.
 * The report gives each allocator's median and minimum ns per operation
 * and the median of its per-round ratio to the first library.
 *
 * No peak RSS (one process holds them all) and no glibc or jemalloc
 * (this process's malloc, and jemalloc cannot be dlopen'ed): bench/churn
 * measures those, and the goals.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKING_SET	100000
#define MIN_SIZE	8
#define MAX_SIZE	512
#define MAX_ROUNDS	1000
#define WARM_UP		2

struct alloc {
	const char	*path;
	void		*(*alloc)(size_t);
	void		 (*release)(void *);
	void		**live;
	uint64_t	 seed;
	double		 ns[MAX_ROUNDS];
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *
taken(struct alloc *a)
{
	void	*p = a->alloc(MIN_SIZE + next_rand(&a->seed) %
		    (MAX_SIZE - MIN_SIZE + 1));

	if (p == NULL) {
		fprintf(stderr, "interleave: out of memory\n");
		exit(1);
	}
	*(volatile char *)p = 1;
	return p;
}

static int
load(struct alloc *a, const char *path)
{
	void	*h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int	 mi;

	if (h == NULL) {
		fprintf(stderr, "interleave: %s\n", dlerror());
		return -1;
	}
	mi = dlsym(h, "mi_malloc") != NULL;
	a->alloc = (void *(*)(size_t))dlsym(h, mi ? "mi_malloc" : "mw_malloc");
	a->release = (void (*)(void *))dlsym(h, mi ? "mi_free" : "mw_free");
	if (a->alloc == NULL || a->release == NULL) {
		fprintf(stderr, "interleave: %s: no mw_malloc or mi_malloc\n",
		    path);
		return -1;
	}
	a->path = path;
	a->seed = 88172645463325252ULL;
	if ((a->live = calloc(WORKING_SET, sizeof(*a->live))) == NULL)
		return -1;
	for (long i = 0; i < WORKING_SET; i++)
		a->live[i] = taken(a);
	return 0;
}

static double
now_ns(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* One segment of ops operations (an allocation or a free each). */
static double
segment(struct alloc *a, int batch, long ops)
{
	double	t0 = now_ns();
	long	done = 0;

	if (batch)
		for (; done < ops; done += 2 * WORKING_SET) {
			for (long i = 0; i < WORKING_SET; i++)
				a->release(a->live[i]);
			for (long i = 0; i < WORKING_SET; i++)
				a->live[i] = taken(a);
		}
	else
		for (; done < ops; done += 2) {
			size_t	k = next_rand(&a->seed) % WORKING_SET;

			a->release(a->live[k]);
			a->live[k] = taken(a);
		}
	return (now_ns() - t0) / (double)done;
}

static int
cmp_double(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static void
report(struct alloc *v, int n, int rounds)
{
	double	t[MAX_ROUNDS], r[MAX_ROUNDS];

	for (int i = 0; i < n; i++) {
		for (int k = 0; k < rounds; k++) {
			t[k] = v[i].ns[k];
			r[k] = v[i].ns[k] / v[0].ns[k];
		}
		qsort(t, (size_t)rounds, sizeof(t[0]), cmp_double);
		qsort(r, (size_t)rounds, sizeof(r[0]), cmp_double);
		printf("%-48s median %6.2f  min %6.2f ns/op  vs first %.3fx\n",
		    v[i].path, t[rounds / 2], t[0], r[rounds / 2]);
	}
}

int
main(int argc, char *argv[])
{
	struct alloc	*v;
	int		 ch, n, rounds = 100, batch = 0;
	long		 ops = 600000;

	while ((ch = getopt(argc, argv, "n:p:r:")) != -1)
		switch (ch) {
		case 'n':
			ops = strtol(optarg, NULL, 10);
			break;
		case 'p':
			batch = strcmp(optarg, "batch") == 0;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			goto usage;
		}
	if ((n = argc - optind) < 1 || rounds < 1 || rounds > MAX_ROUNDS ||
	    ops < 2)
		goto usage;
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL)
		return 1;
	for (int i = 0; i < n; i++)
		if (load(&v[i], argv[optind + i]) == -1)
			return 1;
	printf("interleave: %s, %ld operations a segment, %d rounds after %d\n",
	    batch ? "batch" : "random", ops, rounds, WARM_UP);
	for (int k = -WARM_UP; k < rounds; k++)
		for (int j = 0; j < n; j++) {
			int	i = ((k + WARM_UP) + j) % n;
			double	ns = segment(&v[i], batch, ops);

			if (k >= 0)
				v[i].ns[k] = ns;
		}
	report(v, n, rounds);
	return 0;
usage:
	fprintf(stderr, "usage: interleave [-p random|batch] [-r rounds] "
	    "[-n ops] lib.so ...\n");
	return 2;
}
