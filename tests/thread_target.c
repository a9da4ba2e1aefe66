/*
 * thread_target.c: threads in known places, for the threads.c tests.
 *
 *   thread_target [--threads N] [--spin] [--own-stack]
 *
 * Names its main thread "main) R 1 (x" and counts the SIGRTMIN it gets.
 * Starts N workers (default 3), named "worker-1" .. "worker-N". Worker
 * K puts K * 64 KiB of volatile locals on its stack (a noinline
 * recursion, one 64 KiB frame per level), then blocks in read(2) on a
 * pipe that is never written, inside its deepest frame. With --spin,
 * one more thread, "spinner", counts on a volatile forever (always
 * running). With --own-stack, one more, "own-stack", blocks on a 64 KiB
 * stack of its own (pthread_attr_setstack) between two r--p pages: no
 * guard below it, so only its SP tells it is a stack; and a thread with
 * a 64 KiB stack (and a guard) is started and joined, so that a small
 * stack is in glibc's cache. Last, one thread
 * is started and joined, so that its stack
 * is in glibc's cache of stacks when the target reports. Then it prints
 *
 *   tidK 0x...        the TID of worker K
 *   localK 0x...      the address of worker K's deepest local
 *   spin_tid 0x...    (--spin)
 *   own_tid 0x...     (--own-stack) its TID
 *   own_local 0x...   (--own-stack) the address of its local
 *   own_block 0x...   (--own-stack) a block it got from malloc, in an
 *                     arena of its own whose heap is small (M_TOP_PAD 0)
 *   small_exited_local 0x...  (--own-stack) a local of the small one
 *   exited_tid 0x...  the TID that the joined thread had
 *   exited_local 0x.. the address of a local of the joined thread
 *   main_local 0x...  the address of a local of the main thread
 *   counter 0x...     the address of the spinner's counter
 *   rt_count 0x...    the address of the count of SIGRTMIN handled (a
 *                     real-time signal: each one sent is delivered)
 *
 * and "ready", and blocks reading stdin; when stdin closes it exits 0
 * (with _exit: the workers are never woken).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_WORKERS	16
#define OWN_STACK	(64 * 1024)
#define FRAME		(64 * 1024)
#define MAIN_NAME	"main) R 1 (x"

struct worker {
	int		 k;
	pid_t		 tid;
	uintptr_t	 local;
	void		*block;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static int		 started;
static int		 block_fd;	/* read end of a pipe nobody writes */
static volatile unsigned long counter;
static volatile unsigned long rt_count;	/* SIGRTMIN handled */

static void
on_rt(int sig)
{
	(void)sig;
	rt_count++;
}

static void
announce(void)
{
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/*
 * Block in a system call, with the caller's frames alive: for good,
 * since the pipe's write end stays open and nobody writes to it.
 */
static void
block_forever(void)
{
	char	c;

	while (read(block_fd, &c, 1) == -1 && errno == EINTR)
		continue;
}

/* One 64 KiB frame per level; the last level reports and blocks. */
static __attribute__((noinline)) void
descend(struct worker *w, int level)
{
	volatile char	frame[FRAME];

	memset((char *)frame, level, sizeof(frame));
	if (level > 1) {
		descend(w, level - 1);
		return;
	}
	w->local = (uintptr_t)&frame[0];
	announce();
	block_forever();
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	char		 name[16];

	snprintf(name, sizeof(name), "worker-%d", w->k);
	pthread_setname_np(pthread_self(), name);
	w->tid = gettid();
	descend(w, w->k);
	return NULL;
}

static void *
spinner_main(void *arg)
{
	*(pid_t *)arg = gettid();
	pthread_setname_np(pthread_self(), "spinner");
	announce();
	for (;;)
		counter++;
	return NULL;
}

static void *
exiting_main(void *arg)
{
	volatile int	local = 1;
	struct worker	*w = arg;

	w->tid = gettid();
	w->local = (uintptr_t)&local;
	return NULL;
}

static void *
own_stack_main(void *arg)
{
	struct worker	*w = arg;
	volatile int	 local = 1;

	pthread_setname_np(pthread_self(), "own-stack");
	w->tid = gettid();
	w->block = malloc(100);		/* an arena of its own, small */
	w->local = (uintptr_t)&local;
	announce();
	block_forever();
	return NULL;
}

/* A thread on OWN_STACK bytes between two read-only pages. */
static void
start_own_stack(struct worker *w)
{
	long		 pg = sysconf(_SC_PAGESIZE);
	pthread_attr_t	 attr;
	pthread_t	 t;
	char		*p;

	p = mmap(NULL, OWN_STACK + 2 * pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, pg, PROT_READ) == -1 ||
	    mprotect(p + pg + OWN_STACK, pg, PROT_READ) == -1 ||
	    pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setstack(&attr, p + pg, OWN_STACK) != 0 ||
	    pthread_create(&t, &attr, own_stack_main, w) != 0) {
		fprintf(stderr, "thread_target: no thread on its own stack\n");
		exit(1);
	}
	pthread_detach(t);
}

