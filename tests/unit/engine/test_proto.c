/* SPDX-License-Identifier: Apache-2.0 */
/* Command modules: requests decode to the documented structure; server responses built with
 * the encoder parse into the right results when fed in one piece and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas.h"
#include "eas/eas_wbxml.h"
#include "eas_proto.h"
#include "tag_names.h"
#include "test_hal.h"

static uint8_t doc[16384];
static size_t doc_len;
static uint8_t encbuf[64];

static int flush_doc(void *u, const uint8_t *d, size_t n)
{
    (void)u;
    if (n > sizeof(doc) - doc_len) {
        return EAS_ERR_NOMEM;
    }
    memcpy(doc + doc_len, d, n);
    doc_len += n;
    return EAS_OK;
}

static void enc_begin(eas_wbxml_enc_t *e)
{
    doc_len = 0;
    eas_wbxml_enc_init(e, encbuf, sizeof(encbuf), flush_doc, NULL);
}

/* Feed doc to a parser in one piece (step 0) or in pieces of `step` bytes. */
static int feed(eas_wbxml_cb_t cb, void *parser, size_t step)
{
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, cb, parser);
    int err = EAS_OK;
    if (step == 0) {
        err = eas_wbxml_dec_feed(&dec, doc, doc_len);
    } else {
        for (size_t i = 0; i < doc_len && err == EAS_OK; i += step) {
            size_t n = doc_len - i < step ? doc_len - i : step;
            err = eas_wbxml_dec_feed(&dec, doc + i, n);
        }
    }
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(&dec);
    }
    return err;
}

/* ---- a recorder that flattens any document to "Tag(Tag(text)...)" for request checks ---- */
static char flat[4096];
static int rec_cb(void *u, const eas_wbxml_event_t *ev)
{
    (void)u;
    size_t l = strlen(flat);
    const char *name = test_tag_name(ev->tag);
    if (ev->type == EAS_WBXML_EV_START) {
        snprintf(flat + l, sizeof(flat) - l, "<%s>", name ? name : "?");
    } else if (ev->type == EAS_WBXML_EV_END) {
        snprintf(flat + l, sizeof(flat) - l, "</>");
    } else if (ev->type == EAS_WBXML_EV_TEXT) {
        snprintf(flat + l, sizeof(flat) - l, "%.*s", (int)ev->len, (const char *)ev->data);
    }
    return EAS_OK;
}

static const char *flatten(void)
{
    flat[0] = '\0';
    assert_int_equal(feed(rec_cb, NULL, 0), EAS_OK);
    return flat;
}

/* ================================ Provision ================================ */

static void test_provision_requests(void **st)
{
    (void)st;
    eas_wbxml_enc_t e;
    eas_prov_req_t r = {.kind = EAS_PROV_REQ_POLICY, .version = EAS_VER_14_1};
    enc_begin(&e);
    eas_proto_provision_build(&e, &r);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Provision><DeviceInformation><Set><Model>easd</></></>"
                                   "<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</>"
                                   "</></></>");
    r.version = EAS_VER_12_1;
    enc_begin(&e);
    eas_proto_provision_build(&e, &r);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Provision><Policies><Policy><PolicyType>"
                                   "MS-EAS-Provisioning-WBXML</></></></>");
    r.kind = EAS_PROV_REQ_ACK;
    r.policy_key = "1307199584";
    r.ack_status = 2;
    enc_begin(&e);
    eas_proto_provision_build(&e, &r);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Provision><Policies><Policy><PolicyType>"
                                   "MS-EAS-Provisioning-WBXML</><PolicyKey>1307199584</>"
                                   "<Status>2</></></></>");
    r.kind = EAS_PROV_REQ_WIPE_ACK;
    enc_begin(&e);
    eas_proto_provision_build(&e, &r);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Provision><RemoteWipe><Status>1</></></>");
}

/* ================================ Settings ================================ */

/* The response's overall and DeviceInformation statuses are kept apart; the status of a part
   we did not ask for (Oof) is not taken for ours; another root is refused. */
