/*
 * cmd_layout.c: `memwalk layout PID`, the address space as a picture,
 * high addresses first, as the textbooks draw the stack above the heap
 * above the program; as text, JSON, or an SVG image (--svg FILE).
 *
 *   START-END                         SIZE BAR    KIND        NAME
 *   ffffffffff600000-ffffffffff601000 4.0K #      vsyscall    [vsyscall]
 *                    ... 16E unmapped ...
 *   00007ffd45334000-00007ffd45355000 132K ###    stack       [stack]
 *                    ... 812G unmapped ...
 *   00007f3228475000-00007f322847b000  24K ##     data        .../libc.so.6
 *   00007f3227ea2000-00007f32282a6000 4.0M ###### malloc-mmap
 *
 * A band is a run of regions that touch, one after the other, and have
 * the same kind and the same name: the r--p and rw-p halves of a data
 * segment are one band, a library's text and rodata are two, and two
 * anonymous regions with a hole between them are two, the hole drawn.
 * Merging every region of one kind and name, holes and all, was the
 * other choice; it would hide the holes, which are half the picture.
 *
 *   bands[0 .. n)   in address order, as the map; drawn from n - 1 down
 *   invariant       bands[i].start < bands[i].end <= bands[i + 1].start
 *
 * Sizes are drawn on a log scale, so that a 4 KiB vdso and a 128 TiB
 * reservation both show: the text bar has one '#' for 4 KiB and one
 * more each time the size is 4 times larger (19 from 256 TiB); an SVG
 * band is 16 px high at 4 KiB and 3 px higher per doubling. Holes are
 * not to scale: a line of text, or a hatched band 18 px high and 1 px
 * higher per doubling. A text line fits 80 columns, its columns sized
 * to the content: a name too long for what is left loses its
 * directory (".../"), and if that is not enough, its end ("...").
 */
#include "config.h"

#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct band {
	uint64_t	 start, end;
	enum mw_kind	 kind;
	const char	*name;		/* the regions' name; NULL unnamed */
	size_t		 regions;
};

#define TEXT_COLUMNS	80
#define BAR_MAX		19	/* '#'s of a band of 256 TiB or more */
#define LOG_MIN		(12 * 256)	/* log2(4 KiB), in 1/256ths */

/*
 * Each kind's fill in the SVG: the hues of its text color (color.c),
 * lighter. A kind missing here is drawn grey.
 */
static const char *const kind_fills[MW_KIND_COUNT] = {
	[MW_KIND_ANON] = "#d9d9d9",
	[MW_KIND_HEAP] = "#74c476",
	[MW_KIND_STACK] = "#e38fd6",
	[MW_KIND_VDSO] = "#b58bd6",
	[MW_KIND_VVAR] = "#d6c1ea",
	[MW_KIND_VSYSCALL] = "#9e6fc4",
	[MW_KIND_TEXT] = "#f08a80",
	[MW_KIND_RODATA] = "#f5d36e",
	[MW_KIND_DATA] = "#7fa9e8",
	[MW_KIND_BSS] = "#b9d2f5",
	[MW_KIND_FILE] = "#d9c19a",
	[MW_KIND_SHMEM] = "#8fd3d6",
	[MW_KIND_GUARD] = "#8c8c8c",
	[MW_KIND_THREAD_STACK] = "#f2c4ec",
	[MW_KIND_GLIBC_ARENA] = "#b7e4b0",
	[MW_KIND_MALLOC_MMAP] = "#a1d99b",
	[MW_KIND_PYMALLOC_ARENA] = "#5fb3a1",
	[MW_KIND_MEMWALK_ARENA] = "#9fdcc8",
};

static const char *
kind_fill(enum mw_kind k)
{
	return k < MW_KIND_COUNT && kind_fills[k] != NULL ? kind_fills[k] :
	    "#bdbdbd";
}

/* ---- bands ---------------------------------------------------------- */

static bool
same_band(const struct band *b, const struct mw_region *r)
{
	if (b->end != r->start || b->kind != r->kind)
		return false;
	if (b->name == NULL || r->name == NULL)
		return b->name == r->name;
	return strcmp(b->name, r->name) == 0;
}

/* The bands of the n regions v, into b (room for n); their number. */
static size_t
make_bands(const struct mw_region *v, size_t n, struct band *b)
{
	size_t	nb = 0;

	for (size_t i = 0; i < n; i++) {
		if (nb > 0 && same_band(&b[nb - 1], &v[i])) {
			b[nb - 1].end = v[i].end;
			b[nb - 1].regions++;
			continue;
		}
		b[nb++] = (struct band){ v[i].start, v[i].end, v[i].kind,
		    v[i].name, 1 };
	}
	return nb;
}

