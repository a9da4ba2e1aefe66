/*
 * os_linux.c: the only module that opens /proc, reads files and calls
 * ioctl(PROCMAP_QUERY). Everything above it works on bytes and structs;
 * stream.c turns mwi_read_some into a whole file.
 */
#include "mwi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#if HAVE_DECL_PROCMAP_QUERY
#include <linux/fs.h>
#endif

/* read(2), through the fault hooks. */
ssize_t
mwi_read_some(int fd, void *buf, size_t n)
{
	if (mwi_faults.read_fail > 0 && --mwi_faults.read_fail == 0) {
		errno = EIO;
		return -1;
	}
	if (mwi_faults.read_max > 0 && n > mwi_faults.read_max)
		n = mwi_faults.read_max;
	return read(fd, buf, n);
}

int
mwi_open_proc(pid_t pid, const char *file)
{
	char	path[64];
	int	fd;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/%s", file);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		errno = ESRCH;
	return fd;
}

int
mwi_open_task(pid_t pid, pid_t tid, const char *file)
{
	char	path[64];

	snprintf(path, sizeof(path), "task/%d/%s", (int)tid, file);
	return mwi_open_proc(pid, path);
}

/*
 * A small /proc file whole, NUL-terminated: its length, or -1. Files
 * like stat, comm, syscall and limits fit one read.
 */
ssize_t
mwi_read_small(pid_t pid, const char *file, char *buf, size_t size)
{
	ssize_t	n;
	int	fd, saved;

	if (size == 0 || (fd = mwi_open_proc(pid, file)) == -1)
		return -1;
	n = mwi_read_some(fd, buf, size - 1);
	saved = errno;
	close(fd);
	errno = saved;
	if (n == -1)
		return -1;
	buf[n] = '\0';
	return n;
}

int
mwi_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec	local = { buf, len };
	struct iovec	remote = { (void *)(uintptr_t)addr, len };

	return mwi_read_memv(pid, &local, &remote, 1) == 1 ? 0 : -1;
}

/* Count the ranges of a batch that n bytes read whole. */
static size_t
ranges_done(const struct iovec *remote, size_t n, size_t bytes)
{
	size_t	i = 0;

	while (i < n && bytes >= remote[i].iov_len) {
		bytes -= remote[i].iov_len;
		i++;
	}
	return i;
}

ssize_t
mwi_read_memv(pid_t pid, const struct iovec *local,
    const struct iovec *remote, size_t n)
{
	size_t	done = 0;

	if (pid == 0)
		pid = getpid();
	while (done < n) {
		size_t	batch = n - done > IOV_MAX ? IOV_MAX : n - done;
		size_t	want = 0, whole;
		ssize_t	got;

		for (size_t i = 0; i < batch; i++)
			want += remote[done + i].iov_len;
		got = process_vm_readv(pid, local + done, batch,
		    remote + done, batch, 0);
		if (got == -1)
			return done > 0 ? (ssize_t)done : -1;
		whole = ranges_done(remote + done, batch, (size_t)got);
		done += whole;
		if ((size_t)got < want) {
			if (done == 0)
				errno = EFAULT;
			return done > 0 ? (ssize_t)done : -1;
		}
	}
	return (ssize_t)done;
}

/*
 * Peeking at private anonymous memory without populating it.
 *
 * Reading a page the target never touched makes the kernel give the
 * target a page for it (measured on Linux 6.18: process_vm_readv and
 * /proc/PID/mem alike add the page to the target's Rss), so a probe
 * that looked at the start of every MiB of a big mapping would grow
 * the very figures memwalk reports. /proc/PID/pagemap says, per page,
 * whether it is present (bit 63) or swapped (bit 62); a page that is
 * neither has, in private anonymous memory, nothing but zeros in it.
 *
 *   pagemap:  one 64-bit entry per page, at offset (addr / pagesize) * 8
 *   window:   up to PEEK_WINDOW entries from page 'first', read at once
 *             (headers 16 KiB apart share a read; on the stack, as is
 *             the batch of PEEK_BATCH parts: no allocation, ~14 KiB)
 *
 * Only for private anonymous memory: a page of a file or of shared
 * memory that this process has not mapped yet has the file's bytes.
 */
