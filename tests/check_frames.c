/*
 * check_frames.c: the calling thread's frames (frames.c) come innermost
 * first with the right names, sizes that tile the stack, the same
 * instruction pointers by both captures; nothing calls malloc, the fast
 * capture works in a signal handler, and the probes print p_mem's way.
 *
 * The call chains are static noipa functions: no inlining, no clone
 * renamed .constprop, and each does something after its call so that
 * the call is not a tail call (which would leave no frame).
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

#include "mwi.h"
#include "tutil.h"

#define NOIPA	__attribute__((noipa))
#define MAXF	64

struct capture {
	struct mw_frame	 f[MAXF];
	void		*ips[MAXF];
	int		 nf, nb;
	uintptr_t	 local[3];	/* a local of c, b, a */
};

static volatile int	sink;

/* The kind column p_frames prints for this thread's frames. */
static const char *
own_stack_column(void)
{
	static char	col[32];

	snprintf(col, sizeof(col), "\t%s\t", mw_kind_name(TU_OWN_STACK));
	return col;
}

/*
 * ---- malloc counted: replaced (or hooked, under ASan) ----------------
 *
 * malloc, calloc and realloc are this program's, counting, then glibc's
 * own; glibc calls them through the symbols too, so its stdio and the
 * like are counted. The aligned ones (memalign, posix_memalign) are not
 * replaced: nothing on these paths would call them alone.
 */

static atomic_long	allocs;
static atomic_bool	counting;

static void
count_one(void)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocs, 1);
}

#ifdef __SANITIZE_ADDRESS__
/*
 * ASan owns malloc, and a program that defines its own breaks it: its
 * hooks see every allocation instead. (libasan exports the call; GCC
 * 12 ships no header that declares it.)
 */
int	__sanitizer_install_malloc_and_free_hooks(
	    void (*)(const volatile void *, size_t),
	    void (*)(const volatile void *));

static void
hook_malloc(const volatile void *p, size_t size)
{
	(void)p;
	(void)size;
	count_one();
}

static void
hook_free(const volatile void *p)
{
	(void)p;
}

/* Hooks add up: installed twice, each malloc would count twice. */
static void
count_start(void)
{
	static bool	installed;

	if (!installed)
		__sanitizer_install_malloc_and_free_hooks(hook_malloc,
		    hook_free);
	installed = true;
	atomic_store(&allocs, 0);
	atomic_store(&counting, true);
}
#else
/* glibc's own entry points, which its malloc and friends are. */
void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);
void	 __libc_free(void *);
void	*malloc(size_t);
void	*calloc(size_t, size_t);
void	*realloc(void *, size_t);
void	 free(void *);

void *
malloc(size_t size)
{
	count_one();
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	count_one();
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t size)
{
	count_one();
	return __libc_realloc(p, size);
}

void
free(void *p)
{
	__libc_free(p);
}

static void
count_start(void)
{
	atomic_store(&allocs, 0);
	atomic_store(&counting, true);
}
#endif

static long
count_stop(void)
{
	atomic_store(&counting, false);
	return atomic_load(&allocs);
}

/* ---- a -> b -> c -------------------------------------------------------- */

static NOIPA void
chain_c(struct capture *cp, unsigned int flags)
{
	int	here = 3;

	cp->local[0] = (uintptr_t)&here;
	cp->nb = mw_backtrace(cp->ips, MAXF / 2);
	cp->nf = mw_frames(cp->f, MAXF, flags);
	sink = here;
}

static NOIPA void
chain_b(struct capture *cp, unsigned int flags)
{
	int	here = 2;

	cp->local[1] = (uintptr_t)&here;
	chain_c(cp, flags);
	sink = here;
}

static NOIPA void
chain_a(struct capture *cp, unsigned int flags)
{
	int	here = 1;

	cp->local[2] = (uintptr_t)&here;
	chain_b(cp, flags);
	sink = here;
}

static NOIPA struct capture *
capture(unsigned int flags)
{
	struct capture	*cp = calloc(1, sizeof(*cp));

	ck_assert_ptr_nonnull(cp);
	chain_a(cp, flags);
	ck_assert_int_gt(cp->nf, 3);
	return cp;
}

