/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox: the queueing API (eas_item_*, eas_meeting_respond) and the queued
 * commands of their own, MeetingResponse and MoveItems. Add/Change/Delete travel inside Sync
 * (cmd_sync.c), mail in cmd_mail.c. Every entry is persisted before it is sent and marked
 * "may be on the server" before a byte leaves [S 1.13, 1.15].
 */
#include <stdio.h>
#include <string.h>

#include "eas/eas_base64.h"
#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

void eng_outbox_result(eas_engine_t *e, size_t slot, uint16_t status, const char *sid)
{
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_OUTBOX_RESULT};
    ev.u.outbox.kind = (eas_outbox_kind_t)p->ob.slots[slot].kind;
    ev.u.outbox.id = p->ob.slots[slot].seq;
    ev.u.outbox.status = status;
    ev.u.outbox.server_id = sid;
    ev.u.outbox.final = true;
    (void)eng_emit(e, &ev);
}

/* The oldest queued entry of @p kind that can go out (its slot in *slot); drops one that
   failed too often without an answer. A move needs its folder known; a mail does not. */
bool eng_outbox_next(eas_engine_t *e, uint8_t kind, int16_t *slot)
{
    eng_priv_t *p = P(e);
    for (;;) {
        long best = -1;
        for (size_t s = 0; s < p->ob.cap; s++) {
            const eas_outbox_slot_t *sl = &p->ob.slots[s];
            if (sl->seq && sl->kind == kind && (sl->folder != 0xFFFFu || kind == EAS_OUTBOX_SEND) &&
                (best < 0 || sl->seq < p->ob.slots[best].seq)) {
                best = (long)s;
            }
        }
        if (best < 0) {
            return false;
        }
        if (p->ob.slots[best].attempts < CONFIG_EAS_OUTBOX_MAX_ATTEMPTS) {
            *slot = (int16_t)best;
            return true;
        }
        eng_outbox_result(e, (size_t)best, EAS_STATUS_NONE, NULL);
        eng_report(e, EAS_ERR_PROTO, 0, "not answered; dropped", NULL);
        if (eas_outbox_remove(&p->ob, (size_t)best) != EAS_OK) {
            return false;
        }
    }
}

/* ---- MeetingResponse ---- */

/* MeetingResponse ResponseType a calendar item shows once the server applied our reply. */
static uint8_t reply_response_type(uint8_t reply)
{
    return reply == EAS_MEETING_ACCEPT      ? EAS_RESPONSE_TYPE_ACCEPTED
           : reply == EAS_MEETING_TENTATIVE ? EAS_RESPONSE_TYPE_TENTATIVE
           : reply == EAS_MEETING_DECLINE   ? EAS_RESPONSE_TYPE_DECLINED
                                            : EAS_RESPONSE_TYPE_NONE;
}

/* Persist "sent once more" for the entry in @p slot before a byte of it leaves, so a crash
   after the send is known at restart (MeetingResponse, MoveItems) and the give-up bound
   survives restarts (all of them). On a store failure the command backs off (@p what). */
int eng_outbox_mark_sent(eas_engine_t *e, int16_t slot, const char *what)
{
    eng_priv_t *p = P(e);
    int err = eas_outbox_set_attempts(&p->ob, (size_t)slot, e->mem.arena,
                                      (uint16_t)(p->ob.slots[slot].attempts + 1));
    if (err != EAS_OK) {
        eng_fail_backoff(e, err, 0, what, 0);
    }
    return err;
}

/* The server answered the command of the entry in @p slot with @p status (@p ok = its
   success): the application hears the result (@p sid: the ServerId it names), a failure is
   reported (@p rejected), the entry leaves the outbox and the next command runs. */
void eng_outbox_answered(eas_engine_t *e, size_t slot, uint16_t status, uint16_t ok,
                         const char *sid, const char *rejected)
{
    eng_priv_t *p = P(e);
    eng_outbox_result(e, slot, status, sid);
    if (status != ok) {
        eng_report(e, EAS_ERR_SERVER, status, rejected, NULL);
    }
    if (eas_outbox_remove(&p->ob, slot) != EAS_OK) {
        eng_fail_backoff(e, EAS_ERR_STORE, 0, "outbox", 0);
        return;
    }
    p->failures = 0;
    p->prov_attempts = 0;
    eng_next(e);
}

