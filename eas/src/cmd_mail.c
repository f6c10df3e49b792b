/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mail: SendMail / SmartReply / SmartForward from the outbox (CONFIG_EAS_EMAIL): the
 * 14.x WBXML form with a ClientId, or at 12.1 the message itself as the body with the options
 * in the query. Also the reply-all recipient helper.
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

#if CONFIG_EAS_EMAIL
/* The compose request of a mail entry (the entry was checked when it was read). Strings point
   into the entry's record (the caller's arena): r lives no longer than ent, and no static
   buffer is shared between engines (one per account, possibly on one thread). */
static int mail_params(const eas_outbox_entry_t *ent, eas_compose_req_t *r)
{
    const eas_ob_mail_t *m = &ent->u.mail;
    memset(r, 0, sizeof(*r));
    if (ent->kind != EAS_OUTBOX_SEND) {
        return EAS_ERR_STORE_CORRUPT;
    }
    r->cmd = (eas_mail_cmd_t)m->cmd;
    r->client_id = m->client_id;
    r->src_folder = ent->folder_id;
    r->src_item = m->src_item;
    r->save_in_sent = (m->flags & EAS_OB_MAIL_SAVE_IN_SENT) != 0;
    r->replace_mime = (m->flags & EAS_OB_MAIL_REPLACE_MIME) != 0;
    r->mime_id = m->mime_id;
    r->mime_len = m->mime_len;
    return EAS_OK;
}

/* 12.1 SendMail body: the MIME bytes as they are, read in pieces; stops at "buffer full". */
static int mime_raw(const eas_compose_req_t *r, eas_http_write_fn write, void *wctx)
{
    uint8_t buf[256];
    int err = EAS_OK;
    for (uint64_t off = 0; err == EAS_OK && off < r->mime_len; off += sizeof(buf)) {
        size_t n = r->mime_len - off > sizeof(buf) ? sizeof(buf) : (size_t)(r->mime_len - off);
        err = r->read(r->read_user, r->mime_id, off, buf, n);
        if (err == EAS_OK) {
            err = write(wctx, buf, n);
        }
    }
    return err;
}

static const eng_cmd_t *send_pick(eas_engine_t *e)
{
    return eng_outbox_next(e, EAS_OUTBOX_SEND, &P(e)->send_slot) ? &eng_cmd_send : NULL;
}

static int send_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    size_t mark = eas_arena_mark(e->mem.arena);
    eas_outbox_entry_t ent;
    p->req.cmd = EAS_CMD_SENDMAIL;
    eas_compose_req_t mr;
    if (eas_outbox_read(&p->ob, (size_t)p->send_slot, e->mem.arena, &ent) == EAS_OK &&
        mail_params(&ent, &mr) == EAS_OK) {
        p->req.cmd = mr.cmd == EAS_MAIL_REPLY     ? EAS_CMD_SMARTREPLY
                     : mr.cmd == EAS_MAIL_FORWARD ? EAS_CMD_SMARTFORWARD
                                                  : EAS_CMD_SENDMAIL;
        if (e->version < EAS_VER_14_0) {
            /* 12.1 has no ClientId: the message is the body, options go in the query. */
            p->req.content_type = "message/rfc822";
            p->req.save_in_sent = mr.save_in_sent;
            if (mr.cmd != EAS_MAIL_SEND) {
                snprintf(p->send_src_folder, sizeof(p->send_src_folder), "%s", mr.src_folder);
                snprintf(p->send_src_item, sizeof(p->send_src_item), "%s", mr.src_item);
                p->send_params[0].tag = EAS_HTTP_PARAM_ITEM_ID;
                p->send_params[0].value = p->send_src_item;
                p->send_params[1].tag = EAS_HTTP_PARAM_COLLECTION_ID;
                p->send_params[1].value = p->send_src_folder;
                p->req.params = p->send_params;
                p->req.n_params = 2;
            }
        }
    }
    eas_arena_release(e->mem.arena, mark);
    /* Counted before it leaves: the give-up bound survives restarts; the ClientId (not
       this count) is what keeps a resend from becoming a second message. */
    int err = eng_outbox_mark_sent(e, p->send_slot, "saving the send attempt");
    if (err == EAS_OK) {
        eas_proto_compose_parser_init(&p->u.compose);
    }
    return err;
}

static int send_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    eng_priv_t *p = P(e);
    size_t mark = eas_arena_mark(e->mem.arena);
    eas_outbox_entry_t ent;
    eas_compose_req_t r;
    int err = eas_outbox_read(&p->ob, (size_t)p->send_slot, e->mem.arena, &ent);
    if (err == EAS_OK) {
        err = mail_params(&ent, &r);
    }
    if (err == EAS_OK) {
        r.read = e->cfg->mime_read;
        r.read_user = e->cfg->mime_user;
        if (!r.read) {
            err = EAS_ERR_UNSUPPORTED;
        } else if (e->version < EAS_VER_14_0) {
            /* 12.1: the body is the message itself (parameters in the query). */
            eas_arena_release(e->mem.arena, mark);
            return mime_raw(&r, write, wctx);
        } else {
            err = eas_proto_compose_build(enc, &r);
        }
    }
    eas_arena_release(e->mem.arena, mark);
    if (err != EAS_OK) {
        return err;
    }
    return eas_wbxml_enc_finish(enc);
}

