/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas.h
 * @brief Umbrella header of the easd core: include this to use the engine.
 *
 * The engine API is in eas_engine.h; docs/integration.md is the porting guide.
 */
#ifndef EAS_H
#define EAS_H

#include "eas/eas_arena.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_engine.h"
#include "eas/eas_err.h"

#endif /* EAS_H */