/* ---- the meeting's identity [S 1.15] ---- */

/* 64-bit FNV-1a over the UID with ASCII letters upper-cased (Exchange writes the hex form in
   capitals, other servers may not). Persisted in outbox records: never change it. */
#define UID_HASH_INIT UINT64_C(0xcbf29ce484222325)

static uint64_t uid_hash(uint64_t h, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i] >= 'a' && d[i] <= 'z' ? (uint8_t)(d[i] - 'a' + 'A') : d[i];
        h = (h ^ c) * UINT64_C(0x100000001b3);
    }
    return h;
}

/* A finished hash; 0 stays free for "unknown". */
static uint64_t uid_hash_final(uint64_t h)
{
    return h ? h : 1u;
}

/* The 16 bytes every MS-OXOCAL GlobalObjectId starts with. */
static const uint8_t k_goid_class[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00,
                                         0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08};
#define GOID_HDR     52u /* class id, instance date, creation time, reserved, size, "vCal-Uid" 1 */
#define MEETING_UID_MAX 2048u

/*
 * The identity of a meeting as the application names it - the invitation's
 * Email:MeetingRequest/GlobalObjId as received (base64 of a GlobalObjectId), or the calendar
 * item's UID itself - reduced to what servers put in the calendar item's Calendar:UID:
 * - the "vCal-Uid" form carries the iCalendar UID (Horde, SOGo, meetings from outside
 *   Exchange): that UID;
 * - the Outlook form: the whole id in hex with the instance date (bytes 16-19) zeroed
 *   (Exchange);
 * - a GlobalObjectId whose instance date is set names one occurrence: 0 (unknown), the
 *   series' calendar item cannot prove a reply to one occurrence.
 * Anything that is not a GlobalObjectId is taken as the UID.
 */
static int meeting_uid_hash(eas_engine_t *eng, const char *uid, uint64_t *out)
{
    size_t n = uid ? strlen(uid) : 0;
    *out = 0;
    if (n == 0) {
        return EAS_OK;
    }
    if (n > MEETING_UID_MAX) {
        return EAS_ERR_PARAM;
    }
    size_t mark = eas_arena_mark(eng->mem.arena);
    size_t cap = n / 4 * 3 + 3;
    uint8_t *g = eas_arena_alloc(eng->mem.arena, cap, 1);
    size_t len = 0;
    if (!g) {
        return EAS_ERR_NOMEM;
    }
    if (eas_base64_decode(uid, n, g, cap, &len) != EAS_OK || len < GOID_HDR - 12u ||
        memcmp(g, k_goid_class, sizeof(k_goid_class)) != 0) {
        *out = uid_hash_final(uid_hash(UID_HASH_INIT, (const uint8_t *)uid, n));
    } else if (g[16] | g[17] | g[18] | g[19]) {
        EAS_LOGI(&eng->sys.log, MOD, "meeting response names one occurrence: no delivery proof");
    } else if (len > GOID_HDR && memcmp(g + 40, "vCal-Uid\x01\x00\x00\x00", 12) == 0) {
        size_t end = len;
        while (end > GOID_HDR && (g[end - 1] == '\0' || g[end - 1] == ' ')) {
            end--;
        }
        *out = uid_hash_final(uid_hash(UID_HASH_INIT, g + GOID_HDR, end - GOID_HDR));
    } else {
        static const char hex[] = "0123456789ABCDEF";
        uint64_t h = UID_HASH_INIT;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = g[i];
            uint8_t d[2] = {(uint8_t)hex[b >> 4], (uint8_t)hex[b & 15u]};
            h = uid_hash(h, d, 2);
        }
        *out = uid_hash_final(h);
    }
    eas_arena_release(eng->mem.arena, mark);
    return EAS_OK;
}

/* A one-digit value (0-9) from the pieces of a TEXT event: *v is set by a piece that is one
   digit, cleared by any other non-empty piece; an empty piece (the decoder may end a value
   with one) leaves it. */
static void digit(const eas_wbxml_event_t *wev, uint8_t *v)
{
    if (wev->len == 1 && wev->data[0] >= '0' && wev->data[0] <= '9') {
        *v = (uint8_t)(wev->data[0] - '0');
    } else if (wev->len > 0) {
        *v = 0;
    }
}