static void test_settings_parse(void **st)
{
    (void)st;
    eas_wbxml_enc_t e;
    for (size_t step = 0; step <= 2; step++) {
        enc_begin(&e);
        eas_wbxml_enc_start(&e, EAS_SETTINGS_SETTINGS);
        eas_wbxml_enc_elem_uint(&e, EAS_SETTINGS_STATUS, 1);
        eas_wbxml_enc_start(&e, EAS_SETTINGS_OOF);
        eas_wbxml_enc_elem_uint(&e, EAS_SETTINGS_STATUS, 9);
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_start(&e, EAS_SETTINGS_DEVICE_INFORMATION);
        eas_wbxml_enc_elem_uint(&e, EAS_SETTINGS_STATUS, 5);
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_end(&e);
        assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
        eas_settings_parser_t p;
        eas_proto_settings_parser_init(&p);
        assert_int_equal(feed(eas_proto_settings_event, &p, step), EAS_OK);
        assert_int_equal(p.status, 1);
        assert_int_equal(p.di_status, 5);
    }
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
    eas_wbxml_enc_elem_uint(&e, EAS_PROVISION_STATUS, 1);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_settings_parser_t p;
    eas_proto_settings_parser_init(&p);
    assert_int_equal(feed(eas_proto_settings_event, &p, 0), EAS_ERR_PROTO);
    /* A status that is not a number is malformed, not "absent". */
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_SETTINGS_SETTINGS);
    eas_wbxml_enc_elem_text(&e, EAS_SETTINGS_STATUS, "one");
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_proto_settings_parser_init(&p);
    assert_int_equal(feed(eas_proto_settings_event, &p, 0), EAS_ERR_PROTO);
    /* Request: the device description only (NULL members left out, Model defaulted). */
    eas_device_info_t di = {NULL, "Hall", NULL, "fr-FR"};
    enc_begin(&e);
    assert_int_equal(eas_proto_settings_build(&e, &di, NULL), EAS_OK);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Settings><DeviceInformation><Set><Model>easd</>"
                                   "<FriendlyName>Hall</><OSLanguage>fr-FR</></></></>");
}

static int settings_seen;
static uint16_t last_setting;
static char last_value[80];
static int on_setting(void *u, uint16_t tag, const char *value)
{
    (void)u;
    settings_seen++;
    last_setting = tag;
    snprintf(last_value, sizeof(last_value), "%s", value);
    return EAS_OK;
}

static void build_prov_response(const char *key, int wipe)
{
    eas_wbxml_enc_t e;
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_PROVISION_PROVISION);
    eas_wbxml_enc_elem_uint(&e, EAS_PROVISION_STATUS, 1);
    eas_wbxml_enc_start(&e, EAS_PROVISION_POLICIES);
    eas_wbxml_enc_start(&e, EAS_PROVISION_POLICY);
    eas_wbxml_enc_elem_text(&e, EAS_PROVISION_POLICY_TYPE, "MS-EAS-Provisioning-WBXML");
    eas_wbxml_enc_elem_uint(&e, EAS_PROVISION_STATUS, 1);
    eas_wbxml_enc_elem_text(&e, EAS_PROVISION_POLICY_KEY, key);
    eas_wbxml_enc_start(&e, EAS_PROVISION_DATA);
    eas_wbxml_enc_start(&e, EAS_PROVISION_EAS_PROVISION_DOC);
    eas_wbxml_enc_elem_uint(&e, EAS_PROVISION_DEVICE_PASSWORD_ENABLED, 1);
    eas_wbxml_enc_elem_uint(&e, EAS_PROVISION_MIN_DEVICE_PASSWORD_LENGTH, 6);
    eas_wbxml_enc_elem_uint(&e, EAS_PROVISION_REQUIRE_DEVICE_ENCRYPTION, 1);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    if (wipe) {
        eas_wbxml_enc_elem_empty(&e, EAS_PROVISION_REMOTE_WIPE);
    }
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
}

