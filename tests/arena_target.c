/*
 * arena_target.c: a live process whose glibc malloc has several arenas,
 * an arena of two heaps, and chunks served by mmap (glibc.c tests).
 *
 *   arena_target [--threads T] [--info PATH]
 *
 * It starts T threads (default 4), all alive at once (a barrier), then
 * lets them call malloc one after the other, so that glibc gives each
 * its own arena, newest first in the ring of arenas. Thread i allocates
 * a few small blocks and 2i more GROW_BLOCK blocks, so that every arena
 * has its own size; thread 0 allocates GROW_TOTAL bytes in GROW_BLOCK
 * blocks, below the mmap threshold, so its arena outgrows one 64 MiB
 * heap and takes a second. Before the threads start, the main thread
 * reserves HOLE bytes of address space and frees them once thread 0
 * has its arena: the later arenas' heaps go into that hole, above
 * thread 0's, so the ring's order (malloc_info's "<heap nr=N>") is
 * not the order of the arenas' addresses.
 *
 * The main thread then allocates the big blocks of big_sizes[], which
 * malloc serves by mmap, and prints for each "bigN 0xPTR" and
 * "bigsizeN 0xSIZE" (the size asked for). With --info it writes
 * malloc_info(0, fp) to PATH, then it prints "ready" and waits until
 * its stdin closes; the threads stay blocked until the process exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SMALL_BLOCKS	16
#define SMALL_SIZE	100
#define GROW_BLOCK	(64 * 1024)	/* under the 128 KiB threshold */
#define GROW_TOTAL	(100 * 1024 * 1024)	/* over one 64 MiB heap */
#define MAX_THREADS	64
#define HOLE		(512UL * 1024 * 1024)

static const size_t	 big_sizes[] = { 200 * 1024, 1024 * 1024,
			    3 * 1024 * 1024 };
static pthread_barrier_t start_line, done_line;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 moved = PTHREAD_COND_INITIALIZER;
static unsigned int	 turn, done;	/* whose turn; how many are done */

static void
die(const char *what)
{
	perror(what);
	exit(3);
}

static void *
keep(size_t size)
{
	void	*p;

	if ((p = malloc(size)) == NULL)
		die("malloc");
	memset(p, 0xa5, size < 4096 ? size : 4096);
	return p;
}

/* Wait for one's turn to malloc, or for the number done to reach n. */
static void
wait_until(unsigned int *v, unsigned int n)
{
	pthread_mutex_lock(&lock);
	while (*v != n)
		pthread_cond_wait(&moved, &lock);
	pthread_mutex_unlock(&lock);
}

static void
set(unsigned int *v, unsigned int n)
{
	pthread_mutex_lock(&lock);
	*v = n;
	pthread_cond_broadcast(&moved);
	pthread_mutex_unlock(&lock);
}

static void *
worker(void *arg)
{
	unsigned int	 index = (unsigned int)(uintptr_t)arg;
	size_t		 grow = 2 * index;
	void		*blocks[SMALL_BLOCKS];

	if (index == 0)
		grow = GROW_TOTAL / GROW_BLOCK;
	pthread_barrier_wait(&start_line);
	wait_until(&turn, index);
	for (int i = 0; i < SMALL_BLOCKS; i++)
		blocks[i] = keep(SMALL_SIZE);
	for (size_t n = 0; n < grow; n++)
		(void)keep(GROW_BLOCK);
	set(&done, index + 1);
	pthread_barrier_wait(&done_line);
	(void)blocks;
	for (;;)
		pause();
	return NULL;
}

/* Start the threads; give them their turns; free the hole after the first. */
static void
start_threads(unsigned int n)
{
	pthread_t	 tid;
	void		*hole;

	hole = mmap(NULL, HOLE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (hole == MAP_FAILED)
		die("mmap");
	if (pthread_barrier_init(&start_line, NULL, n + 1) != 0 ||
	    pthread_barrier_init(&done_line, NULL, n + 1) != 0)
		die("pthread_barrier_init");
	for (unsigned int i = 0; i < n; i++)
		if ((errno = pthread_create(&tid, NULL, worker,
		    (void *)(uintptr_t)i)) != 0)
			die("pthread_create");
	pthread_barrier_wait(&start_line);
	for (unsigned int i = 0; i < n; i++) {
		set(&turn, i);
		wait_until(&done, i + 1);
		if (i == 0 && munmap(hole, HOLE) == -1)
			die("munmap");
	}
	pthread_barrier_wait(&done_line);
}

static void
write_info(const char *path)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		die(path);
	if (malloc_info(0, fp) != 0)
		die("malloc_info");
	if (fclose(fp) != 0)
		die(path);
}

int
main(int argc, char **argv)
{
	const char	*info = NULL;
	unsigned long	 nthreads = 4;
	char		 buf[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			nthreads = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--info") == 0 && i + 1 < argc)
			info = argv[++i];
		else {
			fprintf(stderr, "usage: arena_target [--threads T] "
			    "[--info PATH]\n");
			return 2;
		}
	}
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	if (nthreads > 0)
		start_threads((unsigned int)nthreads);
	for (size_t i = 0; i < sizeof(big_sizes) / sizeof(big_sizes[0]); i++) {
		printf("big%zu 0x%lx\n", i,
		    (unsigned long)(uintptr_t)keep(big_sizes[i]));
		printf("bigsize%zu 0x%zx\n", i, big_sizes[i]);
	}
	if (info != NULL)
		write_info(info);
	printf("ready\n");
	fflush(stdout);
	/* read(2), not stdio: no stdin buffer is allocated from now on. */
	while (read(0, buf, sizeof(buf)) > 0)
		continue;
	return 0;
}