/* A field of the item a Sync delivers (@p rel: depth below ApplicationData): keeps what
   eng_mr_check_delivered() compares - the item's ResponseType, the hash of its UID, and the
   AttendeeStatus of the attendee whose Email is the account's address (servers that leave
   ResponseType out, and EAS 12.x, which has none, still show that). */
void eng_mr_item_field(eas_engine_t *e, const eas_wbxml_event_t *wev, uint16_t rel)
{
    eng_priv_t *p = P(e);
    const char *me = e->cfg->email ? e->cfg->email : "";
    bool text = wev->type == EAS_WBXML_EV_TEXT;
    if (text && rel == 1 && wev->tag == EAS_CALENDAR_RESPONSE_TYPE) {
        digit(wev, &p->item_resp);
    } else if (text && rel == 1 && wev->tag == EAS_CALENDAR_UID) {
        uint64_t h = (wev->piece & EAS_WBXML_PIECE_FIRST) ? UID_HASH_INIT : p->item_uid;
        p->item_uid = uid_hash(h, wev->data, wev->len);
    } else if (rel == 2 && wev->tag == EAS_CALENDAR_ATTENDEE &&
               wev->type == EAS_WBXML_EV_START) {
        p->att_pos = 0;
        p->att_status = 0;
    } else if (rel == 2 && wev->tag == EAS_CALENDAR_ATTENDEE && wev->type == EAS_WBXML_EV_END) {
        if (me[0] && p->att_pos == strlen(me) && p->att_status) {
            p->item_self = p->att_status;
        }
    } else if (text && rel == 3 && wev->tag == EAS_CALENDAR_ATTENDEE_STATUS) {
        digit(wev, &p->att_status);
    } else if (text && rel == 3 && wev->tag == EAS_CALENDAR_ATTENDEE_EMAIL) {
        /* Compared piece by piece, ASCII case folded: an address is never stored. */
        size_t pos = (wev->piece & EAS_WBXML_PIECE_FIRST) ? 0u : p->att_pos;
        size_t n = strlen(me);
        for (size_t i = 0; i < wev->len && pos != 0xFFFFu; i++) {
            char a = (char)wev->data[i];
            a = a >= 'A' && a <= 'Z' ? (char)(a - 'A' + 'a') : a;
            char b = pos < n ? me[pos] : '\0';
            b = b >= 'A' && b <= 'Z' ? (char)(b - 'A' + 'a') : b;
            pos = pos < n && a == b ? pos + 1u : 0xFFFFu;
        }
        p->att_pos = (uint16_t)pos;
    }
}

/*
 * [S 1.15] A MeetingResponse that may have reached the server before its answer was lost
 * (sent at least once) is proven applied by what a later Sync delivers, and is then done and
 * never sent again - even to a server that would accept and record a duplicate:
 * - the answered item is deleted (@p deleted): Exchange and Horde delete the invitation once
 *   they applied a response, Exchange drops a declined meeting from the calendar; a resend
 *   would have nothing to answer either;
 * - a calendar item arrives with our answer as its ResponseType, and it is the answered item
 *   itself (a response from the calendar) or carries the meeting's UID (a response to an
 *   invitation: Exchange, SOGo and Horde all put the response on the calendar item).
 */
void eng_mr_check_delivered(eas_engine_t *e, bool deleted, const char *sid)
{
    eng_priv_t *p = P(e);
    bool cal = e->mem.folders[p->cur].cls == EAS_CLASS_CALENDAR;
    uint64_t uid = p->item_uid ? uid_hash_final(p->item_uid) : 0;
    uint8_t resp = p->item_resp ? p->item_resp : p->item_self;
    if (!deleted && (!cal || resp == 0)) {
        return;
    }
    for (size_t s = 0; s < p->ob.cap; s++) {
        eas_outbox_slot_t *sl = &p->ob.slots[s];
        bool here = sl->folder == (uint16_t)p->cur;
        if (!sl->seq || sl->kind != EAS_OUTBOX_MEETING_RESPONSE || sl->attempts == 0 ||
            sl->in_flight == OB_DONE || (!here && (deleted || uid == 0))) {
            continue;
        }
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        bool proof = false;
        if (eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK) {
            const eas_ob_meeting_t *m = &ent.u.meeting;
            if (deleted) {
                proof = strcmp(m->server_id, sid) == 0;
            } else if (m->instance_id[0] == '\0' &&
                       reply_response_type(m->reply) == resp) {
                proof = here ? strcmp(m->server_id, sid) == 0 : m->uid_hash == uid;
            }
        }
        eas_arena_release(e->mem.arena, mark);
        if (proof) {
            EAS_LOGI(&e->sys.log, MOD,
                     deleted ? "meeting response: the answered item is gone; not resent"
                             : "meeting response already applied by the server; not resent");
            eng_outbox_result(e, s, EAS_STATUS_SUCCESS, deleted ? NULL : sid);
            sl->in_flight = OB_DONE; /* removed before the new sync key is committed */
        }
    }
}

