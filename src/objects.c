/*
 * objects.c: `memwalk --objects PID`, the map summed per ELF object.
 *
 * Every region that the ELF headers placed (MW_REGION_ELF: text,
 * rodata, data, and the bss right after an object) is added to its
 * object, found by (device, inode); the bss has no inode and belongs to
 * the object mapped just below it. Objects are listed in the order of
 * their first mapping, whose start is the object's base:
 *
 *   objs[] = { path, dev, inode, base, bytes[kind], regions, smaps }
 *
 * With -x the smaps figures of the object's regions are summed too.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct object {
	const char	*path;
	uint64_t	 inode;
	unsigned int	 dev_major, dev_minor;
	uint64_t	 base;
	uint64_t	 bytes[MW_KIND_COUNT];
	size_t		 regions;
	struct mw_smaps	 smaps;
};

struct objects {
	struct object	*v;
	size_t		 n, cap;
};

static bool
same_file(const struct object *o, const struct mw_region *r)
{
	return o->inode == r->inode && o->dev_major == r->dev_major &&
	    o->dev_minor == r->dev_minor;
}

/* The object of region r: the last one, mostly; NULL when out of memory. */
static struct object *
object_of(struct objects *os, const struct mw_region *r)
{
	struct object	*nv;

	for (size_t i = os->n; i-- > 0;)
		if (same_file(&os->v[i], r))
			return &os->v[i];
	if (os->n == os->cap) {
		size_t	ncap = os->cap == 0 ? 32 : os->cap * 2;

		if ((nv = reallocarray(os->v, ncap, sizeof(*nv))) == NULL)
			return NULL;
		os->v = nv;
		os->cap = ncap;
	}
	memset(&os->v[os->n], 0, sizeof(os->v[0]));
	os->v[os->n].path = r->name;
	os->v[os->n].inode = r->inode;
	os->v[os->n].dev_major = r->dev_major;
	os->v[os->n].dev_minor = r->dev_minor;
	os->v[os->n].base = r->start;
	return &os->v[os->n++];
}

static int
collect(const struct mw_maps *m, struct objects *os)
{
	const struct mw_region	*v;
	const struct mw_smaps	*s;
	struct object		*o = NULL;
	size_t			 n;

	v = mw_maps_regions(m, &n);
	for (size_t i = 0; i < n; i++) {
		if (!(v[i].flags & MW_REGION_ELF))
			continue;
		if (v[i].inode != 0 && (o = object_of(os, &v[i])) == NULL)
			return -1;
		if (o == NULL || (v[i].inode == 0 && (i == 0 ||
		    v[i - 1].end != v[i].start || !same_file(o, &v[i - 1]))))
			continue;	/* a bss whose object is not below it */
		o->bytes[v[i].kind] += v[i].end - v[i].start;
		o->regions++;
		if ((s = mw_maps_smaps(m, &v[i])) != NULL)
			mw_smaps_add(&o->smaps, s);
	}
	return 0;
}

static void
json_objects(pid_t pid, const struct objects *os, bool figures)
{
	static const enum mw_kind kinds[] = {
		MW_KIND_TEXT, MW_KIND_RODATA, MW_KIND_DATA, MW_KIND_BSS,
	};
	char	comm[64];

	target_comm(pid, comm, sizeof(comm));
	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	out_str(", \"comm\": ");
	out_json_str(comm);
	out_str(", \"objects\": [");
	for (size_t i = 0; i < os->n; i++) {
		const struct object *o = &os->v[i];

		out_str(i == 0 ? "\n  {\"path\": " : ",\n  {\"path\": ");
		out_json_str(o->path != NULL ? o->path : "");
		out_str(", \"base\": \"0x");
		out_hex(o->base, 0);
		out_str("\", \"regions\": ");
		out_dec(o->regions);
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			out_str(", \"");
			out_str(mw_kind_name(kinds[k]));
			out_str("\": ");
			out_dec(o->bytes[kinds[k]]);
		}
		if (figures) {
			out_str(", ");
			json_smaps(&o->smaps);
		}
		out_char('}');
	}
	out_str(os->n > 0 ? "\n]}\n" : "]}\n");
}

static void
put_size_cell(uint64_t bytes, size_t width)
{
	char	text[8];
	size_t	len = size_text(bytes, text);

	out_pad(len < width ? width - len : 1);
	out_bytes(text, len);
}

static void
print_objects(pid_t pid, const struct objects *os, bool figures)
{
	target_print_head(pid);
	out_sgr(color_heading());
	out_str("BASE                TEXT RODATA   DATA    BSS");
	out_str(figures ? "    RSS    PSS  DIRTY OBJECT" : " OBJECT");
	out_sgr_end(color_heading());
	out_char('\n');
	for (size_t i = 0; i < os->n; i++) {
		const struct object *o = &os->v[i];

		out_hex(o->base, 16);
		put_size_cell(o->bytes[MW_KIND_TEXT], 6);
		put_size_cell(o->bytes[MW_KIND_RODATA], 7);
		put_size_cell(o->bytes[MW_KIND_DATA], 7);
		put_size_cell(o->bytes[MW_KIND_BSS], 7);
		if (figures) {
			put_size_cell(o->smaps.rss, 7);
			put_size_cell(o->smaps.pss, 7);
			put_size_cell(o->smaps.private_dirty +
			    o->smaps.shared_dirty, 7);
		}
		out_char(' ');
		out_text_name(o->path != NULL ? o->path : "?");
		out_char('\n');
	}
}

/* The objects of the map: a table or JSON; 0, or an exit status. */
int
show_objects(pid_t pid, const struct mw_maps *m, const struct options *o)
{
	struct objects	os = { NULL, 0, 0 };

	if (collect(m, &os) == -1) {
		free(os.v);
		warn("objects");
		return EXIT_TARGET;
	}
	if (o->json)
		json_objects(pid, &os, o->extended);
	else
		print_objects(pid, &os, o->extended);
	free(os.v);
	return 0;
}