static void test_provision_parse(void **st)
{
    (void)st;
    for (size_t step = 0; step <= 3; step++) {
        build_prov_response("3942919513", 0);
        eas_prov_parser_t p;
        settings_seen = 0;
        eas_proto_provision_parser_init(&p, on_setting, NULL);
        assert_int_equal(feed(eas_proto_provision_event, &p, step), EAS_OK);
        assert_int_equal(p.status, 1);
        assert_int_equal(p.policy_status, 1);
        assert_true(p.has_policy_key);
        assert_true(p.wbxml_policy);
        assert_string_equal(p.policy_key, "3942919513");
        assert_false(p.remote_wipe);
        assert_int_equal(settings_seen, 3);
        assert_int_equal(last_setting, EAS_PROVISION_REQUIRE_DEVICE_ENCRYPTION);
        assert_string_equal(last_value, "1");
    }
    build_prov_response("1", 1);
    eas_prov_parser_t p;
    eas_proto_provision_parser_init(&p, NULL, NULL);
    assert_int_equal(feed(eas_proto_provision_event, &p, 0), EAS_OK);
    assert_true(p.remote_wipe);

    /* A key longer than the protocol allows is a protocol error, not a truncation. */
    char longkey[80];
    memset(longkey, '7', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    build_prov_response(longkey, 0);
    eas_proto_provision_parser_init(&p, NULL, NULL);
    assert_int_equal(feed(eas_proto_provision_event, &p, 0), EAS_ERR_PROTO);
}

/* ================================ FolderSync ================================ */

static eas_proto_folder_t fs_seen[8];
static int fs_n;
static int on_folder(void *u, const eas_proto_folder_t *f)
{
    (void)u;
    if (fs_n < 8) {
        fs_seen[fs_n] = *f;
    }
    fs_n++;
    return EAS_OK;
}

static void fs_change(eas_wbxml_enc_t *e, uint16_t op, const char *id, const char *parent,
                      const char *name, int type)
{
    eas_wbxml_enc_start(e, op);
    eas_wbxml_enc_elem_text(e, EAS_FOLDERHIERARCHY_SERVER_ID, id);
    if (parent) {
        eas_wbxml_enc_elem_text(e, EAS_FOLDERHIERARCHY_PARENT_ID, parent);
        eas_wbxml_enc_elem_text(e, EAS_FOLDERHIERARCHY_DISPLAY_NAME, name);
        eas_wbxml_enc_elem_uint(e, EAS_FOLDERHIERARCHY_TYPE, (uint32_t)type);
    }
    eas_wbxml_enc_end(e);
}

static void test_foldersync(void **st)
{
    (void)st;
    eas_wbxml_enc_t e;
    enc_begin(&e);
    eas_proto_foldersync_build(&e, "0");
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<FolderSync><SyncKey>0</></>");

    /* 70 x "é" (2 bytes each): truncated on a character boundary. */
    char longname[200] = "";
    for (int i = 0; i < 70; i++) {
        strcat(longname, "\xc3\xa9");
    }
    for (size_t step = 0; step <= 2; step++) {
        enc_begin(&e);
        eas_wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
        eas_wbxml_enc_elem_uint(&e, EAS_FOLDERHIERARCHY_STATUS, 1);
        eas_wbxml_enc_elem_text(&e, EAS_FOLDERHIERARCHY_SYNC_KEY, "vm_3902_30bc0797_0");
        eas_wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_CHANGES);
        eas_wbxml_enc_elem_uint(&e, EAS_FOLDERHIERARCHY_COUNT, 3);
        fs_change(&e, EAS_FOLDERHIERARCHY_ADD, "vevent%2Fpersonal", "0", "Personal Calendar", 8);
        fs_change(&e, EAS_FOLDERHIERARCHY_UPDATE, "mail%2FINBOX", "0", longname, 2);
        fs_change(&e, EAS_FOLDERHIERARCHY_DELETE, "old", NULL, NULL, 0);
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_end(&e);
        assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
        eas_fs_parser_t p;
        fs_n = 0;
        eas_proto_foldersync_parser_init(&p, on_folder, NULL);
        assert_int_equal(feed(eas_proto_foldersync_event, &p, step), EAS_OK);
        assert_int_equal(p.status, 1);
        assert_string_equal(p.sync_key, "vm_3902_30bc0797_0");
        assert_int_equal(fs_n, 3);
        assert_int_equal(fs_seen[0].op, EAS_ITEM_ADD);
        assert_string_equal(fs_seen[0].server_id, "vevent%2Fpersonal");
        assert_string_equal(fs_seen[0].display_name, "Personal Calendar");
        assert_int_equal(fs_seen[0].type, 8);
        assert_int_equal(fs_seen[1].op, EAS_ITEM_CHANGE);
        assert_int_equal(strlen(fs_seen[1].display_name), 64);
        assert_memory_equal(fs_seen[1].display_name, longname, 64);
        assert_int_equal(fs_seen[2].op, EAS_ITEM_DELETE);
        assert_string_equal(fs_seen[2].server_id, "old");
    }
    /* Status 9 (invalid key) carries no changes. */
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
    eas_wbxml_enc_elem_uint(&e, EAS_FOLDERHIERARCHY_STATUS, 9);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_fs_parser_t p;
    eas_proto_foldersync_parser_init(&p, on_folder, NULL);
    assert_int_equal(feed(eas_proto_foldersync_event, &p, 0), EAS_OK);
    assert_int_equal(p.status, 9);
    assert_false(p.has_sync_key);
    /* An Add without ServerId is malformed. */
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
    eas_wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_CHANGES);
    eas_wbxml_enc_start(&e, EAS_FOLDERHIERARCHY_ADD);
    eas_wbxml_enc_elem_uint(&e, EAS_FOLDERHIERARCHY_TYPE, 8);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_proto_foldersync_parser_init(&p, on_folder, NULL);
    assert_int_equal(feed(eas_proto_foldersync_event, &p, 0), EAS_ERR_PROTO);
    /* Not a FolderSync document at all. */
    enc_begin(&e);
    eas_wbxml_enc_elem_uint(&e, EAS_PING_PING, 1);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_proto_foldersync_parser_init(&p, on_folder, NULL);
    assert_int_equal(feed(eas_proto_foldersync_event, &p, 0), EAS_ERR_PROTO);
}