/* Before a MeetingResponse whose delivery is uncertain goes out again: sync the folders that
   would show it applied (eng_mr_check_delivered) - the answered item's folder and, for an
   invitation whose meeting is known, every calendar. False when none can be synced. */
static bool mr_sync_first(eas_engine_t *e, size_t slot)
{
    eng_priv_t *p = P(e);
    eas_outbox_slot_t *sl = &p->ob.slots[slot];
    bool any = false;
    bool by_uid = false;
    eas_folder_t *own = &e->mem.folders[sl->folder];
    if (own->cls != EAS_CLASS_CALENDAR) {
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        by_uid = eas_outbox_read(&p->ob, slot, e->mem.arena, &ent) == EAS_OK &&
                 ent.u.meeting.uid_hash != 0 && ent.u.meeting.instance_id[0] == '\0';
        eas_arena_release(e->mem.arena, mark);
    }
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        eas_folder_t *f = &e->mem.folders[i];
        if ((f == own || (by_uid && f->cls == EAS_CLASS_CALENDAR)) &&
            (f->flags & EAS_FOLDER_F_SELECTED) && (f->flags & EAS_FOLDER_F_SYNCED)) {
            f->flags |= EAS_FOLDER_F_DIRTY;
            any = true;
        }
    }
    return any;
}

/* The oldest queued MeetingResponse that can go out now (sets p->mr_slot). Runs after the
   folder syncs, so a response whose delivery is uncertain was first checked against the
   synced folders (mr_sync_first, eng_mr_check_delivered). */
static bool next_meeting_response(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    long best = -1;
    for (size_t s = 0; s < p->ob.cap; s++) {
        const eas_outbox_slot_t *sl = &p->ob.slots[s];
        if (sl->seq && sl->kind == EAS_OUTBOX_MEETING_RESPONSE && sl->folder != 0xFFFFu &&
            (best < 0 || sl->seq < p->ob.slots[best].seq)) {
            best = (long)s;
        }
    }
    while (best >= 0) {
        eas_outbox_slot_t *sl = &p->ob.slots[best];
        bool drop = sl->attempts >= CONFIG_EAS_OUTBOX_MAX_ATTEMPTS;
        if (!drop && sl->attempts > 0 && !(sl->reserved & MR_CHECKED)) {
            /* Sent before without an answer: look first, so a response the server already
               applied is found instead of being sent twice. */
            sl->reserved |= MR_CHECKED;
            if (mr_sync_first(e, (size_t)best)) {
                return false;
            }
        }
        if (!drop && e->version < EAS_VER_14_1) {
            /* An occurrence cannot be named before 14.1: never answer the whole series
               instead. */
            size_t mark = eas_arena_mark(e->mem.arena);
            eas_outbox_entry_t ent;
            drop = eas_outbox_read(&p->ob, (size_t)best, e->mem.arena, &ent) == EAS_OK &&
                   ent.u.meeting.instance_id[0] != '\0';
            eas_arena_release(e->mem.arena, mark);
        }
        if (!drop) {
            p->mr_slot = (int16_t)best;
            return true;
        }
        eng_outbox_result(e, (size_t)best, EAS_STATUS_NONE, NULL);
        eng_report(e, sl->attempts ? EAS_ERR_PROTO : EAS_ERR_VERSION, 0,
                   "meeting response not sent; dropped", NULL);
        (void)eas_outbox_remove(&p->ob, (size_t)best);
        return next_meeting_response(e);
    }
    return false;
}

static const eng_cmd_t *meeting_pick(eas_engine_t *e)
{
    return next_meeting_response(e) ? &eng_cmd_meeting : NULL;
}

