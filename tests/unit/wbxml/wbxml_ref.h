/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support shared by the WBXML unit tests, fuzz harnesses and the benchmark: a
 * canonical form of a decoded document, produced by our decoder and by libwbxml's parser
 * (the reference), so that both can be compared by code page and token.
 *
 * Canonical form, one line per item:
 *   "S pptt\n"   start tag (page, token in hex)
 *   "E\n"        end tag
 *   "T <hex>\n"  the element's character data (text and opaque, adjacent pieces merged)
 */
#ifndef WBXML_REF_H
#define WBXML_REF_H

#include <stddef.h>
#include <stdint.h>

/** Growable byte string (tests only: malloc is fine here). */
typedef struct wbxml_canon {
    char *s;
    size_t len;
    size_t cap;
    /* internal: pending character data */
    uint8_t *text;
    size_t text_len;
    size_t text_cap;
} wbxml_canon_t;

void wbxml_canon_free(wbxml_canon_t *c);

/** Decode with our decoder, feeding @p chunk bytes at a time (0 = all at once).
 *  Returns the eas_err_t of feed/finish. */
int wbxml_ours_canon(const uint8_t *doc, size_t len, size_t chunk, wbxml_canon_t *out);

/** Decode with our decoder in exactly two chunks: [0, split) and [split, len). */
int wbxml_ours_canon_split(const uint8_t *doc, size_t len, size_t split, wbxml_canon_t *out);

/** Decode with libwbxml's parser (language forced to ActiveSync).
 *  Returns libwbxml's WBXMLError (0 = WBXML_OK). */
int wbxml_ref_canon(const uint8_t *doc, size_t len, wbxml_canon_t *out);

/** libwbxml's parser with handlers that only count events (benchmark baseline). */
int wbxml_ref_count(const uint8_t *doc, size_t len, size_t *events);

/** libwbxml's tree builder: parse into a tree and free it. */
int wbxml_ref_tree(const uint8_t *doc, size_t len);

/** One entry of libwbxml's ActiveSync tag table. */
typedef struct wbxml_ref_tag {
    const char *name;
    uint8_t page;
    uint8_t token;
} wbxml_ref_tag_t;

/** libwbxml's ActiveSync tag table (terminated by name == NULL). */
const wbxml_ref_tag_t *wbxml_ref_tags(void);

/** libwbxml's XML conversion (for printing in failure messages). Caller frees. */
char *wbxml_ref_to_xml(const uint8_t *doc, size_t len);

/* ---- golden vectors (tests/vectors/ *.hex, relative to the source tree) ---- */
typedef struct wbxml_vector {
    char name[64];
    uint8_t *data; /* exactly len bytes on the heap, so ASan sees any over-read */
    size_t len;
    int has_ref; /* libwbxml can decode it ("# ref: libwbxml") */
} wbxml_vector_t;

/** Loads every vector from @p dir; returns the count (0 on error). Free with
 *  wbxml_vectors_free(). */
size_t wbxml_vectors_load(const char *dir, wbxml_vector_t **out);
void wbxml_vectors_free(wbxml_vector_t *v, size_t n);
#endif
