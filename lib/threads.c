/* threads.c: placeholder until the module lands. */
#include "mwi.h"

#include <errno.h>

int mwi_threads_read(pid_t pid, const struct mw_maps *m, unsigned int flags, struct mwi_threads *t) { (void)pid; (void)m; (void)flags; t->n = 0; t->v = NULL; return 0; }
void mwi_threads_label(const struct mwi_threads *t, struct mw_maps *m, struct mw_label *labels) { (void)t; (void)m; (void)labels; }
void mwi_threads_free(struct mwi_threads *t) { (void)t; }
