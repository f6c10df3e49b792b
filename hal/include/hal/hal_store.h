/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal_store.h
 * @brief Persistent key/record store with atomic commit of one record.
 *
 * The engine keeps everything it must not lose (policy key, sync keys, folder list, server
 * URL, outbox entries, learned Ping parameters) as records in this store.
 *
 * ## Contract
 * - A key is 1..HAL_STORE_KEY_MAX bytes of [A-Za-z0-9._-]; anything else gives
 *   EAS_ERR_STORE_KEY. Keys are flat; callers namespace them ("acct0.folders").
 * - put() is atomic and durable: when it returns EAS_OK the new record survives
 *   power loss; if power fails during the call, a later get returns either the complete
 *   old record or the complete new one, never a mix, never a truncated record.
 * - get() returns exactly the bytes last committed.
 * - del() is atomic; deleting a missing key is EAS_OK.
 * - All calls may block for storage I/O (flash erase, fsync) but never on the network.
 *   They are not reentrant; the core calls them from eas_step() and the engine API only.
 */
#ifndef HAL_STORE_H
#define HAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest key, in bytes, without the terminating NUL. */
#define HAL_STORE_KEY_MAX 48

/**
 * A store: three functions and the port's context, handed to the core at init (see
 * ::hal_sys_t). Each account (engine) may have its own; the core never calls a store by a
 * link-time name.
 */
typedef struct hal_store {
    /**
     * @brief Atomically replace (or create) the record @p key with @p len bytes of @p data.
     * @return EAS_OK; EAS_ERR_STORE_KEY; EAS_ERR_STORE_FULL; EAS_ERR_STORE (I/O). On any
     *         error the previous record, if any, is unchanged.
     */
    int (*put)(void *ctx, const char *key, const uint8_t *data, size_t len);
    /**
     * @brief Read the record @p key.
     * @param[out] buf  destination, @p cap bytes.
     * @param[out] len  the record's full length (also when it does not fit).
     * @return EAS_OK; EAS_ERR_STORE_NOT_FOUND; EAS_ERR_NOMEM when the record is longer than
     *         @p cap (nothing useful in @p buf, @p len says how much is needed);
     *         EAS_ERR_STORE_KEY; EAS_ERR_STORE (I/O).
     */
    int (*get)(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len);
    /**
     * @brief Atomically remove the record @p key.
     * @return EAS_OK (also when it did not exist); EAS_ERR_STORE_KEY; EAS_ERR_STORE.
     */
    int (*del)(void *ctx, const char *key);
    /** The port's store state (e.g. its directory or flash partition); opaque to the core. */
    void *ctx;
} hal_store_t;

#ifdef __cplusplus
}
#endif

#endif /* HAL_STORE_H */
