/* smaps.c: placeholder until the module lands. */
#include "mwi.h"

#include <errno.h>

struct mw_maps *mw_smaps_read(pid_t pid) { (void)pid; errno = ENOSYS; return NULL; }
struct mw_maps *mw_smaps_parse(const char *buf, size_t len, size_t *errline) { (void)buf; (void)len; (void)errline; errno = ENOSYS; return NULL; }
const struct mw_smaps *mw_maps_smaps(const struct mw_maps *m, const struct mw_region *r) { (void)m; (void)r; return NULL; }
int mw_smaps_rollup(pid_t pid, struct mw_smaps *out) { (void)pid; (void)out; errno = ENOSYS; return -1; }
void mw_smaps_add(struct mw_smaps *sum, const struct mw_smaps *s) { (void)sum; (void)s; }
