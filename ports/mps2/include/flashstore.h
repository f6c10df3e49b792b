/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file flashstore.h
 * @brief A power-loss safe key/record store on NOR-like flash (erase to 0xFF, program clears
 *        bits), implementing the hal_store.h contract for boards without a file system.
 *
 * ## Layout
 * The region is split into equal sectors. A sector in use starts with a header (magic,
 * sector sequence number and its complement); records are appended behind it:
 *
 *     header   magic 0xEA5D | key length | flags (tombstone) | data length | record seq | CRC-32
 *     key      padded to 4 bytes
 *     data     padded to 4 bytes
 *     commit   0x600DF00D, written last
 *
 * A record counts only when its commit word is exactly the marker and its CRC (over the
 * header fields, key and data) matches; the newest counting record of a key (highest record
 * seq) is its value, a tombstone deletes it. Power loss at any point of a put therefore
 * leaves either the old record (new one uncommitted or torn) or the new one (committed).
 *
 * When the open sector is full the next sector is opened; one sector is always kept erased
 * so that the oldest sector can be compacted: its live records are copied (keeping their
 * seq, so a half-done copy is harmless) and only then is it erased. Mounting repairs what a
 * cut left behind (half-erased or half-opened sectors are erased again; a compaction cut
 * before its victim was erased is undone by erasing its half-filled target).
 *
 * The host test tests/qemu/test_flashstore.c cuts the power after every single byte
 * written or erased and checks old-or-new for the key being written and no change for
 * every other key.
 */
#ifndef FLASHSTORE_H
#define FLASHSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most sectors a store can manage. */
#define FS_MAX_SECTORS 16

/** The flash device: byte offsets from the start of the region. */
typedef struct fs_flash {
    /** Read @p len bytes. @return 0 or negative. */
    int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
    /** Program @p len bytes (offset and length multiples of 4; bits only go 1 -> 0). */
    int (*prog)(void *ctx, uint32_t off, const void *buf, size_t len);
    /** Erase sector @p sector to 0xFF. */
    int (*erase)(void *ctx, uint32_t sector);
    void *ctx;
    uint32_t sector_size;  /**< bytes, multiple of 4, at least 64 */
    uint32_t sector_count; /**< 2..FS_MAX_SECTORS */
} fs_flash_t;

/** Mounted store state (RAM only; everything durable is in flash). */
typedef struct fs {
    fs_flash_t flash;
    uint32_t next_seq;      /**< record seq for the next write */
    uint32_t next_sect_seq; /**< sector seq for the next opened sector */
    int32_t current;        /**< sector records are appended to, -1 = none */
    uint32_t append;        /**< offset within current where the next record goes */
    struct {
        uint32_t seq;
        uint8_t state; /**< FS_SECT_* */
    } sect[FS_MAX_SECTORS];
} fs_t;

#define FS_SECT_FREE 0  /**< erased, available */
#define FS_SECT_USED 1  /**< valid header, holds records */
#define FS_SECT_DIRTY 2 /**< neither: must be erased before use */

/** @brief Scan the flash and repair what an interrupted operation left. @return EAS_OK or
 *         EAS_ERR_STORE (I/O) / EAS_ERR_PARAM (geometry). */
int fs_mount(fs_t *fs, const fs_flash_t *flash);

/** @brief hal_store_t::put semantics (hal_store.h). */
int fs_put(fs_t *fs, const char *key, const uint8_t *data, size_t len);

/** @brief hal_store_t::get semantics (hal_store.h). */
int fs_get(fs_t *fs, const char *key, uint8_t *buf, size_t cap, size_t *len);

/** @brief hal_store_t::del semantics (hal_store.h). */
int fs_del(fs_t *fs, const char *key);

/** @brief Bytes of flash holding records (live or not) and the region size, for reports. */
uint32_t fs_used_bytes(const fs_t *fs);

#ifdef __cplusplus
}
#endif

#endif /* FLASHSTORE_H */