#define PEEK_WINDOW	512
#define PEEK_BATCH	256
#define PM_RESIDENT	(UINT64_C(3) << 62)	/* present or swapped */

struct pagemap {
	int		 fd;
	uint64_t	 pagesize;
	uint64_t	 first;		/* page of entry[0] */
	size_t		 n;		/* entries read */
	uint64_t	 last_wanted;	/* last page this call asks about */
	uint64_t	 entry[PEEK_WINDOW];
};

/* 1: the page holds data, 0: it has never been touched, -1: error. */
static int
page_resident(struct pagemap *pm, uint64_t page)
{
	if (page < pm->first || page >= pm->first + pm->n) {
		size_t	want = PEEK_WINDOW;
		ssize_t	got;

		if (pm->last_wanted >= page && pm->last_wanted - page < want)
			want = (size_t)(pm->last_wanted - page) + 1;
		got = pread(pm->fd, pm->entry, want * 8, (off_t)(page * 8));
		if (got < 8)
			return -1;
		pm->first = page;
		pm->n = (size_t)got / 8;
	}
	return (pm->entry[page - pm->first] & PM_RESIDENT) != 0;
}

/*
 * A peek in progress: the resident parts of the ranges queued so far,
 * each with the range it belongs to; ranges before 'whole' are done.
 */
struct peek {
	pid_t		 pid;
	struct pagemap	 pm;
	struct iovec	 local[PEEK_BATCH];
	struct iovec	 remote[PEEK_BATCH];
	size_t		 range[PEEK_BATCH];
	size_t		 n;
	size_t		 whole;
};

/*
 * Read what is queued. 1: all of it, so every range before 'upto' is
 * whole; 0: a part failed (EFAULT), 'whole' stops at its range; -1:
 * error (ESRCH, EPERM).
 */
static int
peek_flush(struct peek *pk, size_t upto)
{
	ssize_t	got = pk->n ? mwi_read_memv(pk->pid, pk->local, pk->remote,
		    pk->n) : 0;

	if (got == -1 && errno != EFAULT)
		return -1;
	if (got < (ssize_t)pk->n) {
		pk->whole = pk->range[got < 0 ? 0 : got];
		return 0;
	}
	pk->whole = upto;
	pk->n = 0;
	return 1;
}

static int
peek_add(struct peek *pk, size_t range, char *local, uint64_t remote,
    size_t len)
{
	int	rc;

	if (pk->n == PEEK_BATCH && (rc = peek_flush(pk, range)) != 1)
		return rc;
	pk->local[pk->n].iov_base = local;
	pk->local[pk->n].iov_len = len;
	pk->remote[pk->n].iov_base = (void *)(uintptr_t)remote;
	pk->remote[pk->n].iov_len = len;
	pk->range[pk->n++] = range;
	return 1;
}

/*
 * Queue range i: its runs of resident pages; the rest reads as the
 * zeros it holds. Returns as peek_flush.
 */
static int
peek_range(struct peek *pk, size_t i, const struct iovec *local,
    const struct iovec *remote)
{
	uint64_t	 ps = pk->pm.pagesize;
	uint64_t	 addr = (uintptr_t)remote->iov_base;
	uint64_t	 end = addr + remote->iov_len, run = addr;
	char		*buf = local->iov_base;
	int		 res, was = 0, rc = 1;

	memset(buf, 0, local->iov_len);
	for (uint64_t a = addr; a < end && rc == 1; a = (a / ps + 1) * ps) {
		if ((res = page_resident(&pk->pm, a / ps)) == -1)
			return -1;
		if (res && !was)
			run = a;
		if (!res && was)
			rc = peek_add(pk, i, buf + (run - addr), run,
			    (size_t)(a - run));
		was = res;
	}
	if (was && rc == 1)
		rc = peek_add(pk, i, buf + (run - addr), run,
		    (size_t)(end - run));
	return rc;
}

