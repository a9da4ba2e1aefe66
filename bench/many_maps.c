/*
 * many_maps.c: a benchmark target with N separate mappings.
 *
 * usage: many_maps [N]          (default 60000)
 *
 * It maps N pages as one anonymous read-write region, then mprotects
 * every other page PROT_READ, so that no two neighbours can merge and
 * the kernel keeps N VMAs (plus the process's own twenty-odd):
 *
 *   base: [rw-p][r--p][rw-p][r--p] ... N pages, N mappings
 *
 * The pages are touched (written), so the maps text is what a real
 * process's would be. Then it prints, on stdout, one line
 *
 *   pid PID base 0xBASE pages N pagesize P
 *
 * then "ready", and waits until stdin closes (or a signal), then exits 0.
 * vm.max_map_count is 65530 by default: N = 60000 fits, with room.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long		 n = 60000, pg = sysconf(_SC_PAGESIZE);
	char		*base, *end, buf[256];
	ssize_t		 r;

	if (argc > 2) {
		fprintf(stderr, "usage: many_maps [pages]\n");
		return 2;
	}
	if (argc == 2) {
		char	*e;

		errno = 0;
		n = strtol(argv[1], &e, 10);
		if (errno != 0 || *e != '\0' || n < 1 || n > 10000000) {
			fprintf(stderr, "many_maps: %s: not a page count\n",
			    argv[1]);
			return 2;
		}
	}
	base = mmap(NULL, (size_t)n * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("many_maps: mmap");
		return 3;
	}
	end = base + n * pg;
	for (char *p = base; p < end; p += pg)
		*p = 1;
	for (long i = 1; i < n; i += 2)
		if (mprotect(base + i * pg, (size_t)pg, PROT_READ) == -1) {
			fprintf(stderr, "many_maps: mprotect page %ld: %s%s\n",
			    i, strerror(errno), errno == ENOMEM ?
			    " (over vm.max_map_count?)" : "");
			return 3;
		}
	printf("pid %ld base 0x%lx pages %ld pagesize %ld\nready\n",
	    (long)getpid(), (unsigned long)(uintptr_t)base, n, pg);
	if (fflush(stdout) == EOF) {
		perror("many_maps: stdout");
		return 3;
	}
	while ((r = read(STDIN_FILENO, buf, sizeof(buf))) != 0)
		if (r == -1 && errno != EINTR)
			break;
	return 0;
}
