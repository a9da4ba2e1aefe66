/*
 * stream.c: read a file to its end in 64 KiB blocks, handing each block
 * to a consumer (the maps parser) while the kernel is still generating
 * the rest.
 *
 *   caller's thread                        reader thread (big files only)
 *   ---------------                        ------------------------------
 *   fill block 0, consume it, until
 *   SYNC_LIMIT bytes or EOF
 *   start the reader  --------------->     fill a free block with read()
 *   take the next full block  <-------     mark it full, go to the next
 *   consume it, mark it free  ------->     ...
 *   ... until the last block; join         EOF or error: mark it last
 *
 * The kernel writes /proc/PID/maps one page per read(), and generating
 * that text is most of the cost of reading it (about 300 ns a line on
 * this project's machines). Parsing meanwhile, on the other core, hides
 * the parser behind the kernel. A small file (almost every process)
 * never starts the thread.
 *
 * The blocks are reused, so the memory a read touches stays at 512 KiB
 * whatever the file's size: on this project's machines a fresh page
 * costs about 3 us to fault in, as much as parsing 30 lines.
 *
 * Invariants: a consumed block is writable and zero from data[len] for
 * MWI_SLACK bytes; blocks
 * are filled and taken in the same round-robin order, so bytes keep
 * their order; only the reader calls read() once it runs; only the
 * caller allocates; the reader blocks every signal, so signals reach the
 * caller's thread.
 */
#include "mwi.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_LIMIT	(128 * 1024)	/* read inline up to this much */
#define NBLOCKS		8
#define BLOCK_SIZE	(64 * 1024)
#define BLOCK_ROOM	(8 * 1024)	/* hand a block over below this */

enum block_state { BLOCK_FREE, BLOCK_FULL, BLOCK_LAST };

struct block {
	char			*data;
	size_t			 len;
	enum block_state	 state;
	int			 err;		/* errno of a failed read */
};

struct stream {
	int		 fd;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* any block changed state */
	bool		 cancel;
	struct block	 b[NBLOCKS];
};

/* Fill one block; its final state (FULL, or LAST at EOF or error). */
static enum block_state
fill_block(int fd, struct block *b)
{
	ssize_t	r;

	b->len = 0;
	b->err = 0;
	while (BLOCK_SIZE - b->len >= BLOCK_ROOM) {
		r = mwi_read_some(fd, b->data + b->len, BLOCK_SIZE - b->len);
		if (r == 0)
			return BLOCK_LAST;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			b->err = errno;
			return BLOCK_LAST;
		}
		b->len += (size_t)r;
	}
	return BLOCK_FULL;
}

static void *
reader_main(void *arg)
{
	struct stream		*s = arg;
	enum block_state	 st;

	for (int i = 0;; i = (i + 1) % NBLOCKS) {
		pthread_mutex_lock(&s->mu);
		while (s->b[i].state != BLOCK_FREE && !s->cancel)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->cancel) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		pthread_mutex_unlock(&s->mu);
		st = fill_block(s->fd, &s->b[i]);
		pthread_mutex_lock(&s->mu);
		s->b[i].state = st;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (st == BLOCK_LAST)
			return NULL;
	}
}

/* The caller's side: take blocks in order, consume, give them back. */
static int
drain(struct stream *s, mwi_consume_fn consume, void *ctx)
{
	struct block		*b;
	enum block_state	 st;
	int			 rc, saved;

	for (int i = 0;; i = (i + 1) % NBLOCKS) {
		b = &s->b[i];
		pthread_mutex_lock(&s->mu);
		while (b->state == BLOCK_FREE)
			pthread_cond_wait(&s->cv, &s->mu);
		st = b->state;
		pthread_mutex_unlock(&s->mu);
		if (st == BLOCK_LAST && b->err != 0) {
			errno = b->err;
			return -1;
		}
		memset(b->data + b->len, 0, MWI_SLACK);
		rc = consume(ctx, b->data, b->len, st == BLOCK_LAST);
		saved = errno;
		pthread_mutex_lock(&s->mu);
		b->state = BLOCK_FREE;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		errno = saved;
		if (rc == -1 || st == BLOCK_LAST)
			return rc;
	}
}

/* Read the rest of fd with a reader thread; see the drawing above. */
static int
read_threaded(struct stream *s, mwi_consume_fn consume, void *ctx)
{
	pthread_t	 reader;
	sigset_t	 all, old;
	int		 rc, saved, e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&reader, NULL, reader_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		return -1;
	}
	rc = drain(s, consume, ctx);
	saved = errno;
	pthread_mutex_lock(&s->mu);
	s->cancel = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(reader, NULL);
	errno = saved;
	return rc;
}

/* Inline: fill block 0 and consume it, until EOF or SYNC_LIMIT bytes. */
static int
read_inline(struct stream *s, mwi_consume_fn consume, void *ctx, bool *eof)
{
	struct block		*b = &s->b[0];
	enum block_state	 st;
	size_t			 total = 0;

	*eof = false;
	while (total < SYNC_LIMIT) {
		st = fill_block(s->fd, b);
		if (st == BLOCK_LAST && b->err != 0) {
			errno = b->err;
			return -1;
		}
		memset(b->data + b->len, 0, MWI_SLACK);
		if (consume(ctx, b->data, b->len, st == BLOCK_LAST) == -1)
			return -1;
		if (st == BLOCK_LAST) {
			*eof = true;
			return 0;
		}
		total += b->len;
	}
	return 0;
}

int
mwi_read_stream(int fd, mwi_consume_fn consume, void *ctx)
{
	struct stream	 s = { .fd = fd };
	bool		 eof;
	int		 rc = -1, saved, i;

	for (i = 0; i < NBLOCKS; i++)
		if ((s.b[i].data = mwi_malloc(BLOCK_SIZE + MWI_SLACK)) == NULL)
			goto out;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	rc = read_inline(&s, consume, ctx, &eof);
	if (rc == 0 && !eof)
		rc = read_threaded(&s, consume, ctx);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
out:
	saved = errno;
	for (i = 0; i < NBLOCKS; i++)
		free(s.b[i].data);
	errno = saved;
	return rc;
}
