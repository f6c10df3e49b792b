/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas.h
 * @brief The application API of the easd core: include this to put an account on a device.
 *
 * What an application calls and receives:
 * - eas_engine.h: the account engine (eas_engine_init(), eas_step(), events, local changes,
 *   eas_fetch(), eas_mail_send()),
 * - eas_err.h: error codes and eas_strerror(),
 * - eas_cal.h: parsed calendar items and recurrence expansion (what ::EAS_EV_ITEM_END
 *   carries with the calendar collector),
 * - eas_wbxml_tags.h: the tag constants that name an item's fields (EAS_EMAIL_SUBJECT ...),
 * - eas_arena.h: the scratch memory the application lends the engine,
 * - eas_config_defaults.h: the build configuration (CONFIG_EAS_* sizes for your buffers).
 *
 * The building blocks the engine is made of (HTTP client, WBXML codec, base64, Autodiscover)
 * are public too but are not needed to use the engine: eas_blocks.h. docs/integration.md
 * is the guide; examples/quickstart/quickstart.c the smallest complete program.
 */
#ifndef EAS_H
#define EAS_H

#include "eas/eas_arena.h"
#include "eas/eas_cal.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_engine.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml_tags.h"

#endif /* EAS_H */
