/* elfsym.c: placeholder until the module lands. */
#include "mwi.h"

#include <errno.h>

struct mwi_symcache *mwi_symcache_new(pid_t pid) { (void)pid; errno = ENOSYS; return NULL; }
void mwi_symcache_free(struct mwi_symcache *c) { (void)c; }
int mwi_sym_at(struct mwi_symcache *c, const struct mw_maps *m, uint64_t addr, struct mwi_symbol *out) { (void)c; (void)m; (void)addr; (void)out; return 0; }
int mwi_sym_find(struct mwi_symcache *c, const struct mw_maps *m, const char *name, struct mwi_symbol *out) { (void)c; (void)m; (void)name; (void)out; return 0; }
