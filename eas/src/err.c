/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Texts and names of the error codes. On a small target they are the largest thing the core
 * carries that no protocol step needs (about 5.8 KB together on Cortex-M), so
 * CONFIG_EAS_ERR_MESSAGES (texts) and CONFIG_EAS_ERR_NAMES (enum names, which tools print in
 * machine-readable output) can leave them out; the codes themselves never change.
 *
 * Each set of strings is one array of its own, not string literals: the linker keeps or drops
 * an array as a whole (-fdata-sections), whereas literals of both functions would share one
 * merged string section and an image that only calls eas_strerror() would still carry every
 * name. The codes are sparse and negative, so a switch would compile to a jump table of a
 * pointer per value in the range (0 to -212); the list of codes is 2 bytes per code instead.
 */
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"

#if CONFIG_EAS_ERR_MESSAGES || CONFIG_EAS_ERR_NAMES

#define EAS_ERR_CODE_(name, value, str) (value),
static const int16_t k_codes[] = {EAS_ERR_LIST(EAS_ERR_CODE_)};
#undef EAS_ERR_CODE_
#define EAS_ERR_RANGE_(name, value, str)                                                           \
    _Static_assert((value) <= 0 && (value) >= INT16_MIN, #name " does not fit k_codes");
EAS_ERR_LIST(EAS_ERR_RANGE_)
#undef EAS_ERR_RANGE_

/* The @p i-th of the NUL-separated strings in @p blob, or @p none when no code matches. */
static const char *nth(const char *blob, int err, const char *none)
{
    for (size_t i = 0; i < sizeof(k_codes) / sizeof(k_codes[0]); i++) {
        if (k_codes[i] == err) {
            return blob;
        }
        while (*blob++ != '\0') {
        }
    }
    return none;
}

#endif

#if CONFIG_EAS_ERR_MESSAGES

#define EAS_ERR_TEXT_(name, value, str) str "\0"
static const char k_texts[] = EAS_ERR_LIST(EAS_ERR_TEXT_);
#undef EAS_ERR_TEXT_

const char *eas_strerror(int err)
{
    return nth(k_texts, err, "unknown error");
}

#else /* !CONFIG_EAS_ERR_MESSAGES */

/* Codes only: whoever shows an error prints its number (eas_err.h lists them). */
const char *eas_strerror(int err)
{
    return err == EAS_OK ? "success" : "error";
}

#endif /* CONFIG_EAS_ERR_MESSAGES */

#if CONFIG_EAS_ERR_NAMES

#define EAS_ERR_NAME_(name, value, str) #name "\0"
static const char k_names[] = EAS_ERR_LIST(EAS_ERR_NAME_);
#undef EAS_ERR_NAME_

const char *eas_err_name(int err)
{
    return nth(k_names, err, "EAS_ERR_UNKNOWN");
}

#else /* !CONFIG_EAS_ERR_NAMES */

const char *eas_err_name(int err)
{
    return err == EAS_OK ? "EAS_OK" : "EAS_ERR";
}

#endif /* CONFIG_EAS_ERR_NAMES */
