/*
 * check_threads.c: threads.c on live processes. tests/thread_target
 * reports where its threads are (TIDs, the deepest local of each
 * worker, a thread that exited); every figure mwi_threads_read gives
 * is checked against those, against the map and against the kernel:
 *
 *   workers and main    names, states, SPs, stacks around the locals,
 *                       used/headroom/size, guards, [stack] and rlimit
 *   cached stack        a joined thread's stack: anon, noted, unclaimed
 *   spinner by TCB      no SP, yet its stack from glibc's TCB
 *   no calibration      no blocked thread to learn the tid offset on:
 *                       no guess; with MW_PROC_STOP, the spinner teaches
 *   stopped, resumed    MW_PROC_STOP: fs_base == the TCB found, no task
 *                       ever left in t/T, the spinner counts on
 *   signals survive     signals sent during the stops all arrive
 *   stopped by another  SIGSTOPped: SP from "-1 sp pc", left stopped
 *   self                pid 0: the caller's threads, never stopped
 *   glibc names         "[anon: glibc: pthread stack: TID]" and kin, on
 *                       a synthetic map (this glibc does not name)
 *   gone, faults        ESRCH, EINVAL; every allocation and read fault
 */
#include "config.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <time.h>

#include "mwi.h"
#include "tutil.h"

#define FRAME		(64 * 1024)	/* thread_target's frame size */
#define CACHE_NOTE	"glibc stack cache: no live thread"
#define GUARD_NOTE	"guard of a thread stack"

static const char *
target_path(void)
{
	static char	path[1024];
	const char	*env = getenv("MW_THREAD_TARGET");

	if (env != NULL && *env != '\0')
		return env;
	snprintf(path, sizeof(path), "%s/tests/thread_target", TOP_BUILDDIR);
	return path;
}

/*
 * Wait until every thread of the target but the spinner sits in read(2)
 * (its syscall file says so): a thread reports before it blocks.
 */
static void
settle(const struct tu_target *tt)
{
	pid_t	 spin = (pid_t)tu_addr(tt, "spin_tid");
	char	 want[16];

	snprintf(want, sizeof(want), "%d ", SYS_read);
	for (int tries = 0; tries < 2000; tries++) {
		pid_t	*tids;
		ssize_t	 n = mwi_list_tasks(tt->pid, &tids);
		int	 blocked = 0;

		ck_assert_int_gt(n, 0);
		for (ssize_t i = 0; i < n; i++) {
			char	path[64], buf[512];

			snprintf(path, sizeof(path), "task/%d/syscall",
			    (int)tids[i]);
			if (tids[i] == spin || (mwi_read_small(tt->pid, path,
			    buf, sizeof(buf)) > 0 &&
			    strncmp(buf, want, strlen(want)) == 0))
				blocked++;
		}
		free(tids);
		if (blocked == n)
			return;
		usleep(1000);
	}
	ck_abort_msg("the target's threads did not block");
}

static struct tu_target *
spawn(const char *const *args)
{
	struct tu_target	*tt = tu_spawn(target_path(), args);

	settle(tt);
	return tt;
}

/* One look at a process: its map, its threads, their labels. */
struct look {
	struct mw_maps		*m;
	struct mwi_threads	 t;
	struct mw_label		*labels;
};

static void
look_at(pid_t pid, unsigned int flags, struct look *lk)
{
	lk->m = mw_maps_read(pid);
	ck_assert_ptr_nonnull(lk->m);
	lk->labels = calloc(lk->m->nregions + 1, sizeof(*lk->labels));
	ck_assert_ptr_nonnull(lk->labels);
	for (size_t i = 0; i < lk->m->nregions; i++)
		lk->labels[i].arena = lk->labels[i].heap = -1;
	ck_assert_int_eq(mwi_threads_read(pid, lk->m, flags, &lk->t), 0);
	mwi_threads_label(&lk->t, lk->m, lk->labels);
}

static void
look_free(struct look *lk)
{
	mwi_threads_free(&lk->t);
	mw_maps_free(lk->m);
	free(lk->labels);
}

