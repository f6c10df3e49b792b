/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal_rng.h
 * @brief Random bytes for back-off jitter, request ids and TLS seeding.
 */
#ifndef HAL_RNG_H
#define HAL_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The random source, handed to the core at init (see ::hal_sys_t). */
typedef struct hal_rng {
    /**
     * @brief Fill @p buf with @p len bytes from a cryptographically secure source.
     *
     * May block briefly until the source is seeded (Linux getrandom at early boot); never
     * blocks on the network.
     * @return EAS_OK, or a negative ::eas_err_t when no secure randomness is available (the
     *         buffer content is then undefined and must not be used).
     */
    int (*fill)(void *ctx, uint8_t *buf, size_t len);
    /** The port's context; opaque to the core. */
    void *ctx;
} hal_rng_t;

#ifdef __cplusplus
}
#endif

#endif /* HAL_RNG_H */
