/* SPDX-License-Identifier: Apache-2.0 */
#include "eas/eas_err.h"

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
