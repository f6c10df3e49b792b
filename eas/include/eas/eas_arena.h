/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_arena.h
 * @brief The caller-supplied arena: a bump allocator the core resets per command.
 *
 * The core never calls malloc. Everything it needs beyond its fixed context structs comes
 * from one arena the application hands in; the peak use is recorded so a footprint report
 * can tell how large the arena must be for a workload.
 */
#ifndef EAS_ARENA_H
#define EAS_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Arena state; the caller owns the struct and the memory it points to. */
typedef struct eas_arena {
    uint8_t *base;
    size_t size;
    size_t used;
    size_t peak; /**< highest `used` seen since init */
} eas_arena_t;

/** @brief Use @p size bytes at @p mem as an arena. */
void eas_arena_init(eas_arena_t *arena, void *mem, size_t size);

/**
 * @brief Take @p size bytes aligned to @p align (a power of two, at most 16).
 * @return the memory (zeroed), or NULL when the arena is exhausted — callers turn that into
 *         EAS_ERR_NOMEM.
 */
void *eas_arena_alloc(eas_arena_t *arena, size_t size, size_t align);

/** @brief A position to return to with eas_arena_release(). */
size_t eas_arena_mark(const eas_arena_t *arena);

/** @brief Free everything taken after @p mark. */
void eas_arena_release(eas_arena_t *arena, size_t mark);

/** @brief Free everything (peak is kept). */
void eas_arena_reset(eas_arena_t *arena);

#ifdef __cplusplus
}
#endif

#endif /* EAS_ARENA_H */
