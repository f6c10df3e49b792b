/* SPDX-License-Identifier: Apache-2.0 */
#include "wbxml_ref.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wbxml/wbxml.h>

#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

/*
 * Debian's libwbxml2-dev installs only the conversion API. The parser API and the tables
 * are exported by the shared library but their headers are not installed, so the few
 * declarations the oracle needs are restated here from libwbxml 0.11's public headers
 * (wbxml_tables.h, wbxml_elt.h, wbxml_handlers.h, wbxml_parser.h).
 */
/* WBXMLTagEntry: {xmlName, wbxmlCodePage, wbxmlToken}, the layout of wbxml_ref_tag_t. */
typedef wbxml_ref_tag_t ref_tag_entry_t;

typedef struct ref_lang_entry {
    int lang_id;
    const void *public_id;
    const ref_tag_entry_t *tag_table;
    const void *ns_table;
    const void *attr_table;
    const void *attr_value_table;
    const void *ext_value_table;
} ref_lang_entry_t;

typedef struct ref_tag {
    int type; /* 0 = token, 1 = literal */
    union {
        const ref_tag_entry_t *token;
        void *literal;
    } u;
} ref_tag_t;

typedef struct ref_content_handler {
    void (*start_document)(void *ctx, int charset, const void *lang);
    void (*end_document)(void *ctx);
    void (*start_element)(void *ctx, ref_tag_t *tag, void **atts, unsigned char empty);
    void (*end_element)(void *ctx, ref_tag_t *tag, unsigned char empty);
    void (*characters)(void *ctx, unsigned char *ch, unsigned int start, unsigned int length);
    void (*pi)(void *ctx, const unsigned char *target, unsigned char *data);
} ref_content_handler_t;

typedef struct WBXMLParser_s WBXMLParser;
WBXMLParser *wbxml_parser_create(void);
void wbxml_parser_destroy(WBXMLParser *parser);
WBXMLError wbxml_parser_parse(WBXMLParser *parser, WB_UTINY *wbxml, WB_ULONG wbxml_len);
void wbxml_parser_set_user_data(WBXMLParser *parser, void *user_data);
void wbxml_parser_set_content_handler(WBXMLParser *parser, ref_content_handler_t *handler);
WB_BOOL wbxml_parser_set_language(WBXMLParser *parser, WBXMLLanguage lang);
const ref_lang_entry_t *wbxml_tables_get_table(WBXMLLanguage lang);

/* ---- canonical form ---- */

static void grow(char **p, size_t *cap, size_t need)
{
    if (need > *cap) {
        size_t n = (*cap == 0) ? 256 : *cap;
        while (n < need) {
            n *= 2;
        }
        char *q = realloc(*p, n);
        if (q == NULL) {
            abort();
        }
        *p = q;
        *cap = n;
    }
}

static void canon_put(wbxml_canon_t *c, const char *s, size_t n)
{
    grow(&c->s, &c->cap, c->len + n + 1);
    memcpy(c->s + c->len, s, n);
    c->len += n;
    c->s[c->len] = '\0';
}

static void canon_text(wbxml_canon_t *c, const uint8_t *d, size_t n)
{
    grow((char **)&c->text, &c->text_cap, c->text_len + n + 1);
    if (n > 0) {
        memcpy(c->text + c->text_len, d, n);
    }
    c->text_len += n;
}

static void canon_flush_text(wbxml_canon_t *c)
{
    static const char hex[] = "0123456789abcdef";
    if (c->text_len > 0) {
        grow(&c->s, &c->cap, c->len + 2 * c->text_len + 4);
        c->s[c->len++] = 'T';
        c->s[c->len++] = ' ';
        for (size_t i = 0; i < c->text_len; i++) {
            c->s[c->len++] = hex[c->text[i] >> 4];
            c->s[c->len++] = hex[c->text[i] & 15];
        }
        c->s[c->len++] = '\n';
        c->s[c->len] = '\0';
        c->text_len = 0;
    }
}

static void canon_start(wbxml_canon_t *c, unsigned page, unsigned token)
{
    char line[16];
    canon_flush_text(c);
    int n = snprintf(line, sizeof(line), "S %02x%02x\n", page, token);
    canon_put(c, line, (size_t)n);
}

static void canon_end(wbxml_canon_t *c)
{
    canon_flush_text(c);
    canon_put(c, "E\n", 2);
}

void wbxml_canon_free(wbxml_canon_t *c)
{
    free(c->s);
    free(c->text);
    memset(c, 0, sizeof(*c));
}

/* ---- our decoder ---- */

