/*
 * threads.c: the tasks of a process, their stack pointers and stacks.
 *
 * Where each piece comes from:
 *
 *   /proc/PID/task/               the TIDs (os_linux.c: mwi_list_tasks)
 *   task/TID/stat                 "TID (comm) S ...": name and state; comm
 *                                 may hold spaces and ')', so the state is
 *                                 the letter after the LAST ')'
 *   task/TID/syscall              "nr a1 .. a6 sp pc"  blocked in a syscall
 *                                 "-1 sp pc"           blocked outside one
 *                                 "running"            on a CPU: no SP
 *   PTRACE_SEIZE + INTERRUPT      sp, pc and fs_base of a running thread,
 *                                 only with MW_PROC_STOP (mwi_task_regs)
 *   /proc/PID/limits              RLIMIT_STACK, how far [stack] may grow
 *
 * A thread's stack is the region holding its SP; the main thread's is
 * [stack]. A thread without an SP is found from the other end: glibc
 * puts its struct pthread (the TCB) at the top of the stack mapping:
 *
 *        guard        the stack                     TCB       static TLS
 *   | ---p page | rw-p ... grows down <- sp | TLS | tcbhead_t ... tid |
 *                                                 ^ a: a[0] == a (tcb),
 *                                                   a[1] dtv, a[2] == a
 *
 * so the top TCB_TAIL bytes of every stack-shaped region are searched
 * for a 16-aligned a with both self pointers. The tid field sits at a
 * fixed offset in struct pthread (0x2d0 on glibc 2.36 x86-64), but not
 * the same in every glibc: it is calibrated on the threads whose stack
 * the SP gave, where the TID is known, and is used only when they all
 * agree. A TCB whose tid is 0 (the kernel clears it when the thread
 * exits) or no live thread is a stack in glibc's cache. glibc 2.39+
 * with glibc.mem.decorate_maps=1 names the regions itself:
 * "[anon: glibc: pthread stack: TID]", "[anon: glibc: unused stack]".
 *
 * Result (struct mwi_threads):
 *
 *   v[0 .. n)          the threads, the main one first, then by tid
 *   v[n .. n+ncached)  glibc's cached stacks: tid 0, only stack_start,
 *                      stack_end, stack_size and tcb set
 *
 * Invariants: used <= stack_end - stack_start when the SP is in its
 * stack, and 0 otherwise; headroom + used == stack_size whenever used <=
 * stack_size; no region is the stack of two entries. The target is
 * never written, and no thread is left stopped: mwi_task_regs detaches
 * before it returns, with the caller's catchable signals blocked.
 */
#include "mwi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCB_TAIL	(16 * 1024)	/* bytes read at a candidate's top */
#define TCB_WINDOW	4096		/* bytes of a TCB kept for its tid */
#define TID_OFF_GLIBC	0x2d0		/* struct pthread.tid, 2.36 x86-64 */
#define MAX_PASSES	3		/* listings of task/, at most */

_Static_assert(TCB_WINDOW % 4 == 0 && TID_OFF_GLIBC < TCB_WINDOW,
    "the tid offsets searched are int32 slots of the window");

static const char note_guard[] = "guard of a thread stack";
static const char note_cache[] = "glibc stack cache: no live thread";

/* A TCB found at the top of a region, and its first bytes. */
struct tcb {
	uint64_t	 addr;
	size_t		 region;
	size_t		 len;		/* bytes of win that are valid */
	unsigned char	 win[TCB_WINDOW];
};

struct reader {
	pid_t			 pid;		/* never 0 */
	bool			 self;		/* the calling process */
	const struct mw_maps	*m;
	struct mw_thread	*v;		/* the threads */
	size_t			 n, cap;
	struct mw_thread	*cache;		/* stacks of no live thread */
	size_t			 ncache, cachecap;
	struct tcb		*tcbs;
	size_t			 ntcbs, tcbcap;
	long			 tid_off;	/* -1: not calibrated */
};

