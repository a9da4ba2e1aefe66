/*
 * probe_user.c: a program that uses libmemwalk as a user would, built
 * by tests/pkgconfig.sh with `pkg-config --cflags --libs memwalk`
 * against the staged installation. It prints p_mem lines for pointers
 * of every kind; the script checks the kinds. Its own maps go to stderr,
 * for the script to show when a kind is not the one expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <memwalk.h>

int		 a_global = 1;			/* data */
static char	 a_static[1 << 20];		/* bss: past the data page */

static void
dump_maps(void)
{
	FILE	*f = fopen("/proc/self/maps", "r");
	char	 line[4096];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	if (f != NULL)
		fclose(f);
}

int
main(void)
{
	int	 local = 2;
	char	*small = malloc(32);
	char	*big = malloc(8 << 20);		/* above the mmap threshold */
	/* Read-only: a rw-p page may land next to a library's .bss and be
	 * merged into it by the kernel (seen under ASan), and be bss. */
	void	*page = mmap(NULL, 4096, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int	(*fn)(void) = main;

	p_mem("local", &local);
	p_mem("global", &a_global);
	p_mem("static", &a_static[sizeof(a_static) / 2]);
	p_mem("malloc", small);
	p_mem("big_malloc", big);
	p_mem("function", (void *)fn);
	p_mem("mmap", page);
	p_mem("literal", "a literal");
	p_diff("local-global", &a_global, &local);
	dump_maps();
	free(small);
	free(big);
	return 0;
}