static int meeting_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_MEETINGRESPONSE;
    p->ob.slots[p->mr_slot].reserved &= (uint16_t)~MR_CHECKED; /* a lost answer: look again */
    /* Never replayed blindly by the HTTP client: the server may have applied it. */
    p->req.no_replay = true;
    /* The "sent" marker is persisted before a byte leaves: after a crash the engine
       knows this response may already be on the server [S 1.15]. */
    int err = eng_outbox_mark_sent(e, p->mr_slot, "saving the meeting response marker");
    if (err == EAS_OK) {
        eas_proto_meeting_parser_init(&p->u.meet);
    }
    return err;
}

static void meeting_body(eas_wbxml_enc_t *enc, const eas_outbox_entry_t *ent)
{
    eas_meeting_req_t r = {ent->folder_id, ent->u.meeting.server_id, ent->u.meeting.instance_id,
                           ent->u.meeting.reply};
    eas_proto_meeting_build(enc, &r);
}

static void move_body(eas_wbxml_enc_t *enc, const eas_outbox_entry_t *ent)
{
    eas_proto_move_build(enc, ent->u.move.server_id, ent->folder_id, ent->u.move.dst_folder_id);
}

/* The body of a MeetingResponse or MoveItems: built from its outbox entry, read from the
   store into the arena for the time of the call. */
static int entry_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    eng_priv_t *p = P(e);
    bool meeting = p->req.cmd == EAS_CMD_MEETINGRESPONSE;
    size_t mark = eas_arena_mark(e->mem.arena);
    eas_outbox_entry_t ent;
    (void)write;
    (void)wctx;
    int err = eas_outbox_read(&p->ob, (size_t)(meeting ? p->mr_slot : p->mv_slot), e->mem.arena,
                              &ent);
    if (err == EAS_OK) {
        if (meeting || !CONFIG_EAS_MOVE) {
            meeting_body(enc, &ent);
        } else {
            move_body(enc, &ent); /* referenced only with MoveItems compiled in */
        }
    }
    eas_arena_release(e->mem.arena, mark);
    if (err != EAS_OK) {
        return err;
    }
    return eas_wbxml_enc_finish(enc);
}

static void apply_meeting(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_meeting_parser_t *mp = &p->u.meet;
    size_t slot = (size_t)p->mr_slot;
    eas_outbox_slot_t *sl = &p->ob.slots[slot];
    uint32_t st = mp->status;

    if (eng_reprovision_status(mp->top_status)) {
        eng_reprovision(e, &eng_cmd_meeting, (uint16_t)mp->top_status);
        return;
    }
    if (eng_common_status(e, mp->top_status, "MeetingResponse") ||
        eng_common_status(e, st, "MeetingResponse")) {
        return; /* 111: back-off, the response stays queued; 177: stopped */
    }
    if ((mp->top_status != EAS_STATUS_NONE && mp->top_status != EAS_STATUS_SUCCESS) ||
        mp->results == 0 || !sl->seq) {
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)mp->top_status, "MeetingResponse", 0);
        return;
    }
    if (st == EAS_STATUS_MR_INVALID_REQUEST && sl->attempts > 1) {
        /* An earlier send may have been applied (the invitation is gone): the response is
           on the server already — never a second one [S 1.15]. */
        EAS_LOGI(&e->sys.log, MOD, "meeting response: invitation already answered");
        st = EAS_STATUS_SUCCESS;
    }
    eng_outbox_answered(e, slot, (uint16_t)st, EAS_STATUS_SUCCESS,
                        mp->calendar_id[0] ? mp->calendar_id : NULL, "meeting response rejected");
}

const eng_cmd_t eng_cmd_meeting = {
    .name = "MeetingResponse",
    .state = EAS_STATE_SYNCING,
    .decode = eas_proto_meeting_event,
    .pick = meeting_pick,
    .start = meeting_start,
    .build = entry_build,
    .apply = apply_meeting,
};

/* ---- MoveItems ---- */

static const eng_cmd_t *move_pick(eas_engine_t *e)
{
    return eng_outbox_next(e, EAS_OUTBOX_MOVE, &P(e)->mv_slot) ? &eng_cmd_move : NULL;
}

static int move_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_MOVEITEMS;
    /* As for MeetingResponse: "may be on the server" is persisted before a byte leaves. */
    int err = eng_outbox_mark_sent(e, p->mv_slot, "saving the move marker");
    if (err == EAS_OK) {
        eas_proto_move_parser_init(&p->u.move);
    }
    return err;
}

