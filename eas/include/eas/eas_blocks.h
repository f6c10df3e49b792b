/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_blocks.h
 * @brief The building blocks of the easd core, for tools and for applications that need
 *        one of them on its own (the engine uses them internally; eas.h is the engine's API).
 *
 * - eas_http.h: non-blocking HTTP/1.1 client over a ::hal_io_t, the incremental framer, the
 *   EAS request line and query (plain and base64), status classification,
 * - eas_wbxml.h: streaming WBXML decoder and encoder with the EAS code pages,
 * - eas_base64.h: base64 in one piece or streamed,
 * - eas_autodiscover.h: e-mail address → EAS URL (POX over HTTPS; CONFIG_EAS_AUTODISCOVER,
 *   expat); an application uses it once, before it configures the engine,
 * - eas_cookie.h: the bounded HTTP cookie jar (Set-Cookie in, Cookie out, saved form),
 * - eas_arena.h: the bump allocator over caller memory.
 *
 * docs/integration.md ("Headers") lists which header belongs to which group.
 */
#ifndef EAS_BLOCKS_H
#define EAS_BLOCKS_H

#include "eas/eas_arena.h"
#include "eas/eas_autodiscover.h"
#include "eas/eas_base64.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "eas/eas_wbxml.h"

#endif /* EAS_BLOCKS_H */
