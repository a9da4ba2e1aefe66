/*
 * json.h: the small JSON reader of memwalk(1) (json.c), for the
 * snapshots `memwalk diff` compares.
 */
#ifndef MEMWALK_JSON_H
#define MEMWALK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
};

struct json {
	enum json_type	 type;
	bool		 boolean;
	double		 number;
	uint64_t	 u64;		/* exact, when is_u64 */
	bool		 is_u64;	/* a non-negative integer below 2^64 */
	char		*str;		/* NUL-terminated; len bytes */
	size_t		 len;
	size_t		 n;		/* elements or members */
	struct json	*items;		/* their values */
	char		**keys;		/* an object's member names */
};

/* The tree of text[0 .. len), or NULL with err saying where and why. */
struct json	*json_parse(const char *text, size_t len, char *err,
		    size_t errlen);
void		 json_free(struct json *j);

/* A member of an object (NULL: none, or j no object), typed. */
const struct json *json_get(const struct json *j, const char *key);
const char	*json_string(const struct json *j, const char *key);
bool		 json_u64(const struct json *j, const char *key,
		    uint64_t *out);

#endif