START_TEST(test_names_in_order)
{
	struct capture	*cp = capture(0);
	bool		 main_seen = false;

	ck_assert_str_eq(cp->f[0].name, "chain_c");
	ck_assert_str_eq(cp->f[1].name, "chain_b");
	ck_assert_str_eq(cp->f[2].name, "chain_a");
	ck_assert_str_eq(cp->f[3].name, "capture");
	/* The offset leads back to the function's first byte. */
	ck_assert_uint_eq(cp->f[0].ip - cp->f[0].offset, (uintptr_t)chain_c);
	ck_assert_uint_eq(cp->f[2].ip - cp->f[2].offset, (uintptr_t)chain_a);
	ck_assert_uint_gt(cp->f[1].offset, 0);
	/* Check's runner and glibc's start are further out; main is there. */
	for (int i = 4; i < cp->nf; i++)
		main_seen = main_seen || strcmp(cp->f[i].name, "main") == 0;
	ck_assert(main_seen);
	free(cp);
}
END_TEST

START_TEST(test_no_names)
{
	struct capture	*named = capture(0), *bare = capture(MW_FRAMES_NONAMES);

	ck_assert_str_eq(bare->f[0].name, "");
	ck_assert_uint_eq(bare->f[0].offset, 0);
	ck_assert_int_eq(bare->nf, named->nf);
	/* The same frames but for the two call sites of capture here. */
	for (int i = 1; i < bare->nf; i++)
		if (i != 4)
			ck_assert_uint_eq(bare->f[i].ip, named->f[i].ip);
	ck_assert_uint_ne(bare->f[4].ip, named->f[4].ip);
	free(named);
	free(bare);
}
END_TEST

/* Each frame ends where the next one out begins; the sizes are > 0. */
START_TEST(test_sizes_tile)
{
	struct capture	*cp = capture(0);
	int		 last = cp->nf - 1;

	for (int i = 0; i < last; i++) {
		ck_assert_uint_gt(cp->f[i].size, 0);
		ck_assert_uint_eq(cp->f[i].cfa, cp->f[i].sp + cp->f[i].size);
		ck_assert_uint_eq(cp->f[i].cfa, cp->f[i + 1].sp);
		ck_assert_uint_eq(cp->f[i].flags & MW_FRAME_SIGNAL, 0);
	}
	/* The outermost (_start) has no caller: no cfa, no size. */
	ck_assert_uint_eq(cp->f[last].cfa, 0);
	ck_assert_uint_eq(cp->f[last].size, 0);
	ck_assert_str_eq(cp->f[last].name, "_start");
	free(cp);
}
END_TEST

/* The stack grows down: sp grows outward, frame by frame. */
START_TEST(test_sp_outward)
{
	struct capture	*cp = capture(0);

	for (int i = 0; i + 1 < cp->nf; i++)
		ck_assert_uint_lt(cp->f[i].sp, cp->f[i + 1].sp);
	free(cp);
}
END_TEST

/* A callee's frame lies wholly below its caller's, and each frame holds
 * the locals of its function. */
START_TEST(test_callee_below_caller)
{
	struct capture	*cp = capture(0);

	for (int i = 0; i < 3; i++) {
		ck_assert_uint_le(cp->f[i].cfa, cp->f[i + 1].sp);
		ck_assert_uint_ge(cp->local[i], cp->f[i].sp);
		ck_assert_uint_lt(cp->local[i], cp->f[i].cfa);
	}
	ck_assert_uint_lt(cp->local[0], cp->local[1]);
	ck_assert_uint_lt(cp->local[1], cp->local[2]);
	free(cp);
}
END_TEST

/* Both captures see the same return addresses; only the first differs,
 * the two calls being two places in chain_c. */
START_TEST(test_backtrace_matches_frames)
{
	struct capture	*cp = capture(MW_FRAMES_NONAMES);
	uintptr_t	 c = (uintptr_t)chain_c;

	ck_assert_int_eq(cp->nb, cp->nf);
	ck_assert_uint_gt((uintptr_t)cp->ips[0], c);
	ck_assert_uint_lt((uintptr_t)cp->ips[0], cp->f[0].ip);
	for (int i = 1; i < cp->nf; i++)
		ck_assert_ptr_eq(cp->ips[i], (void *)(uintptr_t)cp->f[i].ip);
	free(cp);
}
END_TEST