/* Room for one more element in *v (of *cap); -1 ENOMEM. */
static int
grow(void **v, size_t n, size_t *cap, size_t size)
{
	void	*nv;
	size_t	 ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if ((nv = mwi_reallocarray(*v, ncap, size)) == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* ---- one task: stat and syscall ------------------------------------- */

/* "TID (comm) S ...": the name and the state; -1 when malformed. */
static int
parse_stat(const char *buf, struct mw_thread *th)
{
	const char	*open = strchr(buf, '('), *close = strrchr(buf, ')');
	size_t		 len;

	if (open == NULL || close == NULL || close < open ||
	    close[1] != ' ' || close[2] == '\0')
		return -1;
	len = (size_t)(close - open - 1);
	if (len >= sizeof(th->name))
		len = sizeof(th->name) - 1;
	memcpy(th->name, open + 1, len);
	th->name[len] = '\0';
	th->state = close[2];
	return 0;
}

/*
 * The syscall file: 9 fields when blocked in a syscall (sp and pc are
 * the last two), 3 when blocked outside one ("-1 sp pc"), else a word.
 */
static void
parse_syscall(const char *buf, struct mw_thread *th)
{
	uint64_t	 f[8];
	const char	*p = buf;
	char		*end;
	long		 nr;
	int		 k = 0;

	nr = strtol(p, &end, 10);
	if (end == p)
		return;			/* "running" */
	for (p = end; k < 8; p = end) {
		f[k] = strtoull(p, &end, 0);
		if (end == p)
			break;
		k++;
	}
	if (nr == -1 && k == 2) {
		th->sp = f[0];
		th->ip = f[1];
	} else if (nr >= 0 && k == 8) {
		th->sp = f[6];
		th->ip = f[7];
	}
	if (th->sp != 0)
		th->sp_from = MW_SP_SYSCALL;
}

/*
 * One task. -1 with ESRCH: it is gone (skip it); -1 otherwise: the
 * whole read fails. A syscall file we may not read leaves the SP
 * unknown: that needs ptrace rights, the stat file does not.
 */
static int
read_task(pid_t pid, pid_t tid, struct mw_thread *th)
{
	char	path[48], buf[512];

	memset(th, 0, sizeof(*th));
	th->tid = tid;
	snprintf(path, sizeof(path), "task/%d/stat", (int)tid);
	if (mwi_read_small(pid, path, buf, sizeof(buf)) == -1)
		return -1;
	if (parse_stat(buf, th) == -1) {
		errno = ESRCH;		/* empty: reaped while we read */
		return -1;
	}
	snprintf(path, sizeof(path), "task/%d/syscall", (int)tid);
	if (mwi_read_small(pid, path, buf, sizeof(buf)) == -1)
		return errno == ESRCH ? -1 : 0;
	parse_syscall(buf, th);
	return 0;
}

/*
 * One task's SP from its syscall file (where.c): 1 (*sp set), 0 when
 * unknown (running, not ours to read, or gone), -1 on other errors.
 */
int
mwi_task_sp(pid_t pid, pid_t tid, uint64_t *sp)
{
	struct mw_thread	th;

	if (read_task(pid, tid, &th) == -1)
		return errno == ESRCH ? 0 : -1;
	*sp = th.sp;
	return th.sp_from != MW_SP_NONE;
}

/* ---- the list of tasks ---------------------------------------------- */

static struct mw_thread *
find_thread(const struct reader *r, pid_t tid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].tid == tid)
			return &r->v[i];
	return NULL;
}

/*
 * Registers of a thread whose SP the syscall file did not give. Never
 * the caller's own threads: a process cannot trace itself. Any failure
 * (ESRCH: it exited; EPERM: no rights) just leaves the SP unknown.
 */
static void
stop_for_sp(const struct reader *r, struct mw_thread *th)
{
	struct mwi_regs	regs;

	if (r->self || th->sp_from != MW_SP_NONE ||
	    mwi_task_regs(th->tid, &regs) == -1)
		return;
	th->sp = regs.sp;
	th->ip = regs.ip;
	th->tcb = regs.tp;
	th->sp_from = MW_SP_PTRACE;
}

/* Read the tasks of tids[] not seen yet; returns how many were new. */
static ssize_t
add_tasks(struct reader *r, const pid_t *tids, size_t n, unsigned int flags)
{
	size_t	added = 0;

	for (size_t i = 0; i < n; i++) {
		if (find_thread(r, tids[i]) != NULL)
			continue;
		if (grow((void **)&r->v, r->n, &r->cap, sizeof(*r->v)) == -1)
			return -1;
		if (read_task(r->pid, tids[i], &r->v[r->n]) == -1) {
			if (errno == ESRCH)
				continue;	/* exited since the listing */
			return -1;
		}
		if (flags & MW_PROC_STOP)
			stop_for_sp(r, &r->v[r->n]);
		r->n++;
		added++;
	}
	return (ssize_t)added;
}

