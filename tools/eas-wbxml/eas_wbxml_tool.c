/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eas-wbxml: convert between EAS WBXML and XML with easd's own codec.
 *
 *   eas-wbxml decode [-x] [FILE]   WBXML (or hex with -x) -> XML on stdout
 *   eas-wbxml encode [-x] [FILE]   XML -> WBXML (or hex with -x) on stdout
 *
 * XML uses ActiveSync namespaces as default namespaces (<Sync xmlns="AirSync:">) and
 * MS-ASWBXML element names; encode also accepts libwbxml's names (Recurrence_Type, ...),
 * prefixed namespaces in any case (xmlns:gal="Gal:"), and libwbxml's base64 text for the
 * fields it writes as OPAQUE. OPAQUE data appears as <Data opaque="base64">...</Data>.
 *
 * decode streams every string and OPAQUE piece straight to stdout (no length limit), reads
 * the header itself so a public identifier in the string table (libwbxml's output) is
 * accepted, and keeps its output well-formed: invalid UTF-8 and control characters are
 * replaced by U+FFFD and counted on stderr.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "libwbxml_names.h"

static bool g_hex = false;

/* ---------------------------------------------------------------- input */

static unsigned char *read_all(const char *path, size_t *len_out)
{
    FILE *f = (path != NULL && strcmp(path, "-") != 0) ? fopen(path, "rb") : stdin;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;

    if (f == NULL) {
        perror(path);
        exit(2);
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            if (buf == NULL) {
                fprintf(stderr, "eas-wbxml: out of memory\n");
                exit(2);
            }
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0) {
            break;
        }
        len += n;
    }
    if (f != stdin) {
        fclose(f);
    }
    *len_out = len;
    return buf;
}

