/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Texts and names of the error codes. On a small target they are the largest thing the core
 * carries that no protocol step needs (about 5.8 KB together on Cortex-M), so
 * CONFIG_EAS_ERR_MESSAGES (texts) and CONFIG_EAS_ERR_NAMES (enum names, which tools print in
 * machine-readable output) can leave them out; the codes themselves never change.
 */
#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"

#if CONFIG_EAS_ERR_MESSAGES

/* A switch rather than a table indexed by value: codes are sparse and negative. */
const char *eas_strerror(int err)
{
    const char *text = "unknown error";

    switch (err) {
#define EAS_ERR_TEXT_CASE_(name, value, str)                                                       \
    case (value):                                                                                  \
        text = (str);                                                                              \
        break;
        EAS_ERR_LIST(EAS_ERR_TEXT_CASE_)
#undef EAS_ERR_TEXT_CASE_
    default:
        break;
    }
    return text;
}

#else /* !CONFIG_EAS_ERR_MESSAGES */

/* Codes only: whoever shows an error prints its number (eas_err.h lists them). */
const char *eas_strerror(int err)
{
    return err == EAS_OK ? "success" : "error";
}

#endif /* CONFIG_EAS_ERR_MESSAGES */

#if CONFIG_EAS_ERR_NAMES

const char *eas_err_name(int err)
{
    const char *name = "EAS_ERR_UNKNOWN";

    switch (err) {
#define EAS_ERR_NAME_CASE_(name_, value, str)                                                      \
    case (value):                                                                                  \
        name = #name_;                                                                             \
        break;
        EAS_ERR_LIST(EAS_ERR_NAME_CASE_)
#undef EAS_ERR_NAME_CASE_
    default:
        break;
    }
    return name;
}

#else /* !CONFIG_EAS_ERR_NAMES */

const char *eas_err_name(int err)
{
    return err == EAS_OK ? "EAS_OK" : "EAS_ERR";
}

#endif /* CONFIG_EAS_ERR_NAMES */