/*
 * List task/ until a listing shows no thread we have not read, at most
 * MAX_PASSES times: a process that keeps making threads does not keep
 * us here. A process whose listing fails, or all of whose threads
 * vanished, is gone.
 */
static int
read_tasks(struct reader *r, unsigned int flags)
{
	for (int pass = 0; pass < MAX_PASSES; pass++) {
		pid_t	*tids = NULL;
		ssize_t	 n, added;

		if ((n = mwi_list_tasks(r->pid, &tids)) == -1)
			return -1;
		added = add_tasks(r, tids, (size_t)n, flags);
		free(tids);
		if (added == -1)
			return -1;
		if (added == 0)
			break;
	}
	if (r->n == 0) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* ---- stack regions -------------------------------------------------- */

static bool
is_main(const struct reader *r, const struct mw_thread *th)
{
	return th->tid == r->pid;
}

static bool
is_named(const struct mw_region *reg, const char *name)
{
	return reg->name != NULL && strcmp(reg->name, name) == 0;
}

/* Searched from the top: [stack] is nearly always among the last. */
static const struct mw_region *
find_named(const struct mw_maps *m, const char *name)
{
	for (size_t i = m->nregions; i-- > 0;)
		if (is_named(&m->regions[i], name))
			return &m->regions[i];
	return NULL;
}

static void
set_stack(struct mw_thread *th, const struct mw_region *reg)
{
	th->stack_start = reg->start;
	th->stack_end = reg->end;
}

/* Is the region at start the stack of a thread or of the cache? */
static bool
claimed(const struct reader *r, uint64_t start)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].stack_end != 0 && r->v[i].stack_start == start)
			return true;
	for (size_t i = 0; i < r->ncache; i++)
		if (r->cache[i].stack_start == start)
			return true;
	return false;
}

/* The main thread: [stack]. The others: the region holding the SP. */
static void
stacks_from_sp(struct reader *r)
{
	const struct mw_region	*main_stack = find_named(r->m, "[stack]");

	for (size_t i = 0; i < r->n; i++) {
		struct mw_thread	*th = &r->v[i];
		const struct mw_region	*reg;

		if (is_main(r, th))
			reg = main_stack;
		else if (th->sp_from == MW_SP_NONE)
			continue;
		else
			reg = mw_maps_find(r->m, th->sp);
		if (reg != NULL && !claimed(r, reg->start))
			set_stack(th, reg);
	}
}

static int
add_cache(struct reader *r, const struct mw_region *reg, uint64_t tcb)
{
	struct mw_thread	*c;

	if (claimed(r, reg->start))
		return 0;
	if (grow((void **)&r->cache, r->ncache, &r->cachecap,
	    sizeof(*r->cache)) == -1)
		return -1;
	c = &r->cache[r->ncache++];
	memset(c, 0, sizeof(*c));
	set_stack(c, reg);
	c->tcb = tcb;
	return 0;
}

/*
 * A region that glibc named: its thread's stack when that thread lives
 * and has none yet, else a stack of the cache. TID 0 stands for "none".
 */
static int
stack_by_tid(struct reader *r, const struct mw_region *reg, pid_t tid,
    uint64_t tcb)
{
	struct mw_thread	*th = tid > 0 ? find_thread(r, tid) : NULL;

	if (th == NULL)
		return add_cache(r, reg, tcb);
	if (is_main(r, th)) {
		/* The main thread's TCB is not on [stack]: just note it. */
		if (th->tcb == 0)
			th->tcb = tcb;
		return 0;
	}
	if (th->stack_end == 0 && !claimed(r, reg->start))
		set_stack(th, reg);
	if (th->tcb == 0 && th->stack_start == reg->start)
		th->tcb = tcb;
	return 0;
}

/*
 * "[anon: glibc: pthread stack: TID]" (also "pthread user stack") and
 * "[anon: glibc: unused stack]", from glibc 2.39 with decorate_maps.
 */
static int
stacks_from_names(struct reader *r)
{
	static const char stack[] = "[anon: glibc: pthread stack: ";
	static const char user[] = "[anon: glibc: pthread user stack: ";

	for (size_t i = 0; i < r->m->nregions; i++) {
		const struct mw_region	*reg = &r->m->regions[i];
		const char		*num = NULL;
		char			*end;
		long			 tid;

		if (reg->name == NULL)
			continue;
		if (strncmp(reg->name, stack, sizeof(stack) - 1) == 0)
			num = reg->name + sizeof(stack) - 1;
		else if (strncmp(reg->name, user, sizeof(user) - 1) == 0)
			num = reg->name + sizeof(user) - 1;
		else if (is_named(reg, "[anon: glibc: unused stack]")) {
			if (add_cache(r, reg, 0) == -1)
				return -1;
			continue;
		}
		if (num == NULL)
			continue;
		tid = strtol(num, &end, 10);
		if (end == num || strcmp(end, "]") != 0 || tid <= 0 ||
		    tid > INT32_MAX)
			continue;
		if (stack_by_tid(r, reg, (pid_t)tid, 0) == -1)
			return -1;
	}
	return 0;
}

