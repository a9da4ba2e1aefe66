/*
 * cmd_stack.c: `memwalk stack [--no-stop] PID`, every thread's stack.
 *
 * Per thread: TID, name, state (before memwalk stopped it), the stack
 * region that holds its SP, how deep the stack is used and how much is
 * left, then its frames innermost first: address, frame size (to the
 * next frame), function+offset and the object. The frames come from
 * lib/stacks.c (every thread stopped at once, libunwind, names from
 * .symtab or .dynsym); --no-stop asks no ptrace at all and gives, for
 * the threads blocked in the kernel, the SP /proc/PID/task/TID/syscall
 * tells, and no frames. The frames come through lib/stacks.h: remote
 * unwinding is no part of the public library.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stacks.h"

static void
out_addr(uint64_t v)
{
	out_str("0x");
	out_hex(v, 0);
}

static void
json_text(const char *key, const char *s)
{
	out_str(", \"");
	out_str(key);
	out_str("\": ");
	if (s == NULL)
		out_str("null");
	else
		out_json_str(s);
}

static void
text_size(uint64_t v)
{
	char	buf[8];

	size_text(v, buf);
	out_str(buf);
}

/* ---- one thread, whichever way it was read --------------------------- */

struct thread_view {
	pid_t		 tid;
	const char	*name;
	char		 state;
	uint64_t	 sp, ip;
	uint64_t	 stack_start, stack_end;
	enum mw_kind	 stack_kind;
	uint64_t	 used, headroom;
	const struct mwi_frame *frames;
	size_t		 nframes;
	bool		 stopped, truncated;
};

static void
text_thread(const struct thread_view *t)
{
	out_sgr(color_heading());
	out_str("TID ");
	out_dec((uint64_t)t->tid);
	out_char(' ');
	out_text_name(t->name);
	out_sgr_end(color_heading());
	out_str(" (");
	out_char(t->state ? t->state : '?');
	out_char(')');
	if (t->sp == 0) {
		out_str(t->stopped ? "  not stopped: SP unknown\n" :
		    "  running: SP unknown without a stop\n");
		return;
	}
	out_str("  sp ");
	out_addr(t->sp);
	if (t->stack_end != 0) {
		out_str("  ");
		out_kind(t->stack_kind);
		out_char(' ');
		out_addr(t->stack_start);
		out_char('-');
		out_addr(t->stack_end);
		out_str("  used ");
		text_size(t->used);
		out_str("  headroom ");
		text_size(t->headroom);
	}
	out_char('\n');
}

static void
text_frame(size_t i, const struct mwi_frame *f)
{
	const char	*obj = f->object;
	const char	*slash = obj != NULL ? strrchr(obj, '/') : NULL;

	out_str("  #");
	out_dec(i);
	out_str(i < 10 ? "  " : " ");
	out_hex(f->ip, 16);
	out_char(' ');
	if (f->size != 0) {
		char	buf[24];

		snprintf(buf, sizeof(buf), "%7llu", (unsigned long long)f->size);
		out_str(buf);
	} else
		out_str("      -");
	out_char(' ');
	if (f->function != NULL) {
		out_text_name(f->function);
		out_str("+0x");
		out_hex(f->offset, 0);
	} else if (obj != NULL) {
		out_str("?? (");
		out_text_name(slash != NULL ? slash + 1 : obj);
		out_str("+0x");
		out_hex(f->offset, 0);
		out_char(')');
	} else
		out_str("??");
	if (f->function != NULL && obj != NULL) {
		out_str(" in ");
		out_text_name(slash != NULL ? slash + 1 : obj);
	}
	out_char('\n');
}

static void
json_frame(const struct mwi_frame *f)
{
	out_str("{\"ip\": \"");
	out_addr(f->ip);
	out_char('"');
	json_key_addr("sp", f->sp);
	json_key_dec("size", f->size);
	json_text("function", f->function);
	json_key_dec("offset", f->offset);
	json_text("object", f->object);
	out_char('}');
}

