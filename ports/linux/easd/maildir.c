/* SPDX-License-Identifier: Apache-2.0 */
/* An EAS e-mail item as an RFC 5322 message for a Maildir. With body type "mime" the server
 * sends the message itself (AirSyncBase Data of Type 4) and it is stored unchanged;
 * otherwise the message is rebuilt from the item's header fields and its text or HTML body
 * (non-ASCII header text as RFC 2047 encoded words). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eas/eas_base64.h"
#include "easd.h"

typedef struct buf {
    char *p;
    size_t len, cap;
    bool fail;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->fail) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->len + n + 1) {
            nc *= 2;
        }
        char *np = realloc(b->p, nc);
        if (!np) {
            b->fail = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

/* "Name: value" with the value as an encoded word when it is not plain ASCII; header line
   breaks in the value are dropped (a server value must not inject headers). */
static void header(buf_t *b, const char *name, const char *v)
{
    bool ascii = true;
    char clean[2048];
    size_t o = 0;
    for (const char *p = v; *p && o + 1 < sizeof(clean); p++) {
        if (*p == '\r' || *p == '\n') {
            continue;
        }
        if ((unsigned char)*p >= 0x80) {
            ascii = false;
        }
        clean[o++] = *p;
    }
    clean[o] = '\0';
    puts_(b, name);
    puts_(b, ": ");
    if (ascii) {
        puts_(b, clean);
    } else {
        char enc[3000];
        size_t el = 0;
        if (eas_base64_encode((const uint8_t *)clean, o, enc, sizeof(enc), &el) == EAS_OK) {
            puts_(b, "=?UTF-8?B?");
            put(b, enc, el);
            puts_(b, "?=");
        }
    }
    puts_(b, "\n");
}

bool easd_mail_flagged(const uint8_t *rec, size_t len)
{
    /* Flag (depth 1) > Status (depth 2): 2 active, 1 complete, 0 or absent cleared. */
    char v[8];
    return easd_rec_text(rec, len, EAS_EMAIL_FLAG_STATUS, 2, v, sizeof(v)) && !strcmp(v, "2");
}

char *easd_mail_from_rec(const uint8_t *rec, size_t len, size_t *out_len, bool *read)
{
    buf_t b = {0};
    char v[2048], type[8];
    char *data = malloc(EASD_REC_MAX + 1);
    if (!data) {
        return NULL;
    }
    *read = easd_rec_text(rec, len, EAS_EMAIL_READ, 1, v, sizeof(v)) && !strcmp(v, "1");
    bool has_type = easd_rec_text(rec, len, EAS_AIRSYNCBASE_TYPE, 2, type, sizeof(type));
    bool has_data = easd_rec_text(rec, len, EAS_AIRSYNCBASE_DATA, 2, data, EASD_REC_MAX + 1);
    if (has_type && !strcmp(type, "4") && has_data) {
        /* The message as the server has it. */
        puts_(&b, data);
    } else {
        static const struct {
            uint16_t tag;
            const char *name;
        } hs[] = {{EAS_EMAIL_FROM, "From"},
                  {EAS_EMAIL_TO, "To"},
                  {EAS_EMAIL_CC, "Cc"},
                  {EAS_EMAIL_REPLY_TO, "Reply-To"},
                  {EAS_EMAIL_SUBJECT, "Subject"}};
        for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
            if (easd_rec_text(rec, len, hs[i].tag, 1, v, sizeof(v)) && v[0]) {
                header(&b, hs[i].name, v);
            }
        }
        int64_t t;
        if (easd_rec_text(rec, len, EAS_EMAIL_DATE_RECEIVED, 1, v, sizeof(v)) &&
            eas_cal_parse_time(v, strlen(v), &t) == EAS_OK) {
            static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
            static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
            eas_cal_civil_t c;
            eas_cal_civil_from_time(t, &c);
            (void)snprintf(v, sizeof(v), "%s, %u %s %04d %02u:%02u:%02u +0000", wd[c.wday % 7],
                           c.day, mo[(c.month - 1) % 12], (int)c.year, c.hour, c.minute, c.second);
            header(&b, "Date", v);
        }
        puts_(&b, "MIME-Version: 1.0\n");
        puts_(&b, has_type && !strcmp(type, "2") ? "Content-Type: text/html; charset=UTF-8\n"
                                                 : "Content-Type: text/plain; charset=UTF-8\n");
        puts_(&b, "Content-Transfer-Encoding: 8bit\n");
        char trunc[8];
        if (easd_rec_text(rec, len, EAS_AIRSYNCBASE_TRUNCATED, 2, trunc, sizeof(trunc)) &&
            !strcmp(trunc, "1")) {
            puts_(&b, "X-easd-Truncated: yes\n");
        }
        puts_(&b, "\n");
        if (has_data) {
            puts_(&b, data);
        }
    }
    free(data);
    if (b.fail) {
        free(b.p);
        return NULL;
    }
    if (!b.p) {
        puts_(&b, "");
    }
    *out_len = b.len;
    return b.p;
}
