/*
 * stack_target.c: threads parked at known call chains, for memwalk stack.
 *
 *   stack_target [--threads N] [--chain D] [--spin] [--maps M]
 *                [--fact N | --tail N]
 *
 * N threads (default 2), named "chain-1" .. "chain-N", each call
 *
 *   thread_main -> deep(D) -> deep(D-1) ... deep(0) -> chain_a ->
 *   chain_b -> chain_c -> park                 (D + 1 frames of deep)
 *
 * and block in read(2) on a pipe nobody writes. With --spin one more,
 * "spinner", counts forever (always running). The main thread takes
 * the same chain to park on stdin, or with --fact N the article's
 * factorial (n * fact(n - 1): no tail call, one frame per level) and
 * with --tail N a tail-recursive one, compiled for sibling calls (one
 * frame whatever N). With --maps M it first maps M more pages of
 * alternating protection, M mappings (bench/: memwalk stack must not
 * slow down with the maps). It prints "tidK 0x..." per thread, then
 * "ready", and exits when stdin closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_THREADS	1024

static int		 pipefd[2];
static int		 chain_depth = 3;
static pid_t		 tids[MAX_THREADS];
static pthread_barrier_t ready;
static volatile unsigned long spins;

/* The asm after each call keeps it from being a tail call. */
#define NO_TAIL()	__asm__ volatile("" ::: "memory")

static void __attribute__((noinline))
park(int fd)
{
	char	c;

	while (read(fd, &c, 1) == -1 && errno == EINTR)
		continue;
	NO_TAIL();
}

static void __attribute__((noinline))
chain_c(int fd)
{
	park(fd);
	NO_TAIL();
}

static void __attribute__((noinline))
chain_b(int fd)
{
	chain_c(fd);
	NO_TAIL();
}

static void __attribute__((noinline))
chain_a(int fd)
{
	chain_b(fd);
	NO_TAIL();
}

static void __attribute__((noinline))
deep(int fd, int d)
{
	if (d <= 0)
		chain_a(fd);
	else
		deep(fd, d - 1);
	NO_TAIL();
}

/* The article's factorial: the multiplication waits for the call. */
static long __attribute__((noinline))
fact(long n)
{
	long	r;

	if (n <= 1) {
		park(0);
		return 1;
	}
	r = fact(n - 1);
	NO_TAIL();
	return n * r;
}

/* Tail-recursive: with sibling calls, the recursion is a jump. */
static long __attribute__((noinline, optimize("O2", "optimize-sibling-calls")))
fact_tail(long n, long acc)
{
	if (n <= 1) {
		park(0);
		return acc;
	}
	return fact_tail(n - 1, acc * n);
}

/* n pages, every other one read-only: n mappings the kernel cannot merge. */
static int
many_maps(long n)
{
	long	 pg = sysconf(_SC_PAGESIZE);
	char	*base = mmap(NULL, (size_t)(n * pg), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return -1;
	for (long i = 0; i < n; i++)
		base[i * pg] = 1;
	for (long i = 1; i < n; i += 2)
		if (mprotect(base + i * pg, (size_t)pg, PROT_READ) == -1)
			return -1;
	return 0;
}

static void *
thread_main(void *arg)
{
	int	k = (int)(long)arg;

	tids[k] = gettid();
	pthread_barrier_wait(&ready);
	deep(pipefd[0], chain_depth);
	return NULL;
}

static void *
spinner_main(void *arg)
{
	(void)arg;
	tids[0] = gettid();
	pthread_barrier_wait(&ready);
	for (;;)
		spins++;
	return NULL;
}

static void
start(int k, void *(*fn)(void *), const char *name)
{
	pthread_attr_t	attr;
	pthread_t	th;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&th, &attr, fn, (void *)(long)k) != 0) {
		perror("pthread_create");
		exit(3);
	}
	pthread_setname_np(th, name);
	pthread_attr_destroy(&attr);
}

int
main(int argc, char **argv)
{
	int	nthreads = 2, spin = 0;
	long	fact_n = 0, tail_n = 0, maps = 0;
	char	name[16];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--spin") == 0)
			spin = 1;
		else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
			nthreads = atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--chain") == 0)
			chain_depth = atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--maps") == 0)
			maps = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--fact") == 0)
			fact_n = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--tail") == 0)
			tail_n = atol(argv[++i]);
		else {
			fprintf(stderr, "stack_target: bad argument %s\n",
			    argv[i]);
			return 2;
		}
	}
	if (nthreads < 0 || nthreads >= MAX_THREADS || pipe(pipefd) == -1)
		return 2;
	if (maps > 0 && many_maps(maps) == -1) {
		perror("stack_target: --maps");
		return 3;
	}
	pthread_barrier_init(&ready, NULL, (unsigned)(nthreads + spin + 1));
	for (int k = 1; k <= nthreads; k++) {
		snprintf(name, sizeof(name), "chain-%d", k);
		start(k, thread_main, name);
	}
	if (spin)
		start(0, spinner_main, "spinner");
	pthread_barrier_wait(&ready);
	for (int k = 1; k <= nthreads; k++)
		printf("tid%d 0x%x\n", k, (unsigned)tids[k]);
	if (spin)
		printf("spin_tid 0x%x\n", (unsigned)tids[0]);
	printf("ready\n");
	fflush(stdout);
	if (fact_n > 0)
		return fact(fact_n) > 0 ? 0 : 1;
	if (tail_n > 0)
		return fact_tail(tail_n, 1) != 0 ? 0 : 1;
	deep(0, chain_depth);
	return 0;
}
