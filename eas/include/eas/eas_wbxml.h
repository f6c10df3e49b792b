/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_wbxml.h
 * @brief Streaming WBXML decoder and encoder for the EAS code pages (MS-ASWBXML).
 *
 * Tags are named by one 16-bit value: code page in the high byte, token (without the
 * content/attribute flag bits) in the low byte, e.g. EAS_AIRSYNC_SYNC == 0x0005 and
 * EAS_CALENDAR_TIMEZONE == 0x0405. The constants are in eas_wbxml_tags.h.
 *
 * ## Decoder
 * Push-style and incremental: feed the document in chunks of any size (down to one byte);
 * the decoder calls back with events as soon as it can. Its state is a small fixed struct
 * (no allocation, nothing proportional to the document); text and opaque data are passed
 * through in pieces straight from the caller's chunk, never buffered in the decoder.
 *
 * @code
 * eas_wbxml_dec_t dec;
 * eas_wbxml_dec_init(&dec, on_event, &my_parser);
 * while (more_bytes) { err = eas_wbxml_dec_feed(&dec, chunk, n); if (err) break; }
 * if (!err) err = eas_wbxml_dec_finish(&dec);   // EAS_ERR_WBXML_TRUNCATED if incomplete
 * @endcode
 *
 * ## Encoder
 * Writes into a caller buffer and flushes through a callback when it is full, so a
 * request of any size needs only the buffer. Errors are sticky: chain calls and check the
 * result of eas_wbxml_enc_finish(). A flush callback that only counts bytes gives the
 * body length for Content-Length before the real pass.
 */
#ifndef EAS_WBXML_H
#define EAS_WBXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_wbxml_tags.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Builds a tag value from a code page and a token. */
#define EAS_TAG(page, token) ((uint16_t)(((uint16_t)(page) << 8) | ((uint16_t)(token)&0x3Fu)))
/** Code page of a tag value. */
#define EAS_TAG_PAGE(tag) ((uint8_t)((tag) >> 8))
/** Token of a tag value. */
#define EAS_TAG_TOKEN(tag) ((uint8_t)((tag)&0x3Fu))

/** Kinds of decoder events. */
typedef enum eas_wbxml_ev_type {
    EAS_WBXML_EV_START = 1, /**< start tag; `has_content` says whether END follows later */
    EAS_WBXML_EV_END,       /**< end tag of the innermost open element (also emitted right
                                 after a START without content, so consumers see pairs) */
    EAS_WBXML_EV_TEXT,      /**< a piece of character data (STR_I / STR_T / ENTITY) */
    EAS_WBXML_EV_OPAQUE     /**< a piece of OPAQUE data */
} eas_wbxml_ev_type_t;

/** Piece flags for TEXT and OPAQUE events. */
#define EAS_WBXML_PIECE_FIRST 0x01u /**< first piece of this string / opaque item */
#define EAS_WBXML_PIECE_LAST  0x02u /**< last piece of this string / opaque item */

/** One decoder event. Valid only during the callback. */
typedef struct eas_wbxml_event {
    eas_wbxml_ev_type_t type;
    /** START/END: the tag. TEXT/OPAQUE: the innermost open element's tag. */
    uint16_t tag;
    /** Depth of the element: 1 for the root. */
    uint16_t depth;
    /** START: the element has content (an END follows). */
    bool has_content;
    /** TEXT/OPAQUE: EAS_WBXML_PIECE_* flags. */
    uint8_t piece;
    /** TEXT/OPAQUE: the bytes of this piece (UTF-8 for TEXT). May be empty. */
    const uint8_t *data;
    size_t len;
    /** OPAQUE: total length of the item, known up front. TEXT: 0 (unknown). */
    uint32_t total_len;
} eas_wbxml_event_t;

/**
 * Event callback. Return EAS_OK to continue; any negative value stops decoding and is
 * returned by eas_wbxml_dec_feed() unchanged.
 */
typedef int (*eas_wbxml_cb_t)(void *user, const eas_wbxml_event_t *ev);

/** Hard cap of the decoder's element stack (CONFIG_EAS_WBXML_MAX_DEPTH is at most this). */
#define EAS_WBXML_STACK_MAX 64

