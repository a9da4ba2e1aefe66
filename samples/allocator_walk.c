/*
 * allocator_walk.c: the bundled allocator seen as seed 000 describes
 * CPython's obmalloc. Blocks of one size class (512 bytes) fill a 16
 * KiB pool block by block; when its last block is handed out the pool
 * is full and leaves usedpools, so the next malloc of the class takes
 * a new pool; a free in the full pool brings it back to usedpools,
 * at their head, and the next malloc of the class reuses that block.
 * Each step prints the block (mw_alloc_info: pool, index) and the
 * pool counts (mw_alloc_stats).
 */
#include <stdio.h>

#include <memwalk.h>

#define SIZE	512
#define CLASS	(SIZE / MW_ALLOC_ALIGNMENT - 1)
#define PER_POOL	(16384 / SIZE)

static void
show(const char *what, const void *p)
{
	struct mw_alloc_info	i;
	struct mw_alloc_stats	s;

	if (mw_alloc_info(p, &i) != 1) {
		printf("%s: not a block\n", what);
		return;
	}
	mw_alloc_stats(&s);
	printf("%-14s block %p  pool %p  index %2u  class %u  "
	    "pools used %zu full %zu  class pools %zu blocks %zu\n", what,
	    i.block_start, i.pool, i.block, i.size_class, s.pools_used,
	    s.pools_full, s.classes[CLASS].pools, s.classes[CLASS].blocks);
}

int
main(void)
{
	void	*b[PER_POOL + 1], *again;

	for (int i = 0; i < PER_POOL; i++) {
		char	what[32];

		b[i] = mw_malloc(SIZE);
		snprintf(what, sizeof(what), "malloc %d", i);
		show(what, b[i]);
	}
	b[PER_POOL] = mw_malloc(SIZE);
	show("malloc (next)", b[PER_POOL]);
	p_mem("first block", b[0]);
	p_mem("next pool", b[PER_POOL]);
	mw_free(b[7]);
	show("after free 7", b[0]);
	again = mw_malloc(SIZE);
	show("malloc again", again);
	p_diff("again-freed", b[7], again);
	for (int i = 0; i <= PER_POOL; i++)
		if (i != 7)
			mw_free(b[i]);
	mw_free(again);
	return 0;
}
