/*
 * json.c: a small JSON reader, for the snapshots `memwalk diff` reads.
 *
 * The text is parsed at once into a tree of nodes:
 *
 *   struct json { type, number (u64 and double), str/len,
 *                 n, items[n] (array elements, object values),
 *                 keys[n] (object member names; NULL for an array) }
 *
 * Strings are decoded (\uXXXX to UTF-8, surrogate pairs joined) and
 * NUL-terminated; a string holding \u0000 keeps its length. Numbers
 * keep their double and, when written as a non-negative integer below
 * 2^64, their exact value (is_u64): byte counts stay exact past 2^53.
 *
 * Invariants: nesting deeper than JSON_MAX_DEPTH, or anything but
 * whitespace after the value, is an error; an error leaves no tree and
 * says where (line and column, counted in bytes) and what was wanted.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_MAX_DEPTH	64

struct parser {
	const char	*p, *start, *end;
	char		*err;
	size_t		 errlen;
	int		 depth;
};

static struct json *parse_value(struct parser *);

static void
fail(struct parser *ps, const char *what)
{
	size_t	line = 1, col = 1;

	if (ps->err[0] != '\0')
		return;		/* the first error is the one to tell */
	for (const char *c = ps->start; c < ps->p && c < ps->end; c++) {
		if (*c == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	snprintf(ps->err, ps->errlen, "line %zu, column %zu: %s", line, col,
	    what);
}

static void
skip_space(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct json *
node(struct parser *ps, enum json_type type)
{
	struct json	*j = calloc(1, sizeof(*j));

	if (j == NULL)
		fail(ps, "out of memory");
	else
		j->type = type;
	return j;
}

static bool
literal(struct parser *ps, const char *word)
{
	size_t	n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

/* ---- strings ------------------------------------------------------- */

static int
hex4(struct parser *ps, unsigned int *out)
{
	unsigned int	v = 0;

	if (ps->end - ps->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char	c = *ps->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX, with its low surrogate when it is a high one. */
static int
unicode_escape(struct parser *ps, unsigned int *cp)
{
	unsigned int	lo;

	if (hex4(ps, cp) == -1)
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -1;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (!literal(ps, "\\u") || hex4(ps, &lo) == -1 || lo < 0xdc00 ||
	    lo > 0xdfff)
		return -1;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static int
escape(struct parser *ps, char *o, size_t *n)
{
	static const char	from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char		*k;
	unsigned int		 cp;

	if (ps->p >= ps->end)
		return -1;
	if (*ps->p == 'u') {
		ps->p++;
		if (unicode_escape(ps, &cp) == -1)
			return -1;
		*n += put_utf8(o + *n, cp);
		return 0;
	}
	if ((k = memchr(from, *ps->p, sizeof(from) - 1)) == NULL)
		return -1;
	o[(*n)++] = to[k - from];
	ps->p++;
	return 0;
}

/* The decoded string is never longer than its text. */
static char *
parse_string(struct parser *ps, size_t *len)
{
	const char	*q = ps->p + 1;
	char		*o;
	size_t		 n = 0;

	while (q < ps->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= ps->end) {
		fail(ps, "a string without its closing quote");
		return NULL;
	}
	if ((o = malloc((size_t)(q - ps->p) + 1)) == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	for (ps->p++; *ps->p != '"'; ) {
		unsigned char	c = (unsigned char)*ps->p;

		if (c < 0x20) {
			fail(ps, "a control character in a string");
			goto bad;
		}
		ps->p++;
		if (c != '\\')
			o[n++] = (char)c;
		else if (escape(ps, o, &n) == -1) {
			fail(ps, "a bad escape in a string");
			goto bad;
		}
	}
	ps->p++;
	o[n] = '\0';
	*len = n;
	return o;
bad:
	free(o);
	return NULL;
}

/* ---- numbers, containers ----------------------------------------- */

/* The length of the number at p, by JSON's grammar; 0: none there. */
static size_t
number_length(const char *p, const char *end)
{
	const char	*q = p;

#define DIGITS()	while (q < end && *q >= '0' && *q <= '9') q++
	if (q < end && *q == '-')
		q++;
	if (q >= end || *q < '0' || *q > '9')
		return 0;
	if (*q == '0')
		q++;
	else
		DIGITS();
	if (q < end && *q == '.') {
		if (++q >= end || *q < '0' || *q > '9')
			return 0;
		DIGITS();
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		if (++q < end && (*q == '+' || *q == '-'))
			q++;
		if (q >= end || *q < '0' || *q > '9')
			return 0;
		DIGITS();
	}
#undef DIGITS
	return (size_t)(q - p);
}

static struct json *
parse_number(struct parser *ps)
{
	size_t		 n = number_length(ps->p, ps->end);
	const char	*q = ps->p + n;
	char		 buf[64], *end;
	struct json	*j;

	if (n == 0 || (q < ps->end && *q >= '0' && *q <= '9')) {
		fail(ps, n == 0 ? "a value (a number, string, array, object, "
		    "true, false or null)" : "a number with a leading zero");
		return NULL;
	}
	if ((size_t)(q - ps->p) >= sizeof(buf)) {
		fail(ps, "a number too long");
		return NULL;
	}
	memcpy(buf, ps->p, (size_t)(q - ps->p));
	buf[q - ps->p] = '\0';
	if ((j = node(ps, JSON_NUMBER)) == NULL)
		return NULL;
	j->number = strtod(buf, &end);
	if (*end != '\0' || !isfinite(j->number)) {
		free(j);
		fail(ps, *end != '\0' ? "a malformed number" :
		    "a number out of range");
		return NULL;
	}
	if (strpbrk(buf, ".eE") == NULL && buf[0] != '-') {
		errno = 0;
		j->u64 = strtoull(buf, NULL, 10);
		j->is_u64 = errno == 0;
	}
	ps->p = q;
	return j;
}

static int
push(struct parser *ps, struct json *c, struct json *item, char *key)
{
	size_t	 cap = c->n == 0 ? 8 : (c->n & (c->n - 1)) == 0 && c->n >= 8 ?
		    c->n * 2 : 0;

	if (cap != 0) {
		struct json	*items = realloc(c->items, cap * sizeof(*items));
		char		**keys;

		if (items == NULL) {
			fail(ps, "out of memory");
			return -1;
		}
		c->items = items;
		if (c->type == JSON_OBJECT) {
			if ((keys = realloc(c->keys, cap * sizeof(*keys))) ==
			    NULL) {
				fail(ps, "out of memory");
				return -1;
			}
			c->keys = keys;
		}
	}
	c->items[c->n] = *item;
	if (c->type == JSON_OBJECT)
		c->keys[c->n] = key;
	c->n++;
	free(item);	/* its contents now live in the array */
	return 0;
}

/* An array or an object; ps->p at its opening bracket. */
static struct json *
parse_container(struct parser *ps, enum json_type type)
{
	char		 close = type == JSON_ARRAY ? ']' : '}';
	struct json	*c, *item;
	char		*key = NULL;
	size_t		 klen;

	if (++ps->depth > JSON_MAX_DEPTH) {
		fail(ps, "nested too deep");
		return NULL;
	}
	if ((c = node(ps, type)) == NULL)
		return NULL;
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return c;
	}
	for (;;) {
		skip_space(ps);
		if (type == JSON_OBJECT) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "a member name (a string)");
				goto bad;
			}
			if ((key = parse_string(ps, &klen)) == NULL)
				goto bad;
			skip_space(ps);
			if (!literal(ps, ":")) {
				fail(ps, "':' after a member name");
				goto bad;
			}
		}
		if ((item = parse_value(ps)) == NULL || push(ps, c, item,
		    key) == -1) {
			if (item != NULL)
				json_free(item);
			goto bad;
		}
		key = NULL;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return c;
		}
		fail(ps, type == JSON_ARRAY ? "',' or ']' in an array" :
		    "',' or '}' in an object");
		goto bad;
	}
bad:
	free(key);
	json_free(c);
	return NULL;
}

static struct json *
parse_value(struct parser *ps)
{
	struct json	*j;

	skip_space(ps);
	if (ps->p >= ps->end) {
		fail(ps, "a value, not the end of the text");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		return parse_container(ps, JSON_OBJECT);
	case '[':
		return parse_container(ps, JSON_ARRAY);
	case '"':
		if ((j = node(ps, JSON_STRING)) != NULL &&
		    (j->str = parse_string(ps, &j->len)) == NULL) {
			free(j);
			j = NULL;
		}
		return j;
	}
	if (literal(ps, "true") || literal(ps, "false")) {
		if ((j = node(ps, JSON_BOOL)) != NULL)
			j->boolean = ps->p[-2] == 'u';	/* tr"ue", fal"se" */
		return j;
	}
	if (literal(ps, "null"))
		return node(ps, JSON_NULL);
	return parse_number(ps);
}

struct json *
json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser	 ps = { text, text, text + len, err, errlen, 0 };
	struct json	*j;

	err[0] = '\0';
	if ((j = parse_value(&ps)) == NULL)
		return NULL;
	skip_space(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "the end of the text after the value");
		json_free(j);
		return NULL;
	}
	return j;
}

/* ---- reading the tree ------------------------------------------------ */

static void
json_free_contents(struct json *j)
{
	for (size_t i = 0; i < j->n; i++) {
		json_free_contents(&j->items[i]);
		if (j->keys != NULL)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	json_free_contents(j);
	free(j);
}

const struct json *
json_get(const struct json *j, const char *key)
{
	if (j == NULL || j->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->keys[i], key) == 0)
			return &j->items[i];
	return NULL;
}

const char *
json_string(const struct json *j, const char *key)
{
	const struct json	*v = json_get(j, key);

	return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

bool
json_u64(const struct json *j, const char *key, uint64_t *out)
{
	const struct json	*v = json_get(j, key);

	if (v == NULL || v->type != JSON_NUMBER || !v->is_u64)
		return false;
	*out = v->u64;
	return true;
}
