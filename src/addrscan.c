/*
 * addrscan.c: the addresses `memwalk where` is given, as arguments or
 * as the lines of its standard input (cmd_where.c answers them; the
 * fuzz target fuzz/fuzz_where.c reads through the same functions).
 *
 *   addr_parse       one argument: "0x" and hex digits, or decimal
 *                    digits, the whole string, below 2^64
 *   addr_read_lines  the lines of a stream, their trailing white space
 *                    cut; a line longer than max (its '\n' counted) is
 *                    handed on as NULL, not cut
 *   addr_scan_line   the 0x numbers of a line that stand as words:
 *
 *     "p = 0x7f12ab, q=0xffff,0x0 a0x12 0x12z"
 *          ^^^^^^^^    ^^^^^^ ^^^              tokens
 *                                   ^^^^ ^^^^^ not: a word character
 *                                              ('_' or alphanumeric)
 *                                              touches them
 *
 * A token is copied and parsed by addr_parse; the callback is told its
 * value, or why it is none. One longer than 63 bytes is copied without
 * leading zeros, as far as that makes it fit ("0x" and 61 zeros, then
 * "1": 0x1), and what still does not fit is cut: it is beyond 64 bits.
 * A callback that returns nonzero stops the scan or the read, which
 * then return that value.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TOKEN_MAX	64

int
addr_parse(const char *s, uint64_t *out, const char **why)
{
	const char	*digits = s;
	size_t		 n;
	int		 base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	/* Digits only: strtoull would take a second "0x" ("0x0x10"). */
	n = strspn(digits, base == 16 ? "0123456789abcdefABCDEF" :
	    "0123456789");
	if (n == 0 || digits[n] != '\0') {
		*why = "not a hex (0x...) or decimal address";
		return -1;
	}
	errno = 0;
	*out = strtoull(digits, NULL, base);
	if (errno == ERANGE) {
		*why = "beyond 64 bits";
		return -1;
	}
	return 0;
}

static bool
is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

int
addr_scan_line(const char *line, addr_token_fn fn, void *ctx)
{
	const char	*p, *d, *end, *why;
	char		 token[TOKEN_MAX];
	uint64_t	 addr;
	size_t		 len;
	int		 rc = 0;

	for (p = line; (p = strstr(p, "0x")) != NULL && rc == 0; p = end) {
		end = p + 2;
		if ((p > line && is_word_char(p[-1])) ||
		    !isxdigit((unsigned char)*end))
			continue;
		while (isxdigit((unsigned char)*end))
			end++;
		if (is_word_char(*end))
			continue;
		/* Too long a token loses leading zeros, then its tail. */
		for (d = p + 2; *d == '0' && end - d > 1 &&
		    (size_t)(end - d) + 2 >= sizeof(token); d++)
			continue;
		len = (size_t)(end - d);
		if (len + 2 >= sizeof(token))
			len = sizeof(token) - 3;	/* beyond 64 bits */
		memcpy(token, "0x", 2);
		memcpy(token + 2, d, len);
		token[len + 2] = '\0';
		why = NULL;
		if (addr_parse(token, &addr, &why) == -1)
			addr = 0;
		rc = fn(ctx, token, addr, why);
	}
	return rc;
}

static void
chomp(char *s, ssize_t *len)
{
	while (*len > 0 && isspace((unsigned char)s[*len - 1]))
		s[--*len] = '\0';
}

int
addr_read_lines(FILE *fp, size_t max, addr_line_fn fn, void *ctx)
{
	char	*line = NULL;
	size_t	 cap = 0, lineno = 0;
	ssize_t	 len;
	int	 rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if ((size_t)len > max) {
			rc = fn(ctx, NULL, lineno);
			continue;
		}
		chomp(line, &len);
		rc = fn(ctx, line, lineno);
	}
	free(line);
	return rc;
}
