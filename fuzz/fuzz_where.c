/*
 * fuzz_where.c: the stdin reader of `memwalk where PID -` (src/addrscan.c:
 * addr_read_lines, addr_scan_line, addr_parse) on any bytes.
 *
 * The input is the standard input, read from a memory stream with a
 * line limit of MAX_LINE bytes (small, so that the fuzzer meets the
 * too-long path), and each line is checked against the input itself:
 *
 *   lines   numbered 1, 2, ... one per line of the input; NULL exactly
 *           for a line longer than MAX_LINE with its '\n'; else the
 *           line up to its first NUL, its trailing white space cut
 *   tokens  the line's tokens as this file finds them, a byte at a time:
 *           "0x" and hex digits with no word character before or after
 *           them, in order, none missed (past 63 bytes, what is left
 *           of it without leading zeros and cut); a value
 *           exactly when its significant digits fit 64 bits, and then
 *           the value they write; a callback's nonzero answer ends the
 *           line there, and is returned
 *   whole   each line as an argument of `memwalk where PID ADDR`
 *           (addr_parse): a value exactly for "0x" and hex digits, or
 *           decimal digits, that fit 64 bits; the value they write
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_LINE	128
#define STOP_RC		7	/* a callback's "stop", passed back */

struct scan {
	const uint8_t	*data;
	size_t		 size;
	size_t		 off;		/* of the next input line */
	size_t		 lineno;
	const char	*line;
	const char	*pos;		/* in line: past the last token */
	bool		 stopped;
	const char	*why;
};

static bool
word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The value of hex digits s[0 .. n), if it fits 64 bits. */
static bool
hex_value(const char *s, size_t n, uint64_t *v)
{
	while (n > 0 && *s == '0') {
		s++;
		n--;
	}
	if (n > 16)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int	c = tolower((unsigned char)s[i]);

		*v = *v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return true;
}

static bool
dec_value(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t	d = (uint64_t)(s[i] - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return false;
		*v = *v * 10 + d;
	}
	return true;
}

/* What addr_parse must say of s: 1 a value (*v), 0 none. */
static int
want_parse(const char *s, uint64_t *v)
{
	size_t	n = strlen(s), digits;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = strspn(s + 2, "0123456789abcdefABCDEF");
		return digits == n - 2 && hex_value(s + 2, digits, v);
	}
	digits = strspn(s, "0123456789");
	return n > 0 && digits == n && dec_value(s, digits, v);
}

static const char *
check_parse(const char *s)
{
	uint64_t	 got = 0, want = 0;
	const char	*why = NULL;
	int		 rc = addr_parse(s, &got, &why), w = want_parse(s, &want);

	if (rc != 0 && rc != -1)
		return fuzz_why("addr_parse(\"%.80s\"): %d", s, rc);
	if ((rc == 0) != (w == 1))
		return fuzz_why("addr_parse(\"%.80s\"): %s", s, rc == 0 ?
		    "a value" : why);
	if (rc == 0 && got != want)
		return fuzz_why("addr_parse(\"%.80s\"): %#llx, not %#llx", s,
		    (unsigned long long)got, (unsigned long long)want);
	if (rc == -1 && why == NULL)
		return fuzz_why("addr_parse(\"%.80s\"): -1 and no why", s);
	return NULL;
}

/*
 * The next token of a line at or after p, by the rule above, found here
 * a byte at a time: its start, and *end past its digits; NULL: none.
 */
static const char *
next_token(const char *line, const char *p, const char **end)
{
	for (; *p != '\0'; p++) {
		const char	*q = p + 2;

		if (p[0] != '0' || p[1] != 'x' ||
		    (p > line && word_char(p[-1])) ||
		    !isxdigit((unsigned char)*q))
			continue;
		while (isxdigit((unsigned char)*q))
			q++;
		if (!word_char(*q)) {
			*end = q;
			return p;
		}
	}
	return NULL;
}

/*
 * A token of a long number (len bytes at at, past 63): "0x" and, once
 * leading zeros are dropped from both, the start of the number's digits.
 */
static bool
same_start(const char *tok, const char *at, size_t len)
{
	const char	*t = tok + 2, *a = at + 2, *end = at + len;

	if (strlen(tok) > 63 || strncmp(tok, "0x", 2) != 0)
		return false;
	while (*t == '0')
		t++;
	while (a < end && *a == '0')
		a++;
	return strlen(t) <= (size_t)(end - a) && strncmp(t, a, strlen(t)) == 0;
}

