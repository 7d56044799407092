// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny JSON parser for the selftests (see json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void j_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool j_string(struct json *j, const char **s, size_t *len)
{
	if (*j->p != '"')
		return false;
	*s = ++j->p;
	while (*j->p && *j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return false;
		if (*j->p == '\\' && !*++j->p)
			return false;
		j->p++;
	}
	if (*j->p != '"')
		return false;
	*len = j->p++ - *s;
	return true;
}

static int j_value(struct json *j);

static int j_new(struct json *j, enum jtype type)
{
	if (j->nr >= JSON_MAX_NODES) {
		j->bad = true;
		return -1;
	}
	memset(&j->node[j->nr], 0, sizeof(j->node[0]));
	j->node[j->nr].type = type;
	j->node[j->nr].child = j->node[j->nr].next = -1;
	return j->nr++;
}

static int j_container(struct json *j, bool obj)
{
	int n = j_new(j, obj ? J_OBJ : J_ARR), last = -1, c;
	const char *key = NULL;
	size_t key_len = 0;

	if (n < 0)
		return -1;
	j->p++;
	j_ws(j);
	if (*j->p == (obj ? '}' : ']')) {
		j->p++;
		return n;
	}
	for (;;) {
		j_ws(j);
		if (obj) {
			if (!j_string(j, &key, &key_len))
				return -1;
			j_ws(j);
			if (*j->p++ != ':')
				return -1;
		}
		c = j_value(j);
		if (c < 0)
			return -1;
		j->node[c].key = key;
		j->node[c].key_len = key_len;
		if (last < 0)
			j->node[n].child = c;
		else
			j->node[last].next = c;
		last = c;
		j_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != (obj ? '}' : ']'))
			return -1;
		return n;
	}
}

static int j_value(struct json *j)
{
	const char *s = j->p;
	int n;

	j_ws(j);
	if (*j->p == '{' || *j->p == '[')
		return j_container(j, *j->p == '{');
	if (*j->p == '"') {
		n = j_new(j, J_STR);
		if (n < 0 || !j_string(j, &j->node[n].str, &j->node[n].str_len))
			return -1;
		return n;
	}
	if (!strncmp(j->p, "null", 4) || !strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		n = j_new(j, *j->p == 'n' ? J_NULL : J_BOOL);
		j->p += *j->p == 'f' ? 5 : 4;
		return n;
	}
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
		char *end;

		s = j->p;
		strtod(s, &end);
		if (end == s)
			return -1;
		n = j_new(j, J_NUM);
		if (n < 0)
			return -1;
		j->node[n].str = s;
		j->node[n].str_len = end - s;
		j->p = end;
		return n;
	}
	return -1;
}

/* Parses text: the root node, or -1 if it is not one JSON value. */
int json_parse(struct json *j, const char *text)
{
	int root;

	memset(j, 0, sizeof(*j));
	j->p = text;
	root = j_value(j);
	if (root < 0 || j->bad)
		return -1;
	j_ws(j);
	return *j->p ? -1 : root;
}

/* Member key of object n, or -1. */
int j_get(const struct json *j, int n, const char *key)
{
	int c;

	if (n < 0 || j->node[n].type != J_OBJ)
		return -1;
	for (c = j->node[n].child; c >= 0; c = j->node[c].next)
		if (j->node[c].key_len == strlen(key) && !memcmp(j->node[c].key, key, strlen(key)))
			return c;
	return -1;
}

/* Element i of array n, or -1. */
int j_at(const struct json *j, int n, int i)
{
	int c;

	if (n < 0 || j->node[n].type != J_ARR)
		return -1;
	for (c = j->node[n].child; c >= 0 && i; c = j->node[c].next)
		i--;
	return c;
}

/* Unsigned integer value of node n, or ~0ULL if it is none. */
unsigned long long j_uint(const struct json *j, int n)
{
	char buf[32], *end;
	unsigned long long v;

	if (n < 0 || j->node[n].type != J_NUM || j->node[n].str_len >= sizeof(buf))
		return ~0ULL;
	memcpy(buf, j->node[n].str, j->node[n].str_len);
	buf[j->node[n].str_len] = 0;
	v = strtoull(buf, &end, 10);
	return *end || buf[0] == '-' ? ~0ULL : v;
}

bool j_streq(const struct json *j, int n, const char *s)
{
	return n >= 0 && j->node[n].type == J_STR && j->node[n].str_len == strlen(s) &&
	       !memcmp(j->node[n].str, s, j->node[n].str_len);
}

/* An array element whose member "id" is id, or -1. */
int j_find_id(const struct json *j, int arr, unsigned int id)
{
	int c;

	for (c = arr >= 0 ? j->node[arr].child : -1; c >= 0; c = j->node[c].next)
		if (j_uint(j, j_get(j, c, "id")) == id)
			return c;
	return -1;
}
