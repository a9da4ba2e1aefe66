/* python.c: placeholder until the module lands. */
#include "mwi.h"

#include <errno.h>

int mwi_python_read(pid_t pid, struct mw_maps *m, struct mwi_symcache *syms, struct mw_label *labels, struct mw_python *py) { (void)pid; (void)m; (void)syms; (void)labels; (void)py; return 0; }
int mwi_python_object(pid_t pid, const struct mw_python *py, const struct mw_maps *m, const struct mw_label *labels, uint64_t addr, struct mw_object *obj) { (void)pid; (void)py; (void)m; (void)labels; (void)addr; (void)obj; return 0; }