static int ours_cb(void *user, const eas_wbxml_event_t *ev)
{
    wbxml_canon_t *c = user;
    switch (ev->type) {
    case EAS_WBXML_EV_START:
        canon_start(c, EAS_TAG_PAGE(ev->tag), EAS_TAG_TOKEN(ev->tag));
        break;
    case EAS_WBXML_EV_END:
        canon_end(c);
        break;
    case EAS_WBXML_EV_TEXT:
    case EAS_WBXML_EV_OPAQUE:
        canon_text(c, ev->data, ev->len);
        break;
    default:
        break;
    }
    return EAS_OK;
}

static int ours_feed_pieces(const uint8_t *doc, size_t len, const size_t *cuts, size_t ncuts,
                            size_t chunk, wbxml_canon_t *out)
{
    eas_wbxml_dec_t dec;
    static uint8_t strtbl[4096];
    int err = EAS_OK;
    size_t off = 0, c = 0;

    memset(out, 0, sizeof(*out));
    canon_put(out, "", 0);
    eas_wbxml_dec_init(&dec, ours_cb, out);
    eas_wbxml_dec_set_strtbl(&dec, strtbl, sizeof(strtbl));
    while (off < len && err == EAS_OK) {
        size_t end = len;
        if (c < ncuts) {
            end = cuts[c++];
        } else if (chunk != 0 && len - off > chunk) {
            end = off + chunk;
        }
        size_t n = end - off;
        uint8_t *piece = malloc(n ? n : 1); /* exact size: over-reads trip ASan */
        memcpy(piece, doc + off, n);
        err = eas_wbxml_dec_feed(&dec, piece, n);
        free(piece);
        off = end;
    }
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(&dec);
    }
    return err;
}

int wbxml_ours_canon(const uint8_t *doc, size_t len, size_t chunk, wbxml_canon_t *out)
{
    return ours_feed_pieces(doc, len, NULL, 0, chunk, out);
}

int wbxml_ours_canon_split(const uint8_t *doc, size_t len, size_t split, wbxml_canon_t *out)
{
    return ours_feed_pieces(doc, len, &split, 1, 0, out);
}

/* ---- libwbxml ---- */

static void ref_start(void *ctx, ref_tag_t *tag, void **atts, unsigned char empty)
{
    (void)atts;
    (void)empty;
    if (tag->type == 0) {
        canon_start(ctx, tag->u.token->page, tag->u.token->token);
    } else {
        canon_start(ctx, 0xFF, 0xFF); /* literal: never equal to ours */
    }
}

static void ref_end(void *ctx, ref_tag_t *tag, unsigned char empty)
{
    (void)tag;
    (void)empty;
    canon_end(ctx);
}

static void ref_chars(void *ctx, unsigned char *ch, unsigned int start, unsigned int length)
{
    canon_text(ctx, ch + start, length);
}

int wbxml_ref_canon(const uint8_t *doc, size_t len, wbxml_canon_t *out)
{
    ref_content_handler_t h = {NULL, NULL, ref_start, ref_end, ref_chars, NULL};
    WBXMLParser *p = wbxml_parser_create();
    int err = WBXML_ERROR_NOT_ENOUGH_MEMORY;

    memset(out, 0, sizeof(*out));
    canon_put(out, "", 0);
    if (p != NULL) {
        wbxml_parser_set_user_data(p, out);
        wbxml_parser_set_content_handler(p, &h);
        wbxml_parser_set_language(p, WBXML_LANG_ACTIVESYNC);
        /* libwbxml's parser takes a non-const pointer but does not write through it. */
        err = (int)wbxml_parser_parse(p, (WB_UTINY *)(uintptr_t)doc, (WB_ULONG)len);
        wbxml_parser_destroy(p);
    }
    return err;
}

/* Counting handlers: the cheapest use of libwbxml's parser (benchmark). */
static void cnt_start(void *ctx, ref_tag_t *tag, void **atts, unsigned char empty)
{
    (void)tag;
    (void)atts;
    (void)empty;
    (*(size_t *)ctx)++;
}

static void cnt_end(void *ctx, ref_tag_t *tag, unsigned char empty)
{
    (void)tag;
    (void)empty;
    (*(size_t *)ctx)++;
}

static void cnt_chars(void *ctx, unsigned char *ch, unsigned int start, unsigned int length)
{
    (void)ch;
    (void)start;
    (void)length;
    (*(size_t *)ctx)++;
}

