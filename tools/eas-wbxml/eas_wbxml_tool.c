/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eas-wbxml: convert between EAS WBXML and XML with easd's own codec.
 *
 *   eas-wbxml decode [-x] [FILE]   WBXML (or hex with -x) -> XML on stdout
 *   eas-wbxml encode [-x] [FILE]   XML -> WBXML (or hex with -x) on stdout
 *
 * XML uses ActiveSync namespaces as default namespaces (<Sync xmlns="AirSync:">) and
 * MS-ASWBXML element names; encode also accepts libwbxml's names (Recurrence_Type, ...)
 * and prefixed namespaces. OPAQUE data appears as <Data opaque="base64">...</Data>.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "hal/hal_log.h"
#include "libwbxml_names.h"

/* The tool links the core without a port: its log lines go to stderr. */
void hal_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len)
{
    fprintf(stderr, "[%d] %s: %.*s\n", (int)level, module, (int)len, msg);
}

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

static void print_escaped(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (d[i]) {
        case '<':
            fputs("&lt;", stdout);
            break;
        case '>':
            fputs("&gt;", stdout);
            break;
        case '&':
            fputs("&amp;", stdout);
            break;
        default:
            putchar(d[i]);
            break;
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
        print_escaped(ev->data, ev->len);
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

static int cmd_decode(const char *path)
{
    size_t len = 0;
    unsigned char *doc = read_all(path, &len);
    eas_wbxml_dec_t dec;
    printer_t p;
    static uint8_t strtbl[4096];
    int err = EAS_OK;

    if (g_hex && unhex(doc, &len) != 0) {
        fprintf(stderr, "eas-wbxml: input is not hex\n");
        free(doc);
        return 1;
    }
    memset(&p, 0, sizeof(p));
    eas_wbxml_dec_init(&dec, on_event, &p);
    eas_wbxml_dec_set_strtbl(&dec, strtbl, sizeof(strtbl));
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", stdout);
    /* Fed in small chunks on purpose: the tool exercises the streaming path. */
    for (size_t off = 0; off < len && err == EAS_OK; off += 4096) {
        err = eas_wbxml_dec_feed(&dec, doc + off, (len - off < 4096) ? len - off : 4096);
    }
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(&dec);
    }
    fflush(stdout);
    if (err != EAS_OK) {
        fprintf(stderr, "\neas-wbxml: decode error at byte offset %llu: %s (%s)\n",
                (unsigned long long)eas_wbxml_dec_offset(&dec), eas_strerror(err),
                eas_err_name(err));
    }
    free(doc);
    return err == EAS_OK ? 0 : 1;
}

/* ---------------------------------------------------------------- encode */

typedef struct xenc {
    XML_Parser xp;
    eas_wbxml_enc_t enc;
    uint8_t buf[4096];
    char *text; /* character data of the innermost element */
    size_t text_len, text_cap;
    bool opaque[EAS_WBXML_STACK_MAX * 4];
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
    if (x->depth > 0 && x->opaque[x->depth]) {
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < x->text_len; i++) {
            int v = b64val((unsigned char)x->text[i]);
            if (v >= 0) {
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    x->text[o++] = (char)((acc >> bits) & 0xFF);
                }
            } else if (x->text[i] != '=' && !isspace((unsigned char)x->text[i])) {
                xfail(x, EAS_ERR_FORMAT, "invalid base64 in opaque element", "");
                return;
            }
        }
        if (eas_wbxml_enc_opaque(&x->enc, (const uint8_t *)x->text, o) != EAS_OK) {
            xfail(x, x->enc.err, "encoder: ", eas_strerror(x->enc.err));
        }
        x->opaque[x->depth] = false; /* one OPAQUE item per element */
    } else if (!blank) {
        if (eas_wbxml_enc_text(&x->enc, x->text, x->text_len) != EAS_OK) {
            xfail(x, x->enc.err, "encoder: ", eas_strerror(x->enc.err));
        }
    }
    x->text_len = 0;
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
    err = eas_wbxml_page_lookup(name, (size_t)(sep - name), &page);
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
    x->opaque[x->depth] = false;
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(atts[i], "opaque") == 0 && strcmp(atts[i + 1], "base64") == 0) {
            x->opaque[x->depth] = true;
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