/* The last page any of the ranges touches: how far a window may go. */
static uint64_t
last_page(const struct iovec *remote, size_t n, uint64_t ps)
{
	uint64_t	last = 0;

	for (size_t i = 0; i < n; i++)
		if (remote[i].iov_len > 0) {
			uint64_t p = ((uintptr_t)remote[i].iov_base +
			    remote[i].iov_len - 1) / ps;
			if (p > last)
				last = p;
		}
	return last;
}

ssize_t
mwi_peek_memv(pid_t pid, const struct iovec *local,
    const struct iovec *remote, size_t n)
{
	struct peek	pk;
	ssize_t		rc = -1;
	int		more = 1;

	if ((pk.pm.fd = mwi_open_proc(pid, "pagemap")) == -1)
		return errno == ESRCH ? -1 : mwi_read_memv(pid, local, remote, n);
	pk.pid = pid;
	pk.n = pk.whole = 0;
	pk.pm.first = pk.pm.n = 0;
	pk.pm.pagesize = (uint64_t)sysconf(_SC_PAGESIZE);
	pk.pm.last_wanted = last_page(remote, n, pk.pm.pagesize);
	for (size_t i = 0; i < n && more == 1; i++)
		more = peek_range(&pk, i, local + i, remote + i);
	if (more == 1)
		more = peek_flush(&pk, n);
	if (more != -1)
		rc = (ssize_t)pk.whole;
	if (rc == 0 && n > 0) {
		errno = EFAULT;
		rc = -1;
	}
	close(pk.pm.fd);
	return rc;
}

int
mwi_peek_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec	local = { buf, len };
	struct iovec	remote = { (void *)(uintptr_t)addr, len };

	return mwi_peek_memv(pid, &local, &remote, 1) == 1 ? 0 : -1;
}

/*
 * Open the file behind a file mapping, to read its ELF headers. Through
 * /proc/PID/map_files first (the very file, even deleted or in another
 * mount namespace; needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), then
 * the path seen from the target's root, checked against the inode the
 * maps line gives. Only regular files are opened: opening a device can
 * have side effects.
 */
int
mwi_open_object(pid_t pid, const struct mw_region *r)
{
	char		path[PATH_MAX + 64];
	struct stat	st;
	int		fd = -1;

	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx",
		    (int)pid, (unsigned long long)r->start,
		    (unsigned long long)r->end);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd == -1) {
		if (r->name == NULL || r->name[0] != '/' ||
		    (r->flags & MW_REGION_DELETED))
			return -1;
		if (pid > 0)
			snprintf(path, sizeof(path), "/proc/%d/root%s",
			    (int)pid, r->name);
		else
			snprintf(path, sizeof(path), "%s", r->name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd == -1)
			return -1;
		if (fstat(fd, &st) == -1 || (uint64_t)st.st_ino != r->inode)
			goto reject;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto reject;
	return fd;
reject:
	close(fd);
	errno = ENOEXEC;
	return -1;
}

/*
 * One PROCMAP_QUERY. Returns 1 and fills *out (name into name[]),
 * 0 when no VMA matches (ENOENT), -1 on error (ENOTTY: kernel too old).
 */
int
mwi_procmap_query(int fd, uint64_t addr, unsigned int qflags,
    struct mw_region *out, char *name, size_t namesz)
{
	struct procmap_query	pq;

	if (mwi_faults.no_ioctl) {
		errno = ENOTTY;
		return -1;
	}
	if (mwi_faults.query_esrch > 0 && --mwi_faults.query_esrch == 0) {
		errno = ESRCH;
		return -1;
	}
	memset(&pq, 0, sizeof(pq));
	pq.size = sizeof(pq);
	pq.query_flags = qflags;
	pq.query_addr = addr;
	pq.vma_name_addr = (uintptr_t)name;
	pq.vma_name_size = (__u32)namesz;
	if (ioctl(fd, PROCMAP_QUERY, &pq) == -1)
		return errno == ENOENT ? 0 : -1;

