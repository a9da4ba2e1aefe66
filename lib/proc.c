/* proc.c: placeholder until the module lands. */
#include "mwi.h"

#include <errno.h>

struct mw_proc *mw_proc_open(pid_t pid, unsigned int flags) { (void)pid; (void)flags; errno = ENOSYS; return NULL; }
const struct mw_maps *mw_proc_maps(const struct mw_proc *p) { (void)p; return NULL; }
const struct mw_label *mw_proc_label(const struct mw_proc *p, const struct mw_region *r) { (void)p; (void)r; return NULL; }
const struct mw_thread *mw_proc_threads(const struct mw_proc *p, size_t *count) { (void)p; *count = 0; return NULL; }
const struct mw_python *mw_proc_python(const struct mw_proc *p) { (void)p; return NULL; }
int mw_proc_where(struct mw_proc *p, uint64_t addr, struct mw_answer *a) { (void)p; (void)addr; (void)a; errno = ENOSYS; return -1; }
void mw_proc_close(struct mw_proc *p) { (void)p; }
