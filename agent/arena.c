/* Bump allocator: chunks of at least ARENA_CHUNK bytes, freed together. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 16384

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

static size_t
align_up(size_t n)
{
	const size_t a = alignof(max_align_t);

	return (n + a - 1) & ~(a - 1);
}

void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	void *p;

	size = align_up(size ? size : 1);
	if (c == NULL || c->size - c->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL) {
			fputs("secstatd: out of memory\n", stderr);
			abort();
		}
		c->next = a->head;
		c->used = 0;
		c->size = cap;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += size;
	a->total += size;
	memset(p, 0, size);
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	memcpy(p, s, n);
	return p;
}

void *
arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n,
           size_t elem_size)
{
	void *p = arena_alloc(a, new_n * elem_size);

	if (old != NULL && old_n > 0) {
		memcpy(p, old, old_n * elem_size);
	}
	return p;
}

void
arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c != NULL) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}
