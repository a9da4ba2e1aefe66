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
