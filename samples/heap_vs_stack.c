/*
 * heap_vs_stack.c: "the stack is faster than the heap", measured as the
 * article does with MW_MEASURE: an array of SIZE_ARRAY ints written
 * MAX_ITER times, on the stack; on the heap, malloc'ed and freed each
 * time; and on the heap without the free (the leak).
 *
 * The addresses tell why the heap is no slower here: after a free,
 * malloc hands the same block back, so each pass writes memory that is
 * already mapped and in the cache. Without the free every pass gets
 * new memory, which the kernel has to map and zero: removing a line
 * made the program slower. The addresses of the first PRINTED passes
 * are kept, and printed with p_mem after the timing (the probe in the
 * loop would allocate between two mallocs, and change what it shows);
 * the times are printed, not checked (see BENCHMARKS.md for how
 * timings are compared here).
 */
#include <stdlib.h>

#include <memwalk.h>

#define MAX_ITER	200
#define SIZE_ARRAY	10000	/* 40 KB: below malloc's mmap threshold */
#define PRINTED		10

static volatile unsigned int sink;
static void		*seen[2][PRINTED];	/* [leak][pass] */

static void
array_on_stack(void)
{
	unsigned int	array[SIZE_ARRAY], sum = 0;

	for (unsigned int i = 0; i < MAX_ITER; i++) {
		sum = (sum * i) ^ (sum + i);
		for (unsigned int j = 0; j < SIZE_ARRAY; j++)
			array[j] = sum + j;
		sink = array[i % SIZE_ARRAY];
	}
	p_mem("Stack Array", array);
}

static void
heap_pass(int leak)
{
	unsigned int	sum = 0;

	for (unsigned int i = 0; i < MAX_ITER; i++) {
		unsigned int	*array = malloc(sizeof(int) * SIZE_ARRAY);

		if (array == NULL)
			abort();
		sum = (sum * i) ^ (sum + i);
		for (unsigned int j = 0; j < SIZE_ARRAY; j++)
			array[j] = sum + j;
		sink = array[i % SIZE_ARRAY];
		if (i < PRINTED)
			seen[leak][i] = array;
		if (!leak)
			free(array);
	}
}

static void
array_on_heap(void)
{
	heap_pass(0);
}

static void
array_on_heap_leaking(void)
{
	heap_pass(1);
}

int
main(void)
{
	MW_MEASURE("Array On Stack", array_on_stack);
	MW_MEASURE("Array On Heap", array_on_heap);
	MW_MEASURE("Array On Heap, never freed", array_on_heap_leaking);
	for (int i = 0; i < PRINTED; i++)
		p_mem("Heap Array", seen[0][i]);
	for (int i = 0; i < PRINTED; i++)
		p_mem("Leaked Heap Array", seen[1][i]);
	return 0;
}