/*
 * A call that never returns may be a function's last instruction: its
 * return address is then the first byte past the function, which must
 * still be named by the call (ip - 1), not by what follows.
 */
static jmp_buf	nr_jmp;

static NOIPA __attribute__((noreturn)) void
never_back(struct capture *cp)
{
	cp->nf = mw_frames(cp->f, MAXF, 0);
	longjmp(nr_jmp, 1);
}

static NOIPA void
ends_in_call(struct capture *cp)
{
	never_back(cp);
}

START_TEST(test_noreturn_call)
{
	static struct capture	cp;

	if (setjmp(nr_jmp) == 0)
		ends_in_call(&cp);
	ck_assert_int_gt(cp.nf, 2);
	ck_assert_str_eq(cp.f[0].name, "never_back");
	ck_assert_str_eq(cp.f[1].name, "ends_in_call");
	ck_assert_uint_eq(cp.f[1].ip - cp.f[1].offset,
	    (uintptr_t)ends_in_call);
}
END_TEST

/* ---- truncation, deep stacks, bad arguments ----------------------------- */

struct small {
	struct mw_frame	 f[3];
	void		*ips[3];
	int		 nf, nb, nb0, nf0;
};

static NOIPA void
small_c(struct small *sm)
{
	sm->nf = mw_frames(sm->f, 2, 0);
	sm->nb = mw_backtrace(sm->ips, 2);
	sm->nb0 = mw_backtrace(sm->ips + 2, 0);
	sm->nf0 = mw_frames(sm->f + 2, 0, 0);
	sink = 3;
}

static NOIPA void
small_b(struct small *sm)
{
	small_c(sm);
	sink = 2;
}

/* Two asked for, two given; the third slot of each left alone. */
START_TEST(test_max_truncates)
{
	struct small	sm;

	memset(&sm, 0, sizeof(sm));
	small_b(&sm);
	ck_assert_int_eq(sm.nf, 2);
	ck_assert_str_eq(sm.f[0].name, "small_c");
	ck_assert_str_eq(sm.f[1].name, "small_b");
	ck_assert_uint_gt(sm.f[1].size, 0);	/* one step more for it */
	ck_assert_int_eq(sm.nb, 2);
	ck_assert_ptr_eq(sm.ips[1], (void *)(uintptr_t)sm.f[1].ip);
	ck_assert_int_eq(sm.nb0, 0);
	ck_assert_ptr_null(sm.ips[2]);
	ck_assert_int_eq(sm.nf0, 0);
	ck_assert_uint_eq(sm.f[2].ip, 0);
	ck_assert_int_eq(mw_frames(NULL, 0, 0), 0);
	ck_assert_int_eq(mw_backtrace(NULL, 0), 0);
}
END_TEST

struct deep {
	int		 levels;
	int		 max;
	int		 nb, nf;
	void		*ips[256];
	struct mw_frame	 f[256];
};

static NOIPA void
recurse(struct deep *d, int level)
{
	if (level < d->levels)
		recurse(d, level + 1);
	else {
		d->nb = mw_backtrace(d->ips, d->max);
		d->nf = mw_frames(d->f, 256, MW_FRAMES_NONAMES);
	}
	sink = level;
}

/*
 * 100 levels: 70 asked for (deeper than mw_backtrace's own buffer, and
 * cut: its slow path) and 200 (all of them: its fast one).
 */