static void
start(void *(*fn)(void *), void *arg)
{
	pthread_t	t;

	if (pthread_create(&t, NULL, fn, arg) != 0) {
		fprintf(stderr, "thread_target: pthread_create failed\n");
		exit(1);
	}
	pthread_detach(t);
}

static void
wait_started(int n)
{
	pthread_mutex_lock(&lock);
	while (started < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

/*
 * Started after every other thread, so its cached stack is not reused;
 * of stack_size bytes, or the default when 0.
 */
static void
exit_one(struct worker *gone, size_t stack_size)
{
	pthread_attr_t	attr;
	pthread_t	t;

	if (pthread_attr_init(&attr) != 0 || (stack_size != 0 &&
	    pthread_attr_setstacksize(&attr, stack_size) != 0) ||
	    pthread_create(&t, &attr, exiting_main, gone) != 0 ||
	    pthread_join(t, NULL) != 0) {
		fprintf(stderr, "thread_target: cannot run a thread\n");
		exit(1);
	}
}

static void
report(const struct worker *w, int n, pid_t spin_tid,
    const struct worker *own, const struct worker *small,
    const struct worker *gone, uintptr_t main_local)
{
	for (int i = 0; i < n; i++) {
		printf("tid%d 0x%x\n", w[i].k, (unsigned int)w[i].tid);
		printf("local%d 0x%jx\n", w[i].k, (uintmax_t)w[i].local);
	}
	if (spin_tid != 0)
		printf("spin_tid 0x%x\n", (unsigned int)spin_tid);
	if (own->tid != 0) {
		printf("own_tid 0x%x\n", (unsigned int)own->tid);
		printf("own_local 0x%jx\n", (uintmax_t)own->local);
		printf("own_block 0x%jx\n", (uintmax_t)(uintptr_t)own->block);
		printf("small_exited_local 0x%jx\n",
		    (uintmax_t)small->local);
	}
	printf("exited_tid 0x%x\n", (unsigned int)gone->tid);
	printf("exited_local 0x%jx\n", (uintmax_t)gone->local);
	printf("main_local 0x%jx\n", (uintmax_t)main_local);
	printf("counter 0x%jx\n", (uintmax_t)(uintptr_t)&counter);
	printf("rt_count 0x%jx\n", (uintmax_t)(uintptr_t)&rt_count);
	printf("ready\n");
	fflush(stdout);
}

/* --threads N, --spin, --own-stack; -1 on anything else. */
static int
parse_args(int argc, char **argv, int *n, int *spin, int *own)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			*n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--spin") == 0)
			*spin = 1;
		else if (strcmp(argv[i], "--own-stack") == 0)
			*own = 1;
		else
			return -1;
	}
	return *n >= 0 && *n <= MAX_WORKERS ? 0 : -1;
}

static void
count_rt_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_rt;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
}

int
main(int argc, char **argv)
{
	static struct worker	w[MAX_WORKERS];
	struct worker		gone = { 0, 0, 0, NULL }, own = { 0, 0, 0, NULL };
	struct worker		small = { 0, 0, 0, NULL };
	volatile pid_t		spin_tid = 0;
	volatile int		main_local = 0;
	int			n = 3, spin = 0, own_stack = 0, fds[2];
	char			buf[64];

	if (parse_args(argc, argv, &n, &spin, &own_stack) == -1) {
		fputs("usage: thread_target [--threads N] [--spin] "
		    "[--own-stack]\n", stderr);
		return 2;
	}
	if (pipe(fds) == -1)
		return 1;
	block_fd = fds[0];
	count_rt_signals();
	/* A comm that fools a parser of stat that stops at the first ')'. */
	pthread_setname_np(pthread_self(), MAIN_NAME);
	for (int i = 0; i < n; i++) {
		w[i].k = i + 1;
		start(worker_main, &w[i]);
	}
	if (spin)
		start(spinner_main, (void *)&spin_tid);
	if (own_stack) {
		mallopt(M_TOP_PAD, 0);	/* so that its arena's heap is small */
		start_own_stack(&own);
	}
	wait_started(n + spin + own_stack);
	if (own_stack)
		exit_one(&small, OWN_STACK);
	exit_one(&gone, 0);
	report(w, n, spin_tid, &own, &small, &gone, (uintptr_t)&main_local);
	while (read(0, buf, sizeof(buf)) > 0)
		continue;
	_exit(0);
}
