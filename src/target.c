/*
 * target.c: which process the user means, and why it cannot be read.
 *
 * A target is a PID (decimal, 1..INT_MAX, parsed whole by strtonum) or
 * a NAME: the process whose comm (15 bytes) or argv[0] basename equals
 * it; memwalk itself never matches. Failures are explained from what
 * /proc shows: who owns the target, our capabilities, its state.
 */
#include "config.h"

#include <bsd/stdlib.h>
#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CAP_SYS_PTRACE_BIT	19
#define PF_KTHREAD		0x00200000u

/* Read a small /proc file into buf; its length, or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

void
target_comm(pid_t pid, char *buf, size_t len)
{
	char	path[64];
	ssize_t	n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((n = read_small(path, buf, len)) <= 0) {
		buf[0] = '\0';
		return;
	}
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

static bool
argv0_matches(pid_t pid, const char *name)
{
	char		path[64], cmd[4096];
	const char	*base;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_small(path, cmd, sizeof(cmd)) <= 0)
		return false;
	base = strrchr(cmd, '/');
	base = base != NULL ? base + 1 : cmd;
	return strcmp(base, name) == 0;
}

static bool
process_matches(pid_t pid, const char *name)
{
	char	comm[64];

	target_comm(pid, comm, sizeof(comm));
	if (strcmp(comm, name) == 0)
		return true;
	return strlen(name) > 15 && strncmp(comm, name, 15) == 0 &&
	    argv0_matches(pid, name);
}

static int
resolve_name(const char *name, pid_t *pid)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 found[8], self = getpid(), p;
	size_t		 n = 0;

	if ((d = opendir("/proc")) == NULL) {
		warn("/proc");
		return EXIT_TARGET;
	}
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		p = (pid_t)strtonum(de->d_name, 1, INT32_MAX, NULL);
		if (p == 0 || p == self || !process_matches(p, name))
			continue;
		if (n < sizeof(found) / sizeof(found[0]))
			found[n] = p;
		n++;
	}
	closedir(d);
	if (n == 1) {
		*pid = found[0];
		return 0;
	}
	if (n == 0) {
		warnx("%s: no process has that name", name);
		return EXIT_TARGET;
	}
	fprintf(stderr, "memwalk: %s: %zu processes have that name:", name, n);
	for (size_t i = 0; i < n && i < sizeof(found) / sizeof(found[0]); i++)
		fprintf(stderr, " %d", (int)found[i]);
	fprintf(stderr, "%s; give a PID\n", n > 8 ? " ..." : "");
	return EXIT_USAGE;
}

static int	 resolve_arg(const char *, pid_t *);

static pid_t	 resolved_pid;
static uint64_t	 resolved_start;	/* its start time; 0: unknown */

/* The start time of pid, from /proc/PID/stat; 0 when it is gone. */
static uint64_t
start_time(pid_t pid)
{
	char			 path[64], text[1024];
	const char		*p;
	unsigned long long	 t = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, text, sizeof(text)) <= 0 ||
	    (p = strrchr(text, ')')) == NULL)
		return 0;
	/* after ")": state is field 3, starttime field 22 */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%*u %*u %*d %*d %*d %*d %*d %*d %llu", &t) != 1)
		return 0;
	return t;
}

static int
remember(pid_t pid)
{
	resolved_pid = pid;
	resolved_start = start_time(pid);
	return 0;
}

/*
 * Whether the PID resolved now names another process than it did then
 * (the first exited and the PID was reused): false when either start
 * time is unknown, as when the process is just gone.
 */
bool
target_replaced(pid_t *pid)
{
	uint64_t	now;

	if (resolved_start == 0)
		return false;
	now = start_time(resolved_pid);
	*pid = resolved_pid;
	return now != 0 && now != resolved_start;
}

/* The process has been seen to exit (watch says so): no more checks. */
void
target_forget(void)
{
	resolved_start = 0;
}