/** Decoder state. Treat as opaque; its size is independent of the configuration. */
typedef struct eas_wbxml_dec {
    eas_wbxml_cb_t cb;
    void *user;
    uint8_t *strtbl;     /**< caller buffer for the string table (optional) */
    uint64_t offset;     /**< bytes consumed so far (error position) */
    uint32_t remaining;  /**< bytes left in the current length-prefixed item */
    uint32_t total;      /**< length of the current OPAQUE item / string table */
    uint32_t accum;      /**< mb_u_int being assembled */
    uint32_t max_string; /**< longest STR_I accepted */
    uint32_t max_opaque; /**< longest OPAQUE item accepted */
    uint32_t str_len;    /**< length of the STR_I being passed through */
    uint32_t strtbl_cap; /**< size of the caller's string table buffer */
    uint32_t strtbl_len; /**< string table length (stored only if it fit strtbl_cap) */
    uint16_t depth;
    uint16_t max_depth;
    uint8_t state;
    uint8_t page;
    uint8_t accum_bytes;
    uint8_t flags;
    int err; /**< sticky: once set, feed() returns it */
    /** Open-element tags for END events and validation. */
    uint16_t stack[EAS_WBXML_STACK_MAX];
} eas_wbxml_dec_t;

/**
 * @brief Initialise a decoder with the Kconfig limits (CONFIG_EAS_WBXML_MAX_DEPTH,
 *        CONFIG_EAS_WBXML_MAX_STRING).
 */
void eas_wbxml_dec_init(eas_wbxml_dec_t *dec, eas_wbxml_cb_t cb, void *user);

/**
 * @brief Tighten the limits of a freshly initialised decoder (tests, or a command that
 *        knows its responses are small). Values above the Kconfig limits, and 0, keep the
 *        Kconfig limit. Call before the first feed().
 */
void eas_wbxml_dec_set_limits(eas_wbxml_dec_t *dec, uint16_t max_depth, uint32_t max_string,
                              uint32_t max_opaque);

/**
 * @brief Lift the string and OPAQUE length limits (up to 4 GiB - 1 each) for a consumer
 *        that passes every piece on and keeps none of it, such as a converter that writes
 *        each piece to a file (eas-wbxml). The depth cap stays. Never for the engine, whose
 *        parsers keep bounded copies. Call before the first feed().
 */
void eas_wbxml_dec_lift_length_limits(eas_wbxml_dec_t *dec);

/**
 * @brief Give the decoder a buffer for the document's string table (needed only for STR_T,
 *        which EAS servers do not send). A table that does not fit is skipped, and every
 *        STR_T reference then fails with EAS_ERR_WBXML_STRTBL. Call before the first feed().
 *        The buffer must stay valid while decoding; TEXT events of STR_T point into it.
 */
void eas_wbxml_dec_set_strtbl(eas_wbxml_dec_t *dec, uint8_t *buf, uint32_t cap);

/**
 * @brief Feed the next @p len bytes of the document. All bytes are consumed unless an
 *        error is returned.
 * @return EAS_OK, a negative EAS_ERR_WBXML_* (malformed input; the offset says where), or
 *         the callback's error. After an error every later call returns the same error.
 */
int eas_wbxml_dec_feed(eas_wbxml_dec_t *dec, const uint8_t *data, size_t len);

/**
 * @brief Declare the end of input.
 * @return EAS_OK when a complete document was decoded, EAS_ERR_WBXML_TRUNCATED otherwise,
 *         or the sticky error.
 */
int eas_wbxml_dec_finish(eas_wbxml_dec_t *dec);

/** @brief Byte offset of the next byte to decode (after an error: of the offending byte). */
uint64_t eas_wbxml_dec_offset(const eas_wbxml_dec_t *dec);

/**
 * Flush callback of the encoder: consume @p len bytes. Return EAS_OK or a negative error
 * (which becomes the encoder's sticky error).
 */
typedef int (*eas_wbxml_flush_t)(void *user, const uint8_t *data, size_t len);