/* Hex text (vector files): '#' starts a comment line, whitespace is ignored. */
static int unhex(unsigned char *buf, size_t *len)
{
    size_t o = 0, i = 0;
    int hi = -1;

    while (i < *len) {
        unsigned char c = buf[i++];
        if (c == '#') {
            while (i < *len && buf[i] != '\n') {
                i++;
            }
        } else if (isxdigit(c)) {
            int v = isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
            if (hi < 0) {
                hi = v;
            } else {
                buf[o++] = (unsigned char)(hi << 4 | v);
                hi = -1;
            }
        } else if (!isspace(c)) {
            return -1;
        }
    }
    *len = o;
    return hi < 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- decode */

typedef struct printer {
    uint8_t page[EAS_WBXML_STACK_MAX + 1]; /* code page of each open element */
    bool open_tag;                         /* "<Name" written, ">" not yet */
    bool had_child;                        /* innermost element has child elements */
    bool opaque;                           /* base64 of an OPAQUE item in progress */
    uint8_t b64[3];
    int b64_n;
    /* UTF-8 check across the pieces of one string */
    uint8_t u8[4];
    unsigned u8_n;    /* bytes of the pending sequence */
    unsigned u8_need; /* continuation bytes still expected */
    unsigned long bad_utf8;
    unsigned long bad_ctrl;
} printer_t;

static void indent(unsigned depth)
{
    for (unsigned i = 1; i < depth; i++) {
        fputs(" ", stdout);
    }
}

static void print_name(uint16_t tag)
{
    const char *n = eas_wbxml_tag_name(tag);
    if (n != NULL) {
        fputs(n, stdout);
    } else {
        printf("T%02X%02X", EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
    }
}

static const char k_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* A sequence that stopped short: one replacement character for it. */
static void u8_abandon(printer_t *p)
{
    if (p->u8_need > 0u) {
        fputs(k_replacement, stdout);
        p->bad_utf8++;
        p->u8_need = 0u;
        p->u8_n = 0u;
    }
}

static void put_ascii(printer_t *p, uint8_t c)
{
    switch (c) {
    case '<':
        fputs("&lt;", stdout);
        break;
    case '>':
        fputs("&gt;", stdout);
        break;
    case '&':
        fputs("&amp;", stdout);
        break;
    case '\r':
        fputs("&#13;", stdout); /* survives the XML parser's line-end normalisation */
        break;
    case '\t':
    case '\n':
        putchar(c);
        break;
    default:
        if (c < 0x20u) {
            /* XML 1.0 has no way to write C0 controls, not even as &#x1;. */
            fputs(k_replacement, stdout);
            p->bad_ctrl++;
        } else {
            putchar(c);
        }
        break;
    }
}

/*
 * Text as XML character data: escaped, and valid UTF-8 whatever the server sent (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF; U+FFFE/U+FFFF are not XML
 * characters either). A sequence may span pieces; it ends with its string.
 */
static void print_text(printer_t *p, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (p->u8_need > 0u) {
            uint8_t lo = 0x80u;
            uint8_t hi = 0xBFu;
            if (p->u8_n == 1u) {
                /* second-byte ranges that exclude overlongs, surrogates, > U+10FFFF */
                lo = (p->u8[0] == 0xE0u) ? 0xA0u : (p->u8[0] == 0xF0u) ? 0x90u : 0x80u;
                hi = (p->u8[0] == 0xEDu) ? 0x9Fu : (p->u8[0] == 0xF4u) ? 0x8Fu : 0xBFu;
            }
            if (c >= lo && c <= hi) {
                p->u8[p->u8_n++] = c;
                if (--p->u8_need == 0u) {
                    if (p->u8_n == 3u && p->u8[0] == 0xEFu && p->u8[1] == 0xBFu &&
                        (p->u8[2] == 0xBEu || p->u8[2] == 0xBFu)) {
                        fputs(k_replacement, stdout); /* U+FFFE, U+FFFF */
                        p->bad_ctrl++;
                    } else {
                        fwrite(p->u8, 1, p->u8_n, stdout);
                    }
                    p->u8_n = 0u;
                }
                continue;
            }
            u8_abandon(p); /* and look at c afresh */
        }
        if (c < 0x80u) {
            put_ascii(p, c);
        } else if (c >= 0xC2u && c <= 0xF4u) {
            p->u8[0] = c;
            p->u8_n = 1u;
            p->u8_need = (c < 0xE0u) ? 1u : (c < 0xF0u) ? 2u : 3u;
        } else {
            fputs(k_replacement, stdout);
            p->bad_utf8++;
        }
    }
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_flush(printer_t *p, bool final)
{
    if (p->b64_n == 3 || (final && p->b64_n > 0)) {
        uint32_t v = (uint32_t)p->b64[0] << 16 | (uint32_t)p->b64[1] << 8 | p->b64[2];
        if (p->b64_n < 3) {
            v &= (p->b64_n == 1) ? 0xFF0000u : 0xFFFF00u;
        }
        putchar(b64chars[(v >> 18) & 63]);
        putchar(b64chars[(v >> 12) & 63]);
        putchar(p->b64_n > 1 ? b64chars[(v >> 6) & 63] : '=');
        putchar(p->b64_n > 2 ? b64chars[v & 63] : '=');
        p->b64_n = 0;
        memset(p->b64, 0, sizeof(p->b64));
    }
}

static int on_event(void *user, const eas_wbxml_event_t *ev)
{
    printer_t *p = user;

    switch (ev->type) {
    case EAS_WBXML_EV_START: {
        uint8_t page = EAS_TAG_PAGE(ev->tag);
        u8_abandon(p);
        if (p->open_tag) {
            fputs(">\n", stdout);
            p->open_tag = false;
        }
        indent(ev->depth);
        putchar('<');
        print_name(ev->tag);
        if (ev->depth == 1 || p->page[ev->depth - 1] != page) {
            const char *ns = eas_wbxml_page_name(page);
            if (ns != NULL) {
                printf(" xmlns=\"%s:\"", ns);
            } else {
                printf(" xmlns=\"Page%u:\"", page);
            }
        }
        p->page[ev->depth] = page;
        p->open_tag = true;
        p->had_child = false;
        break;
    }
    case EAS_WBXML_EV_END:
        u8_abandon(p);
        if (p->open_tag) {
            fputs("/>\n", stdout);
            p->open_tag = false;
        } else {
            if (p->opaque) {
                b64_flush(p, true);
                p->opaque = false;
            }
            if (p->had_child) {
                indent(ev->depth);
            }
            fputs("</", stdout);
            print_name(ev->tag);
            fputs(">\n", stdout);
        }
        p->had_child = true; /* for the parent */
        break;
    case EAS_WBXML_EV_TEXT:
        if (p->open_tag) {
            putchar('>');
            p->open_tag = false;
        }
        print_text(p, ev->data, ev->len);
        if ((ev->piece & EAS_WBXML_PIECE_LAST) != 0u) {
            u8_abandon(p); /* a sequence never continues into the next string */
        }
        break;
    case EAS_WBXML_EV_OPAQUE:
        if (p->open_tag) {
            fputs(" opaque=\"base64\">", stdout);
            p->open_tag = false;
        }
        p->opaque = true;
        for (size_t i = 0; i < ev->len; i++) {
            p->b64[p->b64_n++] = ev->data[i];
            b64_flush(p, false);
        }
        break;
    default:
        break;
    }
    return EAS_OK;
}

/* mb_u_int32 at *pos; false when it runs past the end or over 5 bytes. */
static bool read_mb(const unsigned char *d, size_t len, size_t *pos, uint32_t *v)
{
    uint32_t acc = 0;

    for (unsigned n = 0; n < 5u && *pos < len; n++) {
        unsigned char b = d[(*pos)++];
        acc = (acc << 7) | (b & 0x7Fu);
        if ((b & 0x80u) == 0u) {
            *v = acc;
            return true;
        }
    }
    return false;
}

/*
 * WBXML 1.1-1.3 header: version, publicid (0 = "string table index follows"), charset,
 * string table. EAS uses publicid 1; libwbxml writes its DTD's public identifier through the
 * string table (03 00 00 6A ...). The core decoder accepts only EAS's form, so the tool
 * reads the public id itself and hands the decoder the same document with publicid 1.
 * Returns how many bytes the rewrite removed (for error offsets); prints the identifier.
 */
static size_t normalise_header(unsigned char *doc, size_t *len)
{
    size_t pos = 1;
    uint32_t pubid = 0;
    uint32_t index = 0;
    uint32_t charset = 0;
    uint32_t tbl_len = 0;
    size_t pub_end;

    if (*len < 2 || doc[0] < 0x01u || doc[0] > 0x03u || !read_mb(doc, *len, &pos, &pubid)) {
        return 0; /* let the decoder name the error */
    }
    if (pubid == 0u && !read_mb(doc, *len, &pos, &index)) {
        return 0;
    }
    pub_end = pos;
    if (pubid == 1u) {
        return 0;
    }
    if (!read_mb(doc, *len, &pos, &charset) || !read_mb(doc, *len, &pos, &tbl_len) ||
        (pubid == 0u && (tbl_len > *len - pos || index >= tbl_len))) {
        return 0;
    }
    if (pubid == 0u) {
        const unsigned char *s = doc + pos + index;
        const unsigned char *nul = memchr(s, 0, tbl_len - index);
        size_t n = (nul != NULL) ? (size_t)(nul - s) : tbl_len - index;
        fputs("<!-- WBXML public identifier: ", stdout);
        for (size_t i = 0; i < n; i++) {
            /* printable ASCII only, and never "--" inside a comment */
            bool ok = s[i] >= 0x20u && s[i] < 0x7Fu &&
                      !(s[i] == '-' && i + 1 < n && s[i + 1] == '-');
            putchar(ok ? s[i] : '_');
        }
        fputs(" -->\n", stdout);
    } else {
        fprintf(stdout, "<!-- WBXML public identifier: %lu -->\n", (unsigned long)pubid);
        fprintf(stderr,
                "eas-wbxml: public identifier %lu is not EAS's 1; decoded with the EAS "
                "code pages\n",
                (unsigned long)pubid);
    }
    doc[1] = 0x01u;
    memmove(doc + 2, doc + pub_end, *len - pub_end);
    *len -= pub_end - 2;
    return pub_end - 2;
}

static int cmd_decode(const char *path)
{
    size_t len = 0;
    unsigned char *doc = read_all(path, &len);
    eas_wbxml_dec_t dec;
    printer_t p;
    uint8_t *strtbl = NULL;
    size_t shift;
    int err = EAS_OK;

    if (g_hex && unhex(doc, &len) != 0) {
        fprintf(stderr, "eas-wbxml: input is not hex\n");
        free(doc);
        return 1;
    }
    memset(&p, 0, sizeof(p));
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", stdout);
    shift = normalise_header(doc, &len);
    /* The string table is never longer than the document. */
    strtbl = malloc(len + 1);
    if (strtbl == NULL) {
        fprintf(stderr, "eas-wbxml: out of memory\n");
        exit(2);
    }
    eas_wbxml_dec_init(&dec, on_event, &p);
    eas_wbxml_dec_set_strtbl(&dec, strtbl, (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len));
    /* Every piece goes straight to stdout: a 72 KB body or a 10 MB attachment is fine. */
    eas_wbxml_dec_lift_length_limits(&dec);
    /* Fed in small chunks on purpose: the tool exercises the streaming path. */
    for (size_t off = 0; off < len && err == EAS_OK; off += 4096) {
        err = eas_wbxml_dec_feed(&dec, doc + off, (len - off < 4096) ? len - off : 4096);
    }
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(&dec);
    }
    fflush(stdout);
    if (err != EAS_OK) {
        unsigned long long at = (unsigned long long)eas_wbxml_dec_offset(&dec);
        fprintf(stderr, "\neas-wbxml: decode error at byte offset %llu: %s (%s)\n",
                at > 1u ? at + shift : at, eas_strerror(err), eas_err_name(err));
    }
    if (p.bad_utf8 != 0u || p.bad_ctrl != 0u) {
        fprintf(stderr,
                "eas-wbxml: replaced by U+FFFD to keep the XML well-formed: %lu invalid UTF-8 "
                "sequence(s), %lu control or non-XML character(s)\n",
                p.bad_utf8, p.bad_ctrl);
    }
    free(strtbl);
    free(doc);
    return err == EAS_OK ? 0 : 1;
}

/* ---------------------------------------------------------------- encode */

/* How an element's text is written. */
enum { TEXT_STR = 0, TEXT_BASE64, TEXT_LIBWBXML_BINARY };

typedef struct xenc {
    XML_Parser xp;
    eas_wbxml_enc_t enc;
    uint8_t buf[4096];
    char *text; /* character data of the innermost element */
    size_t text_len, text_cap;
    uint8_t opaque[EAS_WBXML_STACK_MAX * 4]; /* TEXT_* per open element */
    unsigned long raw_binary;                /* libwbxml binary fields that were not base64 */
    unsigned depth;
    int err;
    char msg[256];
} xenc_t;

static int out_flush(void *user, const uint8_t *d, size_t n)
{
    (void)user;
    if (g_hex) {
        for (size_t i = 0; i < n; i++) {
            printf("%02x", d[i]);
        }
    } else if (fwrite(d, 1, n, stdout) != n) {
        return EAS_ERR_IO;
    }
    return EAS_OK;
}

static void xfail(xenc_t *x, int err, const char *what, const char *arg)
{
    if (x->err == EAS_OK) {
        x->err = err;
        snprintf(x->msg, sizeof(x->msg), "%s%s", what, arg);
        XML_StopParser(x->xp, XML_FALSE);
    }
}

static int b64val(int c)
{
    const char *p = (c != 0) ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

/* Writes pending character data: text, or base64-decoded OPAQUE for opaque elements. */
static void flush_text(xenc_t *x)
{
    bool blank = true;
    for (size_t i = 0; i < x->text_len; i++) {
        if (!isspace((unsigned char)x->text[i])) {
            blank = false;
        }
    }
    if (x->depth > 0 && x->opaque[x->depth] == TEXT_LIBWBXML_BINARY && blank) {
        x->text_len = 0; /* libwbxml's empty binary field: an empty element */
        return;
    }
    if (x->depth > 0 && x->opaque[x->depth] != TEXT_STR) {
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        bool base64 = true;
        for (size_t i = 0; i < x->text_len && base64; i++) {
            unsigned char c = (unsigned char)x->text[i];
            base64 = b64val(c) >= 0 || c == '=' || isspace(c);
        }
        if (!base64 && x->opaque[x->depth] == TEXT_BASE64) {
            xfail(x, EAS_ERR_FORMAT, "invalid base64 in opaque element", "");
            return;
        }
        if (!base64) {
            /* libwbxml's convention is base64; raw text (a MIME message typed in) is sent
             * as its bytes, and said so at the end. */
            x->raw_binary++;
            o = x->text_len;
        }
        for (size_t i = 0; i < x->text_len && base64; i++) {
            int v = b64val((unsigned char)x->text[i]);
            if (v >= 0) {
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    x->text[o++] = (char)((acc >> bits) & 0xFF);
                }
            }
        }
        if (eas_wbxml_enc_opaque(&x->enc, (const uint8_t *)x->text, o) != EAS_OK) {
            xfail(x, x->enc.err, "encoder: ", eas_strerror(x->enc.err));
        }
        x->opaque[x->depth] = TEXT_STR; /* one OPAQUE item per element */
    } else if (!blank) {
        if (eas_wbxml_enc_text(&x->enc, x->text, x->text_len) != EAS_OK) {
            xfail(x, x->enc.err, "encoder: ", eas_strerror(x->enc.err));
        }
    }
    x->text_len = 0;
}

/*
 * Fields libwbxml 0.11 writes as OPAQUE from base64 text (found by encoding every tag of
 * every page with xml2wbxml; tools/eas-wbxml/check_eas_wbxml_tool.py checks the list).
 */
static const struct {
    const char *ns;
    const char *name;
} k_libwbxml_binary[] = {
    {"ComposeMail", "Mime"},
    {"Email2", "ConversationId"},
    {"Email2", "ConversationIndex"},
    {"Search", "ConversationId"},
    {"ItemOperations", "ConversationId"},
    {"AirSyncBase", "Content"},
    {"GAL", "Data"},
    {"ResolveRecipients", "Data"},
};

static bool libwbxml_binary(uint16_t tag)
{
    for (size_t i = 0; i < sizeof(k_libwbxml_binary) / sizeof(k_libwbxml_binary[0]); i++) {
        uint8_t page = 0;
        uint16_t t = 0;
        const char *ns = k_libwbxml_binary[i].ns;
        const char *nm = k_libwbxml_binary[i].name;
        if (eas_wbxml_page_lookup(ns, strlen(ns), &page) == EAS_OK &&
            eas_wbxml_tag_lookup(page, nm, strlen(nm), &t) == EAS_OK && t == tag) {
            return true;
        }
    }
    return false;
}

/* Namespace names in any case ("Gal:" is libwbxml's spelling of GAL). */
static int lookup_page(const char *ns, size_t len, uint8_t *page)
{
    int err = eas_wbxml_page_lookup(ns, len, page);

    if (len > 0 && ns[len - 1] == ':') {
        len--;
    }
    for (unsigned p = 0; p < 256u && err == EAS_ERR_NOT_FOUND; p++) {
        const char *n = eas_wbxml_page_name((uint8_t)p);
        bool same = (n != NULL) && strlen(n) == len;
        for (size_t i = 0; same && i < len; i++) {
            same = tolower((unsigned char)n[i]) == tolower((unsigned char)ns[i]);
        }
        if (same) {
            *page = (uint8_t)p;
            err = EAS_OK;
        }
    }
    return err;
}

/* Expat namespace mode: "URI\x01local" or "local" (no namespace). */
static int lookup_tag(const char *name, uint16_t *tag)
{
    const char *sep = strchr(name, '\x01');
    uint8_t page = 0;
    int err = EAS_ERR_NOT_FOUND;

    if (sep == NULL) {
        return EAS_ERR_NOT_FOUND; /* EAS elements always have a namespace */
    }
    err = lookup_page(name, (size_t)(sep - name), &page);
    if (err == EAS_OK) {
        const char *local = sep + 1;
        err = eas_wbxml_tag_lookup(page, local, strlen(local), tag);
        for (size_t i = 0; i < LIBWBXML_NAMES_COUNT && err == EAS_ERR_NOT_FOUND; i++) {
            if (EAS_TAG_PAGE(libwbxml_names[i].tag) == page &&
                strcmp(libwbxml_names[i].libwbxml, local) == 0) {
                *tag = libwbxml_names[i].tag;
                err = EAS_OK;
            }
        }
    }
    return err;
}

static void XMLCALL x_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    xenc_t *x = user;
    uint16_t tag = 0;

    if (x->err != EAS_OK) {
        return;
    }
    flush_text(x);
    int err = lookup_tag(name, &tag);
    if (err != EAS_OK) {
        const char *sep = strchr(name, '\x01');
        xfail(x, err, "unknown element or namespace: ", sep ? sep + 1 : name);
        return;
    }
    if (x->depth + 1 >= sizeof(x->opaque) / sizeof(x->opaque[0])) {
        xfail(x, EAS_ERR_LIMIT, "nesting too deep", "");
        return;
    }
    x->depth++;
    x->opaque[x->depth] = libwbxml_binary(tag) ? TEXT_LIBWBXML_BINARY : TEXT_STR;
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(atts[i], "opaque") == 0 && strcmp(atts[i + 1], "base64") == 0) {
            x->opaque[x->depth] = TEXT_BASE64;
        } else {
            xfail(x, EAS_ERR_FORMAT, "unexpected attribute (EAS elements have none): ", atts[i]);
            return;
        }
    }
    if (eas_wbxml_enc_start(&x->enc, tag) != EAS_OK) {
        xfail(x, x->enc.err, "encoder: ", eas_strerror(x->enc.err));
    }
}