/* PID or NAME -> pid; 0, or an exit status after saying why. */
int
target_resolve(const char *arg, pid_t *pid)
{
	int	rc;

	if ((rc = resolve_arg(arg, pid)) == 0)
		remember(*pid);
	return rc;
}

static int
resolve_arg(const char *arg, pid_t *pid)
{
	const char	*errstr;
	const char	*p = arg;

	if (*arg == '\0') {
		warnx("empty PID or process name");
		return EXIT_USAGE;
	}
	if (*p == '-' || *p == '+')
		p++;
	if (*p != '\0' && strspn(p, "0123456789") == strlen(p)) {
		*pid = (pid_t)strtonum(arg, 1, INT32_MAX, &errstr);
		if (errstr != NULL) {
			warnx("%s: invalid PID: %s (a PID is 1..%d)", arg,
			    errstr, INT32_MAX);
			return EXIT_USAGE;
		}
		return 0;
	}
	return resolve_name(arg, pid);
}

static uint64_t
status_field(const char *status, const char *key, int base)
{
	const char	*p = strstr(status, key);

	return p == NULL ? 0 : strtoull(p + strlen(key), NULL, base);
}

static bool
have_cap_sys_ptrace(void)
{
	char	status[4096];

	if (read_small("/proc/self/status", status, sizeof(status)) <= 0)
		return false;
	return (status_field(status, "\nCapEff:", 16) >>
	    CAP_SYS_PTRACE_BIT) & 1;
}

/*
 * Reading maps needs PTRACE_MODE_READ: same uid and a dumpable target,
 * or CAP_SYS_PTRACE. A non-dumpable process's /proc files belong to
 * root, which tells the two cases apart.
 */
static int
explain_access(pid_t pid, const char *what)
{
	char		path[64], status[4096];
	struct stat	st;
	unsigned int	uid, me = (unsigned int)geteuid();

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, status, sizeof(status)) <= 0 ||
	    stat(path, &st) == -1) {
		warnx("%d: %s: Permission denied", (int)pid, what);
		return EXIT_TARGET;
	}
	uid = (unsigned int)status_field(status, "\nUid:", 10);
	if (have_cap_sys_ptrace())
		warnx("%d: %s: Permission denied, though memwalk has "
		    "CAP_SYS_PTRACE: a security module (SELinux, AppArmor) "
		    "refused the ptrace access check", (int)pid, what);
	else if (uid != me)
		warnx("%d: %s: Permission denied: the process belongs to uid "
		    "%u and memwalk runs as uid %u without CAP_SYS_PTRACE "
		    "(run as uid %u or as root)", (int)pid, what, uid, me, uid);
	else if (st.st_uid != me)
		warnx("%d: %s: Permission denied: the process is not dumpable "
		    "(set-uid, set-gid, or PR_SET_DUMPABLE 0), which takes "
		    "CAP_SYS_PTRACE (run as root)", (int)pid, what);
	else
		warnx("%d: %s: Permission denied by the ptrace access check",
		    (int)pid, what);
	return EXIT_TARGET;
}

/* An empty or vanished map: which of the three it is. */
static int
explain_gone(pid_t pid)
{
	char		path[64], stat_text[1024], comm[64];
	const char	*p;
	char		state = '?';
	unsigned long	flags = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, stat_text, sizeof(stat_text)) <= 0) {
		warnx("%d: the process exited while being read", (int)pid);
		return EXIT_TARGET;
	}
	target_comm(pid, comm, sizeof(comm));
	if ((p = strrchr(stat_text, ')')) != NULL)
		sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags);
	if (flags & PF_KTHREAD)
		warnx("%d: kernel thread (%s): it has no user memory",
		    (int)pid, comm);
	else if (state == 'Z' || state == 'X')
		warnx("%d: zombie process (%s): its memory is already gone",
		    (int)pid, comm);
	else
		warnx("%d: the process exited while being read", (int)pid);
	return EXIT_TARGET;
}