	memset(out, 0, sizeof(*out));
	out->start = pq.vma_start;
	out->end = pq.vma_end;
	out->offset = pq.vma_offset;
	out->inode = pq.inode;
	out->dev_major = pq.dev_major;
	out->dev_minor = pq.dev_minor;
	out->perms = (unsigned int)(pq.vma_flags & 0xf);
	out->name = pq.vma_name_size > 0 ? name : NULL;
	if (out->name != NULL && mwi_name_is_deleted(out->name))
		out->flags |= MW_REGION_DELETED;
	return 1;
}

/*
 * ---- Tasks and their registers (threads.c) ------------------------------
 *
 * mwi_list_tasks lists /proc/PID/task; mwi_task_regs stops one thread
 * for as long as it takes to copy three registers. The stop is
 * PTRACE_SEIZE + PTRACE_INTERRUPT: unlike PTRACE_ATTACH it sends no
 * SIGSTOP that could be seen by the target, and a SEIZEd tracee whose
 * tracer dies (even by SIGKILL) is detached and runs on. While the
 * thread is seized, the caller blocks every signal it could catch, so
 * that no handler runs (or longjmps away) between SEIZE and DETACH.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

/* The TIDs of /proc/PID/task, unsorted, in *tids (free it): a count. */
ssize_t
mwi_list_tasks(pid_t pid, pid_t **tids)
{
	struct dirent	*de;
	DIR		*dir;
	pid_t		*v = NULL, *nv;
	size_t		 n = 0, cap = 0;
	int		 fd, saved;

	if ((fd = mwi_open_proc(pid, "task")) == -1)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		long	tid = strtol(de->d_name, NULL, 10);

		if (tid <= 0)
			continue;	/* "." and ".." */
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = mwi_reallocarray(v, cap, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		v[n++] = (pid_t)tid;
	}
	closedir(dir);
	*tids = v;
	return (ssize_t)n;
fail:
	saved = errno;
	closedir(dir);
	free(v);
	errno = saved;
	return -1;
}

/* Every signal a handler could catch, but those a fault raises. */
static void
block_catchable(sigset_t *old)
{
	sigset_t	set;

	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGTRAP);
	sigdelset(&set, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

/* waitpid for a seized thread; 0: stopped, -1: gone (ESRCH) or error. */
static int
wait_seized(pid_t tid, int *status)
{
	pid_t	got;

	while ((got = waitpid(tid, status, __WALL)) == -1 && errno == EINTR)
		continue;
	if (got == -1)
		return -1;
	if (!WIFSTOPPED(*status)) {
		errno = ESRCH;	/* it exited, and is now reaped */
		return -1;
	}
	return 0;
}

static int
copy_regs(pid_t tid, struct mwi_regs *out)
{
#if defined(__x86_64__)
	struct user_regs_struct	regs;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == -1)
		return -1;
	out->sp = regs.rsp;
	out->ip = regs.rip;
	out->tp = regs.fs_base;
	return 0;
#else
	(void)tid;
	(void)out;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * The SEIZE, INTERRUPT, wait, GETREGS, DETACH dance on one thread.
 * A thread that had a signal on its way stops for it first (a
 * signal-delivery-stop rather than our PTRACE_EVENT_STOP): that signal
 * goes back with the detach, or it would be lost. Once the wait saw the
 * thread stopped, the detach cannot fail but by the thread's death.
 */
static int
seized_regs(pid_t tid, struct mwi_regs *out)
{
	int	status, sig, rc, saved;

	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == -1) {
		saved = errno;
		/* Gone between SEIZE and INTERRUPT: reap its exit report. */
		(void)wait_seized(tid, &status);
		errno = saved;
		return -1;
	}
	if (wait_seized(tid, &status) == -1)
		return -1;
	sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
	rc = copy_regs(tid, out);
	saved = errno;
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(uintptr_t)sig);
	errno = saved;
	return rc;
}

