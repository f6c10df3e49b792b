/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FP_DEFAULTS_H
#define FP_DEFAULTS_H

#include <stdint.h>

/** EAS_CONFIG_FINGERPRINT and CONFIG_EAS_MAX_FOLDERS of a unit built on the defaults. */
uint32_t fp_defaults(void);
uint32_t fp_defaults_max_folders(void);

#endif
