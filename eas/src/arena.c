/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "eas/eas_arena.h"

void eas_arena_init(eas_arena_t *arena, void *mem, size_t size)
{
    arena->base = (uint8_t *)mem;
    arena->size = (mem != NULL) ? size : 0u;
    arena->used = 0u;
    arena->peak = 0u;
}

void *eas_arena_alloc(eas_arena_t *arena, size_t size, size_t align)
{
    void *p = NULL;
    size_t start;

    if ((align == 0u) || (align > 16u) || ((align & (align - 1u)) != 0u)) {
        align = 16u;
    }
    /* Align the address, not the offset: the caller's buffer need not be aligned. */
    start = arena->used;
    {
        uintptr_t addr = (uintptr_t)(arena->base + start);
        size_t pad = (size_t)((align - (addr & (align - 1u))) & (align - 1u));
        start += pad;
    }
    if ((start <= arena->size) && (size <= arena->size - start)) {
        p = arena->base + start;
        arena->used = start + size;
        if (arena->used > arena->peak) {
            arena->peak = arena->used;
        }
        memset(p, 0, size);
    }
    return p;
}

size_t eas_arena_mark(const eas_arena_t *arena)
{
    return arena->used;
}

void eas_arena_release(eas_arena_t *arena, size_t mark)
{
    if (mark <= arena->used) {
        arena->used = mark;
    }
}

void eas_arena_reset(eas_arena_t *arena)
{
    arena->used = 0u;
}
