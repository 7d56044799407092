/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny JSON parser for the tests that check a tool's --json output: a
 * tree of nodes in a fixed pool; numbers are read as unsigned integers.
 */
#ifndef HVX_SELFTEST_JSON_H
#define HVX_SELFTEST_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype type;
	const char *key;	/* in an object: the member name (not terminated) */
	size_t key_len;
	const char *str;	/* J_STR: the contents, J_NUM: the text */
	size_t str_len;
	int child, next;	/* first child, next sibling: -1 for none */
};

#define JSON_MAX_NODES	4096

struct json {
	const char *p;
	struct jnode node[JSON_MAX_NODES];
	int nr;
	bool bad;
};

/* Parses text (kept, not copied): the root node, or -1 if it is not one JSON value. */
int json_parse(struct json *j, const char *text);
/* Member key of object n, or -1 (also for n < 0). */
int j_get(const struct json *j, int n, const char *key);
/* Element i of array n, or -1. */
int j_at(const struct json *j, int n, int i);
/* Unsigned integer value of node n, or ~0ULL if it is none. */
unsigned long long j_uint(const struct json *j, int n);
/* True if node n is the string s (no escapes in it). */
bool j_streq(const struct json *j, int n, const char *s);
/* An element of array arr whose member "id" is id, or -1. */
int j_find_id(const struct json *j, int arr, unsigned int id);

#endif /* HVX_SELFTEST_JSON_H */
