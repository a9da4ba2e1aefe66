/*
 * churn.c: small-object churn, the bundled allocator against glibc
 * malloc, mimalloc and jemalloc (issue 4's benchmark).
 *
 * usage: churn [-l libmemwalk.so] [-n ops] [-r rounds] [-o out.md]
 *
 * Two patterns, sizes uniform in 8..512 from a fixed seed, each block's
 * first byte written:
 *   random   a working set of 100,000 live blocks; each step frees a
 *            random one and allocates a new one in its place
 *   batch    100,000 allocations, then their 100,000 frees, in order
 * An operation is one allocation or one free: 20 million by default.
 * Each is run single-threaded and with 2 threads (each thread its own
 * working set and half the operations).
 *
 * Every allocator is called through a pointer from dlsym, glibc's too,
 * so that none is inlined and all pay the same call: memwalk and
 * mimalloc are loaded with dlopen, jemalloc (whose TLS cannot be
 * dlopen'ed) with LD_PRELOAD. Each run is a process of its own, this
 * program executed again with -C, so that its peak RSS (ru_maxrss of
 * wait4) is its own. Rounds run every (pattern, threads, allocator)
 * once, the allocators in a rotated order; the report gives medians of
 * ns per operation and of peak RSS, and their ratios to glibc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKING_SET	100000
#define MIN_SIZE	8
#define MAX_SIZE	512

struct impl {
	const char	*name;
	const char	*lib;		/* dlopen'ed; NULL: this process */
	const char	*malloc_sym, *free_sym;
	void		*(*alloc)(size_t);
	void		 (*release)(void *);
};

static struct impl impls[] = {
	{ "glibc", NULL, "malloc", "free", NULL, NULL },
	{ "memwalk", NULL, "mw_malloc", "mw_free", NULL, NULL },
	{ "mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free", NULL, NULL },
	/* initial-exec TLS: it cannot be dlopen'ed, so it is preloaded */
	{ "jemalloc", NULL, "malloc", "free", NULL, NULL },
};
#define NIMPL	(sizeof(impls) / sizeof(impls[0]))

static const char *patterns[] = { "random", "batch" };
static const int threads_of[] = { 1, 2 };

struct job {
	const struct impl *im;
	int		 pattern;
	long		 ops;
	uint64_t	 seed;
	double		 ns;
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
size_of(uint64_t *s)
{
	return MIN_SIZE + next_rand(s) % (MAX_SIZE - MIN_SIZE + 1);
}

static void *
checked(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "churn: out of memory\n");
		exit(1);
	}
	*(volatile char *)p = 1;
	return p;
}

static void
run_random(const struct impl *im, long ops, uint64_t seed)
{
	void	**live = calloc(WORKING_SET, sizeof(*live));
	uint64_t s = seed;

	for (long i = 0; i < WORKING_SET; i++)
		live[i] = checked(im->alloc(size_of(&s)));
	for (long i = 0; i < ops / 2; i++) {
		size_t	k = next_rand(&s) % WORKING_SET;

		im->release(live[k]);
		live[k] = checked(im->alloc(size_of(&s)));
	}
	for (long i = 0; i < WORKING_SET; i++)
		im->release(live[i]);
	free(live);
}

