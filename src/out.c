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
 * sees answers while the producer runs. The bytes go to out_fd, stdout
 * unless a command writes a file (out_set_fd: layout --svg FILE). (Formatting half the rows on the
 * other core into memory was tried, and was slower: the growing buffer
 * costs more in page faults than the second core saves.)
 */
#include "config.h"

#include <bsd/libutil.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define OUT_BUF	65536

static char	buf[OUT_BUF];
static size_t	used;
static bool	line_mode;
static int	write_errno;
static int	out_fd = STDOUT_FILENO;

void
out_init(bool line_buffered)
{
	line_mode = line_buffered;
}

/* Write s to stdout; the first error is kept for out_flush to report. */
static void
write_all(const char *s, size_t n)
{
	size_t	off = 0;
	ssize_t	w;

	while (off < n && write_errno == 0) {
		w = write(out_fd, s + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			write_errno = errno;
		else
			off += (size_t)w;
	}
}

int
out_flush(void)
{
	write_all(buf, used);
	used = 0;
	if (write_errno != 0) {
		errno = write_errno;
		return -1;
	}
	return 0;
}

/*
 * Write to fd from now on; what is pending goes to the old descriptor
 * first. 0, or -1 with errno when a write to the old one failed: the
 * error is then the caller's to report, and forgotten here.
 */
int
out_set_fd(int fd)
{
	int	rc = out_flush(), err = errno;

	out_fd = fd;
	write_errno = 0;
	errno = err;
	return rc;
}

void
out_bytes(const char *s, size_t n)
{
	if (n >= OUT_BUF) {	/* big: no copy through the buffer */
		out_flush();
		write_all(s, n);
		return;
	}
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
	return v == 0 ? 1 : (67 - __builtin_clzll(v)) / 4;
}

/* Room for n more bytes (n <= OUT_BUF): where to write them. */
char *
out_reserve(size_t n)
{
	if (OUT_BUF - used < n)
		out_flush();
	return buf + used;
}

/* The bytes up to end, written after out_reserve, are taken. */
void
out_commit(const char *end)
{
	used = (size_t)(end - buf);
	if (used == OUT_BUF)
		out_flush();
}

/*
 * Eight nibbles to eight lowercase hex characters at once (SWAR): spread
 * the nibbles to bytes, add '0', and 'a' - '0' - 10 more where a nibble
 * is 10 or above. The most significant nibble comes first in memory.
 */
static inline uint64_t
hex8(uint32_t x)
{
	uint64_t	v = x, above9;

	v = (v | v << 16) & 0x0000ffff0000ffffULL;
	v = (v | v << 8) & 0x00ff00ff00ff00ffULL;
	v = (v | v << 4) & 0x0f0f0f0f0f0f0f0fULL;
	above9 = ((v + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
	v += 0x3030303030303030ULL + above9 * ('a' - '0' - 10);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return v;
#else
	return __builtin_bswap64(v);
#endif
}

/*
 * Lowercase hex, zero-padded to width (at most 16) digits. Writes 16
 * bytes whatever the width (a fixed-size copy is two stores; the bytes
 * past the digits are overwritten by what follows), so p needs room for
 * 16; returns the end of the digits.
 */
char *
put_hex(char *p, uint64_t v, int width)
{
	int		n = hex_digits(v) > width ? hex_digits(v) : width;
	uint64_t	top = v << (4 * (16 - n));	/* digits first */
	uint64_t	both[2] = { hex8((uint32_t)(top >> 32)),
			    hex8((uint32_t)top) };

	memcpy(p, both, 16);
	return p + n;
}

void
out_hex(uint64_t v, int width)
{
	out_commit(put_hex(out_reserve(16), v, width));
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

/*
 * Length of the valid UTF-8 sequence at p (1 to 4), or 0 when p starts
 * no valid sequence (stray continuation, overlong form, surrogate, or
 * beyond U+10FFFF).
 */
static size_t
utf8_len(const unsigned char *p)
{
	size_t		n;
	uint32_t	cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * A JSON string. File names are bytes, JSON is UTF-8: a byte that
 * starts no valid sequence becomes U+FFFD, so the document stays valid.
 */
void
out_json_str(const char *s)
{
	static const char	hexd[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	out_char('"');
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			out_char('\\');
			out_char((char)*p++);
		} else if (*p == '\n') {
			out_bytes("\\n", 2);
			p++;
		} else if (*p == '\t') {
			out_bytes("\\t", 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			out_bytes("\\u00", 4);
			out_char(hexd[*p >> 4]);
			out_char(hexd[*p & 0xf]);
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			out_bytes("\\ufffd", 6);
			p++;
		} else {
			out_bytes((const char *)p, n);
			p += n;
		}
	}
	out_char('"');
}

static const char *
xml_entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	default:
		return NULL;
	}
}

/* U+FFFE or U+FFFF: valid UTF-8, not allowed in XML. */
static bool
xml_nonchar(const unsigned char *p, size_t n)
{
	return n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe;
}

/*
 * The len bytes at s as XML character data or attribute value (UTF-8).
 * The five markup characters become entities; control characters,
 * which XML 1.0 does not allow, are shown as the kernel shows a
 * newline, "\012"; a byte that starts no valid sequence within len, and
 * U+FFFE and U+FFFF, which XML does not allow either, become U+FFFD.
 * s lies in a NUL-terminated string (a sequence is read up to its end).
 */
void
out_xml(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + len;
	const char		*entity;
	char			 esc[4];
	size_t			 n;

	while (p < end) {
		if ((entity = xml_entity(*p)) != NULL) {
			out_str(entity);
			n = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			out_bytes(esc, (size_t)(put_text_name(esc,
			    (const char *)p, 1) - esc));
			n = 1;
		} else if ((n = utf8_len(p)) == 0 || n > (size_t)(end - p)) {
			out_str("\xef\xbf\xbd");	/* U+FFFD */
			n = 1;
		} else if (xml_nonchar(p, n))
			out_str("\xef\xbf\xbd");
		else
			out_bytes((const char *)p, n);
		p += n;
	}
}

/*
 * A name in a table, at p (room for 4 * len bytes): control characters
 * as the kernel writes a newline, "\012". Returns the end.
 */
char *
put_text_name(char *p, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x20 && c != 0x7f) {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		*p++ = (char)('0' + (c >> 6));
		*p++ = (char)('0' + ((c >> 3) & 7));
		*p++ = (char)('0' + (c & 7));
	}
	return p;
}

/* The same on stdout, in pieces that fit the buffer. */
void
out_text_name(const char *s)
{
	size_t	len = strlen(s), k;

	for (; len > 0; s += k, len -= k) {
		k = len < 8192 ? len : 8192;
		out_commit(put_text_name(out_reserve(4 * k), s, k));
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
		if (bytes > INT64_MAX)	/* beyond humanize_number's int64_t */
			snprintf(memo[slot].text, sizeof(memo[slot].text),
			    "%uE", (unsigned int)(((bytes >> 59) + 1) >> 1));
		else if (humanize_number(memo[slot].text, 5, (int64_t)bytes,
		    "", HN_AUTOSCALE, HN_B | HN_NOSPACE | HN_DECIMAL) == -1)
			strcpy(memo[slot].text, "?");
		memo[slot].bytes = bytes;
		memo[slot].len = strlen(memo[slot].text);
	}
	memcpy(text, memo[slot].text, 8);
	return memo[slot].len;
}


/* A signed size, right-aligned in width: "0", "+1.2M", "-4.0K". */
void
out_signed_size(int64_t d, size_t width)
{
	char	t[8], text[16];
	size_t	n;

	if (d == 0)
		n = (size_t)snprintf(text, sizeof(text), "0");
	else {
		size_text(d > 0 ? (uint64_t)d : -(uint64_t)d, t);
		n = (size_t)snprintf(text, sizeof(text), "%c%s", d > 0 ? '+' :
		    '-', t);
	}
	out_pad(width > n ? width - n : 0);
	out_str(text);
}

/* ", \"key\": \"0x...\"", or null for 0. */
void
json_key_addr(const char *key, uint64_t v)
{
	out_str(", \"");
	out_str(key);
	out_str("\": ");
	if (v == 0) {
		out_str("null");
		return;
	}
	out_str("\"0x");
	out_hex(v, 0);
	out_char('"');
}

/* ", \"key\": N". */
void
json_key_dec(const char *key, uint64_t v)
{
	out_str(", \"");
	out_str(key);
	out_str("\": ");
	out_dec(v);
}
