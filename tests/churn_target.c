/*
 * churn_target.c: a live process whose memory changes while memwalk
 * reads it, for tests/faults.py.
 *
 *   churn_target [--threads N] [--execs N] [--life MS]
 *
 *   --threads N  N workers, each looping over a ring of RING slots:
 *                unmap the slot's old mapping, map 1..MAX_PAGES fresh
 *                anonymous pages with a random protection, touch them,
 *                mprotect a page of it; worker 0 also starts and joins a
 *                short-lived thread every LOOPS_PER_THREAD loops, so
 *                threads appear and vanish (default 2)
 *   --execs N    execve itself N times (--execs N-1), each image living
 *                --life MS milliseconds (default 2) with its workers
 *                running, then exits 0: the PID stays, the map is
 *                replaced under the reader
 *
 * Without --execs it prints "ready" once the workers run and churns
 * until its stdin closes, then exits 0. It only maps anonymous memory:
 * nothing to clean up.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RING			64
#define MAX_PAGES		16
#define LOOPS_PER_THREAD	32
#define PAGE			4096

static const int	 prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
			    PROT_NONE };

static void *
nap(void *arg)
{
	(void)arg;
	usleep(100);
	return NULL;
}

static void
churn_slot(void **slot, size_t *len, unsigned int *seed)
{
	size_t	pages = 1 + rand_r(seed) % MAX_PAGES;
	void	*p;

	if (*slot != NULL)
		munmap(*slot, *len);
	*slot = NULL;
	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	memset(p, 0x5a, pages * PAGE);
	mprotect(p, PAGE, prots[rand_r(seed) % 3]);
	*slot = p;
	*len = pages * PAGE;
}

static void *
worker(void *arg)
{
	void		*ring[RING] = { 0 };
	size_t		 len[RING] = { 0 };
	unsigned int	 seed = (unsigned int)(uintptr_t)arg + 1;
	unsigned long	 loops = 0;

	for (;;) {
		size_t	i = rand_r(&seed) % RING;

		churn_slot(&ring[i], &len[i], &seed);
		if ((uintptr_t)arg == 0 && ++loops % LOOPS_PER_THREAD == 0) {
			pthread_t	t;

			if (pthread_create(&t, NULL, nap, NULL) == 0)
				pthread_join(t, NULL);
		}
	}
	return NULL;
}

static void
reexec(char **argv, long execs, long life_ms)
{
	char	count[32], life[32], opt_execs[] = "--execs",
		opt_life[] = "--life", opt_threads[] = "--threads", one[] = "1";
	char	*args[] = { argv[0], opt_execs, count, opt_life, life,
		    opt_threads, one, NULL };

	usleep((useconds_t)life_ms * 1000);
	if (execs <= 0)
		exit(0);
	snprintf(count, sizeof(count), "%ld", execs - 1);
	snprintf(life, sizeof(life), "%ld", life_ms);
	execv("/proc/self/exe", args);
	perror("execv");
	exit(3);
}

int
main(int argc, char **argv)
{
	long	threads = 2, execs = -1, life_ms = 2;
	char	buf[64];

	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--threads") == 0)
			threads = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--execs") == 0)
			execs = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--life") == 0)
			life_ms = atol(argv[i + 1]);
	for (long i = 0; i < threads; i++) {
		pthread_t	t;

		if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)i))
			return 3;
	}
	if (execs >= 0)
		reexec(argv, execs, life_ms);
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		continue;
	return 0;
}