static void
run_batch(const struct impl *im, long ops, uint64_t seed)
{
	void	**live = calloc(WORKING_SET, sizeof(*live));
	uint64_t s = seed;

	for (long done = 0; done < ops; done += 2 * WORKING_SET) {
		for (long i = 0; i < WORKING_SET; i++)
			live[i] = checked(im->alloc(size_of(&s)));
		for (long i = 0; i < WORKING_SET; i++)
			im->release(live[i]);
	}
	free(live);
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *
job_main(void *arg)
{
	struct job	*j = arg;

	if (j->pattern == 0)
		run_random(j->im, j->ops, j->seed);
	else
		run_batch(j->im, j->ops, j->seed);
	return NULL;
}

/*
 * In the child: load the allocator, warm it with a short run, time the
 * pattern on nthreads threads, write ns per operation to fd.
 */
static void
child(struct impl *im, int pattern, int nthreads, long ops, int fd)
{
	pthread_t	 th[2];
	struct job	 jobs[2];
	void		*h = RTLD_DEFAULT;
	double		 t0, ns;

	if ((im->lib != NULL &&
	    (h = dlopen(im->lib, RTLD_NOW | RTLD_LOCAL)) == NULL) ||
	    (im->alloc = dlsym(h, im->malloc_sym)) == NULL ||
	    (im->release = dlsym(h, im->free_sym)) == NULL) {
		fprintf(stderr, "churn: %s: %s\n", im->name, dlerror());
		_exit(1);
	}
	for (int i = 0; i < nthreads; i++)
		jobs[i] = (struct job){ im, pattern, ops / nthreads,
		    0x9e3779b97f4a7c15ULL + (uint64_t)i, 0 };
	t0 = now_ns();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, job_main, &jobs[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	ns = (now_ns() - t0) / (double)ops;
	if (write(fd, &ns, sizeof(ns)) != sizeof(ns))
		_exit(1);
	_exit(0);
}

/* One measurement in a child process: ns per op and peak RSS in KiB. */
static int
measure(struct impl *im, int pattern, int nthreads, long ops, double *ns,
    long *rss_kib)
{
	struct rusage	ru;
	int		fds[2], status;
	pid_t		pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		char	a[4][32];

		close(fds[0]);
		snprintf(a[0], sizeof(a[0]), "%d", (int)(im - impls));
		snprintf(a[1], sizeof(a[1]), "%d", pattern);
		snprintf(a[2], sizeof(a[2]), "%d", nthreads);
		snprintf(a[3], sizeof(a[3]), "%ld", ops);
		dup2(fds[1], 3);
		if (strcmp(im->name, "jemalloc") == 0)
			setenv("LD_PRELOAD", "libjemalloc.so.2", 1);
		execl("/proc/self/exe", "churn", "-C", a[0], a[1], a[2], a[3],
		    impls[1].lib, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], ns, sizeof(*ns)) != sizeof(*ns))
		*ns = -1;
	close(fds[0]);
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || *ns < 0)
		return -1;
	*rss_kib = ru.ru_maxrss;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	const char	*lib = "../build/lib/.libs/libmemwalk.so";
	long		 ops = 20 * 1000 * 1000;
	int		 rounds = 5, c;
	enum { NCASE = 2 * 2 };
	double		 ns[NCASE][NIMPL][64], rss[NCASE][NIMPL][64];
	void		*mw;

	if (argc == 7 && strcmp(argv[1], "-C") == 0) {	/* one run */
		impls[1].lib = argv[6];
		child(&impls[atoi(argv[2])], atoi(argv[3]), atoi(argv[4]),
		    atol(argv[5]), 3);
	}
	while ((c = getopt(argc, argv, "l:n:r:")) != -1)
		switch (c) {
		case 'l': lib = optarg; break;
		case 'n': ops = atol(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: churn [-l libmemwalk.so] "
			    "[-n ops] [-r rounds]\n");
			return 2;
		}
	if (rounds < 1 || rounds > 64 || ops < 2 * WORKING_SET)
		return 2;
	if ((mw = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "churn: %s\n", dlerror());
		return 1;
	}
	dlclose(mw);
	impls[1].lib = lib;
	printf("churn: %ld operations per run, sizes %d..%d, working set %d, "
	    "%d rounds; memwalk from %s\n\n", ops, MIN_SIZE, MAX_SIZE,
	    WORKING_SET, rounds, lib);
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < NCASE; k++)
			for (size_t a = 0; a < NIMPL; a++) {
				size_t	i = (a + (size_t)r) % NIMPL;
				long	kib;

				if (measure(&impls[i], k % 2, threads_of[k / 2],
				    ops, &ns[k][i][r], &kib) == -1) {
					fprintf(stderr, "churn: %s failed\n",
					    impls[i].name);
					return 1;
				}
				rss[k][i][r] = (double)kib;
			}
	printf("| pattern | threads | allocator | ns/op | peak RSS MiB | "
	    "ns/op vs glibc | RSS vs glibc |\n|---|---:|---|---:|---:|---:|"
	    "---:|\n");
	for (int k = 0; k < NCASE; k++) {
		double	g_ns = median(ns[k][0], rounds);
		double	g_rss = median(rss[k][0], rounds);

		for (size_t i = 0; i < NIMPL; i++) {
			double	m_ns = median(ns[k][i], rounds);
			double	m_rss = median(rss[k][i], rounds);

			printf("| %s | %d | %s | %.2f | %.1f | %.2fx | %.2fx |\n",
			    patterns[k % 2], threads_of[k / 2], impls[i].name,
			    m_ns, m_rss / 1024, m_ns / g_ns, m_rss / g_rss);
		}
	}
	return 0;
}