/* ================================ Sync ================================ */

static char log_[4096];
static int header_calls;
static void logf_(const char *fmt, ...)
{
    va_list ap;
    size_t l = strlen(log_);
    va_start(ap, fmt);
    vsnprintf(log_ + l, sizeof(log_) - l, fmt, ap);
    va_end(ap);
}
static int s_begin(void *u, eas_item_op_t op, const char *sid, bool soft)
{
    (void)u;
    logf_("B%d%s:%s;", (int)op, soft ? "s" : "", sid);
    return EAS_OK;
}
static int s_field(void *u, const eas_wbxml_event_t *ev, uint16_t d)
{
    (void)u;
    if (ev->type == EAS_WBXML_EV_START) {
        logf_("<%s@%u>", test_tag_name(ev->tag), d);
    } else if (ev->type == EAS_WBXML_EV_END) {
        logf_("</>");
    } else {
        logf_("%.*s", (int)ev->len, (const char *)ev->data);
    }
    return EAS_OK;
}
static int s_end(void *u, eas_item_op_t op, const char *sid)
{
    (void)u;
    logf_("E%d:%s;", (int)op, sid);
    return EAS_OK;
}
static int s_resp(void *u, uint16_t kind, const char *cid, const char *sid, uint32_t status)
{
    (void)u;
    logf_("R%s:%s:%s:%u;", test_tag_name(kind), cid, sid, (unsigned)status);
    return EAS_OK;
}
static int s_coll(void *u, const char *cid, const char *key, uint32_t status)
{
    (void)u;
    header_calls++;
    logf_("C%s:%s:%u;", cid, key, (unsigned)status);
    return EAS_OK;
}
static const eas_sync_item_cbs_t cbs = {s_begin, s_field, s_end, s_resp, s_coll};

static int cmds(void *u, eas_wbxml_enc_t *e)
{
    (void)u;
    eas_wbxml_enc_start(e, EAS_AIRSYNC_DELETE);
    eas_wbxml_enc_elem_text(e, EAS_AIRSYNC_SERVER_ID, "s9");
    return eas_wbxml_enc_end(e);
}