static void apply_move(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_move_parser_t *mp = &p->u.move;
    size_t slot = (size_t)p->mv_slot;
    eas_outbox_slot_t *sl = &p->ob.slots[slot];
    uint32_t st = mp->status;
    const char *dst = mp->dst_msg_id[0] ? mp->dst_msg_id : NULL;

    if (eng_reprovision_status(mp->top_status)) {
        eng_reprovision(e, &eng_cmd_move, (uint16_t)mp->top_status);
        return;
    }
    if (eng_common_status(e, mp->top_status, "MoveItems") ||
        eng_common_status(e, st, "MoveItems")) {
        return; /* 111: back-off, the move stays queued; 177: stopped */
    }
    if (mp->responses == 0 || !sl->seq || st == EAS_STATUS_MOVE_FAILED ||
        st == EAS_STATUS_MOVE_LOCKED) {
        /* 5/7: the server failed or the source/destination clash transiently: retry later. */
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)(st ? st : mp->top_status), "MoveItems", 0);
        return;
    }
    if (st == EAS_STATUS_MOVE_INVALID_SOURCE && sl->attempts > 1) {
        /* An earlier send may have moved it already: the item is gone from the source. */
        EAS_LOGI(&e->sys.log, MOD, "move: item already gone from the source; counted as moved");
        st = EAS_STATUS_MOVE_SUCCESS;
        dst = NULL;
    }
    /* Both folders changed on the server: pick the changes up. */
    size_t mark = eas_arena_mark(e->mem.arena);
    eas_outbox_entry_t ent;
    if (st == EAS_STATUS_MOVE_SUCCESS &&
        eas_outbox_read(&p->ob, slot, e->mem.arena, &ent) == EAS_OK) {
        int d = eng_folder_find(e, ent.u.move.dst_folder_id);
        if (d >= 0) {
            e->mem.folders[d].flags |= EAS_FOLDER_F_DIRTY;
        }
        if (sl->folder < e->mem.folder_cap) {
            e->mem.folders[sl->folder].flags |= EAS_FOLDER_F_DIRTY;
        }
    }
    eas_arena_release(e->mem.arena, mark);
    eng_outbox_answered(e, slot, (uint16_t)st, EAS_STATUS_MOVE_SUCCESS, dst, "move rejected");
}

const eng_cmd_t eng_cmd_move = {
    .name = "MoveItems",
    .state = EAS_STATE_SYNCING,
    .decode = eas_proto_move_event,
    .pick = move_pick,
    .start = move_start,
    .build = entry_build,
    .apply = apply_move,
};

/* ---- the queueing API ---- */

size_t eas_outbox_pending(const eas_engine_t *eng, eas_outbox_kind_t kind)
{
    const eng_priv_t *p = (const eng_priv_t *)(const void *)eng->priv;
    size_t n = 0;
    for (size_t s = 0; s < p->ob.cap; s++) {
        if (p->ob.slots[s].seq && (kind == EAS_OUTBOX_NONE || p->ob.slots[s].kind == kind)) {
            n++;
        }
    }
    return n;
}

/* Persist @p ent (kind, folder_id, payload) for the folder it names; abandons a running Ping
   so the change goes out now. */
static int queue(eas_engine_t *eng, const eas_outbox_entry_t *ent, const eas_field_t *fields,
                 size_t n, uint32_t *id)
{
    if (!CONFIG_EAS_OUTBOX) {
        return EAS_ERR_UNSUPPORTED; /* a read-only build: nothing is queued */
    }
    eng_priv_t *p = P(eng);
    int fi = ent->folder_id ? eng_folder_find(eng, ent->folder_id) : -1;
    uint32_t tmp = 0;
    if (fi < 0) {
        return EAS_ERR_NOT_FOUND;
    }
    int err = eas_outbox_put(&p->ob, eng->mem.arena, ent, (uint16_t)fi, fields, n, id ? id : &tmp);
    if (err == EAS_OK) {
        eng_interrupt_ping(eng);
    }
    return err;
}

