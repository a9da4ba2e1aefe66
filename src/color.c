/*
 * color.c: whether the text of memwalk(1) is colored, and how.
 *
 * One decision per run, taken by main before a command prints
 * (color_init) and fixed after it:
 *
 *   --color=always   colored, whatever NO_COLOR says
 *   --color=never    plain
 *   --color=auto     (the default) colored when the standard output is a
 *                    terminal and NO_COLOR is unset or empty
 *                    (https://no-color.org)
 *
 * and never for an output that is no text table: JSON, snapshots, SVG.
 * The commands call the functions here whether or not color is on:
 * off, they write the text alone, the same bytes as a plain run, so that
 * a colored run differs from a plain one by its escapes only.
 *
 * Each kind has one foreground color, the same in every view (the map's
 * kind column, where's answers, layout's bars, diff and watch's kinds):
 * related kinds share a hue, code and data of ELF objects warm and blue,
 * allocators' memory green, stacks magenta, the kernel's pages purple.
 * Column headings are bold.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static bool	on;

/* ANSI SGR foreground of each kind; NULL: drawn plain. */
static const char *const kind_sgrs[MW_KIND_COUNT] = {
	[MW_KIND_ANON] = "37",
	[MW_KIND_HEAP] = "32",
	[MW_KIND_STACK] = "35",
	[MW_KIND_VDSO] = "95",
	[MW_KIND_VVAR] = "95",
	[MW_KIND_VSYSCALL] = "95",
	[MW_KIND_TEXT] = "31",
	[MW_KIND_RODATA] = "33",
	[MW_KIND_DATA] = "34",
	[MW_KIND_BSS] = "94",
	[MW_KIND_FILE] = "93",
	[MW_KIND_SHMEM] = "36",
	[MW_KIND_GUARD] = "90",
	[MW_KIND_THREAD_STACK] = "95",
	[MW_KIND_GLIBC_ARENA] = "92",
	[MW_KIND_MALLOC_MMAP] = "92",
	[MW_KIND_PYMALLOC_ARENA] = "92",
	[MW_KIND_MEMWALK_ARENA] = "92",
};

/* Whether `when` allows color on stdout; text: the output is a table. */
void
color_init(enum color when, bool text)
{
	const char	*no = getenv("NO_COLOR");

	if (!text || when == COLOR_NEVER)
		on = false;
	else if (when == COLOR_ALWAYS)
		on = true;
	else
		on = isatty(STDOUT_FILENO) && (no == NULL || *no == '\0');
}

bool
color_on(void)
{
	return on;
}

/* The SGR of kind k when color is on; NULL when not, or k has none. */
const char *
color_kind(enum mw_kind k)
{
	return on && (unsigned int)k < MW_KIND_COUNT ? kind_sgrs[k] : NULL;
}

/* The SGR of a heading when color is on (bold); NULL when not. */
const char *
color_heading(void)
{
	return on ? "1" : NULL;
}

/* ESC [ sgr m at p (room for 8 + strlen(sgr)); nothing for NULL. */
char *
put_sgr(char *p, const char *sgr)
{
	size_t	n;

	if (sgr == NULL)
		return p;
	n = strlen(sgr);
	*p++ = '\033';
	*p++ = '[';
	memcpy(p, sgr, n);
	p += n;
	*p++ = 'm';
	return p;
}

/* ESC [ 0 m at p (room for 4) when sgr is not NULL. */
char *
put_sgr_end(char *p, const char *sgr)
{
	if (sgr == NULL)
		return p;
	memcpy(p, "\033[0m", 4);
	return p + 4;
}

void
out_sgr(const char *sgr)
{
	if (sgr == NULL)
		return;
	out_str("\033[");
	out_str(sgr);
	out_char('m');
}

void
out_sgr_end(const char *sgr)
{
	if (sgr != NULL)
		out_str("\033[0m");
}

/* The name of kind k, in its color. */
void
out_kind(enum mw_kind k)
{
	const char	*sgr = color_kind(k);

	out_sgr(sgr);
	out_str(mw_kind_name(k));
	out_sgr_end(sgr);
}

/*
 * A line of column headings, bold; s may start and end with newlines,
 * which stay outside the escapes, so that a line holds its own.
 */
void
out_heading(const char *s)
{
	const char	*sgr = color_heading();
	size_t		 len = strlen(s), lead = 0;

	while (lead < len && s[lead] == '\n')
		lead++;
	out_bytes(s, lead);
	if (len > lead && s[len - 1] == '\n')
		len--;
	out_sgr(len > lead ? sgr : NULL);
	out_bytes(s + lead, len - lead);
	out_sgr_end(len > lead ? sgr : NULL);
	out_str(s + len);
}