static const struct mw_thread *
thread_of(const struct look *lk, pid_t tid)
{
	for (size_t i = 0; i < lk->t.n; i++)
		if (lk->t.v[i].tid == tid)
			return &lk->t.v[i];
	return NULL;
}

static size_t
index_of(const struct look *lk, uint64_t addr)
{
	const struct mw_region	*r = mw_maps_find(lk->m, addr);

	ck_assert_msg(r != NULL, "0x%llx is in no region",
	    (unsigned long long)addr);
	return (size_t)(r - lk->m->regions);
}

static uint64_t
must_addr(const struct tu_target *tt, const char *name)
{
	uint64_t	a = tu_addr(tt, name);

	ck_assert_msg(a != 0, "thread_target printed no %s", name);
	return a;
}

/* The stack figures every thread with a known SP must satisfy. */
static void
ck_usage(const struct mw_thread *th)
{
	ck_assert_uint_ne(th->stack_end, 0);
	ck_assert_msg(th->sp >= th->stack_start && th->sp < th->stack_end,
	    "tid %d: sp 0x%llx outside its stack", (int)th->tid,
	    (unsigned long long)th->sp);
	ck_assert_uint_eq(th->used, th->stack_end - th->sp);
	ck_assert_uint_eq(th->used + th->headroom, th->stack_size);
	ck_assert_uint_ne(th->ip, 0);
}

/* Worker K: named, blocked, its stack around its local, the guard. */
static void
ck_worker(const struct look *lk, const struct tu_target *tt, int k)
{
	char			 key[32], name[16];
	pid_t			 tid;
	uint64_t		 local;
	const struct mw_thread	*th;
	size_t			 i;

	snprintf(key, sizeof(key), "tid%d", k);
	tid = (pid_t)must_addr(tt, key);
	snprintf(key, sizeof(key), "local%d", k);
	local = must_addr(tt, key);
	th = thread_of(lk, tid);
	ck_assert_msg(th != NULL, "worker %d (tid %d) not found", k, (int)tid);
	snprintf(name, sizeof(name), "worker-%d", k);
	ck_assert_str_eq(th->name, name);
	ck_assert_int_eq(th->state, 'S');
	ck_assert_uint_eq(th->sp_from, MW_SP_SYSCALL);
	ck_usage(th);
	ck_assert(local >= th->stack_start && local < th->stack_end);
	ck_assert_uint_ge(th->used, th->stack_end - local);
	ck_assert_uint_ge(th->used, (uint64_t)k * FRAME);
	ck_assert_uint_eq(th->stack_size, th->stack_end - th->stack_start);
	ck_assert(th->tcb > local && th->tcb < th->stack_end);

	i = index_of(lk, local);
	ck_assert_uint_eq(lk->m->regions[i].start, th->stack_start);
	ck_assert_int_eq(lk->m->regions[i].kind, MW_KIND_THREAD_STACK);
	ck_assert_int_eq(lk->labels[i].tid, tid);
	ck_assert_uint_gt(i, 0);
	ck_assert_uint_eq(lk->m->regions[i - 1].end, th->stack_start);
	ck_assert_uint_eq(lk->m->regions[i - 1].perms, 0);
	ck_assert_int_eq(lk->m->regions[i - 1].kind, MW_KIND_GUARD);
	ck_assert_int_eq(lk->labels[i - 1].tid, tid);
	ck_assert_str_eq(lk->labels[i - 1].note, GUARD_NOTE);
}

/* The main thread: first, on [stack], sized up to RLIMIT_STACK. */
static void
ck_main(const struct look *lk, const struct tu_target *tt)
{
	const struct mw_thread	*th = &lk->t.v[0];
	uint64_t		 local = must_addr(tt, "main_local");
	struct rlimit		 rl;
	size_t			 i = index_of(lk, local);
	uint64_t		 size;

	ck_assert_int_eq(th->tid, tt->pid);
	ck_assert_str_eq(th->name, "main) R 1 (x");
	ck_assert_int_eq(th->state, 'S');
	ck_assert_uint_eq(th->sp_from, MW_SP_SYSCALL);
	ck_usage(th);
	ck_assert_str_eq(lk->m->regions[i].name, "[stack]");
	ck_assert_int_eq(lk->m->regions[i].kind, MW_KIND_STACK);
	ck_assert_uint_eq(lk->m->regions[i].start, th->stack_start);
	ck_assert_int_eq(lk->labels[i].tid, tt->pid);
	ck_assert_uint_ge(th->used, th->stack_end - local);
	ck_assert_int_eq(prlimit(tt->pid, RLIMIT_STACK, NULL, &rl), 0);
	size = th->stack_end - th->stack_start;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > size)
		size = rl.rlim_cur;
	ck_assert_uint_eq(th->stack_size, size);
}

