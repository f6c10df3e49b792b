/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the adaptive Ping heartbeat. A pure state machine (no I/O, no allocation, no
 * static data): the engine tells it what happened to each Ping and asks it for the next
 * HeartbeatInterval; the store keeps its learned values across restarts.
 *
 * How the interval moves:
 * - It starts at a conservative value and doubles after each heartbeat that expired cleanly
 *   (Ping Status 1 after the whole interval), up to the cap: the smallest of the protocol's
 *   3540 s, the server's maximum (learned from Ping Status 5; a Sync Status 14 Limit would
 *   count the same, but the engine never long-polls with Sync, docs/push.md) and the
 *   configured NAT/firewall ceiling.
 * - A connection that dies while the Ping waits ("dropped") records the shortest interval
 *   that failed (bad_s) and falls back to the longest one that survived (good_s). Later
 *   probes bisect between the two and stop once they are less than EAS_HB_RESOLUTION_S
 *   apart: the interval then stays just below what the network drops, never oscillating
 *   past it.
 * - A drop at or below the proven interval is taken as a transient failure; only
 *   EAS_HB_DROPS_FORGET of them in a row make the learned value be forgotten (the network
 *   changed) and the interval is halved.
 * - The server's own bound (Status 5) is adopted in both directions: asked too long, its
 *   HeartbeatInterval is the maximum; asked too short, it is the minimum.
 */
#ifndef EAS_HEARTBEAT_H
#define EAS_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eas_state_ns; /* eas_state.h: where the record lives */

/** The protocol's longest Ping heartbeat (MS-ASCMD: 3540 s). */
#define EAS_HB_PROTO_MAX_S 3540u
/** Lowest heartbeat used unless the server's maximum is lower (MS-ASCMD minimum: 60 s). */
#define EAS_HB_PROTO_MIN_S 60u
/** Bisection stops when the surviving and the dropped interval are this close. */
#define EAS_HB_RESOLUTION_S 30u
/** Consecutive drops at or below the proven interval before it is forgotten. */
#define EAS_HB_DROPS_FORGET 3u
/** Length of the persisted form (eas_hb_encode()). */
#define EAS_HB_REC_LEN 21u

/** Heartbeat state. All values in seconds; 0 means "not known". */
typedef struct eas_hb {
    uint32_t interval_s; /* HeartbeatInterval of the next Ping */
    uint32_t good_s;     /* longest interval a Ping survived */
    uint32_t bad_s;      /* shortest interval at which the connection was dropped */
    uint32_t srv_min_s;  /* server's minimum (Status 5 / Sync Limit) */
    uint32_t srv_max_s;  /* server's maximum */
    uint32_t ceiling_s;  /* configured NAT/firewall ceiling (configuration, not persisted) */
    uint8_t drops;       /* consecutive drops at or below good_s */
} eas_hb_t;

/**
 * Start fresh at @p start_s (clamped into the allowed range). @p ceiling_s: the NAT/firewall
 * ceiling, 0 = none besides the protocol's maximum.
 */
void eas_hb_init(eas_hb_t *hb, uint32_t start_s, uint32_t ceiling_s);

/** Change the configured ceiling (0 = none); the interval is clamped at once. */
void eas_hb_set_ceiling(eas_hb_t *hb, uint32_t ceiling_s);

/** HeartbeatInterval for the next Ping. */
uint32_t eas_hb_interval(const eas_hb_t *hb);

/** Lowest and highest interval currently allowed (server bounds, ceiling, protocol). */
uint32_t eas_hb_floor(const eas_hb_t *hb);
uint32_t eas_hb_cap(const eas_hb_t *hb);

/** True when the interval has survived and will not move any more without new evidence
    (the cap is reached, or the bisection between good_s and bad_s is finished). */
bool eas_hb_settled(const eas_hb_t *hb);

/**
 * A Ping of @p interval_s expired cleanly (Status 1 after the whole interval): it survived,
 * so the interval grows.
 * @return true when persisted values changed (save the record).
 */
bool eas_hb_expired(eas_hb_t *hb, uint32_t interval_s);

/**
 * A Ping ended early with changes (Status 2) after the connection had been idle
 * @p survived_s seconds: evidence that this long survives, no growth.
 * @return true when persisted values changed.
 */
bool eas_hb_alive(eas_hb_t *hb, uint32_t survived_s);

/**
 * The connection of a Ping of @p interval_s died (reset, closed or no answer) @p elapsed_s
 * seconds after the request went out. A drop at an interval above the proven one records
 * it as too long and falls back; one at or below it counts as transient (see above).
 * Drops before EAS_HB_PROTO_MIN_S say nothing about idle timeouts and are ignored.
 * @return true when persisted values changed.
 */
bool eas_hb_dropped(eas_hb_t *hb, uint32_t interval_s, uint32_t elapsed_s);

/**
 * The server refused @p requested_s and named @p server_s (Ping Status 5 HeartbeatInterval,
 * or Sync Status 14 Limit): larger than requested → its minimum, smaller → its maximum.
 * @return true when the interval or a bound changed (false: the answer says nothing new,
 *         e.g. the same value as requested, or 0).
 */
bool eas_hb_server_bound(eas_hb_t *hb, uint32_t requested_s, uint32_t server_s);

/** Persisted form: EAS_HB_REC_LEN bytes into @p buf. @return bytes written, 0 if too small. */
size_t eas_hb_encode(const eas_hb_t *hb, uint8_t *buf, size_t cap);

/**
 * Restore from the persisted form (untrusted: any inconsistency is EAS_ERR_STORE_CORRUPT and
 * leaves @p hb unchanged). The ceiling already in @p hb is kept and applied.
 * @return EAS_OK or EAS_ERR_STORE_CORRUPT.
 */
int eas_hb_decode(eas_hb_t *hb, const uint8_t *buf, size_t len);

/* ---- the persisted record "<prefix>.hb" (heartbeat_store.c) ---- */

/** Save the learned values. @return EAS_OK or a store error. */
int eas_hb_save(const eas_hb_t *hb, const struct eas_state_ns *ns);
/**
 * Load them into @p hb (its ceiling is kept). EAS_ERR_STORE_NOT_FOUND when nothing was
 * learned yet; EAS_ERR_STORE_CORRUPT (and @p hb unchanged) for a bad record.
 */
int eas_hb_load(eas_hb_t *hb, const struct eas_state_ns *ns);
/** Remove the record (account wipe). */
int eas_hb_del(const struct eas_state_ns *ns);

#endif /* EAS_HEARTBEAT_H */