/* ---- TCBs at the top of stack-shaped regions ------------------------ */

/*
 * An anonymous private rw-p region right above a ---p guard, whose top
 * may hold a TCB: glibc gives every stack it allocates a guard (unless
 * told guardsize 0). Only those are read: a process with 60,000
 * anonymous regions must not cost 60,000 reads. A stack without a guard
 * is still found from its thread's SP.
 */
static bool
is_candidate(const struct mw_maps *m, size_t i)
{
	const struct mw_region	*reg = &m->regions[i];
	const struct mw_region	*below = i > 0 ? &m->regions[i - 1] : NULL;

	if (reg->perms != (MW_PERM_READ | MW_PERM_WRITE) ||
	    (reg->kind != MW_KIND_ANON && reg->kind != MW_KIND_THREAD_STACK) ||
	    (reg->name != NULL && strncmp(reg->name, "[anon:", 6) != 0))
		return false;
	return below != NULL && below->end == reg->start && below->perms == 0;
}

static uint64_t
load64(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int32_t
load32(const unsigned char *p)
{
	int32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The highest 16-aligned a in buf (at addr) with a[0] == a[2] == a. */
static ssize_t
find_tcb(const unsigned char *buf, size_t len, uint64_t addr)
{
	uint64_t	top;

	if (len < 24)
		return -1;
	top = (addr + len - 24) & ~UINT64_C(15);
	for (uint64_t a = top; a >= addr; a -= 16) {
		size_t	off = (size_t)(a - addr);

		if (load64(buf + off) == a && load64(buf + off + 16) == a)
			return (ssize_t)off;
		if (a < 16)
			break;
	}
	return -1;
}

static int
keep_tcb(struct reader *r, size_t region, const unsigned char *buf,
    size_t len, uint64_t addr, size_t off)
{
	struct tcb	*t;

	if (grow((void **)&r->tcbs, r->ntcbs, &r->tcbcap,
	    sizeof(*r->tcbs)) == -1)
		return -1;
	t = &r->tcbs[r->ntcbs++];
	t->addr = addr + off;
	t->region = region;
	t->len = len - off < TCB_WINDOW ? len - off : TCB_WINDOW;
	memcpy(t->win, buf + off, t->len);
	return 0;
}

/*
 * Read the top of each candidate, one read each, so that a region that
 * went away since the map was read (EFAULT) costs only itself. Only a
 * target that is gone fails the search; without the right to read its
 * memory (EPERM) there is nothing to search.
 */
static int
scan_tcbs(struct reader *r, unsigned char *buf)
{
	for (size_t i = 0; i < r->m->nregions; i++) {
		const struct mw_region	*reg = &r->m->regions[i];
		size_t			 len;
		uint64_t		 addr;
		ssize_t			 off;

		if (!is_candidate(r->m, i))
			continue;
		len = reg->end - reg->start < TCB_TAIL ?
		    (size_t)(reg->end - reg->start) : TCB_TAIL;
		addr = reg->end - len;
		if (mwi_peek_mem(r->pid, addr, buf, len) == -1) {
			if (errno == ESRCH)
				return -1;
			if (errno == EPERM)
				return 0;
			continue;
		}
		off = find_tcb(buf, len, addr);
		if (off >= 0 && keep_tcb(r, i, buf, len, addr,
		    (size_t)off) == -1)
			return -1;
	}
	return 0;
}

static const struct tcb *
tcb_in(const struct reader *r, uint64_t start)
{
	for (size_t i = 0; i < r->ntcbs; i++)
		if (r->m->regions[r->tcbs[i].region].start == start)
			return &r->tcbs[i];
	return NULL;
}

/*
 * Where struct pthread keeps the tid: the offsets at which every TCB
 * on a stack known from its thread's SP holds that thread's TID. glibc
 * 2.36's offset wins when it is among them; another offset is taken
 * only when it is the one left. -1: no such thread, or no agreement.
 */
static long
calibrate(const struct reader *r)
{
	bool	ok[TCB_WINDOW / 4];
	size_t	known = 0, left = 0;
	long	only = -1;

	for (size_t o = 0; o < TCB_WINDOW / 4; o++)
		ok[o] = true;
	for (size_t i = 0; i < r->n; i++) {
		const struct mw_thread	*th = &r->v[i];
		const struct tcb	*t;

		if (is_main(r, th) || th->sp_from == MW_SP_NONE ||
		    th->stack_end == 0 ||
		    (t = tcb_in(r, th->stack_start)) == NULL)
			continue;
		for (size_t o = 0; o < TCB_WINDOW / 4; o++)
			ok[o] = ok[o] && o * 4 + 4 <= t->len &&
			    load32(t->win + o * 4) == th->tid;
		known++;
	}
	for (size_t o = 0; o < TCB_WINDOW / 4; o++)
		if (ok[o]) {
			left++;
			only = (long)o * 4;
		}
	if (known == 0 || left == 0)
		return -1;
	if (ok[TID_OFF_GLIBC / 4])
		return TID_OFF_GLIBC;
	return left == 1 ? only : -1;
}

/* Each TCB to its thread, or to the cache when its tid lives no more. */
static int
stacks_from_tcbs(struct reader *r)
{
	for (size_t i = 0; i < r->ntcbs; i++) {
		const struct tcb	*t = &r->tcbs[i];
		const struct mw_region	*reg = &r->m->regions[t->region];
		int32_t			 tid;

		if ((size_t)r->tid_off + 4 > t->len)
			continue;
		tid = load32(t->win + r->tid_off);
		if (stack_by_tid(r, reg, tid > 0 ? tid : 0, t->addr) == -1)
			return -1;
	}
	return 0;
}

/* The TCBs of threads whose stack the SP gave. */
static void
tcbs_of_known(struct reader *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct mw_thread	*th = &r->v[i];
		const struct tcb	*t;

		if (th->tcb == 0 && th->stack_end != 0 && !is_main(r, th) &&
		    (t = tcb_in(r, th->stack_start)) != NULL)
			th->tcb = t->addr;
	}
}

static int
stacks_from_memory(struct reader *r)
{
	unsigned char	*buf;
	int		 rc;

	if ((buf = mwi_malloc(TCB_TAIL)) == NULL)
		return -1;
	rc = scan_tcbs(r, buf);
	free(buf);
	if (rc == -1)
		return -1;
	tcbs_of_known(r);
	r->tid_off = calibrate(r);
	return r->tid_off >= 0 ? stacks_from_tcbs(r) : 0;
}

/* ---- sizes, order, result ------------------------------------------- */

/* RLIMIT_STACK's soft limit from /proc/PID/limits; 0: none or unknown. */
uint64_t
mwi_stack_rlimit(pid_t pid)
{
	static const char key[] = "Max stack size";
	char		 buf[4096];
	const char	*p;
	char		*end;
	uint64_t	 v;

	if (mwi_read_small(pid, "limits", buf, sizeof(buf)) == -1 ||
	    (p = strstr(buf, key)) == NULL)
		return 0;
	p += sizeof(key) - 1;
	while (*p == ' ')
		p++;
	v = strtoull(p, &end, 10);
	return end == p ? 0 : v;	/* "unlimited" */
}

static void
set_usage(struct mw_thread *th, uint64_t limit)
{
	th->stack_size = th->stack_end - th->stack_start;
	if (limit > th->stack_size)
		th->stack_size = limit;
	th->used = th->headroom = 0;
	if (th->sp_from == MW_SP_NONE || th->sp < th->stack_start ||
	    th->sp > th->stack_end)
		return;
	th->used = th->stack_end - th->sp;
	th->headroom = th->stack_size > th->used ?
	    th->stack_size - th->used : 0;
}

static void
set_sizes(struct reader *r)
{
	uint64_t	limit = 0;

	for (size_t i = 0; i < r->n; i++)
		if (is_main(r, &r->v[i]) && r->v[i].stack_end != 0)
			limit = mwi_stack_rlimit(r->pid);
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].stack_end != 0)
			set_usage(&r->v[i], is_main(r, &r->v[i]) ? limit : 0);
	for (size_t i = 0; i < r->ncache; i++)
		set_usage(&r->cache[i], 0);
}

