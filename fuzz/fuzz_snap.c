/*
 * fuzz_snap.c: the snapshot reader of `memwalk diff` (src/json.c, and
 * src/cmd_diff.c through cmd_diff itself) on any bytes.
 *
 * The input is split at its first NUL byte into snapshots A and B (no
 * NUL: B is A). Then:
 *
 *   json   json_parse(A): NULL with "line L, column C: what", L and C
 *          inside the text, or a sound tree (below);
 *   diff   cmd_diff on A and B, as memfds named /proc/self/fd/N, both
 *          as `memwalk diff --json A B` and `memwalk diff A B`, stdout
 *          a third memfd: exit 0, or 1 with nothing printed (a file
 *          that is no snapshot is one warning); the --json output
 *          parses, with its "a", "b", "seconds", "kinds" and "regions";
 *          the text starts "A -> B: "; and when B is A, nothing
 *          changed: "kinds" and "regions" are empty.
 *
 * A sound tree: every node of a known type, no deeper than 64; strings
 * NUL-terminated at their length; an object a name per member; is_u64
 * only for a number that is an integer no larger than its double says.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "json.h"

#define MAX_DEPTH	64

static int	fd_a = -1, fd_b = -1, fd_out = -1;
static char	path_a[64], path_b[64];

static int
setup(void)
{
	if (fd_out != -1)
		return 0;
	if ((fd_a = fuzz_memfd("snap_a")) == -1 ||
	    (fd_b = fuzz_memfd("snap_b")) == -1 ||
	    (fd_out = fuzz_memfd("snap_out")) == -1)
		return -1;
	snprintf(path_a, sizeof(path_a), "/proc/self/fd/%d", fd_a);
	snprintf(path_b, sizeof(path_b), "/proc/self/fd/%d", fd_b);
	return 0;
}

static const char *
check_tree(const struct json *j, int depth)
{
	const char	*why;

	if (depth > MAX_DEPTH)
		return "a tree deeper than 64";
	switch (j->type) {
	case JSON_NULL:
	case JSON_BOOL:
		return NULL;
	case JSON_NUMBER:
		if (!isfinite(j->number))
			return "a number that is not finite";
		if (j->is_u64 && (j->number < 0 ||
		    fabs((double)j->u64 - j->number) > j->number * 1e-15 + 1))
			return fuzz_why("u64 %llu for %g",
			    (unsigned long long)j->u64, j->number);
		return NULL;
	case JSON_STRING:
		if (j->str == NULL || j->str[j->len] != '\0' ||
		    strlen(j->str) > j->len)
			return "a string not NUL-terminated at its length";
		return NULL;
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (j->n > 0 && j->items == NULL)
			return "members without items";
		for (size_t i = 0; i < j->n; i++) {
			if (j->type == JSON_OBJECT &&
			    (j->keys == NULL || j->keys[i] == NULL))
				return "a member without a name";
			if ((why = check_tree(&j->items[i], depth + 1)) != NULL)
				return why;
		}
		return NULL;
	}
	return fuzz_why("a node of type %d", (int)j->type);
}

static const char *
check_json(const char *text, size_t len)
{
	struct json	*j;
	const char	*why;
	char		 err[160];
	size_t		 line, col, lines = 1, cols;

	if ((j = json_parse(text, len, err, sizeof(err))) != NULL) {
		why = err[0] != '\0' ? "a tree, and an error" :
		    check_tree(j, 1);
		json_free(j);
		return why;
	}
	if (strstr(err, "out of memory") != NULL)
		return NULL;
	if (sscanf(err, "line %zu, column %zu: ", &line, &col) != 2)
		return fuzz_why("an error that says no place: %s", err);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	cols = len + 1;
	if (line < 1 || line > lines || col < 1 || col > cols)
		return fuzz_why("%s, of %zu lines", err, lines);
	return NULL;
}

/* What cmd_diff printed, NUL-terminated; NULL: it cannot be read. */
static char *
output(size_t *len)
{
	off_t	 end = lseek(fd_out, 0, SEEK_END);
	char	*buf;

	if (end == -1 || (buf = malloc((size_t)end + 1)) == NULL)
		return NULL;
	if (pread(fd_out, buf, (size_t)end, 0) != end) {
		free(buf);
		return NULL;
	}
	buf[end] = '\0';
	*len = (size_t)end;
	return buf;
}

static const char *
check_json_diff(const char *out, size_t len, bool same)
{
	struct json		*j;
	const struct json	*kinds, *regions;
	const char		*why = NULL;
	char			 err[160];

	if ((j = json_parse(out, len, err, sizeof(err))) == NULL)
		return fuzz_why("diff --json printed no JSON (%s): %.200s",
		    err, out);
	kinds = json_get(j, "kinds");
	regions = json_get(j, "regions");
	if (json_get(j, "a") == NULL || json_get(j, "b") == NULL ||
	    json_get(j, "seconds") == NULL || kinds == NULL ||
	    kinds->type != JSON_ARRAY || regions == NULL ||
	    regions->type != JSON_ARRAY)
		why = "diff --json: a member missing";
	else if (same && (kinds->n != 0 || regions->n != 0))
		why = fuzz_why("a snapshot against itself: %zu kinds, %zu "
		    "regions changed", kinds->n, regions->n);
	json_free(j);
	return why;
}

/* cmd_diff, as `memwalk diff [--json] A B`: its exit status. */
static int
diff(bool json)
{
	struct options	 o = { .json = json };
	char		*argv[] = { path_a, path_b, NULL };
	int		 rc;

	if (fuzz_memfd_set(fd_out, "", 0) == -1 || out_set_fd(fd_out) == -1)
		return -1;
	rc = cmd_diff(&o, 2, argv);
	if (out_set_fd(STDOUT_FILENO) == -1)
		return -1;
	return rc;
}

static const char *
check_diff(bool json, bool same)
{
	const char	*why = NULL;
	char		*out, head[160];
	size_t		 len;
	int		 rc;

	if ((rc = diff(json)) == -1 || (out = output(&len)) == NULL)
		return NULL;	/* a memfd failed: nothing to say */
	snprintf(head, sizeof(head), "%s -> %s: ", path_a, path_b);
	if (rc != 0 && rc != EXIT_TARGET)
		why = fuzz_why("diff: exit %d", rc);
	else if (rc != 0 && len > 0)
		why = fuzz_why("diff: exit %d, and printed %.200s", rc, out);
	else if (rc == 0 && json)
		why = check_json_diff(out, len, same);
	else if (rc == 0 && strncmp(out, head, strlen(head)) != 0)
		why = fuzz_why("diff printed %.200s", out);
	free(out);
	return why;
}

const char *
fuzz_snap(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data, *nul, *why;
	size_t		 alen = size;
	bool		 same;

	if (setup() == -1)
		return NULL;
	if ((nul = memchr(text, '\0', size)) != NULL)
		alen = (size_t)(nul - text);
	same = nul == NULL;
	if ((why = check_json(text, alen)) != NULL)
		return why;
	if (fuzz_memfd_set(fd_a, text, alen) == -1 ||
	    (same ? fuzz_memfd_set(fd_b, text, alen) :
	    fuzz_memfd_set(fd_b, nul + 1, size - alen - 1)) == -1)
		return NULL;
	if ((why = check_diff(true, same)) != NULL)
		return why;
	return check_diff(false, same);
}
