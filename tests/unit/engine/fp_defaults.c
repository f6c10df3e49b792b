/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled with EAS_CONFIG_USE_DEFAULTS and without the build's configuration: what a caller
   sees that took the documented defaults instead of the library's configuration. */
#include "fp_defaults.h"

#include "eas/eas_config_defaults.h"

uint32_t fp_defaults(void)
{
    return EAS_CONFIG_FINGERPRINT;
}

uint32_t fp_defaults_max_folders(void)
{
    return CONFIG_EAS_MAX_FOLDERS;
}
