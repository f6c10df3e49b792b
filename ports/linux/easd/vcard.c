/* SPDX-License-Identifier: Apache-2.0 */
/* EAS contacts <-> vCard 3.0 (RFC 2426), written and read here: Debian 12's libical 3.0 has
 * no vCard support (its libicalvcal is the old vCalendar 1.0 converter; vCard arrived in
 * libical 3.1/4). Values are escaped (\\ \, \; \n) and lines folded at 75 octets without
 * splitting a UTF-8 sequence; reading unfolds, unescapes and ignores what it does not map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "easd.h"

typedef struct out {
    char *buf;
    size_t len, cap;
    bool fail;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->fail) {
        return;
    }
    if (o->len + n + 1 > o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 1024;
        while (nc < o->len + n + 1) {
            nc *= 2;
        }
        char *nb = realloc(o->buf, nc);
        if (!nb) {
            o->fail = true;
            return;
        }
        o->buf = nb;
        o->cap = nc;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* One content line, folded at 75 octets (continuation lines start with a space). */
static void line(out_t *o, const char *text)
{
    size_t n = strlen(text), col = 0;
    for (size_t i = 0; i < n;) {
        size_t cl = 1;
        unsigned char c = (unsigned char)text[i];
        if (c >= 0xF0) {
            cl = 4;
        } else if (c >= 0xE0) {
            cl = 3;
        } else if (c >= 0xC0) {
            cl = 2;
        }
        if (i + cl > n) {
            cl = n - i;
        }
        if (col + cl > 75) {
            put(o, "\r\n ", 3);
            col = 1;
        }
        put(o, text + i, cl);
        col += cl;
        i += cl;
    }
    put(o, "\r\n", 2);
}

/* Escape a value into @p dst (append). */
static void esc(char *dst, size_t cap, const char *v)
{
    size_t o = strlen(dst);
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\\' || *v == ',' || *v == ';') {
            dst[o++] = '\\';
            dst[o++] = *v;
        } else if (*v == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else if (*v != '\r') {
            dst[o++] = *v;
        }
    }
    dst[o] = '\0';
}

static bool get(const uint8_t *rec, size_t len, uint16_t tag, char *out, size_t cap)
{
    return easd_rec_text(rec, len, tag, 1, out, cap) && out[0];
}

static void simple(out_t *o, const uint8_t *rec, size_t len, uint16_t tag, const char *prop)
{
    char v[2048], l[4200];
    if (get(rec, len, tag, v, sizeof(v))) {
        (void)snprintf(l, sizeof(l), "%s:", prop);
        esc(l, sizeof(l), v);
        line(o, l);
    }
}

static bool structured(out_t *o, const uint8_t *rec, size_t len, const char *prop,
                       const uint16_t *tags, size_t n)
{
    char v[1024], l[6000];
    bool any = false;
    (void)snprintf(l, sizeof(l), "%s:", prop);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            (void)strncat(l, ";", sizeof(l) - strlen(l) - 1);
        }
        if (tags[i] && get(rec, len, tags[i], v, sizeof(v))) {
            esc(l, sizeof(l), v);
            any = true;
        }
    }
    if (any) {
        line(o, l);
    }
    return any;
}

