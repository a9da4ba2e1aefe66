/*
 * leak.c: the article's leak as a process to watch. For every line it
 * reads on its standard input it mallocs LEAK_PER_LINE bytes in
 * blocks of the article's 40,000-byte arrays, writes them, and never
 * frees them; it says "leaked N" after each line, and exits at the end
 * of its input. Watch it grow with
 *
 *     memwalk watch PID             (a line per second, the heap's Rss)
 *     memwalk snap PID > a.json; ...; memwalk snap PID > b.json
 *     memwalk diff a.json b.json    (the [heap] grown)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memwalk.h>

#define BLOCK		40000		/* below the mmap threshold: heap */
#define LEAK_PER_LINE	(25 * BLOCK)	/* a megabyte */

int
main(void)
{
	char	line[64];
	size_t	leaked = 0;
	void	*first = malloc(BLOCK);

	p_mem("first block", first);	/* the heap it grows */
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		for (size_t n = 0; n < LEAK_PER_LINE; n += BLOCK) {
			char	*p = malloc(BLOCK);

			if (p == NULL)
				return 1;
			memset(p, 0x5a, BLOCK);
		}
		leaked += LEAK_PER_LINE;
		printf("leaked %zu\n", leaked);
		fflush(stdout);
	}
	return 0;
}