START_TEST(test_workers_and_main)
{
	static const char *const args[] = { "--threads", "4", NULL };
	struct tu_target	*tt = spawn(args);
	struct look		 lk;

	look_at(tt->pid, 0, &lk);
	ck_assert_uint_eq(lk.t.n, 5);
	ck_main(&lk, tt);
	for (int k = 1; k <= 4; k++)
		ck_worker(&lk, tt, k);
	for (size_t i = 2; i < lk.t.n; i++)
		ck_assert_int_lt(lk.t.v[i - 1].tid, lk.t.v[i].tid);
	look_free(&lk);
	tu_target_stop(tt);
}
END_TEST

/* The joined thread's stack waits in glibc's cache: nobody's stack. */
START_TEST(test_cached_stack)
{
	static const char *const args[] = { "--threads", "2", NULL };
	struct tu_target	*tt = spawn(args);
	uint64_t		 local = must_addr(tt, "exited_local");
	pid_t			 gone = (pid_t)must_addr(tt, "exited_tid");
	struct look		 lk;
	size_t			 i;

	look_at(tt->pid, 0, &lk);
	ck_assert_ptr_null(thread_of(&lk, gone));
	i = index_of(&lk, local);
	ck_assert_int_eq(lk.m->regions[i].kind, MW_KIND_ANON);
	ck_assert_int_eq(lk.labels[i].tid, 0);
	ck_assert_str_eq(lk.labels[i].note, CACHE_NOTE);
	ck_assert_int_eq(lk.m->regions[i - 1].kind, MW_KIND_GUARD);
	ck_assert_int_eq(lk.labels[i - 1].tid, 0);
	ck_assert_str_eq(lk.labels[i - 1].note, GUARD_NOTE);
	for (size_t k = 0; k < lk.t.n; k++)
		ck_assert_uint_ne(lk.t.v[k].stack_start,
		    lk.m->regions[i].start);
	look_free(&lk);
	tu_target_stop(tt);
}
END_TEST