/*
 * Say why pid could not be read: err is the errno of reading file (of
 * /proc/PID). Returns the exit status.
 */
int
target_fail(pid_t pid, int err, const char *file)
{
	char	what[64];

	snprintf(what, sizeof(what), "/proc/%d/%s", (int)pid, file);
	switch (err) {
	case EACCES:
	case EPERM:
		return explain_access(pid, what);
	case ESRCH:
	case ENOENT:
		if (kill(pid, 0) == -1 && errno == ESRCH) {
			warnx("%d: No such process", (int)pid);
			return EXIT_TARGET;
		}
		return explain_gone(pid);
	default:
		errno = err;
		warn("%d: %s", (int)pid, what);
		return EXIT_TARGET;
	}
}

/*
 * The one operand of a command that reads one process whole (py,
 * arenas): resolved, and the process opened with mw_proc_open. 0 with
 * *pp set, or the exit status, said.
 */
/* A kernel thread or a zombie has no memory to read: say which; else 0. */
int
target_check_process(pid_t pid)
{
	char		path[64], stat_text[1024];
	const char	*p;
	char		state = '?';
	unsigned long	flags = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, stat_text, sizeof(stat_text)) <= 0)
		return target_fail(pid, ESRCH, "stat");
	if ((p = strrchr(stat_text, ')')) != NULL)
		sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags);
	if ((flags & PF_KTHREAD) || state == 'Z' || state == 'X')
		return explain_gone(pid);
	return 0;
}

/*
 * PTRACE_SEIZE refused: Yama's ptrace_scope first (it restricts attach,
 * not the reads the other commands make), then the access check.
 */
int
target_fail_attach(pid_t pid)
{
	char	scope[16];
	long	v;

	if (read_small("/proc/sys/kernel/yama/ptrace_scope", scope,
	    sizeof(scope)) > 0 && (v = strtol(scope, NULL, 10)) > 0) {
		if (v >= 3) {
			warnx("%d: ptrace: Permission denied: "
			    "kernel.yama.ptrace_scope is 3, no process may "
			    "attach until a reboot (use memwalk stack "
			    "--no-stop)", (int)pid);
			return EXIT_TARGET;
		}
		if (!have_cap_sys_ptrace()) {
			warnx("%d: ptrace: Permission denied: "
			    "kernel.yama.ptrace_scope is %ld, which lets %s "
			    "attach (run as root, or set ptrace_scope to 0; "
			    "or use memwalk stack --no-stop)", (int)pid, v,
			    v == 1 ? "only a parent or CAP_SYS_PTRACE" :
			    "only CAP_SYS_PTRACE");
			return EXIT_TARGET;
		}
	}
	return explain_access(pid, "ptrace");
}

int
target_open_proc(const char *cmd, const struct options *o, int argc,
    char **argv, pid_t *pid, struct mw_proc **pp)
{
	size_t	n;
	int	rc;

	if (argc != 1) {
		warnx(argc == 0 ? "%s: a PID or process name is needed" :
		    "%s: one PID or process name at a time", cmd);
		return EXIT_USAGE;
	}
	if ((rc = target_resolve(argv[0], pid)) != 0)
		return rc;
	if ((*pp = mw_proc_open(*pid, proc_flags(o) & ~MW_PROC_SMAPS)) == NULL)
		return target_fail(*pid, errno, "maps");
	mw_maps_regions(mw_proc_maps(*pp), &n);
	if (n == 0) {		/* a kernel thread, a zombie: say which */
		mw_proc_close(*pp);
		return target_fail(*pid, ESRCH, "maps");
	}
	return 0;
}

/* The first line of a report on one process: "PID (comm)". */
void
target_print_head(pid_t pid)
{
	char	comm[64];

	target_comm(pid, comm, sizeof(comm));
	out_dec((uint64_t)pid);
	out_str(" (");
	out_text_name(comm);
	out_str(")\n");
}