static void test_sync_request(void **st)
{
    (void)st;
    eas_wbxml_enc_t e;
    eas_sync_req_t r = {.collection_id = "cal", .sync_key = "0", .cls = EAS_CLASS_CALENDAR,
                        .version = EAS_VER_14_1, .window_size = 50, .get_changes = true,
                        .filter_type = -1, .body_type = 1, .body_truncation = 0,
                        .commands = cmds};
    enc_begin(&e);
    eas_proto_sync_build(&e, &r);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    /* SyncKey 0: no GetChanges, no Commands [S 2.13 first sync]. */
    assert_string_equal(flatten(), "<Sync><Collections><Collection><SyncKey>0</>"
                                   "<CollectionId>cal</><WindowSize>50</><Options>"
                                   "<BodyPreference><Type>1</></></></></></>");
    r.sync_key = "17";
    r.filter_type = 4;
    r.body_truncation = 32768;
    r.version = EAS_VER_12_1;
    enc_begin(&e);
    eas_proto_sync_build(&e, &r);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Sync><Collections><Collection><Class>Calendar</>"
                                   "<SyncKey>17</><CollectionId>cal</><GetChanges></>"
                                   "<WindowSize>50</><Options><FilterType>4</>"
                                   "<BodyPreference><Type>1</><TruncationSize>32768</></></>"
                                   "<Commands><Delete><ServerId>s9</></></></></></>");
}

static void build_sync_response(int more, const char *body)
{
    eas_wbxml_enc_t e;
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SYNC_KEY, "1795937797");
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_COLLECTION_ID, "cal");
    eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNC_STATUS, 1);
    if (more) {
        eas_wbxml_enc_elem_empty(&e, EAS_AIRSYNC_MORE_AVAILABLE);
    }
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COMMANDS);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_ADD);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SERVER_ID, "ev1");
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
    eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_SUBJECT, "Standup");
    eas_wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNCBASE_DATA, body);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_DELETE);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SERVER_ID, "ev0");
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_SOFT_DELETE);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SERVER_ID, "ev2");
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_RESPONSES);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_ADD);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_CLIENT_ID, "7");
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SERVER_ID, "ev9");
    eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNC_STATUS, 1);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_CHANGE);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SERVER_ID, "ev3");
    eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNC_STATUS, 8);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
}

static void test_sync_parse(void **st)
{
    (void)st;
    static char body[CONFIG_EAS_WBXML_MAX_STRING < 3000 ? CONFIG_EAS_WBXML_MAX_STRING : 3000];
    memset(body, 'b', sizeof(body) - 1);
    for (size_t step = 0; step <= 5; step++) {
        build_sync_response(step & 1, "hello");
        eas_sync_parser_t p;
        log_[0] = '\0';
        header_calls = 0;
        eas_proto_sync_parser_init(&p, &cbs, NULL);
        assert_int_equal(feed(eas_proto_sync_event, &p, step), EAS_OK);
        assert_int_equal(header_calls, 1);
        assert_int_equal(p.coll_status, 1);
        assert_int_equal(p.more_available, (step & 1) != 0);
        assert_string_equal(p.sync_key, "1795937797");
        assert_string_equal(log_, "Ccal:1795937797:1;B1:ev1;<Subject@1>Standup</>"
                                  "<Body@1><Data@2>hello</></>E1:ev1;B3:ev0;E3:ev0;"
                                  "B3s:ev2;E3:ev2;RAdd:7:ev9:1;RChange::ev3:8;");
    }
    /* A large body streams through in pieces without limits of the path buffer. */
    build_sync_response(0, body);
    eas_sync_parser_t p;
    log_[0] = '\0';
    eas_proto_sync_parser_init(&p, &cbs, NULL);
    assert_int_equal(feed(eas_proto_sync_event, &p, 7), EAS_OK);
    assert_non_null(strstr(log_, body));
}

