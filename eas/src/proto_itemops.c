/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ItemOperations Fetch: one item's full body (CollectionId + ServerId) or one attachment
 * (FileReference), streamed. The Properties of the answer go to the caller as they are
 * decoded; the attachment's Data (base64 text, or opaque bytes with multipart) is decoded
 * piece by piece into a small stack buffer, so nothing grows with the size of the value.
 */
#include <string.h>

#include "eas/eas_base64.h"
#include "eas_proto.h"

#if CONFIG_EAS_FETCH

/* Depths in the response: ItemOperations 1 / Response 2 / Fetch 3 / Properties 4. */
#define D_FETCH 3u
#define D_PROPS 4u

int eas_proto_fetch_build(eas_wbxml_enc_t *enc, const eas_fetch_req_t *r)
{
    eas_wbxml_enc_start(enc, EAS_ITEMOPERATIONS_ITEM_OPERATIONS);
    eas_wbxml_enc_start(enc, EAS_ITEMOPERATIONS_FETCH);
    eas_wbxml_enc_elem_text(enc, EAS_ITEMOPERATIONS_STORE, "Mailbox");
    if (r->file_reference && r->file_reference[0]) {
        eas_wbxml_enc_elem_text(enc, EAS_AIRSYNCBASE_FILE_REFERENCE, r->file_reference);
    } else {
        eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_COLLECTION_ID, r->collection_id);
        eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_SERVER_ID, r->server_id);
        /* No TruncationSize: the point of the fetch is the whole body. */
        eas_wbxml_enc_start(enc, EAS_ITEMOPERATIONS_OPTIONS);
        eas_wbxml_enc_start(enc, EAS_AIRSYNCBASE_BODY_PREFERENCE);
        eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNCBASE_TYPE, r->body_type ? r->body_type : 1u);
        eas_wbxml_enc_end(enc);
        eas_wbxml_enc_end(enc);
    }
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_fetch_parser_init(eas_fetch_parser_t *p, const eas_fetch_cbs_t *cbs, void *user)
{
    memset(p, 0, sizeof(*p));
    p->cbs = cbs;
    p->user = user;
}

/* Decode a piece of base64 Data text in slices that fit the stack buffer. */
static int data_text(eas_fetch_parser_t *p, const uint8_t *d, size_t n, bool last)
{
    uint8_t out[192]; /* 256 characters decode to at most 192 bytes */
    int err = EAS_OK;
    size_t off = 0;
    while (err == EAS_OK && off < n) {
        size_t k = n - off > 256u ? 256u : n - off;
        size_t ol = 0;
        err = eas_base64_dec_feed(&p->b64, (const char *)d + off, k, out, sizeof(out), &ol);
        if (err == EAS_OK && ol > 0) {
            p->bytes += ol;
            err = p->cbs->data(p->user, out, ol, false);
        }
        off += k;
    }
    if (err == EAS_OK && last) {
        size_t ol = 0;
        err = eas_base64_dec_finish(&p->b64, out, sizeof(out), &ol);
        p->bytes += ol;
        if (err == EAS_OK) {
            err = p->cbs->data(p->user, out, ol, true);
        }
    }
    return err == EAS_ERR_FORMAT ? EAS_ERR_PROTO : err;
}

int eas_proto_fetch_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_fetch_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 &&
        ev->tag != EAS_ITEMOPERATIONS_ITEM_OPERATIONS) {
        return EAS_ERR_PROTO;
    }
    bool in_fetch = eas_proto_path_at(&p->path, 2) == EAS_ITEMOPERATIONS_RESPONSE &&
                    eas_proto_path_at(&p->path, D_FETCH) == EAS_ITEMOPERATIONS_FETCH;
    if (p->props_open && ev->depth > D_PROPS) {
        /* Inside Properties: Data is decoded here, everything else goes to the caller. */
        uint16_t rel = (uint16_t)(ev->depth - D_PROPS);
        if (ev->type == EAS_WBXML_EV_START && rel == 1 && ev->tag == EAS_ITEMOPERATIONS_DATA) {
            p->in_data = true;
            p->data_pieces = 0;
            eas_base64_dec_init(&p->b64);
            return EAS_OK;
        }
        if (p->in_data && rel == 1 && ev->type == EAS_WBXML_EV_END) {
            p->in_data = false;
            if (p->data_pieces == 0) {
                return p->cbs->data(p->user, NULL, 0, true); /* empty attachment */
            }
            return p->data_opaque ? EAS_OK : data_text(p, NULL, 0, true);
        }
        if (p->in_data && (ev->type == EAS_WBXML_EV_TEXT || ev->type == EAS_WBXML_EV_OPAQUE)) {
            bool last = (ev->piece & EAS_WBXML_PIECE_LAST) != 0;
            p->data_pieces++;
            if (ev->type == EAS_WBXML_EV_OPAQUE) {
                p->data_opaque = true;
                p->bytes += ev->len;
                return p->cbs->data(p->user, ev->data, ev->len, last);
            }
            return data_text(p, ev->data, ev->len, false);
        }
        return p->cbs->field(p->user, ev, rel);
    }
    if (ev->type == EAS_WBXML_EV_START && in_fetch && ev->depth == D_FETCH) {
        p->fetches++;
        return p->fetches > 1 ? EAS_ERR_PROTO : EAS_OK; /* we ask for exactly one */
    }
    if (ev->type == EAS_WBXML_EV_START && in_fetch && ev->depth == D_PROPS &&
        ev->tag == EAS_ITEMOPERATIONS_PROPERTIES) {
        p->props_open = true;
        p->props_seen = true;
        return p->cbs->begin(p->user, p->status);
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    if (ev->depth == D_PROPS && ev->tag == EAS_ITEMOPERATIONS_PROPERTIES && p->props_open) {
        p->props_open = false;
    } else if (ev->depth == 2 && ev->tag == EAS_ITEMOPERATIONS_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->top_status);
    } else if (in_fetch && ev->depth == D_PROPS && ev->tag == EAS_ITEMOPERATIONS_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->status);
    }
    return err;
}

#endif /* CONFIG_EAS_FETCH */
