/*
 * tutil.h: helpers for the Check suites: fixtures and live targets.
 *
 * tu_fixture("name.maps", &len) reads tests/data/name.maps.
 * tu_target_start(args...) runs tests/target, reads its "NAME 0xADDR"
 * lines up to "ready"; tu_spawn(path, args) does the same with any
 * program that speaks that protocol (path searched in PATH; args a
 * NULL-terminated list, or NULL); tu_addr(t, "heap") gives one address back;
 * tu_target_stop(t) closes its stdin and reaps it.
 */
#ifndef TUTIL_H
#define TUTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static inline char *
tu_fixture(const char *name, size_t *len)
{
	char	 path[1024];
	FILE	*fp;
	char	*buf;
	long	 n;

	snprintf(path, sizeof(path), "%s/tests/data/%s", TOP_SRCDIR, name);
	if ((fp = fopen(path, "rb")) == NULL)
		ck_abort_msg("cannot open fixture %s: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/*
 * Whether this suite runs under valgrind memcheck (the build-vg tree,
 * Makefile.am's LOG_COMPILER): loops that would take minutes there run
 * fewer rounds, and checks of the allocator's own misuse detection that
 * touch freed memory on purpose are left to the other trees.
 */
static inline int
tu_valgrind(void)
{
	return getenv("MW_VALGRIND") != NULL;
}

/*
 * The kinds of this process's own stack and malloc(3) heap. Under
 * valgrind the program runs on a stack valgrind maps and allocates from
 * valgrind's malloc, both anonymous memory: memwalk rightly says anon.
 * (Needs memwalk.h before this header.)
 */
#define TU_OWN_STACK	(tu_valgrind() ? MW_KIND_ANON : MW_KIND_STACK)
#define TU_OWN_HEAP	(tu_valgrind() ? MW_KIND_ANON : MW_KIND_HEAP)

#define TU_MAX_ADDRS	64

struct tu_target {
	pid_t		 pid;
	int		 in;		/* its stdin */
	FILE		*out;		/* its stdout */
	size_t		 n;
	char		 names[TU_MAX_ADDRS][32];
	uint64_t	 addrs[TU_MAX_ADDRS];
};

/* Start a program that prints "NAME 0xADDR" lines, then "ready". */
static inline struct tu_target *
tu_spawn(const char *path, const char *const *extra)
{
	struct tu_target	*t = calloc(1, sizeof(*t));
	char			 line[256];
	char			*argv[64];
	int			 to[2], from[2], argc = 0;
	posix_spawn_file_actions_t fa;

	ck_assert_ptr_nonnull(t);
	argv[argc++] = (char *)path;
	for (; extra != NULL && *extra != NULL && argc < 63; extra++)
		argv[argc++] = (char *)*extra;
	argv[argc] = NULL;
	ck_assert_int_eq(pipe2(to, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(from, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from[1], 1);
	ck_assert_int_eq(posix_spawnp(&t->pid, path, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(to[0]);
	close(from[1]);
	t->in = to[1];
	t->out = fdopen(from[0], "r");
	while (fgets(line, sizeof(line), t->out) != NULL) {
		unsigned long long	a;
		char			name[32];

		if (strcmp(line, "ready\n") == 0)
			return t;
		if (sscanf(line, "%31s 0x%llx", name, &a) == 2 &&
		    t->n < TU_MAX_ADDRS) {
			strcpy(t->names[t->n], name);
			t->addrs[t->n++] = a;
		}
	}
	ck_abort_msg("target exited before it was ready");
	return NULL;
}

/* Start tests/target with extra arguments (NULL-terminated list). */
static inline struct tu_target *
tu_target_start(const char *const *extra)
{
	static char	path[1024];

	snprintf(path, sizeof(path), "%s/tests/target", TOP_BUILDDIR);
	return tu_spawn(path, extra);
}

/* An address the target printed; 0 when it printed none by that name. */
static inline uint64_t
tu_addr(const struct tu_target *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->names[i], name) == 0)
			return t->addrs[i];
	return 0;
}

static inline void
tu_target_stop(struct tu_target *t)
{
	int	status;

	close(t->in);
	fclose(t->out);
	ck_assert_int_eq(waitpid(t->pid, &status, 0), t->pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(t);
}

/* Run one suite; the exit status for automake's harness. */
static inline int
tu_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