char *easd_vcard_from_rec(const uint8_t *rec, size_t len, const char *fallback_uid)
{
    out_t o = {0};
    char v[2048], l[4200], first[512], last[512];
    line(&o, "BEGIN:VCARD");
    line(&o, "VERSION:3.0");
    (void)snprintf(l, sizeof(l), "UID:");
    esc(l, sizeof(l), fallback_uid);
    line(&o, l);
    bool hf = get(rec, len, EAS_CONTACTS_FIRST_NAME, first, sizeof(first));
    bool hl = get(rec, len, EAS_CONTACTS_LAST_NAME, last, sizeof(last));
    if (get(rec, len, EAS_CONTACTS_FILE_AS, v, sizeof(v)) && !hf && !hl) {
        (void)snprintf(l, sizeof(l), "FN:");
        esc(l, sizeof(l), v);
    } else {
        (void)snprintf(v, sizeof(v), "%s%s%s", hf ? first : "", hf && hl ? " " : "",
                       hl ? last : "");
        if (!v[0] && !get(rec, len, EAS_CONTACTS_COMPANY_NAME, v, sizeof(v)) &&
            !get(rec, len, EAS_CONTACTS_EMAIL1_ADDRESS, v, sizeof(v))) {
            (void)snprintf(v, sizeof(v), "(no name)");
        }
        (void)snprintf(l, sizeof(l), "FN:");
        esc(l, sizeof(l), v);
    }
    line(&o, l);
    static const uint16_t n_tags[] = {EAS_CONTACTS_LAST_NAME, EAS_CONTACTS_FIRST_NAME,
                                      EAS_CONTACTS_MIDDLE_NAME, EAS_CONTACTS_TITLE,
                                      EAS_CONTACTS_SUFFIX};
    if (!structured(&o, rec, len, "N", n_tags, 5)) {
        line(&o, "N:;;;;"); /* N is required in 3.0 */
    }
    static const uint16_t org_tags[] = {EAS_CONTACTS_COMPANY_NAME, EAS_CONTACTS_DEPARTMENT};
    (void)structured(&o, rec, len, "ORG", org_tags, 2);
    simple(&o, rec, len, EAS_CONTACTS_JOB_TITLE, "TITLE");
    simple(&o, rec, len, EAS_CONTACTS_EMAIL1_ADDRESS, "EMAIL;TYPE=INTERNET,PREF");
    simple(&o, rec, len, EAS_CONTACTS_EMAIL2_ADDRESS, "EMAIL;TYPE=INTERNET");
    simple(&o, rec, len, EAS_CONTACTS_EMAIL3_ADDRESS, "EMAIL;TYPE=INTERNET");
    simple(&o, rec, len, EAS_CONTACTS_MOBILE_PHONE_NUMBER, "TEL;TYPE=CELL");
    simple(&o, rec, len, EAS_CONTACTS_BUSINESS_PHONE_NUMBER, "TEL;TYPE=WORK,VOICE");
    simple(&o, rec, len, EAS_CONTACTS_HOME_PHONE_NUMBER, "TEL;TYPE=HOME,VOICE");
    simple(&o, rec, len, EAS_CONTACTS_BUSINESS_FAX_NUMBER, "TEL;TYPE=WORK,FAX");
    static const uint16_t home_adr[] = {0,
                                        0,
                                        EAS_CONTACTS_HOME_STREET,
                                        EAS_CONTACTS_HOME_CITY,
                                        EAS_CONTACTS_HOME_STATE,
                                        EAS_CONTACTS_HOME_POSTAL_CODE,
                                        EAS_CONTACTS_HOME_COUNTRY};
    static const uint16_t work_adr[] = {0,
                                        0,
                                        EAS_CONTACTS_BUSINESS_STREET,
                                        EAS_CONTACTS_BUSINESS_CITY,
                                        EAS_CONTACTS_BUSINESS_STATE,
                                        EAS_CONTACTS_BUSINESS_POSTAL_CODE,
                                        EAS_CONTACTS_BUSINESS_COUNTRY};
    (void)structured(&o, rec, len, "ADR;TYPE=HOME", home_adr, 7);
    (void)structured(&o, rec, len, "ADR;TYPE=WORK", work_adr, 7);
    simple(&o, rec, len, EAS_CONTACTS_WEB_PAGE, "URL");
    if (get(rec, len, EAS_CONTACTS_BIRTHDAY, v, sizeof(v)) && strlen(v) >= 10) {
        v[10] = '\0';
        (void)snprintf(l, sizeof(l), "BDAY:%s", v);
        line(&o, l);
    }
    char type[8];
    if (easd_rec_text(rec, len, EAS_AIRSYNCBASE_TYPE, 2, type, sizeof(type)) &&
        !strcmp(type, "1")) {
        char *body = malloc(65536);
        if (body && easd_rec_text(rec, len, EAS_AIRSYNCBASE_DATA, 2, body, 65536) && body[0]) {
            char *nl = malloc(140000);
            if (nl) {
                (void)snprintf(nl, 140000, "NOTE:");
                esc(nl, 140000, body);
                line(&o, nl);
                free(nl);
            }
        }
        free(body);
    }
    line(&o, "END:VCARD");
    if (o.fail) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}

/* ------------------------------------------------------------------------------------- */
/* Reading                                                                               */
/* ------------------------------------------------------------------------------------- */

