/*
 * target.c: a live process with every kind of mapping the tests need.
 *
 * It maps, in this order:
 *   a file whose name holds spaces and a newline   (r--p, file)
 *   a file whose name is not UTF-8 (byte 0xff)     (r--p, file)
 *   a file it then unlinks                         (r--s, " (deleted)")
 *   a memfd                                        (rw-s, /memfd:...)
 *   a SysV shared memory segment                   (rw-s, /SYSV...)
 *   shared anonymous memory                        (rw-s, /dev/zero)
 *   anonymous memory named with PR_SET_VMA_ANON_NAME, where the kernel
 *     has CONFIG_ANON_VMA_NAME (not on this project's machines)
 *   a PROT_NONE page                               (---p, guard)
 *   a small and a large malloc                     (heap, mmap)
 *   with --maps N, N more pages of alternating protection
 *   with --threads N, N threads that sleep
 *   with --after-bss N, N KiB of anonymous memory right above its .bss,
 *     mapped first (before malloc can put the heap there): the kernel
 *     merges the two, as pymalloc's arenas can merge with libpython's
 * then prints one "NAME 0xADDRESS" line per interesting address, then
 * "ready", and waits until its stdin closes (or a signal), when it
 * removes its files and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41
#define PR_SET_VMA_ANON_NAME	0
#endif

int		 data_var = 42;		/* .data */
static char	 bss_var[256 * 1024];	/* .bss, past the file-backed page */
static const char rodata_str[] = "memwalk target rodata";
static char	 dir[256];
static char	 odd_path[512];
static char	 latin_path[512];

static void
die(const char *what)
{
	perror(what);
	exit(3);
}

static void
show(const char *name, const void *p)
{
	printf("%s 0x%lx\n", name, (unsigned long)(uintptr_t)p);
}

static void *
map_file(const char *path, size_t len, int prot, int flags, bool unlink_it)
{
	void	*p;
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		die(path);
	if (ftruncate(fd, (off_t)len) == -1)
		die("ftruncate");
	if ((p = mmap(NULL, len, prot, flags, fd, 0)) == MAP_FAILED)
		die("mmap file");
	close(fd);
	if (unlink_it)
		unlink(path);
	return p;
}

static void *
sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void
many_maps(long n)
{
	long	 pg = sysconf(_SC_PAGESIZE);
	char	*p;

	p = mmap(NULL, (size_t)(n * pg), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap many");
	for (long i = 0; i < n; i += 2)
		if (mprotect(p + i * pg, (size_t)pg, PROT_READ) == -1)
			die("mprotect");
	show("many", p);
}

/* kib KiB at the page after the .bss (_end), which the two then share. */
static void
after_bss(long kib)
{
	extern char	 _end[];
	uintptr_t	 pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	 at = ((uintptr_t)_end + pg - 1) & ~(pg - 1);
	char		*p;

	p = mmap((void *)at, (size_t)kib << 10, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (char *)at)
		die("mmap after the .bss");
	memset(p, 1, (size_t)kib << 10);
	show("after_bss", p);
}

static void
cleanup(void)
{
	unlink(odd_path);
	unlink(latin_path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	long	 pg = sysconf(_SC_PAGESIZE), nmaps = 0, nthreads = 0, kib = 0;
	char	 path[512], buf[64];
	void	*p;
	int	 fd, shmid, local = 7;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--maps") == 0)
			nmaps = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			nthreads = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--after-bss") == 0)
			kib = atol(argv[i + 1]);
	}
	if (kib > 0)
		after_bss(kib);
	snprintf(dir, sizeof(dir), "%s/mw target XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	atexit(cleanup);

	snprintf(odd_path, sizeof(odd_path), "%s/odd name\nwith newline", dir);
	show("odd_file", map_file(odd_path, (size_t)pg, PROT_READ, MAP_PRIVATE,
	    false));
	snprintf(latin_path, sizeof(latin_path), "%s/caf\xe9 \xff", dir);
	show("latin_file", map_file(latin_path, (size_t)pg, PROT_READ,
	    MAP_PRIVATE, false));
	snprintf(path, sizeof(path), "%s/gone", dir);
	show("deleted", map_file(path, 2 * (size_t)pg, PROT_READ, MAP_SHARED,
	    true));

	if ((fd = memfd_create("mw-memfd", 0)) == -1 ||
	    ftruncate(fd, pg) == -1)
		die("memfd");
	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap memfd");
	show("memfd", p);

	if ((shmid = shmget(IPC_PRIVATE, (size_t)pg, IPC_CREAT | 0600)) == -1)
		die("shmget");
	if ((p = shmat(shmid, NULL, 0)) == (void *)-1)
		die("shmat");
	shmctl(shmid, IPC_RMID, NULL);	/* gone when we detach or exit */
	show("sysv", p);

	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	show("anon_shared", p);

	p = mmap(NULL, 3 * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p,
	    3 * (unsigned long)pg, (unsigned long)"mw-named") == 0)
		show("named_anon", p);

	show("guard", mmap(NULL, (size_t)pg, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	show("heap", malloc(64));
	show("big_malloc", malloc(4 << 20));
	show("data", &data_var);
	show("bss", bss_var + sizeof(bss_var) / 2);
	show("rodata", rodata_str);
	show("text", (void *)main);
	show("stack", &local);
	if (nmaps > 0)
		many_maps(nmaps);
	for (long i = 0; i < nthreads; i++) {
		pthread_t	t;

		if (pthread_create(&t, NULL, sleeper, NULL) != 0)
			die("pthread_create");
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		continue;
	return 0;
}