/* log2(v) in 1/256ths, v >= 1; the mantissa taken as linear. */
static unsigned int
log2_256(uint64_t v)
{
	int		e = 63 - __builtin_clzll(v);
	uint64_t	m = e >= 8 ? v >> (e - 8) : v << (8 - e);

	return (unsigned int)e * 256 + (unsigned int)(m - 256);
}

/* Doublings above 4 KiB, in 1/256ths (0 for 4 KiB and less). */
static unsigned int
log_above_page(uint64_t size)
{
	unsigned int	l = log2_256(size > 0 ? size : 1);

	return l > LOG_MIN ? l - LOG_MIN : 0;
}

static int
bar_cells(uint64_t size)
{
	unsigned int	cells = 1 + log_above_page(size) / (2 * 256);

	return cells < BAR_MAX ? (int)cells : BAR_MAX;
}

/* ---- names ---------------------------------------------------------- */

/*
 * Columns a name takes as out_text_name or out_xml shows it: one per
 * character, four per control character ("\012").
 */
static size_t
cells_of(const char *s, size_t len)
{
	size_t	n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			n += 4;
		else if ((c & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* The bytes of the longest start of s that fits room columns. */
static size_t
prefix_fitting(const char *s, size_t len, size_t room)
{
	size_t	i = 0, used = 0, j, w;

	while (i < len) {
		for (j = i + 1; j < len && ((unsigned char)s[j] & 0xc0) == 0x80;
		    j++)
			;
		w = cells_of(s + i, j - i);
		if (used + w > room)
			break;
		used += w;
		i = j;
	}
	return i;
}

/* A name as shown in room columns: lead, len bytes of s, trail. */
struct shown {
	const char	*lead, *s, *trail;
	size_t		 len;
};

static void
fit_name(const char *name, size_t room, struct shown *f)
{
	const char	*base;

	f->lead = f->trail = "";
	f->s = name != NULL ? name : "";
	f->len = strlen(f->s);
	if (cells_of(f->s, f->len) <= room)
		return;
	if (f->s[0] == '/' && (base = strrchr(f->s, '/')) != NULL) {
		f->s = base + 1;
		f->len = strlen(f->s);
		if (4 + cells_of(f->s, f->len) <= room) {
			f->lead = ".../";
			return;
		}
	}
	f->trail = "...";
	f->len = prefix_fitting(f->s, f->len, room > 3 ? room - 3 : 0);
}

/* ---- text ----------------------------------------------------------- */

struct text_widths {
	int	addr;		/* hex digits of an address */
	int	bar;		/* the longest bar present, at least 3 */
	size_t	kind;		/* the longest kind present */
	size_t	name;		/* room left for the name */
};

static void
measure(const struct band *b, size_t n, struct text_widths *w)
{
	size_t	used;

	w->addr = n > 0 && hex_digits(b[n - 1].end - 1) > 8 ?
	    hex_digits(b[n - 1].end - 1) : 8;
	w->bar = 3;
	w->kind = 4;
	for (size_t i = 0; i < n; i++) {
		if (bar_cells(b[i].end - b[i].start) > w->bar)
			w->bar = bar_cells(b[i].end - b[i].start);
		if (strlen(mw_kind_name(b[i].kind)) > w->kind)
			w->kind = strlen(mw_kind_name(b[i].kind));
	}
	used = (size_t)w->addr * 2 + 1 + 5 + 1 + (size_t)w->bar + 1 +
	    w->kind + 1;
	w->name = used + 4 <= TEXT_COLUMNS ? TEXT_COLUMNS - used : 4;
}

static void
print_name(const struct shown *f)
{
	out_str(f->lead);
	out_commit(put_text_name(out_reserve(4 * f->len + 1), f->s, f->len));
	out_str(f->trail);
}

static void
print_band(const struct band *b, const struct text_widths *w)
{
	const char	*sgr = color_kind(b->kind);
	const char	*kind = mw_kind_name(b->kind);
	char		 size[8];
	size_t		 len = size_text(b->end - b->start, size);
	int		 bar = bar_cells(b->end - b->start);
	struct shown	 f;

	out_hex(b->start, w->addr);
	out_char('-');
	out_hex(b->end, w->addr);
	out_pad(len < 4 ? 5 - len : 1);
	out_bytes(size, len);
	out_char(' ');
	out_sgr(sgr);
	for (int i = 0; i < bar; i++)
		out_char('#');
	out_sgr_end(sgr);
	out_pad((size_t)(w->bar - bar + 1));
	out_sgr(sgr);
	out_str(kind);
	out_sgr_end(sgr);
	if (b->name != NULL) {
		out_pad(w->kind - strlen(kind) + 1);
		fit_name(b->name, w->name, &f);
		print_name(&f);
	}
	out_char('\n');
}

static void
print_gap(uint64_t bytes, const struct text_widths *w)
{
	const char	*dim = color_on() ? "2" : NULL;
	char		 size[8];

	out_pad((size_t)w->addr + 1);
	out_sgr(dim);
	out_str("... ");
	out_bytes(size, size_text(bytes, size));
	out_str(" unmapped ...");
	out_sgr_end(dim);
	out_char('\n');
}

static void
print_text(pid_t pid, const struct band *b, size_t n)
{
	struct text_widths	w;

	measure(b, n, &w);
	target_print_head(pid);
	out_sgr(color_heading());
	out_str("START-END");
	out_pad((size_t)w.addr * 2 + 1 - 9 + 1);
	out_str("SIZE BAR");
	out_pad((size_t)w.bar - 3 + 1);
	out_str("KIND");
	out_pad(w.kind - 4 + 1);
	out_str("NAME");
	out_sgr_end(color_heading());
	out_char('\n');
	for (size_t i = n; i-- > 0;) {
		print_band(&b[i], &w);
		if (i > 0 && b[i - 1].end < b[i].start)
			print_gap(b[i].start - b[i - 1].end, &w);
	}
}

/* ---- JSON ----------------------------------------------------------- */

static void
print_json(pid_t pid, const struct band *b, size_t n)
{
	char	comm[64];

	target_comm(pid, comm, sizeof(comm));
	out_str("{\"pid\": ");
	out_dec((uint64_t)pid);
	out_str(", \"comm\": ");
	out_json_str(comm);
	out_str(", \"bands\": [");
	for (size_t i = n; i-- > 0;) {
		out_str(i == n - 1 ? "\n  " : ",\n  ");
		out_str("{\"start\": \"0x");
		out_hex(b[i].start, 0);
		out_str("\", \"end\": \"0x");
		out_hex(b[i].end, 0);
		out_str("\", \"size\": ");
		out_dec(b[i].end - b[i].start);
		out_str(", \"kind\": \"");
		out_str(mw_kind_name(b[i].kind));
		out_str("\", \"path\": ");
		if (b[i].name != NULL)
			out_json_str(b[i].name);
		else
			out_str("null");
		out_str(", \"regions\": ");
		out_dec(b[i].regions);
		out_str(", \"unmapped_below\": ");
		out_dec(i > 0 ? b[i].start - b[i - 1].end : 0);
		out_char('}');
	}
	out_str(n > 0 ? "\n]}\n" : "]}\n");
}

/* ---- SVG ------------------------------------------------------------ */

#define SVG_WIDTH	960
#define SVG_TOP		64	/* the first band, below the title */
#define SVG_ADDR_X	196	/* right end of the address labels */
#define SVG_BAND_X	212
#define SVG_BAND_W	440
#define SVG_LEGEND_X	690
#define SVG_SIZE_X	(SVG_BAND_X + 40)	/* right end of the size */
#define SVG_KIND_X	(SVG_BAND_X + 50)
#define SVG_NAME_X	(SVG_BAND_X + 158)	/* past "pymalloc-arena" */
#define SVG_NAME_ROOM	38	/* columns of a band's name */
#define SVG_LEGEND_ROW	22

static unsigned int
band_height(uint64_t size)
{
	return 16 + 3 * log_above_page(size) / 256;
}

static unsigned int
gap_height(uint64_t size)
{
	return 18 + log_above_page(size) / 256;
}

static void
out_attr_dec(const char *name, uint64_t v)
{
	out_char(' ');
	out_str(name);
	out_str("=\"");
	out_dec(v);
	out_char('"');
}

static void
svg_text_start(unsigned int x, unsigned int y, const char *more)
{
	out_str("<text");
	out_attr_dec("x", x);
	out_attr_dec("y", y);
	if (more != NULL) {
		out_char(' ');
		out_str(more);
	}
	out_char('>');
}

/* An address at the edge y, left of the bands, with a tick. */
static void
svg_address(uint64_t addr, unsigned int y, int digits)
{
	svg_text_start(SVG_ADDR_X, y + 4,
	    "class=\"addr\" text-anchor=\"end\" font-size=\"11\"");
	out_hex(addr, digits);
	out_str("</text>\n<line");
	out_attr_dec("x1", SVG_ADDR_X + 4);
	out_attr_dec("y1", y);
	out_attr_dec("x2", SVG_BAND_X);
	out_attr_dec("y2", y);
	out_str(" stroke=\"#404040\"/>\n");
}

static void
svg_band(const struct band *b, unsigned int y, unsigned int h, int digits)
{
	char		size[8];
	size_t		len = size_text(b->end - b->start, size);
	struct shown	f;

	out_str("<rect class=\"band\" data-kind=\"");
	out_str(mw_kind_name(b->kind));
	out_str("\" data-start=\"0x");
	out_hex(b->start, 0);
	out_str("\" data-end=\"0x");
	out_hex(b->end, 0);
	out_char('"');
	out_attr_dec("x", SVG_BAND_X);
	out_attr_dec("y", y);
	out_attr_dec("width", SVG_BAND_W);
	out_attr_dec("height", h);
	out_str(" fill=\"");
	out_str(kind_fill(b->kind));
	out_str("\" stroke=\"#404040\"><title>");
	out_str(mw_kind_name(b->kind));
	out_char(' ');
	if (b->name != NULL)
		out_xml(b->name, strlen(b->name));
	out_char(' ');
	out_hex(b->start, digits);
	out_char('-');
	out_hex(b->end, digits);
	out_char(' ');
	out_bytes(size, len);
	out_str("</title></rect>\n");
	/* Columns by position: SVG collapses runs of spaces. */
	svg_text_start(SVG_SIZE_X, y + h / 2 + 4, "text-anchor=\"end\"");
	out_bytes(size, len);
	out_str("</text>\n");
	svg_text_start(SVG_KIND_X, y + h / 2 + 4, NULL);
	out_str(mw_kind_name(b->kind));
	out_str("</text>\n");
	if (b->name != NULL) {
		fit_name(b->name, SVG_NAME_ROOM, &f);
		svg_text_start(SVG_NAME_X, y + h / 2 + 4, "class=\"name\"");
		out_str(f.lead);
		out_xml(f.s, f.len);
		out_str(f.trail);
		out_str("</text>\n");
	}
}

static void
svg_gap(uint64_t bytes, unsigned int y, unsigned int h)
{
	char	size[8];

	out_str("<rect class=\"gap\"");
	out_attr_dec("x", SVG_BAND_X);
	out_attr_dec("y", y);
	out_attr_dec("width", SVG_BAND_W);
	out_attr_dec("height", h);
	out_str(" fill=\"url(#unmapped)\" stroke=\"#9a9a9a\" "
	    "stroke-dasharray=\"4 3\"/>\n");
	svg_text_start(SVG_BAND_X + SVG_BAND_W / 2, y + h / 2 + 4,
	    "text-anchor=\"middle\" font-style=\"italic\" fill=\"#555555\"");
	out_bytes(size, size_text(bytes, size));
	out_str(" unmapped</text>\n");
}

/* The kinds present, in vocabulary order, each a swatch; then holes. */
static void
svg_legend(const struct band *b, size_t n)
{
	bool		present[MW_KIND_COUNT] = { false };
	unsigned int	y = SVG_TOP;

	for (size_t i = 0; i < n; i++)
		if (b[i].kind < MW_KIND_COUNT)
			present[b[i].kind] = true;
	svg_text_start(SVG_LEGEND_X, y + 12, "font-weight=\"bold\"");
	out_str("Kinds</text>\n");
	for (int k = 0; k <= MW_KIND_COUNT; k++) {
		if (k < MW_KIND_COUNT && !present[k])
			continue;
		y += SVG_LEGEND_ROW;
		out_str("<rect class=\"legend\"");
		out_attr_dec("x", SVG_LEGEND_X);
		out_attr_dec("y", y);
		out_str(" width=\"14\" height=\"14\" stroke=\"#404040\" fill=\"");
		out_str(k < MW_KIND_COUNT ? kind_fill((enum mw_kind)k) :
		    "url(#unmapped)");
		out_str("\"/>\n");
		svg_text_start(SVG_LEGEND_X + 22, y + 12, NULL);
		out_str(k < MW_KIND_COUNT ? mw_kind_name((enum mw_kind)k) :
		    "unmapped (not to scale)");
		out_str("</text>\n");
	}
}

static unsigned int
svg_height(const struct band *b, size_t n)
{
	unsigned int	h = SVG_TOP + 40, legend = SVG_TOP + 40 +
			    (MW_KIND_COUNT + 2) * SVG_LEGEND_ROW;

	for (size_t i = 0; i < n; i++) {
		h += band_height(b[i].end - b[i].start);
		if (i > 0 && b[i - 1].end < b[i].start)
			h += gap_height(b[i].start - b[i - 1].end);
	}
	return h > legend ? h : legend;
}

static void
svg_head(pid_t pid, unsigned int height)
{
	char	comm[64];

	target_comm(pid, comm, sizeof(comm));
	out_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"");
	out_attr_dec("width", SVG_WIDTH);
	out_attr_dec("height", height);
	out_str(" viewBox=\"0 0 ");
	out_dec(SVG_WIDTH);
	out_char(' ');
	out_dec(height);
	out_str("\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, "
	    "monospace\" font-size=\"12\">\n<title>memwalk layout: ");
	out_dec((uint64_t)pid);
	out_str(" (");
	out_xml(comm, strlen(comm));
	out_str(")</title>\n"
	    "<defs><pattern id=\"unmapped\" width=\"8\" height=\"8\" "
	    "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	    "<rect width=\"8\" height=\"8\" fill=\"#ffffff\"/>"
	    "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#cccccc\" "
	    "stroke-width=\"3\"/></pattern></defs>\n"
	    "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
	svg_text_start(16, 26, "font-size=\"16\" font-weight=\"bold\"");
	out_str("memwalk layout: ");
	out_dec((uint64_t)pid);
	out_str(" (");
	out_xml(comm, strlen(comm));
	out_str(")</text>\n");
	svg_text_start(16, 46, "fill=\"#555555\"");
	out_str("High addresses at the top. A band's height grows with the "
	    "log of its size; unmapped gaps are not to scale.</text>\n");
}

static void
print_svg(pid_t pid, const struct band *b, size_t n)
{
	struct text_widths	w;
	unsigned int		y = SVG_TOP, h;

	measure(b, n, &w);
	svg_head(pid, svg_height(b, n));
	for (size_t i = n; i-- > 0;) {
		h = band_height(b[i].end - b[i].start);
		if (i == n - 1 || b[i].end < b[i + 1].start)
			svg_address(b[i].end, y, w.addr);
		svg_band(&b[i], y, h, w.addr);
		y += h;
		svg_address(b[i].start, y, w.addr);
		if (i > 0 && b[i - 1].end < b[i].start) {
			h = gap_height(b[i].start - b[i - 1].end);
			svg_gap(b[i].start - b[i - 1].end, y, h);
			y += h;
		}
	}
	svg_legend(b, n);
	out_str("</svg>\n");
}

/*
 * The SVG into file, opened once the process has been read, so that a
 * process that cannot be read leaves it alone. A file that cannot be
 * written is said as "FILE: error", exit 1; the standard output ("-")
 * is main's to flush and report.
 */
static int
write_svg(const char *file, pid_t pid, const struct band *b, size_t n)
{
	int	fd, rc = 0;

	if (strcmp(file, "-") == 0) {
		print_svg(pid, b, n);
		return 0;
	}
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) == -1) {
		warn("%s", file);
		return EXIT_TARGET;
	}
	(void)out_set_fd(fd);	/* nothing is pending: layout wrote none */
	print_svg(pid, b, n);
	if (out_set_fd(STDOUT_FILENO) == -1) {
		warn("%s", file);
		rc = EXIT_TARGET;
	}
	if (close(fd) == -1 && rc == 0) {
		warn("%s", file);
		rc = EXIT_TARGET;
	}
	return rc;
}

/* ---- the command ---------------------------------------------------- */

int
cmd_layout(const struct options *o, int argc, char **argv)
{
	const struct mw_region	*v;
	struct mw_proc		*p;
	struct band		*b;
	size_t			 n, nb;
	pid_t			 pid;
	int			 rc = 0;

	if ((rc = target_open_proc("layout", o, argc, argv, &pid, &p)) != 0)
		return rc;
	v = mw_maps_regions(mw_proc_maps(p), &n);
	if ((b = calloc(n, sizeof(*b))) == NULL) {
		mw_proc_close(p);
		err(EXIT_TARGET, "layout");
	}
	nb = make_bands(v, n, b);
	if (o->svg != NULL)
		rc = write_svg(o->svg, pid, b, nb);
	else if (o->json)
		print_json(pid, b, nb);
	else
		print_text(pid, b, nb);
	free(b);
	mw_proc_close(p);
	return rc;
}