static void test_sync_status_only(void **st)
{
    (void)st;
    /* Status 3 (invalid key): header with the status and no items. */
    eas_wbxml_enc_t e;
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SYNC_KEY, "0");
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_COLLECTION_ID, "cal");
    eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNC_STATUS, 3);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_sync_parser_t p;
    log_[0] = '\0';
    eas_proto_sync_parser_init(&p, &cbs, NULL);
    assert_int_equal(feed(eas_proto_sync_event, &p, 0), EAS_OK);
    assert_int_equal(p.coll_status, 3);
    assert_string_equal(log_, "Ccal:0:3;");
    /* Top-level status (e.g. 4 malformed request) without collections. */
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNC_STATUS, 144);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_proto_sync_parser_init(&p, &cbs, NULL);
    assert_int_equal(feed(eas_proto_sync_event, &p, 0), EAS_OK);
    assert_int_equal(p.top_status, 144);
    /* An Add whose ApplicationData precedes ServerId is malformed. */
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COMMANDS);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_ADD);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
    eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_SUBJECT, "x");
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_proto_sync_parser_init(&p, &cbs, NULL);
    assert_int_equal(feed(eas_proto_sync_event, &p, 0), EAS_ERR_PROTO);
}

/* ================================ Ping ================================ */

static char ping_ids[256];
static int on_ping_folder(void *u, const char *id)
{
    (void)u;
    strcat(ping_ids, id);
    strcat(ping_ids, ";");
    return EAS_OK;
}

static void test_ping(void **st)
{
    (void)st;
    eas_wbxml_enc_t e;
    eas_ping_folder_t f[2] = {{"cal", EAS_CLASS_CALENDAR}, {"inbox", EAS_CLASS_EMAIL}};
    enc_begin(&e);
    eas_proto_ping_build(&e, 480, f, 2);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_string_equal(flatten(), "<Ping><HeartbeatInterval>480</><Folders>"
                                   "<Folder><Id>cal</><Class>Calendar</></>"
                                   "<Folder><Id>inbox</><Class>Email</></></></>");
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_PING_PING);
    eas_wbxml_enc_elem_uint(&e, EAS_PING_STATUS, 2);
    eas_wbxml_enc_start(&e, EAS_PING_FOLDERS);
    eas_wbxml_enc_elem_text(&e, EAS_PING_FOLDER, "cal");
    eas_wbxml_enc_elem_text(&e, EAS_PING_FOLDER, "inbox");
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_ping_parser_t p;
    ping_ids[0] = '\0';
    eas_proto_ping_parser_init(&p, on_ping_folder, NULL);
    assert_int_equal(feed(eas_proto_ping_event, &p, 1), EAS_OK);
    assert_int_equal(p.status, 2);
    assert_string_equal(ping_ids, "cal;inbox;");
    enc_begin(&e);
    eas_wbxml_enc_start(&e, EAS_PING_PING);
    eas_wbxml_enc_elem_uint(&e, EAS_PING_STATUS, 5);
    eas_wbxml_enc_elem_uint(&e, EAS_PING_HEARTBEAT_INTERVAL, 60);
    eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_proto_ping_parser_init(&p, on_ping_folder, NULL);
    assert_int_equal(feed(eas_proto_ping_event, &p, 0), EAS_OK);
    assert_int_equal(p.status, 5);
    assert_int_equal(p.heartbeat, 60);
}

static void test_folder_class(void **st)
{
    (void)st;
    assert_int_equal(eas_proto_folder_class(8), EAS_CLASS_CALENDAR);
    assert_int_equal(eas_proto_folder_class(2), EAS_CLASS_EMAIL);
    assert_int_equal(eas_proto_folder_class(9), EAS_CLASS_CONTACTS);
    assert_int_equal(eas_proto_folder_class(7), EAS_CLASS_TASKS);
    assert_int_equal(eas_proto_folder_class(19), 0); /* RI cache: never synced or pinged */
    assert_int_equal(eas_proto_folder_class(1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provision_requests), cmocka_unit_test(test_provision_parse),
        cmocka_unit_test(test_settings_parse),
        cmocka_unit_test(test_foldersync),         cmocka_unit_test(test_sync_request),
        cmocka_unit_test(test_sync_parse),         cmocka_unit_test(test_sync_status_only),
        cmocka_unit_test(test_ping),               cmocka_unit_test(test_folder_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