/* addr_token_fn: the token must be the line's next one. */
static int
token(void *ctx, const char *tok, uint64_t addr, const char *why)
{
	struct scan	*sc = ctx;
	const char	*at, *end;
	size_t		 len;
	uint64_t	 v;
	bool		 fits;

	if (sc->why != NULL)
		return STOP_RC;
	if (sc->stopped) {
		sc->why = "a token after the callback said stop";
		return STOP_RC;
	}
	if ((at = next_token(sc->line, sc->pos, &end)) == NULL) {
		sc->why = fuzz_why("line %zu: token \"%s\" past the last one",
		    sc->lineno, tok);
		return STOP_RC;
	}
	len = (size_t)(end - at);
	fits = hex_value(at + 2, len - 2, &v);
	if (len <= 63 ? strlen(tok) != len || strncmp(tok, at, len) != 0 :
	    !same_start(tok, at, len))
		sc->why = fuzz_why("line %zu: token \"%s\", not \"%.*s\"",
		    sc->lineno, tok, (int)len, at);
	else if ((why == NULL) != fits)
		sc->why = fuzz_why("line %zu: \"%s\": %s", sc->lineno, tok,
		    why != NULL ? why : "a value");
	else if (why == NULL && addr != v)
		sc->why = fuzz_why("line %zu: \"%s\": %#llx", sc->lineno, tok,
		    (unsigned long long)addr);
	if (sc->why != NULL)
		return STOP_RC;
	sc->pos = end;
	/* Stop at some tokens, as a bad one or a dead target does. */
	if ((addr & 0xff) == 0x5a || (why != NULL && len % 2 == 0)) {
		sc->stopped = true;
		return STOP_RC;
	}
	return 0;
}

/* The input's next line as the reader must hand it on; NULL: too long. */
static char *
expected_line(struct scan *sc, size_t *rawlen)
{
	const uint8_t	*p = sc->data + sc->off, *nl;
	size_t		 n, avail = sc->size - sc->off;
	char		*e;

	nl = memchr(p, '\n', avail);
	n = nl != NULL ? (size_t)(nl - p) + 1 : avail;
	*rawlen = n;
	if (n > MAX_LINE)
		return NULL;
	if ((e = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(e, p, n);
	while (n > 0 && isspace((unsigned char)e[n - 1]))
		n--;
	e[n] = '\0';
	return e;
}

/* addr_line_fn */
static int
line(void *ctx, const char *l, size_t lineno)
{
	struct scan	*sc = ctx;
	const char	*tok, *end;
	char		*want;
	size_t		 rawlen;
	int		 rc;

	if (sc->why != NULL)
		return STOP_RC;
	if (lineno != ++sc->lineno || sc->off >= sc->size) {
		sc->why = fuzz_why("line %zu: line %zu expected, of %zu bytes",
		    lineno, sc->lineno, sc->size);
		return STOP_RC;
	}
	want = expected_line(sc, &rawlen);
	sc->off += rawlen;
	if ((l == NULL) != (rawlen > MAX_LINE))
		sc->why = fuzz_why("line %zu: %zu bytes, %s", lineno, rawlen,
		    l == NULL ? "said too long" : "not said too long");
	else if (l != NULL && want != NULL && strcmp(l, want) != 0)
		sc->why = fuzz_why("line %zu: \"%.80s\", not \"%.80s\"",
		    lineno, l, want);
	free(want);
	if (sc->why != NULL || l == NULL)
		return sc->why != NULL ? STOP_RC : 0;
	if ((sc->why = check_parse(l)) != NULL)
		return STOP_RC;
	sc->line = sc->pos = l;
	sc->stopped = false;
	rc = addr_scan_line(l, token, sc);
	if (sc->why == NULL && rc != (sc->stopped ? STOP_RC : 0))
		sc->why = fuzz_why("line %zu: addr_scan_line gave %d", lineno,
		    rc);
	else if (sc->why == NULL && !sc->stopped &&
	    (tok = next_token(l, sc->pos, &end)) != NULL)
		sc->why = fuzz_why("line %zu: token \"%.*s\" missed", lineno,
		    (int)(end - tok), tok);
	return sc->why != NULL ? STOP_RC : 0;
}

const char *
fuzz_where(const uint8_t *data, size_t size)
{
	struct scan	 sc = { .data = data, .size = size };
	FILE		*fp;
	int		 rc;

	if (size == 0)
		return NULL;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return NULL;
	rc = addr_read_lines(fp, MAX_LINE, line, &sc);
	fclose(fp);
	if (sc.why != NULL)
		return sc.why;
	if (rc != 0)
		return fuzz_why("addr_read_lines gave %d", rc);
	if (sc.off != size)
		return fuzz_why("%zu of %zu bytes read as lines", sc.off, size);
	return NULL;
}