static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = (*r == 'n' || *r == 'N') ? '\n' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Split a structured value at unescaped ';' (in place); parts unescaped. */
static size_t split_semi(char *v, char **parts, size_t cap)
{
    size_t n = 0;
    char *start = v;
    for (char *p = v;; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == ';' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (n < cap) {
                parts[n++] = start;
            }
            if (c == '\0') {
                break;
            }
            start = p + 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unescape(parts[i]);
    }
    return n;
}

static bool has_type(const char *params, const char *t)
{
    char buf[256];
    (void)snprintf(buf, sizeof(buf), "%s", params);
    for (char *p = buf; *p; p++) {
        if (*p >= 'a' && *p <= 'z') {
            *p = (char)(*p - 32);
        }
    }
    return strstr(buf, t) != NULL;
}

int easd_vcard_to_fields(const char *vcf, easd_fields_t *fl, char *err, size_t errcap)
{
    easd_fields_reset(fl);
    size_t n = strlen(vcf);
    char *u = malloc(n + 1);
    if (!u) {
        (void)snprintf(err, errcap, "out of memory");
        return -1;
    }
    /* Unfold. */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if ((vcf[i] == '\r' || vcf[i] == '\n')) {
            size_t j = i + (vcf[i] == '\r' && vcf[i + 1] == '\n' ? 2 : 1);
            if (vcf[j] == ' ' || vcf[j] == '\t') {
                i = j;
                continue;
            }
            u[o++] = '\n';
            i = j - 1;
            continue;
        }
        u[o++] = vcf[i];
    }
    u[o] = '\0';
    char *fn = NULL, *email[3] = {0}, *cell = NULL, *work = NULL, *home = NULL, *fax = NULL;
    char *org = NULL, *title = NULL, *url = NULL, *bday = NULL, *note = NULL, *n_val = NULL;
    char *adr_home = NULL, *adr_work = NULL;
    int ne = 0, in = 0;
    char *save = NULL;
    for (char *l = strtok_r(u, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(l, ':');
        if (!colon) {
            continue;
        }
        *colon = '\0';
        char *name = l, *value = colon + 1;
        char *dot = strchr(name, '.');
        char *semi = strchr(name, ';');
        if (dot && (!semi || dot < semi)) {
            name = dot + 1; /* group prefix */
        }
        semi = strchr(name, ';');
        const char *params = semi ? semi + 1 : "";
        if (semi) {
            *semi = '\0';
        }
        if (!strcasecmp(name, "BEGIN") && !strcasecmp(value, "VCARD")) {
            in = 1;
        } else if (!in) {
            continue;
        } else if (!strcasecmp(name, "END")) {
            break;
        } else if (!strcasecmp(name, "FN")) {
            fn = value;
        } else if (!strcasecmp(name, "N")) {
            n_val = value;
        } else if (!strcasecmp(name, "EMAIL") && ne < 3) {
            email[ne++] = value;
        } else if (!strcasecmp(name, "TEL")) {
            if (has_type(params, "FAX")) {
                fax = value;
            } else if (has_type(params, "CELL")) {
                cell = value;
            } else if (has_type(params, "WORK")) {
                work = value;
            } else if (!home) {
                home = value;
            }
        } else if (!strcasecmp(name, "ORG")) {
            org = value;
        } else if (!strcasecmp(name, "TITLE")) {
            title = value;
        } else if (!strcasecmp(name, "URL")) {
            url = value;
        } else if (!strcasecmp(name, "BDAY")) {
            bday = value;
        } else if (!strcasecmp(name, "NOTE")) {
            note = value;
        } else if (!strcasecmp(name, "ADR")) {
            if (has_type(params, "WORK")) {
                adr_work = value;
            } else {
                adr_home = value;
            }
        }
    }
    if (!in || (!fn && !n_val)) {
        free(u);
        (void)snprintf(err, errcap, "not a vCard (no BEGIN:VCARD with FN or N)");
        return -1;
    }
    /* Values into fields; MS-ASCNTC order does not matter to servers for Contacts, but keep
       it stable. */
    char *parts[8];
    char bbuf[40];
    if (note) {
        unescape(note);
        easd_fields_open(fl, EAS_AIRSYNCBASE_BODY);
        easd_fields_text(fl, EAS_AIRSYNCBASE_TYPE, "1");
        easd_fields_text(fl, EAS_AIRSYNCBASE_DATA, note);
        easd_fields_close(fl, EAS_AIRSYNCBASE_BODY);
    }
    if (bday && strlen(bday) >= 8) {
        /* 1990-05-17 or 19900517 */
        char d[11];
        if (bday[4] == '-') {
            (void)snprintf(d, sizeof(d), "%.10s", bday);
        } else {
            (void)snprintf(d, sizeof(d), "%.4s-%.2s-%.2s", bday, bday + 4, bday + 6);
        }
        (void)snprintf(bbuf, sizeof(bbuf), "%sT00:00:00.000Z", d);
        easd_fields_text(fl, EAS_CONTACTS_BIRTHDAY, bbuf);
    }
    if (adr_work) {
        size_t k = split_semi(adr_work, parts, 7);
        static const uint16_t t[] = {0,
                                     0,
                                     EAS_CONTACTS_BUSINESS_STREET,
                                     EAS_CONTACTS_BUSINESS_CITY,
                                     EAS_CONTACTS_BUSINESS_STATE,
                                     EAS_CONTACTS_BUSINESS_POSTAL_CODE,
                                     EAS_CONTACTS_BUSINESS_COUNTRY};
        for (size_t i = 2; i < k; i++) {
            if (parts[i][0]) {
                easd_fields_text(fl, t[i], parts[i]);
            }
        }
    }
    if (work) {
        unescape(work);
        easd_fields_text(fl, EAS_CONTACTS_BUSINESS_PHONE_NUMBER, work);
    }
    if (fax) {
        unescape(fax);
        easd_fields_text(fl, EAS_CONTACTS_BUSINESS_FAX_NUMBER, fax);
    }
    if (org) {
        size_t k = split_semi(org, parts, 2);
        if (k > 0 && parts[0][0]) {
            easd_fields_text(fl, EAS_CONTACTS_COMPANY_NAME, parts[0]);
        }
        if (k > 1 && parts[1][0]) {
            easd_fields_text(fl, EAS_CONTACTS_DEPARTMENT, parts[1]);
        }
    }
    static const uint16_t et[] = {EAS_CONTACTS_EMAIL1_ADDRESS, EAS_CONTACTS_EMAIL2_ADDRESS,
                                  EAS_CONTACTS_EMAIL3_ADDRESS};
    for (int i = 0; i < ne; i++) {
        unescape(email[i]);
        easd_fields_text(fl, et[i], email[i]);
    }
    bool named = false;
    if (n_val) {
        size_t k = split_semi(n_val, parts, 5);
        static const uint16_t t[] = {EAS_CONTACTS_LAST_NAME, EAS_CONTACTS_FIRST_NAME,
                                     EAS_CONTACTS_MIDDLE_NAME, EAS_CONTACTS_TITLE,
                                     EAS_CONTACTS_SUFFIX};
        for (size_t i = 0; i < k; i++) {
            if (parts[i][0]) {
                easd_fields_text(fl, t[i], parts[i]);
                named = named || i < 3;
            }
        }
    }
    if (!named && fn) {
        unescape(fn);
        easd_fields_text(fl, EAS_CONTACTS_FILE_AS, fn);
    }
    if (adr_home) {
        size_t k = split_semi(adr_home, parts, 7);
        static const uint16_t t[] = {0,
                                     0,
                                     EAS_CONTACTS_HOME_STREET,
                                     EAS_CONTACTS_HOME_CITY,
                                     EAS_CONTACTS_HOME_STATE,
                                     EAS_CONTACTS_HOME_POSTAL_CODE,
                                     EAS_CONTACTS_HOME_COUNTRY};
        for (size_t i = 2; i < k; i++) {
            if (parts[i][0]) {
                easd_fields_text(fl, t[i], parts[i]);
            }
        }
    }
    if (home) {
        unescape(home);
        easd_fields_text(fl, EAS_CONTACTS_HOME_PHONE_NUMBER, home);
    }
    if (title) {
        unescape(title);
        easd_fields_text(fl, EAS_CONTACTS_JOB_TITLE, title);
    }
    if (cell) {
        unescape(cell);
        easd_fields_text(fl, EAS_CONTACTS_MOBILE_PHONE_NUMBER, cell);
    }
    if (url) {
        unescape(url);
        easd_fields_text(fl, EAS_CONTACTS_WEB_PAGE, url);
    }
    free(u);
    if (fl->overflow) {
        (void)snprintf(err, errcap, "contact too large");
        return -1;
    }
    return 0;
}