START_TEST(test_deep_stack)
{
	static struct deep	d;

	for (int max = 70; max <= 200; max += 130) {
		memset(&d, 0, sizeof(d));
		d.levels = 100;
		d.max = max;
		recurse(&d, 0);
		ck_assert_int_gt(d.nf, 100);
		ck_assert_int_eq(d.nb, max < d.nf ? max : d.nf);
		for (int i = 1; i < d.nb; i++)
			ck_assert_ptr_eq(d.ips[i],
			    (void *)(uintptr_t)d.f[i].ip);
	}
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct mw_frame	f[1];
	void		*ips[1];

	errno = 0;
	ck_assert_int_eq(mw_frames(f, -1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(mw_frames(f, 1, 0x80), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(mw_frames(NULL, 1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(mw_backtrace(ips, -1), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = ERANGE;		/* success leaves errno alone */
	ck_assert_int_eq(mw_backtrace(ips, 1), 1);
	ck_assert_int_eq(mw_frames(f, 1, 0), 1);
	ck_assert_int_eq(errno, ERANGE);
}
END_TEST

/* ---- no allocation -------------------------------------------------------- */

static NOIPA void
probe_all(struct capture *cp)
{
	cp->nb = mw_backtrace(cp->ips, MAXF / 2);
	cp->nf = mw_frames(cp->f, MAXF, 0);
	p_frames("all");
	p_frame("one");
	sink = cp->nf;
}

/*
 * The first calls in this process (Check forks a process per test):
 * libunwind's first use, the probe's query handle and every name read
 * included, not one malloc. stdio allocates a stream's buffer at its
 * first write unless given one, which is the stream's affair: this one
 * is given one. The count must also see an allocation when there is
 * one, or it would prove nothing.
 */
START_TEST(test_no_malloc)
{
	static char		 text[16384], buf[BUFSIZ];
	static struct capture	 cp;
	static void *volatile	 p;	/* kept, or the compiler drops it */
	FILE			*fp = fmemopen(text, sizeof(text), "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(setvbuf(fp, buf, _IOFBF, sizeof(buf)), 0);
	mw_probe_stream(fp);
	count_start();
	probe_all(&cp);
	ck_assert_int_eq(count_stop(), 0);
	count_start();
	p = malloc(24);
	ck_assert_int_eq(count_stop(), 1);
	free(p);
	mw_probe_stream(NULL);
	fclose(fp);
	ck_assert_int_gt(cp.nb, 3);
	ck_assert_str_eq(cp.f[0].name, "probe_all");
	ck_assert_ptr_nonnull(strstr(text, "all[0]:\t0x"));
	ck_assert_ptr_nonnull(strstr(text, own_stack_column()));
	ck_assert_ptr_nonnull(strstr(text, "\tprobe_all+0x"));
	ck_assert_ptr_nonnull(strstr(text, "\none:\t0x"));
}
END_TEST

/*
 * Before Linux 6.11 (no PROCMAP_QUERY, the fault hook's ENOTTY here),
 * the probe reads the map once and keeps it: the first probe allocates,
 * as mw_frames(3) says, and the next ones do not. In a child, whose
 * probe may keep the text path (CK_FORK=no runs the tests in one
 * process).
 */
static int
text_path_child(void)
{
	static char		 text[16384], buf[BUFSIZ];
	static struct capture	 cp;
	FILE			*fp = fmemopen(text, sizeof(text), "w");
	long			 n;

	if (fp == NULL || setvbuf(fp, buf, _IOFBF, sizeof(buf)) != 0)
		return 2;
	mw_probe_stream(fp);
	mwi_faults.no_ioctl = true;
	p_frames("warm-up");
	count_start();
	probe_all(&cp);
	n = count_stop();
	fclose(fp);
	if (n != 0)
		return 3;
	if (strstr(text, "all[0]:\t0x") == NULL ||
	    strstr(text, own_stack_column()) == NULL ||
	    strstr(text, "unknown") != NULL)
		return 4;
	return 0;
}

START_TEST(test_no_malloc_text_path)
{
	pid_t	pid;
	int	status;

	if ((pid = fork()) == 0)
		_exit(text_path_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* ---- in a signal handler ---------------------------------------------------- */

static struct capture	sig_cp, sig_named;
static volatile sig_atomic_t sig_done;

/*
 * The async-signal-safe calls, then a capture with names to check them
 * by (safe here too: the signal stops this program's own loop, which
 * holds no lock).
 */
static void
on_alarm(int sig)
{
	(void)sig;
	sig_cp.nb = mw_backtrace(sig_cp.ips, MAXF / 2);
	sig_cp.nf = mw_frames(sig_cp.f, MAXF, MW_FRAMES_NONAMES);
	sig_named.nf = mw_frames(sig_named.f, MAXF, 0);
	sig_done = 1;
}

/* Mostly in its own loop, now and then asking the time. */
static NOIPA void
spin(void)
{
	struct timespec	t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 1; !sig_done; i++) {
		if (i % 100000 != 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			ck_abort_msg("no SIGALRM in 10 s");
	}
	sink = 1;
}

static NOIPA void
spin_caller(void)
{
	spin();
	sink = 2;
}

/* The index of the first frame named name from i on; -1: none. */
static int
named(const struct capture *cp, int i, const char *name)
{
	for (; i < cp->nf; i++)
		if (strcmp(cp->f[i].name, name) == 0)
			return i;
	return -1;
}

/* The frame of the signal, the frames it stopped (spin, spin_caller),
 * by both captures; errno as it was. */
static void
check_signal_walk(bool altstack)
{
	struct sigaction	sa, old;
	struct itimerval	it = { .it_value = { 0, 20000 } };
	stack_t			ss;
	static char		altbuf[65536];
	int			k, s;

	sig_done = 0;
	memset(&sig_cp, 0, sizeof(sig_cp));
	memset(&sig_named, 0, sizeof(sig_named));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	if (altstack) {
		ss.ss_sp = altbuf;
		ss.ss_size = sizeof(altbuf);
		ss.ss_flags = 0;
		ck_assert_int_eq(sigaltstack(&ss, NULL), 0);
		sa.sa_flags = SA_ONSTACK;
	}
	ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	errno = EDOM;
	spin_caller();
	ck_assert_int_eq(errno, EDOM);
	ck_assert_int_eq(sigaction(SIGALRM, &old, NULL), 0);
	if (altstack) {
		ss.ss_flags = SS_DISABLE;
		ck_assert_int_eq(sigaltstack(&ss, NULL), 0);
	}

	ck_assert_int_eq(sig_cp.nb, sig_cp.nf);
	for (k = 0; k < sig_cp.nf; k++)
		if (sig_cp.f[k].flags & MW_FRAME_SIGNAL)
			break;
	ck_assert_int_eq(k, 1);		/* on_alarm, then the signal's */
	ck_assert_int_eq(sig_named.nf, sig_cp.nf);
	for (int i = 1; i < sig_cp.nf; i++) {
		ck_assert_ptr_eq(sig_cp.ips[i],
		    (void *)(uintptr_t)sig_cp.f[i].ip);
		ck_assert_uint_eq(sig_named.f[i].ip, sig_cp.f[i].ip);
	}
	/* Past it: spin (maybe in clock_gettime), then spin_caller. */
	ck_assert_str_eq(sig_named.f[0].name, "on_alarm");
	ck_assert_int_ge(s = named(&sig_named, k + 1, "spin"), k + 1);
	ck_assert_int_eq(named(&sig_named, k + 1, "spin_caller"), s + 1);
	if (altstack)
		ck_assert_uint_eq(sig_cp.f[k].size, 0);	/* two stacks */
	else
		ck_assert_uint_gt(sig_cp.f[k].size, 0);
}

START_TEST(test_signal_handler)
{
	check_signal_walk(false);
}
END_TEST

START_TEST(test_signal_altstack)
{
	check_signal_walk(true);
}
END_TEST

/* ---- the probes' lines ---------------------------------------------------- */

struct line {
	char		 label[64];
	uintptr_t	 sp, dec, ip;
	uint64_t	 size;
	char		 kind[32], fn[160];
};

static NOIPA int
parse_lines(char *text, struct line *v, int max)
{
	char	*line, *save = NULL;
	int	 n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL && n < max;
	    line = strtok_r(NULL, "\n", &save), n++) {
		ck_assert_int_eq(sscanf(line, "%63[^:]:\t0x%" SCNxPTR "\t%"
		    SCNuPTR "\t%31[^\t]\t%" SCNu64 "\t%159[^\t]\t0x%" SCNxPTR,
		    v[n].label, &v[n].sp, &v[n].dec, v[n].kind, &v[n].size,
		    v[n].fn, &v[n].ip), 7);
		ck_assert_uint_eq(v[n].sp, v[n].dec);
	}
	return n;
}

static NOIPA void
print_c(void)
{
	p_frames("pf");
	p_frame("me");
	sink = 3;
}

static NOIPA void
print_b(void)
{
	print_c();
	sink = 2;
}

/* Run fn with the probe printing into a string; returns it (free it). */
static NOIPA char *
printed(void (*fn)(void))
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&text, &len), *old;

	ck_assert_ptr_nonnull(fp);
	old = mw_probe_stream(fp);
	fn();
	mw_probe_stream(old);
	fclose(fp);
	return text;
}

START_TEST(test_p_frames_lines)
{
	char		*text = printed(print_b);
	struct line	 v[MAXF];
	int		 n = parse_lines(text, v, MAXF);

	ck_assert_int_gt(n, 4);
	ck_assert_str_eq(v[0].label, "pf[0]");
	ck_assert_str_eq(v[1].label, "pf[1]");
	ck_assert(strncmp(v[0].fn, "print_c+0x", 10) == 0);
	ck_assert(strncmp(v[1].fn, "print_b+0x", 10) == 0);
	/* The frames tile the main thread's stack. */
	for (int i = 0; i + 2 < n; i++) {
		ck_assert_str_eq(v[i].kind, mw_kind_name(TU_OWN_STACK));
		ck_assert_uint_gt(v[i].size, 0);
		ck_assert_uint_eq(v[i].sp + v[i].size, v[i + 1].sp);
	}
	/* p_frame: print_c's frame, from another call in it. */
	ck_assert_str_eq(v[n - 1].label, "me");
	ck_assert(strncmp(v[n - 1].fn, "print_c+0x", 10) == 0);
	ck_assert_uint_eq(v[n - 1].sp, v[0].sp);
	ck_assert_uint_eq(v[n - 1].size, v[0].size);
	ck_assert_uint_ne(v[n - 1].ip, v[0].ip);
	free(text);
}
END_TEST

static void *
thread_main(void *arg)
{
	*(char **)arg = printed(print_b);
	return NULL;
}

/* A thread's stack is an anonymous mapping to p_mem (threads.c knows
 * better); the frames show it so, up to the thread's start. */
START_TEST(test_p_frames_thread)
{
	pthread_t	 t;
	char		*text = NULL;
	struct line	 v[MAXF];
	int		 n;

	ck_assert_int_eq(pthread_create(&t, NULL, thread_main, &text), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	n = parse_lines(text, v, MAXF);
	ck_assert_int_gt(n, 4);
	ck_assert(strncmp(v[0].fn, "print_c+0x", 10) == 0);
	ck_assert(strncmp(v[2].fn, "printed+0x", 10) == 0);
	ck_assert(strncmp(v[3].fn, "thread_main+0x", 14) == 0);
	ck_assert_str_eq(v[0].kind, "anon");
	ck_assert_str_eq(v[3].kind, "anon");
	free(text);
}
END_TEST

/* The probe's handle is static: after fork, the child's is its own. */
START_TEST(test_p_frames_after_fork)
{
	char	*text = printed(print_b);
	pid_t	 pid;
	int	 status;

	ck_assert_ptr_nonnull(strstr(text, own_stack_column()));
	free(text);
	if ((pid = fork()) == 0) {
		text = printed(print_b);
		_exit(strstr(text, own_stack_column()) != NULL &&
		    strstr(text, "unknown") == NULL ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("frames");
	TCase	*tc = tcase_create("frames");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_names_in_order);
	tcase_add_test(tc, test_no_names);
	tcase_add_test(tc, test_sizes_tile);
	tcase_add_test(tc, test_sp_outward);
	tcase_add_test(tc, test_callee_below_caller);
	tcase_add_test(tc, test_backtrace_matches_frames);
	tcase_add_test(tc, test_noreturn_call);
	tcase_add_test(tc, test_max_truncates);
	tcase_add_test(tc, test_deep_stack);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_no_malloc);
	tcase_add_test(tc, test_no_malloc_text_path);
	tcase_add_test(tc, test_signal_handler);
	tcase_add_test(tc, test_signal_altstack);
	tcase_add_test(tc, test_p_frames_lines);
	tcase_add_test(tc, test_p_frames_thread);
	tcase_add_test(tc, test_p_frames_after_fork);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