int
mwi_task_regs(pid_t tid, struct mwi_regs *out)
{
	sigset_t	old;
	int		rc, saved;

	if (tid <= 0 || tid == getpid()) {
		errno = EINVAL;
		return -1;
	}
	block_catchable(&old);
	rc = ptrace(PTRACE_SEIZE, tid, NULL, NULL);
	if (rc == 0)
		rc = seized_regs(tid, out);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

/*
 * ---- Every thread stopped at once (memwalk stack) -------------------------
 *
 *   pass:  list task/ -> SEIZE + INTERRUPT each new TID -> wait for each
 *          to stop; again until a listing shows no new TID (a stopped
 *          thread starts no other)
 *   v[]:   one entry per TID seized, by TID: MWI_TASK_STOPPED (regs
 *          valid), MWI_TASK_GONE (exited meanwhile), MWI_TASK_LATE (did
 *          not stop within STOP_WAIT_NS, e.g. in uninterruptible sleep)
 *
 * Every catchable signal is blocked from the first SEIZE until the last
 * DETACH, so that SIGINT, SIGTERM, SIGHUP or SIGPIPE sent to memwalk
 * meanwhile act after the threads are running again. A signal a thread
 * was stopping for goes back to it with the DETACH. SIGKILL cannot be
 * blocked: the kernel detaches a dead tracer's tracees, and SEIZE (no
 * SIGSTOP) leaves them running. A LATE thread is detached by the kernel
 * when memwalk exits, if not before.
 */
#define STOP_WAIT_NS	(500 * 1000 * 1000L)	/* for all the threads */
#define STOP_PASSES	16

static bool
stop_has(const struct mwi_stop *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].tid == tid)
			return true;
	return false;
}

static int
copy_all_regs(pid_t tid, uint64_t *r)
{
#if defined(__x86_64__)
	struct user_regs_struct	u;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &u) == -1)
		return -1;
	r[0] = u.rax; r[1] = u.rdx; r[2] = u.rcx; r[3] = u.rbx;
	r[4] = u.rsi; r[5] = u.rdi; r[6] = u.rbp; r[7] = u.rsp;
	r[8] = u.r8; r[9] = u.r9; r[10] = u.r10; r[11] = u.r11;
	r[12] = u.r12; r[13] = u.r13; r[14] = u.r14; r[15] = u.r15;
	r[16] = u.rip;
	return 0;
#else
	(void)tid;
	(void)r;
	errno = ENOSYS;
	return -1;
#endif
}

static long
ns_since(const struct timespec *t0)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000000000L +
	    (now.tv_nsec - t0->tv_nsec);
}

/* Wait for task t to stop (polling: a thread in D state may not). */
static void
stop_wait(struct mwi_task *t, const struct timespec *t0)
{
	struct timespec	nap = { 0, 20 * 1000 };
	int		status;
	pid_t		got;

	for (;;) {
		got = waitpid(t->tid, &status, WNOHANG | __WALL);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1 || (got == t->tid && !WIFSTOPPED(status))) {
			t->state = MWI_TASK_GONE;
			return;
		}
		if (got == t->tid)
			break;
		if (ns_since(t0) > STOP_WAIT_NS) {
			t->state = MWI_TASK_LATE;
			return;
		}
		nanosleep(&nap, NULL);
	}
	t->sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
	t->state = copy_all_regs(t->tid, t->regs) == 0 ? MWI_TASK_STOPPED :
	    MWI_TASK_GONE;
}