int eas_item_add(eas_engine_t *eng, const char *folder_id, const eas_field_t *fields, size_t n,
                 uint32_t *id)
{
    /* The ClientId is random and kept in the entry, not the outbox id: ids
       restart at 1 when a restart finds the outbox empty, and the server remembers the
       ClientIds of a collection across SyncKeys to recognise a resent Add - a reused "1"
       made it answer a new item with the ServerId of an old one, and the new item was
       never created (session test power_loss_outbox). */
    uint8_t rnd[8];
    char cid[2 * sizeof(rnd) + 1];
    int err = eng_rng(eng, rnd, sizeof(rnd));
    if (err == EAS_OK) {
        for (size_t i = 0; i < sizeof(rnd); i++) {
            snprintf(cid + 2 * i, 3, "%02x", rnd[i]);
        }
        eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_ADD, .folder_id = folder_id};
        ent.u.add.client_id = cid;
        err = queue(eng, &ent, fields, n, id);
    }
    return err;
}

/* Does the item text equal the account's address (case-insensitive ASCII)? */
static bool is_own_address(const eas_engine_t *eng, const char *v, size_t len)
{
    const char *me = eng->cfg->email;
    if (!me || strlen(me) != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char a = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] - 'A' + 'a') : v[i];
        char b = me[i] >= 'A' && me[i] <= 'Z' ? (char)(me[i] - 'A' + 'a') : me[i];
        if (a != b) {
            return false;
        }
    }
    return true;
}

/*
 * [S 1.2, 1.11] The engine decides from the item itself whether the user is an attendee:
 * the calendar item names an organizer that is not the account's address, or its
 * MeetingStatus says the meeting was received (bit 0 "is a meeting" with bit 1 "received":
 * 3, 7, 11, 15; 5 and 13 are received and cancelled). The caller's EAS_CHANGE_F_ATTENDEE
 * still forces it for an item whose fields carry neither.
 */
static bool change_by_attendee(const eas_engine_t *eng, const eas_field_t *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const eas_field_t *f = &fields[i];
        if (f->kind != EAS_FIELD_TEXT || !f->data) {
            continue;
        }
        if (f->tag == EAS_CALENDAR_ORGANIZER_EMAIL && f->len > 0 &&
            !is_own_address(eng, (const char *)f->data, f->len)) {
            return true;
        }
        if (f->tag == EAS_CALENDAR_MEETING_STATUS && f->len > 0 && f->len < 4) {
            unsigned v = 0;
            for (size_t k = 0; k < f->len; k++) {
                char c = ((const char *)f->data)[k];
                v = (c >= '0' && c <= '9') ? v * 10u + (unsigned)(c - '0') : 100u;
            }
            if (v == 3u || v == 5u || v == 7u || v == 11u || v == 13u || v == 15u) {
                return true;
            }
        }
    }
    return false;
}

static int change_item(eas_engine_t *eng, const char *folder_id, const char *server_id,
                       const char *instance, eas_change_reason_t reason, unsigned flags,
                       const eas_field_t *fields, size_t n, uint32_t *id)
{
    int err = EAS_OK;
    if (id) {
        *id = 0;
    }
    if (reason != EAS_CHANGE_EDIT) {
        return EAS_OK; /* reminders are local: never an update [S 1.14, 1.16, 1.17] */
    }
    if (!CONFIG_EAS_OUTBOX) {
        return EAS_ERR_UNSUPPORTED; /* a read-only build: nothing is queued */
    }
    if (!server_id || (n > 0 && !fields)) {
        return EAS_ERR_PARAM;
    }
    size_t mark = eas_arena_mark(eng->mem.arena);
    eas_field_t *kept = n ? eas_arena_alloc(eng->mem.arena, n * sizeof(*kept), 8) : NULL;
    size_t k = 0;
    if (n && !kept) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK && n) {
        if (change_by_attendee(eng, fields, n)) {
            flags |= EAS_CHANGE_F_ATTENDEE;
        }
        err = eas_outbox_filter(fields, n, flags, kept, &k);
    }
    if (err == EAS_OK) {
        eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_CHANGE, .folder_id = folder_id};
        ent.u.change.server_id = server_id;
        ent.u.change.instance_id = instance ? instance : "";
        err = queue(eng, &ent, kept, k, id);
    }
    eas_arena_release(eng->mem.arena, mark);
    return err;
}

int eas_item_change(eas_engine_t *eng, const char *folder_id, const char *server_id,
                    eas_change_reason_t reason, unsigned flags, const eas_field_t *fields, size_t n,
                    uint32_t *id)
{
    return change_item(eng, folder_id, server_id, NULL, reason, flags, fields, n, id);
}

