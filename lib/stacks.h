/*
 * stacks.h: the remote stack reader (lib/stacks.c), for memwalk(1)'s
 * stack command and the tests. Not installed: remote unwinding is no
 * part of the public library, which would otherwise pull libunwind's
 * remote half into every program that links it.
 *
 * mwi_stacks_read stops every thread of pid at once, walks each one's
 * frames, and lets them all run again before it returns, whatever
 * happens (see os_linux.c, mwi_stop_all). 0, or -1 with errno: EPERM
 * (ptrace refused), ESRCH (gone), ENOMEM.
 */
#ifndef MEMWALK_STACKS_H
#define MEMWALK_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwalk.h"

struct mwi_symcache;
struct mwi_debugsyms;

struct mwi_frame {
	uint64_t	 ip, sp;
	uint64_t	 size;		/* to the next frame's sp; 0: last */
	const char	*function;	/* NULL: no symbol */
	uint64_t	 offset;	/* ip - the function's address, or
					   without one, ip - the image's start */
	const char	*object;	/* the image's path; NULL: none */
};

struct mwi_stack {
	pid_t		  tid;
	char		  name[16];
	char		  state;	/* before the stop, as in stat */
	bool		  stopped;	/* false: gone, or did not stop */
	bool		  truncated;	/* more frames than kept */
	uint64_t	  sp, ip;
	uint64_t	  stack_start, stack_end;	/* 0, 0: unknown */
	enum mw_kind	  stack_kind;
	uint64_t	  used, headroom;
	struct mwi_frame *frames;	/* innermost first */
	size_t		  nframes;
};

struct mwi_stacks {
	size_t			 n;
	struct mwi_stack	*v;		/* by tid */
	struct mwi_symcache	*syms;		/* own the names */
	struct mw_maps		**maps;		/* own the object paths */
	size_t			 nmaps;
	struct mwi_debugsyms	**debug;	/* own names found there */
	size_t			 ndebug;
};

int	 mwi_stacks_read(pid_t pid, struct mwi_stacks *out);
void	 mwi_stacks_free(struct mwi_stacks *s);


/*
 * debugsym.c: function symbols from an object's separate debug file,
 * by build ID (/usr/lib/debug/.build-id/); image is the whole object
 * file. NULL: no such file. find: the function holding vaddr (a
 * link-time address) and its value, or NULL.
 */
struct mwi_debugsyms *mwi_debugsyms_open(const unsigned char *image,
	    size_t len);
const char	*mwi_debugsyms_find(const struct mwi_debugsyms *d,
		    uint64_t vaddr, uint64_t *value);
void		 mwi_debugsyms_free(struct mwi_debugsyms *d);

#endif