static void XMLCALL x_end(void *user, const XML_Char *name)
{
    xenc_t *x = user;
    (void)name;

    if (x->err != EAS_OK) {
        return;
    }
    flush_text(x);
    x->depth--;
    if (eas_wbxml_enc_end(&x->enc) != EAS_OK) {
        xfail(x, x->enc.err, "encoder: ", eas_strerror(x->enc.err));
    }
}

static void XMLCALL x_chars(void *user, const XML_Char *s, int len)
{
    xenc_t *x = user;

    if (x->err != EAS_OK || x->depth == 0) {
        return;
    }
    if (x->text_len + (size_t)len + 1 > x->text_cap) {
        x->text_cap = (x->text_len + (size_t)len + 1) * 2;
        x->text = realloc(x->text, x->text_cap);
        if (x->text == NULL) {
            fprintf(stderr, "eas-wbxml: out of memory\n");
            exit(2);
        }
    }
    memcpy(x->text + x->text_len, s, (size_t)len);
    x->text_len += (size_t)len;
}

static int cmd_encode(const char *path)
{
    size_t len = 0;
    unsigned char *doc = read_all(path, &len);
    xenc_t *x = calloc(1, sizeof(*x));
    int rc = 1;

    if (x == NULL) {
        free(doc);
        return 2;
    }
    x->xp = XML_ParserCreateNS("UTF-8", '\x01');
    XML_SetUserData(x->xp, x);
    XML_SetElementHandler(x->xp, x_start, x_end);
    XML_SetCharacterDataHandler(x->xp, x_chars);
    eas_wbxml_enc_init(&x->enc, x->buf, sizeof(x->buf), out_flush, NULL);
    if (XML_Parse(x->xp, (const char *)doc, (int)len, XML_TRUE) == XML_STATUS_ERROR &&
        x->err == EAS_OK) {
        fprintf(stderr, "eas-wbxml: XML error at byte offset %lld (line %lu): %s\n",
                (long long)XML_GetCurrentByteIndex(x->xp),
                (unsigned long)XML_GetCurrentLineNumber(x->xp),
                XML_ErrorString(XML_GetErrorCode(x->xp)));
    } else if (x->err != EAS_OK) {
        fprintf(stderr, "eas-wbxml: encode error at byte offset %lld (line %lu): %s\n",
                (long long)XML_GetCurrentByteIndex(x->xp),
                (unsigned long)XML_GetCurrentLineNumber(x->xp), x->msg);
    } else if (eas_wbxml_enc_finish(&x->enc) != EAS_OK) {
        fprintf(stderr, "eas-wbxml: encode error at end of input: %s\n", eas_strerror(x->enc.err));
    } else {
        if (g_hex) {
            putchar('\n');
        }
        if (x->raw_binary != 0u) {
            fprintf(stderr,
                    "eas-wbxml: %lu binary field(s) (libwbxml writes them as base64) held "
                    "text that is not base64: sent as its bytes\n",
                    x->raw_binary);
        }
        rc = 0;
    }
    fflush(stdout);
    XML_ParserFree(x->xp);
    free(x->text);
    free(x);
    free(doc);
    return rc;
}

static void usage(void)
{
    fputs("usage: eas-wbxml decode [-x] [FILE]   WBXML -> XML (-x: input is hex)\n"
          "       eas-wbxml encode [-x] [FILE]   XML -> WBXML (-x: output hex)\n"
          "FILE defaults to stdin; output goes to stdout.\n",
          stderr);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int rc = 2;

    if (argc < 2) {
        usage();
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-x") == 0) {
            g_hex = true;
        } else if (path == NULL) {
            path = argv[i];
        } else {
            usage();
            return 2;
        }
    }
    if (strcmp(argv[1], "decode") == 0) {
        rc = cmd_decode(path);
    } else if (strcmp(argv[1], "encode") == 0) {
        rc = cmd_encode(path);
    } else {
        usage();
    }
    return rc;
}