int eas_item_change_occurrence(eas_engine_t *eng, const char *folder_id, const char *server_id,
                               const char *instance_id, eas_change_reason_t reason, unsigned flags,
                               const eas_field_t *fields, size_t n, uint32_t *id)
{
    if (id) {
        *id = 0;
    }
    if (!eng || !instance_id || !instance_id[0] || strlen(instance_id) > CONFIG_EAS_SERVER_ID_MAX) {
        return EAS_ERR_PARAM;
    }
    /* Before 16.0 one occurrence can only be changed through the master's Exceptions, which
       this API does not build: refuse rather than change the whole series. */
    if (eng->version != EAS_VER_NONE && eng->version < EAS_VER_16_0) {
        return EAS_ERR_UNSUPPORTED;
    }
    return change_item(eng, folder_id, server_id, instance_id, reason, flags, fields, n, id);
}

int eas_item_delete(eas_engine_t *eng, const char *folder_id, const char *server_id, uint32_t *id)
{
    if (!server_id) {
        return EAS_ERR_PARAM;
    }
    eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_DELETE, .folder_id = folder_id};
    ent.u.del.server_id = server_id;
    return queue(eng, &ent, NULL, 0, id);
}

int eas_item_delete_occurrence(eas_engine_t *eng, const char *folder_id, const char *server_id,
                               const char *instance_id, uint32_t *id)
{
    if (id) {
        *id = 0;
    }
    if (!eng || !server_id || !instance_id || !instance_id[0] ||
        strlen(instance_id) > CONFIG_EAS_SERVER_ID_MAX) {
        return EAS_ERR_PARAM;
    }
    /* Before 16.0 an occurrence is deleted through the master's Exceptions: refuse rather
       than delete the whole series. */
    if (eng->version != EAS_VER_NONE && eng->version < EAS_VER_16_0) {
        return EAS_ERR_UNSUPPORTED;
    }
    eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_DELETE, .folder_id = folder_id};
    ent.u.del.server_id = server_id;
    ent.u.del.instance_id = instance_id;
    return queue(eng, &ent, NULL, 0, id);
}

int eas_item_move(eas_engine_t *eng, const char *folder_id, const char *server_id,
                  const char *dst_folder_id, uint32_t *id)
{
    if (!CONFIG_EAS_MOVE) {
        return EAS_ERR_UNSUPPORTED; /* nothing would ever send it */
    }
    if (!server_id || !server_id[0] || !dst_folder_id || !dst_folder_id[0] ||
        strlen(dst_folder_id) > CONFIG_EAS_SERVER_ID_MAX) {
        return EAS_ERR_PARAM;
    }
    eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_MOVE, .folder_id = folder_id};
    ent.u.move.server_id = server_id;
    ent.u.move.dst_folder_id = dst_folder_id;
    return queue(eng, &ent, NULL, 0, id);
}

int eas_meeting_respond_uid(eas_engine_t *eng, const char *folder_id, const char *server_id,
                            const char *instance_id, eas_meeting_reply_t reply,
                            const char *meeting_uid, uint32_t *id)
{
    if (!CONFIG_EAS_MEETING_RESPONSE) {
        return EAS_ERR_UNSUPPORTED; /* nothing would ever send it */
    }
    if (!eng || !server_id || reply < EAS_MEETING_ACCEPT || reply > EAS_MEETING_DECLINE) {
        return EAS_ERR_PARAM;
    }
    eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_MEETING_RESPONSE, .folder_id = folder_id};
    ent.u.meeting.server_id = server_id;
    ent.u.meeting.instance_id = instance_id ? instance_id : "";
    ent.u.meeting.reply = (uint8_t)reply;
    int err = meeting_uid_hash(eng, meeting_uid, &ent.u.meeting.uid_hash);
    if (err == EAS_OK) {
        err = queue(eng, &ent, NULL, 0, id);
    }
    return err;
}

int eas_meeting_respond(eas_engine_t *eng, const char *folder_id, const char *server_id,
                        const char *instance_id, eas_meeting_reply_t reply, uint32_t *id)
{
    return eas_meeting_respond_uid(eng, folder_id, server_id, instance_id, reply, NULL, id);
}