static void
json_thread(const struct thread_view *t)
{
	char	state[2] = { t->state ? t->state : '?', '\0' };

	out_str("{\"tid\": ");
	out_dec((uint64_t)t->tid);
	json_text("name", t->name);
	json_text("state", state);
	out_str(", \"stopped\": ");
	out_str(t->stopped ? "true" : "false");
	json_key_addr("sp", t->sp);
	json_key_addr("ip", t->ip);
	out_str(", \"stack\": ");
	if (t->stack_end == 0)
		out_str("null");
	else {
		out_str("{\"kind\": \"");
		out_str(mw_kind_name(t->stack_kind));
		out_char('"');
		json_key_addr("start", t->stack_start);
		json_key_addr("end", t->stack_end);
		out_char('}');
	}
	json_key_dec("used", t->used);
	json_key_dec("headroom", t->headroom);
	out_str(", \"frames\": [");
	for (size_t i = 0; i < t->nframes; i++) {
		if (i > 0)
			out_str(", ");
		json_frame(&t->frames[i]);
	}
	out_str("], \"truncated\": ");
	out_str(t->truncated ? "true" : "false");
	out_char('}');
}

static void
print_threads(pid_t pid, const struct thread_view *v, size_t n, bool json)
{
	if (!json) {
		target_print_head(pid);
		for (size_t i = 0; i < n; i++) {
			text_thread(&v[i]);
			for (size_t j = 0; j < v[i].nframes; j++)
				text_frame(j, &v[i].frames[j]);
			if (v[i].truncated)
				out_str("  ... (more frames)\n");
		}
		return;
	}
	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	out_str(", \"threads\": [");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out_str(", ");
		json_thread(&v[i]);
	}
	out_str("]}\n");
}

/* ---- the two ways ------------------------------------------------------ */

static int
stack_stopped(pid_t pid, const struct options *o)
{
	struct mwi_stacks	 s;
	struct thread_view	*v;

	if (mwi_stacks_read(pid, &s) == -1) {
		if (errno == EPERM)
			return target_fail_attach(pid);
		return target_fail(pid, errno, "maps");
	}
	if ((v = calloc(s.n, sizeof(*v))) == NULL) {
		mwi_stacks_free(&s);
		err(EXIT_TARGET, "stack");
	}
	for (size_t i = 0; i < s.n; i++) {
		const struct mwi_stack	*t = &s.v[i];

		v[i] = (struct thread_view){ t->tid, t->name, t->state, t->sp,
		    t->ip, t->stack_start, t->stack_end, t->stack_kind,
		    t->used, t->headroom, t->frames, t->nframes, t->stopped,
		    t->truncated };
	}
	print_threads(pid, v, s.n, o->json);
	free(v);
	mwi_stacks_free(&s);
	return 0;
}

static int
stack_no_stop(pid_t pid, const struct options *o)
{
	struct mw_proc		*p;
	const struct mw_thread	*th;
	struct thread_view	*v;
	size_t			 n;

	if ((p = mw_proc_open(pid, 0)) == NULL)
		return target_fail(pid, errno, "maps");
	th = mw_proc_threads(p, &n);
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL) {
		mw_proc_close(p);
		err(EXIT_TARGET, "stack");
	}
	for (size_t i = 0; i < n; i++) {
		const struct mw_region	*r = th[i].stack_end != 0 ?
		    mw_maps_find(mw_proc_maps(p), th[i].stack_start) : NULL;

		v[i] = (struct thread_view){ th[i].tid, th[i].name,
		    th[i].state, th[i].sp, th[i].ip, th[i].sp ?
		    th[i].stack_start : 0, th[i].sp ? th[i].stack_end : 0,
		    r != NULL ? r->kind : MW_KIND_ANON, th[i].used,
		    th[i].sp ? th[i].headroom : 0, NULL, 0, false, false };
	}
	print_threads(pid, v, n, o->json);
	free(v);
	mw_proc_close(p);
	return 0;
}

int
cmd_stack(const struct options *o, int argc, char **argv)
{
	pid_t	pid;
	int	rc;

	if (argc != 1) {
		warnx(argc == 0 ? "stack: a PID or process name is needed" :
		    "stack: one PID or process name at a time");
		return EXIT_USAGE;
	}
	if ((rc = target_resolve(argv[0], &pid)) != 0 ||
	    (rc = target_check_process(pid)) != 0)
		return rc;
	return o->no_stop ? stack_no_stop(pid, o) : stack_stopped(pid, o);
}
