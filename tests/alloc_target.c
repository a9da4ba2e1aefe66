/*
 * alloc_target.c: a live process that uses the bundled allocator, for
 * `memwalk arenas` and the memwalk-arena kind (check_alloc.c, cli.py).
 *
 * Two threads allocate blocks of four classes (one of them until a pool
 * is full), free some, then exit, so that their heaps are abandoned with
 * pools in every state; the main thread allocates too. Then it prints
 * its own mw_alloc_stats as "NAME 0xVALUE" lines (arenas, pools_used,
 * pools_full, pools_empty, and cN_pools, cN_blocks for every class N in
 * use), "live 0x..." (a block in use) and "freed 0x..." (a block it
 * freed, its pool still in use), "ready", and waits until stdin closes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "memwalk.h"

#define NBLOCKS	2000

static void *
churn(void *arg)
{
	static void	*keep[2][NBLOCKS];
	void		**v = keep[(intptr_t)arg];

	for (int i = 0; i < NBLOCKS; i++)
		v[i] = mw_malloc((size_t)(i % 4) * 100 + 10);
	for (int i = 0; i < NBLOCKS; i += 3)
		mw_free(v[i]);
	return NULL;
}

static void
print_stats(void)
{
	struct mw_alloc_stats	st;

	mw_alloc_stats(&st);
	printf("arenas 0x%zx\npools_used 0x%zx\npools_full 0x%zx\n"
	    "pools_empty 0x%zx\n", st.arenas, st.pools_used, st.pools_full,
	    st.pools_empty);
	for (int c = 0; c < MW_ALLOC_CLASSES; c++)
		if (st.classes[c].pools > 0)
			printf("c%d_pools 0x%zx\nc%d_blocks 0x%zx\n", c,
			    st.classes[c].pools, c, st.classes[c].blocks);
}

int
main(void)
{
	pthread_t	 t[2];
	char		*live, *freed, buf[64];
	void		*full[1100];

	for (intptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 1100; i++)		/* a full pool of class 0 */
		full[i] = mw_malloc(16);
	live = mw_malloc(200);
	freed = mw_malloc(200);
	mw_free(freed);
	print_stats();
	printf("live 0x%jx\nfreed 0x%jx\nready\n", (uintmax_t)(uintptr_t)live,
	    (uintmax_t)(uintptr_t)freed);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		continue;
	(void)full;
	return 0;
}