static void apply_send(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    size_t slot = (size_t)p->send_slot;
    uint32_t st = p->u.compose.status;

    if (eng_reprovision_status(st)) {
        eng_reprovision(e, &eng_cmd_send, (uint16_t)st);
        return;
    }
    if (eng_common_status(e, st, "SendMail")) {
        return; /* 111: back-off, the mail stays queued; 177: stopped */
    }
    if (st == EAS_STATUS_SERVER_ERROR || !p->ob.slots[slot].seq) {
        /* 110 "server error": transient (MS-ASCMD common status). */
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "SendMail", 0);
        return;
    }
    if (st == EAS_STATUS_NONE || st == EAS_STATUS_MESSAGE_PREVIOUSLY_SENT) {
        /* Empty 200 = sent; 118 = this ClientId was sent before (our answer got lost). */
        st = EAS_STATUS_SUCCESS;
    }
    eng_outbox_answered(e, slot, (uint16_t)st, EAS_STATUS_SUCCESS, NULL, "mail rejected");
}

const eng_cmd_t eng_cmd_send = {
    .name = "SendMail",
    .state = EAS_STATE_SYNCING,
    .flags = ENG_CMD_F_EMPTY_OK, /* SendMail answers success with an empty 200 */
    .decode = eas_proto_compose_event,
    .pick = send_pick,
    .start = send_start,
    .build = send_build,
    .apply = apply_send,
};
#endif /* CONFIG_EAS_EMAIL */

int eas_mail_send(eas_engine_t *eng, const eas_mail_t *mail, uint32_t *id)
{
#if CONFIG_EAS_EMAIL
    eng_priv_t *p = P(eng);
    uint8_t rnd[8];
    char cid[2 * sizeof(rnd) + 1];
    uint32_t tmp = 0;
    bool smart = mail && mail->cmd != EAS_MAIL_SEND;
    if (!mail || mail->cmd < EAS_MAIL_SEND || mail->cmd > EAS_MAIL_FORWARD || mail->mime_len == 0 ||
        (smart &&
         (!mail->src_folder || !mail->src_folder[0] || !mail->src_item || !mail->src_item[0]))) {
        return EAS_ERR_PARAM;
    }
    if (!eng->cfg->mime_read || !CONFIG_EAS_OUTBOX) { /* read-only build: nothing queues */
        return EAS_ERR_UNSUPPORTED;
    }
    if (mail->mime_len > CONFIG_EAS_MAIL_MAX_BYTES) {
        return EAS_ERR_LIMIT;
    }
    /* A random ClientId: outbox sequence numbers restart once the outbox is empty, and a
       reused ClientId would make the server drop a new message as "already sent" (118). */
    int err = eng_rng(eng, rnd, sizeof(rnd));
    if (err != EAS_OK) {
        return err;
    }
    for (size_t i = 0; i < sizeof(rnd); i++) {
        snprintf(cid + 2 * i, 3, "%02x", rnd[i]);
    }
    eas_outbox_entry_t ent = {.kind = EAS_OUTBOX_SEND,
                              .folder_id = smart ? mail->src_folder : "0"}; /* the mailbox root */
    ent.u.mail.cmd = (uint8_t)mail->cmd;
    ent.u.mail.flags = (uint8_t)((mail->save_in_sent ? EAS_OB_MAIL_SAVE_IN_SENT : 0u) |
                                 (mail->replace_mime ? EAS_OB_MAIL_REPLACE_MIME : 0u));
    ent.u.mail.mime_id = mail->mime_id;
    ent.u.mail.mime_len = mail->mime_len;
    ent.u.mail.client_id = cid;
    ent.u.mail.src_item = smart ? mail->src_item : "";
    int fi = eng_folder_find(eng, ent.folder_id);
    err = eas_outbox_put(&p->ob, eng->mem.arena, &ent, fi >= 0 ? (uint16_t)fi : 0xFFFFu, NULL, 0,
                         id ? id : &tmp);
    if (err == EAS_OK) {
        eng_interrupt_ping(eng);
    }
    return err;
#else
    (void)eng;
    (void)mail;
    (void)id;
    return EAS_ERR_UNSUPPORTED;
#endif
}

/* ---- reply-all helper [S 2.14] ---- */

static int ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) {
        return 0;
    }
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        x = (x >= 'A' && x <= 'Z') ? (char)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (char)(y + 32) : y;
        if (x != y) {
            return 0;
        }
    }
    return 1;
}

size_t eas_recipients_drop_self(char *list, const char *self)
{
    size_t removed = 0;
    size_t out = 0;
    size_t i = 0;
    size_t len = strlen(list);
    size_t slen = self ? strlen(self) : 0;

    while (i <= len) {
        size_t start = i;
        int quoted = 0;
        while (i < len && (quoted || list[i] != ',')) {
            quoted ^= list[i] == '"';
            i++;
        }
        /* addr-spec: inside <...> when present, else the whole trimmed entry. */
        const char *a = list + start;
        size_t n = i - start;
        const char *lt = memchr(a, '<', n);
        const char *as = a;
        size_t an = n;
        if (lt) {
            const char *gt = memchr(lt, '>', (size_t)(a + n - lt));
            as = lt + 1;
            an = gt ? (size_t)(gt - as) : 0;
        }
        while (an > 0 && (*as == ' ' || *as == '\t')) {
            as++;
            an--;
        }
        while (an > 0 && (as[an - 1] == ' ' || as[an - 1] == '\t')) {
            an--;
        }
        if (slen > 0 && ieq(as, an, self, slen)) {
            removed++;
        } else if (n > 0) {
            /* Output never overtakes input: a kept entry moves left by at most the
               separator it had, so an in-place memmove is safe. */
            size_t s0 = 0;
            while (out == 0 && s0 < n && a[s0] == ' ') {
                s0++;
            }
            if (out > 0) {
                list[out++] = ',';
            }
            memmove(list + out, a + s0, n - s0);
            out += n - s0;
        }
        i++;
    }
    list[out] = '\0';
    return removed;
}
