/*
 * out.c: stdout through one 64 KiB buffer, with the formatting the
 * commands need done by hand: the annotated map of a process with
 * 60,000 mappings is 60,000 lines, and printf costs more than the
 * kernel's own text generation.
 *
 *   buf: [ pending bytes ....... | free ]
 *         0                 used     OUT_BUF
 *
 * Invariant: used < OUT_BUF between calls. In line-buffered mode (where
 * reading stdin) each finished line is written at once, so a consumer
 * sees answers while the producer runs.
 */
#include "config.h"

#include <bsd/libutil.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define OUT_BUF	65536

static char	buf[OUT_BUF];
static size_t	used;
static bool	line_mode;
static int	write_errno;

void
out_init(bool line_buffered)
{
	line_mode = line_buffered;
}

int
out_flush(void)
{
	size_t	off = 0;
	ssize_t	w;

	while (off < used && write_errno == 0) {
		w = write(STDOUT_FILENO, buf + off, used - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			write_errno = errno;
		else
			off += (size_t)w;
	}
	used = 0;
	if (write_errno != 0) {
		errno = write_errno;
		return -1;
	}
	return 0;
}

void
out_bytes(const char *s, size_t n)
{
	while (n > 0) {
		size_t	room = OUT_BUF - used, k = n < room ? n : room;

		memcpy(buf + used, s, k);
		used += k;
		s += k;
		n -= k;
		if (used == OUT_BUF)
			out_flush();
	}
}

void
out_str(const char *s)
{
	out_bytes(s, strlen(s));
}

void
out_char(char c)
{
	buf[used++] = c;
	if (used == OUT_BUF)
		out_flush();
}

void
out_pad(size_t n)
{
	while (n-- > 0)
		out_char(' ');
}

void
out_end_line(void)
{
	out_char('\n');
	if (line_mode)
		out_flush();
}

int
hex_digits(uint64_t v)
{
	int	n = 1;

	while (v >>= 4)
		n++;
	return n;
}

/* Lowercase hex, zero-padded to width digits. */
void
out_hex(uint64_t v, int width)
{
	static const char	digits[] = "0123456789abcdef";
	char			tmp[16];
	int			n = hex_digits(v), i;

	for (i = n; i < width; i++)
		out_char('0');
	for (i = n - 1; i >= 0; i--, v >>= 4)
		tmp[i] = digits[v & 0xf];
	out_bytes(tmp, (size_t)n);
}

void
out_dec(uint64_t v)
{
	char	tmp[20];
	int	i = 20;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	out_bytes(tmp + i, (size_t)(20 - i));
}

void
out_sdec(int64_t v)
{
	if (v < 0) {
		out_char('-');
		out_dec((uint64_t)0 - (uint64_t)v);
	} else
		out_dec((uint64_t)v);
}

void
out_json_str(const char *s)
{
	static const char	hexd[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;

	out_char('"');
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			out_char('\\');
			out_char((char)*p);
		} else if (*p == '\n')
			out_bytes("\\n", 2);
		else if (*p == '\t')
			out_bytes("\\t", 2);
		else if (*p < 0x20 || *p == 0x7f) {
			out_bytes("\\u00", 4);
			out_char(hexd[*p >> 4]);
			out_char(hexd[*p & 0xf]);
		} else
			out_char((char)*p);
	}
	out_char('"');
}

/* A name in a table: control characters as the kernel writes '\n'. */
void
out_text_name(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			out_char('\\');
			out_char((char)('0' + (*p >> 6)));
			out_char((char)('0' + ((*p >> 3) & 7)));
			out_char((char)('0' + (*p & 7)));
		} else
			out_char((char)*p);
	}
}

/*
 * humanize_number(3), remembered: a map has few distinct sizes (a
 * 60,000-mapping process may have three), and the call costs about as
 * much as formatting the rest of its line.
 */
size_t
size_text(uint64_t bytes, char text[8])
{
	static struct {
		uint64_t	bytes;
		char		text[8];
		size_t		len;
	} memo[64];
	unsigned int	slot = (unsigned int)((bytes >> 12) ^ (bytes >> 20)) % 64;

	if (memo[slot].len == 0 || memo[slot].bytes != bytes) {
		if (humanize_number(memo[slot].text, 5, (int64_t)bytes, "",
		    HN_AUTOSCALE, HN_B | HN_NOSPACE | HN_DECIMAL) == -1)
			strcpy(memo[slot].text, "?");
		memo[slot].bytes = bytes;
		memo[slot].len = strlen(memo[slot].text);
	}
	memcpy(text, memo[slot].text, 8);
	return memo[slot].len;
}

void
out_size(uint64_t bytes)
{
	char	text[8];
	size_t	len = size_text(bytes, text);

	out_bytes(text, len);
}