/* A running thread has no SP, but its TCB still gives its stack. */
START_TEST(test_spinner_found_by_tcb)
{
	static const char *const args[] = { "--threads", "2", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	pid_t			 tid = (pid_t)must_addr(tt, "spin_tid");
	const struct mw_thread	*th;
	struct look		 lk;
	size_t			 i;

	look_at(tt->pid, 0, &lk);
	ck_assert_uint_eq(lk.t.n, 4);
	ck_assert_ptr_nonnull(th = thread_of(&lk, tid));
	ck_assert_str_eq(th->name, "spinner");
	ck_assert_int_eq(th->state, 'R');
	ck_assert_uint_eq(th->sp_from, MW_SP_NONE);
	ck_assert_uint_eq(th->sp, 0);
	ck_assert_uint_eq(th->used, 0);
	ck_assert_uint_eq(th->headroom, 0);
	ck_assert_uint_ne(th->stack_end, 0);
	ck_assert(th->tcb >= th->stack_start && th->tcb < th->stack_end);
	ck_assert_uint_eq(th->stack_size, th->stack_end - th->stack_start);
	i = index_of(&lk, th->tcb);
	ck_assert_int_eq(lk.m->regions[i].kind, MW_KIND_THREAD_STACK);
	ck_assert_int_eq(lk.labels[i].tid, tid);
	ck_assert_int_eq(lk.labels[i - 1].tid, tid);
	look_free(&lk);
	tu_target_stop(tt);
}
END_TEST

/* No thread with a known SP: the tid offset is not guessed. */
START_TEST(test_no_calibration_no_guess)
{
	static const char *const args[] = { "--threads", "0", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	pid_t			 tid = (pid_t)must_addr(tt, "spin_tid");
	const struct mw_thread	*th;
	struct look		 lk;
	size_t			 i;

	look_at(tt->pid, 0, &lk);
	ck_assert_uint_eq(lk.t.n, 2);
	ck_assert_ptr_nonnull(th = thread_of(&lk, tid));
	ck_assert_uint_eq(th->stack_end, 0);
	i = index_of(&lk, must_addr(tt, "exited_local"));
	ck_assert_ptr_null(lk.labels[i].note);
	look_free(&lk);
	/* With its registers, the same thread calibrates the search. */
	look_at(tt->pid, MW_PROC_STOP, &lk);
	ck_assert_ptr_nonnull(th = thread_of(&lk, tid));
	ck_assert_uint_ne(th->sp_from, MW_SP_NONE);
	ck_usage(th);
	ck_assert_str_eq(lk.labels[i].note, CACHE_NOTE);
	look_free(&lk);
	tu_target_stop(tt);
}
END_TEST

/* The state letter of one thread, from its stat file. */
static char
state_of(pid_t pid, pid_t tid)
{
	char		 path[64], buf[512];
	const char	*close;

	snprintf(path, sizeof(path), "task/%d/stat", (int)tid);
	ck_assert_int_gt(mwi_read_small(pid, path, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(close = strrchr(buf, ')'));
	return close[2];
}

/*
 * Every thread of pid is running or sleeping: none is stopped. A thread
 * just detached may need a moment (its wake-up can be queued to
 * another CPU); one left stopped stays stopped for good.
 */
static void
ck_none_stopped(pid_t pid)
{
	pid_t	*tids;
	ssize_t	 n = mwi_list_tasks(pid, &tids);

	ck_assert_int_gt(n, 0);
	for (ssize_t i = 0; i < n; i++) {
		char	state = state_of(pid, tids[i]);

		for (int tries = 0; tries < 1000 &&
		    (state == 't' || state == 'T'); tries++) {
			usleep(1000);
			state = state_of(pid, tids[i]);
		}
		ck_assert_msg(state != 't' && state != 'T',
		    "thread %d left in state %c", (int)tids[i], state);
	}
	free(tids);
}

static uint64_t
counter_of(pid_t pid, uint64_t addr)
{
	unsigned long	v;

	ck_assert_int_eq(mwi_read_mem(pid, addr, &v, sizeof(v)), 0);
	return v;
}

/*
 * With MW_PROC_STOP the spinner is interrupted for its registers: its
 * fs_base is the TCB the search found, and it runs on afterwards. A
 * round may find it off the CPU by itself (a page fault that waits:
 * "-1 sp pc" in its syscall file), which needs no interrupt; most
 * rounds must find it running.
 */
START_TEST(test_spinner_stopped_and_resumed)
{
	static const char *const args[] = { "--threads", "2", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	pid_t			 tid = (pid_t)must_addr(tt, "spin_tid");
	uint64_t		 counter = must_addr(tt, "counter");
	struct timespec		 ms = { 0, 20 * 1000 * 1000 };
	const struct mw_thread	*th;
	struct look		 lk;
	uint64_t		 tcb, before;
	int			 ptraced = 0;

	look_at(tt->pid, 0, &lk);
	ck_assert_ptr_nonnull(th = thread_of(&lk, tid));
	ck_assert_uint_ne(tcb = th->tcb, 0);
	look_free(&lk);
	for (int round = 0; round < 50; round++) {
		look_at(tt->pid, MW_PROC_STOP, &lk);
		ck_assert_ptr_nonnull(th = thread_of(&lk, tid));
		ck_assert_uint_ne(th->sp_from, MW_SP_NONE);
		ck_usage(th);
		if (th->sp_from == MW_SP_PTRACE) {
			ck_assert_uint_eq(th->tcb, tcb);
			ptraced++;
		}
		ck_assert_uint_eq(thread_of(&lk, tt->pid)->sp_from,
		    MW_SP_SYSCALL);
		ck_assert_uint_eq(thread_of(&lk,
		    (pid_t)must_addr(tt, "tid1"))->sp_from, MW_SP_SYSCALL);
		look_free(&lk);
		ck_none_stopped(tt->pid);
	}
	ck_assert_int_ge(ptraced, 25);
	before = counter_of(tt->pid, counter);
	nanosleep(&ms, NULL);
	ck_assert_uint_gt(counter_of(tt->pid, counter), before);
	tu_target_stop(tt);
}
END_TEST

/*
 * A signal that reaches the spinner while it is seized makes it stop
 * for that signal (a signal-delivery-stop) rather than for our
 * interrupt; the detach must hand it back. A second thread sends
 * SIGRTMIN while the first interrupts the spinner again and again:
 * real-time signals are queued, not merged, so each one sent must be
 * handled once.
 */
struct sender {
	pid_t		 pid, tid;
	volatile int	 stop;
	unsigned long	 sent;
};

static void *
send_main(void *arg)
{
	struct sender	*sd = arg;

	while (!sd->stop && sd->sent < 100000) {
		if (syscall(SYS_tgkill, sd->pid, sd->tid, SIGRTMIN) == 0)
			sd->sent++;
		usleep(5);
	}
	return NULL;
}

START_TEST(test_signals_survive_stop)
{
	static const char *const args[] = { "--threads", "1", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	uint64_t		 count = must_addr(tt, "rt_count");
	struct sender		 sd = { tt->pid, 0, 0, 0 };
	struct look		 lk;
	pthread_t		 st;
	int			 ptraced = 0;

	sd.tid = (pid_t)must_addr(tt, "spin_tid");
	ck_assert_int_eq(pthread_create(&st, NULL, send_main, &sd), 0);
	for (int round = 0; round < 4000; round++) {
		look_at(tt->pid, MW_PROC_STOP, &lk);
		ptraced += thread_of(&lk, sd.tid)->sp_from == MW_SP_PTRACE;
		look_free(&lk);
	}
	ck_assert_int_ge(ptraced, 2000);
	sd.stop = 1;
	pthread_join(st, NULL);
	ck_assert_uint_gt(sd.sent, 0);
	for (int tries = 0; tries < 2000; tries++) {
		if (counter_of(tt->pid, count) == sd.sent)
			break;
		usleep(1000);
	}
	ck_assert_uint_eq(counter_of(tt->pid, count), sd.sent);
	ck_none_stopped(tt->pid);
	tu_target_stop(tt);
}
END_TEST

/*
 * A process that someone else stopped (SIGSTOP): the spinner, stopped
 * outside any syscall, gives "-1 sp pc", so it is not interrupted, and
 * it stays stopped until SIGCONT, as whoever stopped it wants.
 */
START_TEST(test_stopped_by_someone_else)
{
	static const char *const args[] = { "--threads", "1", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	pid_t			 tid = (pid_t)must_addr(tt, "spin_tid");
	uint64_t		 counter = must_addr(tt, "counter");
	struct timespec		 ms = { 0, 20 * 1000 * 1000 };
	const struct mw_thread	*th;
	struct look		 lk;
	uint64_t		 before;

	ck_assert_int_eq(kill(tt->pid, SIGSTOP), 0);
	for (int tries = 0; tries < 2000 && state_of(tt->pid, tid) != 'T';
	    tries++)
		usleep(1000);
	look_at(tt->pid, MW_PROC_STOP, &lk);
	ck_assert_ptr_nonnull(th = thread_of(&lk, tid));
	ck_assert_int_eq(th->state, 'T');
	ck_assert_uint_eq(th->sp_from, MW_SP_SYSCALL);
	ck_usage(th);
	ck_assert(th->tcb > th->sp && th->tcb < th->stack_end);
	look_free(&lk);
	ck_assert_int_eq(state_of(tt->pid, tid), 'T');
	before = counter_of(tt->pid, counter);
	nanosleep(&ms, NULL);
	ck_assert_uint_eq(counter_of(tt->pid, counter), before);
	ck_assert_int_eq(kill(tt->pid, SIGCONT), 0);
	nanosleep(&ms, NULL);
	ck_assert_uint_gt(counter_of(tt->pid, counter), before);
	tu_target_stop(tt);
}
END_TEST

/* ---- the calling process itself --------------------------------------- */

struct helper {
	int		 fd;		/* blocks on it */
	volatile int	 stop;		/* spinner: set to end */
	pid_t		 tid;
	uintptr_t	 local;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 ready;
};

static void
helper_ready(struct helper *h, uintptr_t local)
{
	pthread_mutex_lock(&h->lock);
	h->tid = gettid();
	h->local = local;
	h->ready = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void *
blocked_main(void *arg)
{
	struct helper	*h = arg;
	volatile char	 local = 0;
	char		 c;

	pthread_setname_np(pthread_self(), "ck-blocked");
	helper_ready(h, (uintptr_t)&local);
	while (read(h->fd, &c, 1) == -1 && errno == EINTR)
		continue;
	return NULL;
}

static void *
spin_main(void *arg)
{
	struct helper	*h = arg;
	volatile int	 local = 0;

	pthread_setname_np(pthread_self(), "ck-spin");
	helper_ready(h, (uintptr_t)&local);
	while (!h->stop)
		local++;
	return NULL;
}

static void
helper_start(struct helper *h, pthread_t *t, void *(*fn)(void *))
{
	pthread_mutex_lock(&h->lock);
	ck_assert_int_eq(pthread_create(t, NULL, fn, h), 0);
	while (!h->ready)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

START_TEST(test_self)
{
	static struct helper	 b = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER };
	static struct helper	 s = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER };
	const struct mw_thread	*th;
	pthread_t		 bt, st;
	struct look		 lk;
	int			 fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	b.fd = fds[0];
	helper_start(&b, &bt, blocked_main);
	helper_start(&s, &st, spin_main);
	/* Let the blocked thread reach its read(2). */
	for (int i = 0; i < 1000 && state_of(0, b.tid) != 'S'; i++)
		usleep(1000);
	/* STOP is asked for, but a process never stops its own threads. */
	look_at(0, MW_PROC_STOP, &lk);
	ck_assert_int_eq(lk.t.v[0].tid, getpid());
	ck_assert_ptr_nonnull(th = thread_of(&lk, gettid()));
	ck_assert_uint_eq(th->sp_from, MW_SP_SYSCALL);
	/*
	 * Under valgrind a thread's kernel SP is in valgrind's own stack
	 * for it, not in the stack it runs the program on: the facts below
	 * are the other trees'.
	 */
	if (!tu_valgrind())
		ck_usage(th);
	ck_assert_ptr_nonnull(th = thread_of(&lk, b.tid));
	ck_assert_str_eq(th->name, "ck-blocked");
	ck_assert_uint_eq(th->sp_from, MW_SP_SYSCALL);
	if (!tu_valgrind()) {
		ck_usage(th);
		ck_assert(b.local >= th->sp && b.local < th->stack_end);
	}
	ck_assert_ptr_nonnull(th = thread_of(&lk, s.tid));
	ck_assert_str_eq(th->name, "ck-spin");
	ck_assert_uint_ne(th->sp_from, MW_SP_PTRACE);
	if (!tu_valgrind())
		ck_assert(s.local >= th->stack_start &&
		    s.local < th->stack_end);
	look_free(&lk);
	s.stop = 1;
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	pthread_join(bt, NULL);
	pthread_join(st, NULL);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ---- glibc's own names (2.39+), in a map made up for a live target ---- */

START_TEST(test_glibc_names)
{
	static const char *const args[] = { "--threads", "2", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	pid_t			 spin = (pid_t)must_addr(tt, "spin_tid");
	pid_t			 tid1 = (pid_t)must_addr(tt, "tid1");
	pid_t			 gone = (pid_t)must_addr(tt, "exited_tid");
	const struct mw_thread	*th;
	struct look		 lk;
	char			 text[2048];
	size_t			 errline;

	/* Nothing is mapped there in the target: names are all there is. */
	snprintf(text, sizeof(text),
	    "100000000000-100000001000 ---p 00000000 00:00 0 \n"
	    "100000001000-100000801000 rw-p 00000000 00:00 0 "
	    "    [anon: glibc: pthread stack: %d]\n"
	    "100000801000-100000802000 ---p 00000000 00:00 0 \n"
	    "100000802000-100001002000 rw-p 00000000 00:00 0 "
	    "    [anon: glibc: unused stack]\n"
	    "100001002000-100001003000 ---p 00000000 00:00 0 \n"
	    "100001003000-100001803000 rw-p 00000000 00:00 0 "
	    "    [anon: glibc: pthread stack: %d]\n"
	    "100001803000-100001813000 rw-p 00000000 00:00 0 "
	    "    [anon: glibc: pthread user stack: %d]\n"
	    "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 "
	    "    [stack]\n", (int)spin, (int)gone, (int)tid1);
	lk.m = mw_maps_parse(text, strlen(text), &errline);
	ck_assert_ptr_nonnull(lk.m);
	ck_assert_int_eq(mw_maps_classify(lk.m), 0);
	ck_assert_uint_eq(lk.m->nregions, 8);
	ck_assert_ptr_nonnull(lk.labels = calloc(8, sizeof(*lk.labels)));
	ck_assert_int_eq(mwi_threads_read(tt->pid, lk.m, 0, &lk.t), 0);
	mwi_threads_label(&lk.t, lk.m, lk.labels);

	ck_assert_ptr_nonnull(th = thread_of(&lk, spin));
	ck_assert_uint_eq(th->stack_start, 0x100000001000);
	ck_assert_uint_eq(th->stack_size, 0x800000);
	ck_assert_int_eq(lk.m->regions[1].kind, MW_KIND_THREAD_STACK);
	ck_assert_int_eq(lk.labels[1].tid, spin);
	ck_assert_int_eq(lk.labels[0].tid, spin);
	ck_assert_str_eq(lk.labels[0].note, GUARD_NOTE);
	/* Unused, and of a thread that exited: the cache. */
	ck_assert_int_eq(lk.m->regions[3].kind, MW_KIND_ANON);
	ck_assert_str_eq(lk.labels[3].note, CACHE_NOTE);
	ck_assert_int_eq(lk.m->regions[5].kind, MW_KIND_ANON);
	ck_assert_str_eq(lk.labels[5].note, CACHE_NOTE);
	ck_assert_int_eq(lk.labels[5].tid, 0);
	/* A stack the program gave: its SP is elsewhere in this map. */
	ck_assert_ptr_nonnull(th = thread_of(&lk, tid1));
	ck_assert_uint_eq(th->stack_start, 0x100001803000);
	ck_assert_uint_eq(th->used, 0);
	ck_assert_int_eq(lk.labels[6].tid, tid1);
	ck_assert_int_eq(lk.m->regions[6].kind, MW_KIND_THREAD_STACK);
	/* worker-2: no name, SP in no region here, no memory to search. */
	th = thread_of(&lk, (pid_t)must_addr(tt, "tid2"));
	ck_assert_ptr_nonnull(th);
	ck_assert_uint_eq(th->stack_end, 0);
	ck_assert_uint_eq(th->used, 0);
	/* The main thread: [stack], wherever its SP is. */
	ck_assert_int_eq(lk.t.v[0].tid, tt->pid);
	ck_assert_uint_eq(lk.t.v[0].stack_start, 0x7ffc00000000);
	ck_assert_int_eq(lk.labels[7].tid, tt->pid);
	ck_assert_int_eq(lk.m->regions[7].kind, MW_KIND_STACK);
	look_free(&lk);
	tu_target_stop(tt);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

START_TEST(test_gone)
{
	struct tu_target	*tt = spawn(NULL);
	pid_t			 pid = tt->pid;
	struct mw_maps		*m = mw_maps_read(pid);
	struct mwi_threads	 t;

	ck_assert_ptr_nonnull(m);
	tu_target_stop(tt);
	errno = 0;
	ck_assert_int_eq(mwi_threads_read(pid, m, MW_PROC_STOP, &t), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_uint_eq(t.n, 0);
	mwi_threads_label(&t, m, NULL);		/* nothing to label */
	mwi_threads_free(&t);
	ck_assert_int_eq(mwi_threads_read(-1, m, 0, &t), -1);
	ck_assert_int_eq(errno, EINVAL);
	mw_maps_free(m);
}
END_TEST

/*
 * Fail the Nth allocation, N = 1, 2, ... until a read makes fewer than
 * N: every one of them must fail the read with ENOMEM, cleanly.
 */
START_TEST(test_alloc_faults)
{
	static const char *const args[] = { "--threads", "3", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	struct mw_maps		*m = mw_maps_read(tt->pid);
	struct mwi_threads	 t;
	long			 nth;
	int			 rc;

	ck_assert_ptr_nonnull(m);
	for (nth = 1; nth < 1000; nth++) {
		mwi_faults.alloc_fail = nth;
		rc = mwi_threads_read(tt->pid, m, MW_PROC_STOP, &t);
		if (mwi_faults.alloc_fail > 0) {
			mwi_faults.alloc_fail = 0;
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(t.n, 5);
			mwi_threads_free(&t);
			break;
		}
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_ptr_null(t.v);
		mwi_threads_free(&t);
		ck_none_stopped(tt->pid);
	}
	ck_assert_int_gt(nth, 3);	/* tasks, threads, buffer, result */
	ck_assert_int_lt(nth, 1000);
	ck_none_stopped(tt->pid);
	mw_maps_free(m);
	tu_target_stop(tt);
}
END_TEST

/*
 * Fail the Nth read(2), N = 1, 2, ...: a stat file that cannot be read
 * fails the whole read (EIO); without its syscall file a blocked thread
 * is interrupted for its SP like a running one, and without the limits
 * file the main stack is its region. Never a crash, nor a stopped thread.
 */
START_TEST(test_read_faults)
{
	static const char *const args[] = { "--threads", "2", "--spin", NULL };
	struct tu_target	*tt = spawn(args);
	struct mw_maps		*m = mw_maps_read(tt->pid);
	struct mwi_threads	 t;
	long			 nth, failed = 0, ok = 0, ptraced = 0;
	int			 rc;

	ck_assert_ptr_nonnull(m);
	for (nth = 1; nth < 1000; nth++) {
		mwi_faults.read_fail = nth;
		rc = mwi_threads_read(tt->pid, m, MW_PROC_STOP, &t);
		if (mwi_faults.read_fail > 0) {
			mwi_faults.read_fail = 0;
			mwi_threads_free(&t);
			break;
		}
		if (rc == -1) {
			ck_assert_int_eq(errno, EIO);
			failed++;
		} else {
			ck_assert_uint_eq(t.n, 4);
			ok++;
			for (size_t i = 0; i < t.n; i++)
				ptraced += t.v[i].sp_from == MW_SP_PTRACE;
		}
		mwi_threads_free(&t);
		ck_none_stopped(tt->pid);
	}
	ck_assert_int_eq(failed, 4);	/* one stat file per thread */
	/* The spinner each time, and a blocked thread without its file. */
	ck_assert_int_gt(ptraced, ok);
	ck_assert_int_lt(nth, 1000);
	mw_maps_free(m);
	tu_target_stop(tt);
}
END_TEST

static Suite *
threads_suite(void)
{
	Suite	*s = suite_create("threads");
	TCase	*tc = tcase_create("live");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_workers_and_main);
	tcase_add_test(tc, test_cached_stack);
	tcase_add_test(tc, test_spinner_found_by_tcb);
	tcase_add_test(tc, test_no_calibration_no_guess);
	tcase_add_test(tc, test_spinner_stopped_and_resumed);
	tcase_add_test(tc, test_signals_survive_stop);
	tcase_add_test(tc, test_stopped_by_someone_else);
	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_glibc_names);
	tcase_add_test(tc, test_gone);
	tcase_add_test(tc, test_alloc_faults);
	tcase_add_test(tc, test_read_faults);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(threads_suite());
}