int wbxml_ref_count(const uint8_t *doc, size_t len, size_t *events)
{
    ref_content_handler_t h = {NULL, NULL, cnt_start, cnt_end, cnt_chars, NULL};
    WBXMLParser *p = wbxml_parser_create();
    int err = WBXML_ERROR_NOT_ENOUGH_MEMORY;

    *events = 0;
    if (p != NULL) {
        wbxml_parser_set_user_data(p, events);
        wbxml_parser_set_content_handler(p, &h);
        wbxml_parser_set_language(p, WBXML_LANG_ACTIVESYNC);
        err = (int)wbxml_parser_parse(p, (WB_UTINY *)(uintptr_t)doc, (WB_ULONG)len);
        wbxml_parser_destroy(p);
    }
    return err;
}

/* libwbxml's tree builder (what its conversion functions use). */
typedef struct WBXMLTree_s WBXMLTree;
WBXMLError wbxml_tree_from_wbxml(WB_UTINY *wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                 WBXMLCharsetMIBEnum charset, WBXMLTree **tree);
void wbxml_tree_destroy(WBXMLTree *tree);

int wbxml_ref_tree(const uint8_t *doc, size_t len)
{
    WBXMLTree *tree = NULL;
    int err = (int)wbxml_tree_from_wbxml((WB_UTINY *)(uintptr_t)doc, (WB_ULONG)len,
                                         WBXML_LANG_ACTIVESYNC, WBXML_CHARSET_UTF_8, &tree);
    if (tree != NULL) {
        wbxml_tree_destroy(tree);
    }
    return err;
}

const wbxml_ref_tag_t *wbxml_ref_tags(void)
{
    const ref_lang_entry_t *lang = wbxml_tables_get_table(WBXML_LANG_ACTIVESYNC);
    return (lang != NULL) ? lang->tag_table : NULL;
}

char *wbxml_ref_to_xml(const uint8_t *doc, size_t len)
{
    WBXMLConvWBXML2XML *conv = NULL;
    WB_UTINY *xml = NULL;
    WB_ULONG xml_len = 0;

    if (wbxml_conv_wbxml2xml_create(&conv) == WBXML_OK) {
        wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_ACTIVESYNC);
        wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_INDENT);
        if (wbxml_conv_wbxml2xml_run(conv, (WB_UTINY *)(uintptr_t)doc, (WB_ULONG)len, &xml,
                                     &xml_len) != WBXML_OK) {
            xml = NULL;
        }
        wbxml_conv_wbxml2xml_destroy(conv);
    }
    return (char *)xml;
}

/* ---- vectors ---- */

#include <ctype.h>
#include <dirent.h>

static int vec_cmp(const void *a, const void *b)
{
    return strcmp(((const wbxml_vector_t *)a)->name, ((const wbxml_vector_t *)b)->name);
}

static int load_one(const char *path, wbxml_vector_t *v)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t cap = 4096;
    int hi = -1;

    if (f == NULL) {
        return -1;
    }
    v->data = malloc(cap);
    v->len = 0;
    v->has_ref = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#') {
            if (strncmp(line, "# ref: libwbxml", 15) == 0) {
                v->has_ref = 1;
            }
            continue;
        }
        for (char *p = line; *p != '\0'; p++) {
            if (isxdigit((unsigned char)*p)) {
                int d =
                    isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
                if (hi < 0) {
                    hi = d;
                } else {
                    if (v->len == cap) {
                        cap *= 2;
                        v->data = realloc(v->data, cap);
                    }
                    v->data[v->len++] = (uint8_t)(hi << 4 | d);
                    hi = -1;
                }
            }
        }
    }
    fclose(f);
    /* Exact-size copy: a decoder reading past the end trips ASan. */
    uint8_t *exact = malloc(v->len ? v->len : 1);
    memcpy(exact, v->data, v->len);
    free(v->data);
    v->data = exact;
    return hi < 0 ? 0 : -1;
}

size_t wbxml_vectors_load(const char *dir, wbxml_vector_t **out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    wbxml_vector_t *v = NULL;
    size_t n = 0;

    *out = NULL;
    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char path[512];
        if (l < 5 || strcmp(e->d_name + l - 4, ".hex") != 0 || l - 4 >= sizeof(v->name)) {
            continue;
        }
        v = realloc(v, (n + 1) * sizeof(*v));
        memset(&v[n], 0, sizeof(v[n]));
        memcpy(v[n].name, e->d_name, l - 4);
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (load_one(path, &v[n]) != 0) {
            free(v[n].data);
            continue;
        }
        n++;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), vec_cmp);
    *out = v;
    return n;
}

void wbxml_vectors_free(wbxml_vector_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].data);
    }
    free(v);
}
