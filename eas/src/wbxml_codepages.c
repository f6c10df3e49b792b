/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAS code page tables. The token bitmaps are always compiled in (the decoder validates
 * every tag against them); the name pool only with CONFIG_EAS_WBXML_NAMES, because on a
 * device names are only needed for logs and tools. Both come from
 * tools/eas-wbxml/gen-codepages.py so they cannot drift from eas_wbxml_tags.h.
 */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

#define N_ 0xFFFFu
#include "wbxml_codepages_gen.h"

bool eas_wbxml_tag_known(uint16_t tag)
{
    uint8_t page = (uint8_t)(tag >> 8);
    uint8_t token = (uint8_t)(tag & 0xFFu);
    bool known = false;

    if (page < EAS_PAGE_COUNT && token < 64u) {
        known = ((eas_wbxml_known_[page] >> token) & 1u) != 0u;
    }
    return known;
}

#if CONFIG_EAS_WBXML_NAMES

const char *eas_wbxml_tag_name(uint16_t tag)
{
    const char *name = NULL;

    if (eas_wbxml_tag_known(tag)) {
        uint16_t off = eas_wbxml_tag_name_[tag >> 8][(tag & 0x3Fu) - 5u];
        name = &eas_wbxml_pool_[off];
    }
    return name;
}

const char *eas_wbxml_page_name(uint8_t page)
{
    const char *name = NULL;

    if (page < EAS_PAGE_COUNT) {
        name = &eas_wbxml_pool_[eas_wbxml_page_name_[page]];
    }
    return name;
}

/* Compares a counted name with a NUL-terminated pool entry. */
static bool name_eq(const char *pooled, const char *name, size_t len)
{
    return strncmp(pooled, name, len) == 0 && pooled[len] == '\0';
}

int eas_wbxml_tag_lookup(uint8_t page, const char *name, size_t name_len, uint16_t *tag)
{
    int err = EAS_ERR_NOT_FOUND;

    if (name == NULL || tag == NULL) {
        err = EAS_ERR_PARAM;
    } else if (page < EAS_PAGE_COUNT) {
        /* Linear scan: tools and logs only, at most 59 entries per page. */
        for (unsigned t = 5; t < 64u && err != EAS_OK; t++) {
            uint16_t off = eas_wbxml_tag_name_[page][t - 5u];
            if (off != N_ && name_eq(&eas_wbxml_pool_[off], name, name_len)) {
                *tag = (uint16_t)((page << 8) | t);
                err = EAS_OK;
            }
        }
        for (size_t i = 0;
             i < sizeof(eas_wbxml_alias_) / sizeof(eas_wbxml_alias_[0]) && err != EAS_OK; i++) {
            if ((eas_wbxml_alias_[i].tag >> 8) == page &&
                name_eq(eas_wbxml_alias_[i].name, name, name_len)) {
                *tag = eas_wbxml_alias_[i].tag;
                err = EAS_OK;
            }
        }
    }
    return err;
}

int eas_wbxml_page_lookup(const char *ns, size_t ns_len, uint8_t *page)
{
    int err = EAS_ERR_NOT_FOUND;

    if (ns == NULL || page == NULL) {
        err = EAS_ERR_PARAM;
    } else {
        /* Accept "AirSync" and the XML namespace form "AirSync:". */
        if (ns_len > 0 && ns[ns_len - 1] == ':') {
            ns_len--;
        }
        for (uint8_t p = 0; p < EAS_PAGE_COUNT && err != EAS_OK; p++) {
            if (name_eq(&eas_wbxml_pool_[eas_wbxml_page_name_[p]], ns, ns_len)) {
                *page = p;
                err = EAS_OK;
            }
        }
    }
    return err;
}

#else /* !CONFIG_EAS_WBXML_NAMES */

const char *eas_wbxml_tag_name(uint16_t tag)
{
    (void)tag;
    return NULL;
}

const char *eas_wbxml_page_name(uint8_t page)
{
    (void)page;
    return NULL;
}

int eas_wbxml_tag_lookup(uint8_t page, const char *name, size_t name_len, uint16_t *tag)
{
    (void)page;
    (void)name;
    (void)name_len;
    (void)tag;
    return EAS_ERR_UNSUPPORTED;
}

int eas_wbxml_page_lookup(const char *ns, size_t ns_len, uint8_t *page)
{
    (void)ns;
    (void)ns_len;
    (void)page;
    return EAS_ERR_UNSUPPORTED;
}

#endif /* CONFIG_EAS_WBXML_NAMES */
