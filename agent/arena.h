/*
 * A bump allocator for data that lives and dies together (one snapshot's
 * tree, one decoded request). Allocation never fails: out of memory
 * aborts, as the agent cannot serve half a snapshot.
 */
#ifndef SECSTAT_AGENT_ARENA_H
#define SECSTAT_AGENT_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t total; /* bytes handed out, for memory reports */
};

#define ARENA_INIT                                                             \
	{                                                                      \
		NULL, 0                                                        \
	}

/* Zeroed memory aligned for any type, valid until arena_release(). */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
/* Grows an array allocated from the arena; copies the old elements. */
void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n,
                 size_t elem_size);
void arena_release(struct arena *a);

#endif /* SECSTAT_AGENT_ARENA_H */