static int
cmp_threads(const void *a, const void *b, void *arg)
{
	pid_t	ta = ((const struct mw_thread *)a)->tid;
	pid_t	tb = ((const struct mw_thread *)b)->tid;
	pid_t	pid = *(const pid_t *)arg;

	if (ta == tb)
		return 0;
	if (ta == pid || tb == pid)
		return ta == pid ? -1 : 1;
	return ta < tb ? -1 : 1;
}

/* Sorted threads, then the cache, in t. */
static int
finish(struct reader *r, struct mwi_threads *t)
{
	struct mw_thread	*v;

	qsort_r(r->v, r->n, sizeof(*r->v), cmp_threads, &r->pid);
	v = mwi_reallocarray(r->v, r->n + r->ncache + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	r->v = NULL;
	if (r->ncache > 0)
		memcpy(v + r->n, r->cache, r->ncache * sizeof(*v));
	t->n = r->n;
	t->ncached = r->ncache;
	t->v = v;
	return 0;
}

static void
reader_free(struct reader *r)
{
	free(r->v);
	free(r->cache);
	free(r->tcbs);
}

int
mwi_threads_read(pid_t pid, const struct mw_maps *m, unsigned int flags,
    struct mwi_threads *t)
{
	struct reader	r;
	int		rc = -1, saved;

	t->n = t->ncached = 0;
	t->v = NULL;
	if (pid < 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.self = pid == 0 || pid == getpid();
	r.pid = pid == 0 ? getpid() : pid;
	r.m = m;
	r.tid_off = -1;
	if (read_tasks(&r, flags) == 0) {
		stacks_from_sp(&r);
		if (stacks_from_names(&r) == 0 &&
		    stacks_from_memory(&r) == 0) {
			set_sizes(&r);
			rc = finish(&r, t);
		}
	}
	saved = errno;
	reader_free(&r);
	errno = saved;
	return rc;
}

/* ---- labels --------------------------------------------------------- */

/* The index of the region that is exactly [start, end), or SIZE_MAX. */
static size_t
region_of(const struct mw_maps *m, uint64_t start, uint64_t end)
{
	size_t	i = mwi_maps_index(m, start);

	if (i < m->nregions && m->regions[i].start == start &&
	    m->regions[i].end == end)
		return i;
	return SIZE_MAX;
}

/* The ---p region right below region i, if any, gets a note and tid. */
static void
label_guard(const struct mw_maps *m, size_t i, pid_t tid,
    struct mw_label *labels)
{
	const struct mw_region	*below;

	if (i == 0)
		return;
	below = &m->regions[i - 1];
	if (below->end != m->regions[i].start || below->perms != 0 ||
	    labels[i - 1].note != NULL)
		return;
	labels[i - 1].tid = tid;
	labels[i - 1].note = note_guard;
}

/*
 * A thread's stack becomes thread-stack, unless it is [stack] (the
 * main thread's, which keeps its kind) or a region that is no plain
 * anonymous memory: a stack a program put in its heap or in a file
 * mapping stays what it is, and only gets the tid.
 */
static void
label_thread(const struct mw_thread *th, struct mw_maps *m,
    struct mw_label *labels)
{
	size_t			 i;
	const struct mw_region	*reg;

	if (th->stack_end == 0)
		return;
	i = region_of(m, th->stack_start, th->stack_end);
	if (i == SIZE_MAX || labels[i].tid != 0)
		return;
	reg = &m->regions[i];
	labels[i].tid = th->tid;
	if (reg->kind == MW_KIND_STACK || is_named(reg, "[stack]"))
		return;
	if (reg->kind != MW_KIND_ANON && reg->kind != MW_KIND_THREAD_STACK)
		return;
	mwi_maps_set_kind(m, i, MW_KIND_THREAD_STACK);
	label_guard(m, i, th->tid, labels);
}

static void
label_cached(const struct mw_thread *c, const struct mw_maps *m,
    struct mw_label *labels)
{
	size_t	i = region_of(m, c->stack_start, c->stack_end);

	if (i == SIZE_MAX || labels[i].tid != 0 ||
	    m->regions[i].kind != MW_KIND_ANON)
		return;
	labels[i].note = note_cache;
	label_guard(m, i, 0, labels);
}

void
mwi_threads_label(const struct mwi_threads *t, struct mw_maps *m,
    struct mw_label *labels)
{
	if (t->v == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		label_thread(&t->v[i], m, labels);
	for (size_t i = 0; i < t->ncached; i++)
		label_cached(&t->v[t->n + i], m, labels);
}

void
mwi_threads_free(struct mwi_threads *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->ncached = 0;
}