/** Encoder state. */
typedef struct eas_wbxml_enc {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint64_t total; /**< bytes produced so far, flushed or not */
    eas_wbxml_flush_t flush;
    void *user;
    int err;
    uint32_t opaque_left; /**< bytes still owed to an OPAQUE item begun in pieces */
    uint16_t depth;
    uint8_t page;
    uint8_t pending_start; /**< a START awaiting its content flag */
    uint16_t pending_tag;
} eas_wbxml_enc_t;

/**
 * @brief Initialise an encoder over @p buf (at least 16 bytes) and write the EAS header
 *        (version 1.3, public id unknown, UTF-8, empty string table: 03 01 6A 00).
 */
void eas_wbxml_enc_init(eas_wbxml_enc_t *enc, uint8_t *buf, size_t cap, eas_wbxml_flush_t flush,
                        void *user);

/** @brief Open element @p tag (content flag decided by what follows). */
int eas_wbxml_enc_start(eas_wbxml_enc_t *enc, uint16_t tag);

/** @brief Close the innermost open element (an element closed with no content is written
 *         as an empty tag without END). */
int eas_wbxml_enc_end(eas_wbxml_enc_t *enc);

/** @brief Write @p len bytes of UTF-8 text as STR_I. Must not contain NUL. Empty text
 *         writes nothing (EAS does not distinguish `<a></a>` from `<a/>`). */
int eas_wbxml_enc_text(eas_wbxml_enc_t *enc, const char *text, size_t len);

/** @brief Write @p len bytes as one OPAQUE item. */
int eas_wbxml_enc_opaque(eas_wbxml_enc_t *enc, const uint8_t *data, size_t len);

/**
 * @brief Begin an OPAQUE item of @p total_len bytes whose content follows in pieces via
 *        eas_wbxml_enc_opaque_piece() (streams large MIME bodies).
 */
int eas_wbxml_enc_opaque_begin(eas_wbxml_enc_t *enc, uint32_t total_len);
/** @brief Append a piece of the OPAQUE item begun with eas_wbxml_enc_opaque_begin(). */
int eas_wbxml_enc_opaque_piece(eas_wbxml_enc_t *enc, const uint8_t *data, size_t len);

/** @brief Convenience: `<tag>text</tag>` (NUL-terminated text). */
int eas_wbxml_enc_elem_text(eas_wbxml_enc_t *enc, uint16_t tag, const char *text);

/** @brief Convenience: `<tag/>`. */
int eas_wbxml_enc_elem_empty(eas_wbxml_enc_t *enc, uint16_t tag);

/** @brief Convenience: `<tag>decimal</tag>`. */
int eas_wbxml_enc_elem_uint(eas_wbxml_enc_t *enc, uint16_t tag, uint32_t value);

/**
 * @brief Flush everything buffered. Fails with EAS_ERR_STATE if elements are still open or
 *        no root element was written. Without a flush callback the whole document stays in
 *        the buffer (enc->buf, enc->len bytes) and EAS_ERR_NOMEM reports that it did not fit.
 * @return EAS_OK or the sticky error.
 */
int eas_wbxml_enc_finish(eas_wbxml_enc_t *enc);

/** @brief Bytes produced so far (header included), flushed or not. */
uint64_t eas_wbxml_enc_total(const eas_wbxml_enc_t *enc);

/**
 * @brief Name of a tag as MS-ASWBXML spells it ("Sync", "Timezone"), and its code page's
 *        namespace ("AirSync", "Calendar"). NULL when unknown or when CONFIG_EAS_WBXML_NAMES
 *        is off.
 */
const char *eas_wbxml_tag_name(uint16_t tag);
const char *eas_wbxml_page_name(uint8_t page);

/**
 * @brief Reverse lookups for tools: tag by page and name; page by namespace name.
 * @return EAS_OK, EAS_ERR_NOT_FOUND, or EAS_ERR_UNSUPPORTED without CONFIG_EAS_WBXML_NAMES.
 */
int eas_wbxml_tag_lookup(uint8_t page, const char *name, size_t name_len, uint16_t *tag);
int eas_wbxml_page_lookup(const char *ns, size_t ns_len, uint8_t *page);

/** @brief Whether @p tag is a known token of a known code page (always available). */
bool eas_wbxml_tag_known(uint16_t tag);

#ifdef __cplusplus
}
#endif

#endif /* EAS_WBXML_H */
