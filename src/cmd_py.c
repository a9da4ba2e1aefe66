/*
 * cmd_py.c: `memwalk py PID`, a CPython process from the outside.
 *
 * What libmemwalk found without stopping the target or reading debug
 * symbols: the interpreter's version, _PyRuntime, where the small-int
 * cache lives (and so which kind of memory), and the pymalloc arenas
 * with their pools by size class. A process that is no CPython is an
 * error (exit 1), said in one line.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/*
 * 3.9 and 3.10 keep the small ints as heap objects that an array of
 * pointers in the interpreter state points to: small_ints is then that
 * array (8 bytes an entry), and small_ints_kind still the objects' kind.
 */
static bool
small_ints_are_pointers(const struct mw_python *py)
{
	return py->small_ints_end - py->small_ints ==
	    (uint64_t)py->small_count * 8;
}

static void
json_small_ints(const struct mw_proc *p, const struct mw_python *py)
{
	const struct mw_region	*r;

	out_str(", \"small_ints\": ");
	if (py->small_ints == 0) {
		out_str("null");
		return;
	}
	out_str("{\"min\": -");
	out_dec((uint64_t)-py->small_min);
	json_key_dec("count", (uint64_t)py->small_count);
	out_str(", \"storage\": \"");
	out_str(small_ints_are_pointers(py) ? "pointers" : "objects");
	out_char('"');
	json_key_addr("start", py->small_ints);
	json_key_addr("end", py->small_ints_end);
	out_str(", \"kind\": \"");
	out_str(mw_kind_name(py->small_ints_kind));
	out_str("\", \"region\": ");
	if ((r = mw_maps_find(mw_proc_maps(p), py->small_ints)) != NULL)
		json_region(r);
	else
		out_str("null");
	out_char('}');
}

static void
json_pymalloc(const struct mw_python *py)
{
	bool	first = true;

	out_str(", \"pymalloc\": {\"arenas\": ");
	out_dec(py->arenas);
	json_key_dec("arena_bytes", py->arena_bytes);
	out_str(", \"classes\": [");
	for (int c = 0; c < MW_PY_CLASSES; c++) {
		const struct mw_py_class *k = &py->classes[c];

		if (k->pools_used + k->pools_full + k->pools_empty == 0)
			continue;
		out_str(first ? "\n  {\"size_class\": " : ",\n  {\"size_class\": ");
		out_dec((uint64_t)c);
		json_key_dec("block_size", k->block_size);
		json_key_dec("pools_used", k->pools_used);
		json_key_dec("pools_full", k->pools_full);
		json_key_dec("pools_empty", k->pools_empty);
		json_key_dec("blocks_used", k->blocks_used);
		out_char('}');
		first = false;
	}
	out_str(first ? "]}" : "\n]}");
}

static void
print_json(pid_t pid, const struct mw_proc *p, const struct mw_python *py)
{
	char	comm[64];

	target_comm(pid, comm, sizeof(comm));
	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	out_str(", \"comm\": ");
	out_json_str(comm);
	out_str(", \"version\": ");
	out_json_str(py->version_str);
	out_str(", \"object\": ");
	out_json_str(py->object != NULL ? py->object : "");
	json_key_addr("long_type", py->long_type);
	json_key_addr("runtime", py->runtime);
	json_key_dec("runtime_size", py->runtime_size);
	json_small_ints(p, py);
	json_pymalloc(py);
	out_str("}\n");
}

static void
print_line(const char *key, const char *value)
{
	out_sgr(color_heading());
	out_str(key);
	out_sgr_end(color_heading());
	out_pad(14 - strlen(key));
	out_text_name(value);
	out_char('\n');
}

static void
print_small_ints(const struct mw_proc *p, const struct mw_python *py)
{
	const struct mw_region	*r;
	const char		*where;
	char			 line[512];

	if (py->small_ints == 0) {
		print_line("small ints", "not found");
		return;
	}
	r = mw_maps_find(mw_proc_maps(p), py->small_ints);
	where = r != NULL && r->name != NULL ? r->name : "";
	if (small_ints_are_pointers(py))
		snprintf(line, sizeof(line), "%d..%d: objects in %s, pointed "
		    "to from 0x%llx (%s%s%s)", py->small_min,
		    py->small_min + py->small_count - 1,
		    mw_kind_name(py->small_ints_kind),
		    (unsigned long long)py->small_ints,
		    r != NULL ? mw_kind_name(r->kind) : "unmapped",
		    where[0] != '\0' ? " " : "", where);
	else
		snprintf(line, sizeof(line), "%d..%d at 0x%llx-0x%llx: %s%s%s",
		    py->small_min, py->small_min + py->small_count - 1,
		    (unsigned long long)py->small_ints,
		    (unsigned long long)py->small_ints_end,
		    mw_kind_name(py->small_ints_kind),
		    where[0] != '\0' ? " of " : "", where);
	print_line("small ints", line);
}

static void
print_pymalloc(const struct mw_python *py)
{
	char	line[160], size[8];

	size_text(py->arena_bytes, size);
	snprintf(line, sizeof(line), "%zu arenas, %s", py->arenas, size);
	print_line("pymalloc", line);
	out_heading("\nCLASS  SIZE   USED   FULL  EMPTY     BLOCKS\n");
	for (int c = 0; c < MW_PY_CLASSES; c++) {
		const struct mw_py_class *k = &py->classes[c];

		if (k->pools_used + k->pools_full + k->pools_empty == 0)
			continue;
		snprintf(line, sizeof(line), "%5d %5llu %6zu %6zu %6zu %10zu\n",
		    c, (unsigned long long)k->block_size, k->pools_used,
		    k->pools_full, k->pools_empty, k->blocks_used);
		out_str(line);
	}
}

static void
print_table(pid_t pid, const struct mw_proc *p, const struct mw_python *py)
{
	char	line[160];

	target_print_head(pid);
	print_line("python", py->version_str[0] != '\0' ? py->version_str :
	    "unknown version");
	print_line("object", py->object != NULL ? py->object : "?");
	snprintf(line, sizeof(line), "0x%llx", (unsigned long long)py->long_type);
	print_line("PyLong_Type", line);
	if (py->runtime != 0)
		snprintf(line, sizeof(line), "0x%llx, %llu bytes",
		    (unsigned long long)py->runtime,
		    (unsigned long long)py->runtime_size);
	print_line("_PyRuntime", py->runtime != 0 ? line : "not found");
	print_small_ints(p, py);
	print_pymalloc(py);
}

int
cmd_py(const struct options *o, int argc, char **argv)
{
	const struct mw_python	*py;
	struct mw_proc		*p;
	pid_t			 pid;
	int			 rc;

	if ((rc = target_open_proc("py", o, argc, argv, &pid, &p)) != 0)
		return rc;
	if ((py = mw_proc_python(p)) == NULL) {
		warnx("%d: not a CPython process (no object defines PyLong_Type)",
		    (int)pid);
		mw_proc_close(p);
		return EXIT_TARGET;
	}
	if (o->json)
		print_json(pid, p, py);
	else
		print_table(pid, p, py);
	mw_proc_close(p);
	return 0;
}