/* SEIZE and INTERRUPT tid; 0, or -1 when it may not be (EPERM). */
static int
stop_one(struct mwi_stop *s, pid_t tid)
{
	struct mwi_task	*t;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == -1)
		return errno == ESRCH ? 0 : -1;
	if (s->n == s->cap) {
		size_t	 cap = s->cap ? s->cap * 2 : 16;
		void	*v = mwi_reallocarray(s->v, cap, sizeof(*s->v));

		if (v == NULL) {
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	t = &s->v[s->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->state = MWI_TASK_LATE;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == -1)
		t->state = MWI_TASK_GONE;
	return 0;
}

/*
 * One pass; the number of TIDs new in it, or -1. The threads of a pass
 * have STOP_WAIT_NS from the last INTERRUPT to stop, all together.
 */
static ssize_t
stop_pass(struct mwi_stop *s)
{
	struct timespec	 t0;
	pid_t		*tids;
	ssize_t		 n = mwi_list_tasks(s->pid, &tids);
	size_t		 first = s->n, added = 0;

	if (n == -1)
		return -1;
	for (ssize_t i = 0; i < n; i++) {
		if (tids[i] == getpid() || stop_has(s, tids[i]))
			continue;
		if (stop_one(s, tids[i]) == -1) {
			free(tids);
			return -1;
		}
		added++;
	}
	free(tids);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = first; i < s->n; i++)
		if (s->v[i].state == MWI_TASK_LATE)
			stop_wait(&s->v[i], &t0);
		else	/* gone between SEIZE and INTERRUPT: reap its report */
			(void)waitpid(s->v[i].tid, NULL, WNOHANG | __WALL);
	return (ssize_t)added;
}

static int
task_cmp(const void *a, const void *b)
{
	const struct mwi_task	*x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

int
mwi_stop_all(pid_t pid, struct mwi_stop *s)
{
	ssize_t	added = 1;
	int	saved;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	if (pid <= 0 || pid == getpid()) {
		errno = EINVAL;
		return -1;
	}
	block_catchable(&s->old_mask);
	for (int pass = 0; pass < STOP_PASSES && added > 0; pass++)
		if ((added = stop_pass(s)) == -1) {
			saved = errno;
			mwi_resume_all(s);
			errno = saved;
			return -1;
		}
	if (s->n == 0) {
		mwi_resume_all(s);
		errno = ESRCH;
		return -1;
	}
	qsort(s->v, s->n, sizeof(*s->v), task_cmp);
	return 0;
}

void
mwi_resume_all(struct mwi_stop *s)
{
	int	saved = errno;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].state != MWI_TASK_GONE)
			ptrace(PTRACE_DETACH, s->v[i].tid, NULL,
			    (void *)(uintptr_t)s->v[i].sig);
	pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
	errno = saved;
}

/*
 * ---- Memory for the bundled allocator (alloc.c) -------------------------
 *
 * An aligned mapping is a mapping of size + align trimmed at both ends.
 * The name, PR_SET_VMA_ANON_NAME (Linux 5.17, CONFIG_ANON_VMA_NAME),
 * shows as "[anon:NAME]" in the maps; where the kernel lacks it the
 * mapping stays unnamed, silently.
 */
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41
#define PR_SET_VMA_ANON_NAME	0
#endif

void *
mwi_map_aligned(size_t size, size_t align)
{
	char		*p, *start;
	size_t		 len = size + align;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	start = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (start > p)
		munmap(p, (size_t)(start - p));
	if (start + size < p + len)
		munmap(start + size, (size_t)(p + len - (start + size)));
	return start;
}

/*
 * The pages of [p, p + len) faulted in for writing in one call
 * (MADV_POPULATE_WRITE, Linux 5.14); refused, they fault in as they
 * are touched.
 */
void
mwi_populate(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	lo = (uintptr_t)p & ~(page - 1);
	uintptr_t	hi = ((uintptr_t)p + len + page - 1) & ~(page - 1);

	(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
	(void)p, (void)len;
#endif
}

/*
 * Memory about to be used whole: transparent huge pages asked for
 * (MADV_HUGEPAGE, where THP is "always" or "madvise"), then populated:
 * a huge page per aligned 2 MiB, or one call for its small pages where
 * THP is off.
 */
void
mwi_map_eager(void *p, size_t size)
{
	(void)madvise(p, size, MADV_HUGEPAGE);
	mwi_populate(p, size);
}

void
mwi_unmap(void *p, size_t size)
{
	munmap(p, size);
}

void
mwi_name_anon(void *p, size_t size, const char *name)
{
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, size,
	    (unsigned long)name);
}
