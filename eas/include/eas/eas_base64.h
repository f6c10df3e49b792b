/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_base64.h
 * @brief Base64 (RFC 4648, standard alphabet, padded) for the core.
 *
 * Used for HTTP Basic credentials, the base64 query form (MS-ASHTTP), the calendar
 * TimeZone blob and binary elements rendered as text. No allocation: the caller owns
 * every buffer. Input is untrusted: every malformed byte is reported, never assumed.
 *
 * Decoding skips ASCII whitespace (SP, HT, CR, LF) so that wrapped text from XML works;
 * anything else outside the alphabet, a misplaced '=' or a truncated quantum is
 * ::EAS_ERR_FORMAT. Unpadded input is accepted only at the very end of the data.
 *
 * @code
 * uint8_t blob[172]; size_t n;
 * int err = eas_base64_decode(text, text_len, blob, sizeof blob, &n);
 * @endcode
 */
#ifndef EAS_BASE64_H
#define EAS_BASE64_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Characters needed to encode @p n bytes (padded, without a terminating NUL). */
#define EAS_BASE64_ENCODED_LEN(n) ((((n) + 2u) / 3u) * 4u)
/** Upper bound of the bytes decoded from @p n characters. */
#define EAS_BASE64_DECODED_MAX(n) ((((n) + 3u) / 4u) * 3u)

/**
 * @brief Encode @p len bytes into @p out as NUL-terminated text.
 * @param[out] out_len characters written, without the NUL (may be NULL).
 * @return EAS_OK, EAS_ERR_PARAM, or EAS_ERR_NOMEM when @p cap is smaller than
 *         EAS_BASE64_ENCODED_LEN(len) + 1 (nothing useful is written then).
 */
int eas_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len);

/**
 * @brief Decode @p len characters into @p out.
 * @param[out] out_len bytes written (may be NULL).
 * @return EAS_OK, EAS_ERR_PARAM, EAS_ERR_FORMAT (not valid base64) or EAS_ERR_NOMEM
 *         (output larger than @p cap).
 */
int eas_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/** Incremental decoder state (text arriving in pieces). Treat as opaque. */
typedef struct eas_base64_dec {
    uint32_t acc;   /**< bits of the current quantum */
    uint8_t nchars; /**< characters in the current quantum (0..3) */
    uint8_t npad;   /**< '=' seen; only padding may follow */
    uint8_t done;   /**< a padded quantum ended the data */
    int err;        /**< sticky error */
} eas_base64_dec_t;

/** @brief Start an incremental decode. */
void eas_base64_dec_init(eas_base64_dec_t *dec);

/**
 * @brief Decode the next piece of text, appending to @p out (capacity @p cap, of which
 *        *@p out_len bytes are already used; updated).
 * @return EAS_OK, EAS_ERR_FORMAT or EAS_ERR_NOMEM (sticky).
 */
int eas_base64_dec_feed(eas_base64_dec_t *dec, const char *in, size_t len, uint8_t *out,
                        size_t cap, size_t *out_len);

/**
 * @brief Declare the end of the text: flushes an unpadded final quantum.
 * @return EAS_OK, or EAS_ERR_FORMAT for a dangling single character / a padding error.
 */
int eas_base64_dec_finish(eas_base64_dec_t *dec, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* EAS_BASE64_H */
