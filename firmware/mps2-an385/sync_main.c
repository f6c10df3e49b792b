/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mps2-an385 sync image: the easd engine on bare metal. A super-loop polls the LAN9118,
 * runs lwIP's timers and calls eas_step(); the account syncs over lwIP + mbedtls (TLS 1.2,
 * chain and host name verified against the CA compiled in) and then pings. What it prints on
 * the UART is what the QEMU test checks:
 *
 *   STATE n                    engine state changes (eas_engine_state_t values)
 *   OCC start end server_id    every occurrence of a synced calendar item in the window
 *   SYNCED ms=N items=N        first complete sync, N ms after reset (SysTick)
 *   LIVE op folder server_id   an item that arrived after the first sync (through Ping)
 *   REPORT key=value ...       RAM high-water marks at exit
 *
 * Parameters come from QEMU's -append (semihosting), as key=value words:
 *   user= pass= device= url= from=YYYYMMDDTHHMMSSZ days=N exit=live|synced timeout=S
 *   certfail=exit stop (status 2, "REFUSED err") at the first certificate refusal instead of
 *                 retrying as a device would (the QEMU test's negative runs)
 *   utc=SECONDS   set the board's UTC clock (what an RTC or SNTP would do): certificates
 *                 are then also checked for "not yet valid" (ports/mps2 mps2_tls_time_floor)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_arena.h"
#include "eas/eas_cal.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_engine.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml_tags.h"
#include "flashstore.h"
#include "fw_board.h"
#include "fw_board_an385.h"
#include "fw_ca.h"
#include "hal/hal.h"
#include "mps2_port.h"

#ifndef FW_PRESET_NAME
#define FW_PRESET_NAME "unknown"
#endif

/* Engine memory. The folder table is bounded here, not by CONFIG_EAS_MAX_FOLDERS: a device
   syncs a handful of folders, and 256 entries (the full preset) would be 50 KB of RAM. */
#define APP_FOLDERS ((CONFIG_EAS_MAX_FOLDERS) < 24 ? (CONFIG_EAS_MAX_FOLDERS) : 24)
#define APP_OUTBOX  ((CONFIG_EAS_OUTBOX_SLOTS) < 8 ? (CONFIG_EAS_OUTBOX_SLOTS) : 8)
#define APP_EXCEPTIONS 16
#define APP_ATTENDEES  4
/* The arena holds one command's working state; the engine's measured peak is ~2.3 KB
   (docs/footprint.md), so the Linux-sized 32 KB of the full preset is not copied here. */
#define APP_ARENA ((CONFIG_EAS_ARENA_SIZE) < 8192 ? (CONFIG_EAS_ARENA_SIZE) : 8192)

typedef struct app {
    char args[320];
    const char *user, *pass, *device, *url;
    int64_t from, to;
    bool exit_on_live;
    bool exit_on_cert; /* certfail=exit */
    int cert_refused;  /* the first certificate error (EAS_ERR_TLS_CERT_*), 0 if none */
    uint32_t timeout_ms;
    bool synced;
    bool restricts;
    uint32_t items, live, occurrences;
    uint64_t synced_ms;
    const char *cur_server_id;
} app_t;

static app_t g_app;
static eas_engine_t g_eng;
static eas_folder_t g_folders[APP_FOLDERS];
static eas_outbox_slot_t g_outbox[APP_OUTBOX];
static uint8_t g_arena_mem[APP_ARENA] __attribute__((aligned(8)));
static eas_arena_t g_arena;
static uint8_t g_http_work[EAS_HTTP_CLIENT_WORK_SIZE] __attribute__((aligned(8)));
static eas_engine_cal_t g_cal;
static eas_cal_exception_t g_ex[APP_EXCEPTIONS];
static eas_cal_attendee_t g_att[APP_ATTENDEES];
static char g_line[400];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(g_line, sizeof(g_line), fmt, ap);
    va_end(ap);
    fw_console_puts(g_line);
}

/* ---- parameters ------------------------------------------------------------------------- */

static const char *arg(const char *name, const char *dflt)
{
    size_t n = strlen(name);
    char *p = g_app.args;
    while (p != NULL && *p != '\0') {
        while (*p == ' ') {
            p++;
        }
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            return p + n + 1;
        }
        p = strchr(p, ' ');
        if (p != NULL) {
            p++;
        }
    }
    return dflt;
}

static void parse_args(app_t *a)
{
    if (fw_board_cmdline(a->args, sizeof(a->args)) != 0) {
        a->args[0] = '\0';
    }
    /* Values are looked up first, then the words are cut into C strings. */
    a->user = arg("user", "testuser");
    a->pass = arg("pass", "testpass");
    a->device = arg("device", "easdfw0001");
    a->url = arg("url", "https://eas.test/Microsoft-Server-ActiveSync");
    const char *from = arg("from", "20260101T000000Z");
    const char *utc = arg("utc", NULL);
    if (utc != NULL) {
        fw_set_utc((int64_t)strtoll(utc, NULL, 10));
    }
    int64_t days = strtol(arg("days", "7"), NULL, 10);
    a->exit_on_live = strncmp(arg("exit", "live"), "live", 4) == 0;
    a->exit_on_cert = strncmp(arg("certfail", "retry"), "exit", 4) == 0;
    a->timeout_ms = (uint32_t)strtoul(arg("timeout", "100"), NULL, 10) * 1000u;
    for (char *p = a->args; *p != '\0'; p++) {
        if (*p == ' ') {
            *p = '\0';
        }
    }
    if (eas_cal_parse_time(from, strlen(from), &a->from) != EAS_OK) {
        a->from = 0;
    }
    a->to = a->from + (days > 0 ? days : 7) * 86400;
}

/* ---- engine events ------------------------------------------------------------------------ */

static int on_occ(void *user, const eas_cal_occurrence_t *occ)
{
    app_t *a = user;
    char s[24], e[24];
    (void)eas_cal_format_time(occ->start, EAS_CAL_FMT_ISO, s, sizeof(s));
    (void)eas_cal_format_time(occ->end, EAS_CAL_FMT_ISO, e, sizeof(e));
    say("OCC %s %s %s\n", s, e, a->cur_server_id);
    a->occurrences++;
    return EAS_OK;
}

static int on_event(void *user, eas_event_t *ev)
{
    app_t *a = user;
    switch (ev->type) {
    case EAS_EV_STATE:
        say("STATE %d\n", (int)ev->u.state.state);
        break;
    case EAS_EV_ERROR:
        say("ERROR %d status %u %s\n", ev->u.error.err, (unsigned)ev->u.error.status,
            ev->u.error.what != NULL ? ev->u.error.what : "");
        if (a->cert_refused == 0 && ev->u.error.err <= EAS_ERR_TLS_CERT_UNTRUSTED &&
            ev->u.error.err >= EAS_ERR_TLS_CERT_OTHER && ev->u.error.err != EAS_ERR_TLS_CA) {
            a->cert_refused = ev->u.error.err;
        }
        break;
    case EAS_EV_POLICY_SETTING:
        /* This device enforces nothing: any setting that asks for something makes the
           acknowledgement partial. */
        if (ev->u.policy.value != NULL && ev->u.policy.value[0] != '\0' &&
            strcmp(ev->u.policy.value, "0") != 0) {
            a->restricts = true;
        }
        break;
    case EAS_EV_POLICY_DECIDE:
        ev->u.policy.decision = a->restricts ? EAS_POLICY_PARTIAL : EAS_POLICY_ENFORCE_ALL;
        a->restricts = false;
        break;
    case EAS_EV_ITEM_BEGIN:
        a->items++;
        if (a->synced) {
            a->live++;
            say("LIVE %d %s %s\n", (int)ev->u.item.op, ev->u.item.folder,
                ev->u.item.server_id);
        }
        break;
    case EAS_EV_ITEM_END:
        if (ev->u.item.cal != NULL && ev->u.item.cal_err == EAS_OK) {
            a->cur_server_id = ev->u.item.server_id;
            int64_t from = a->from;
            for (int guard = 0; guard < 64; guard++) {
                uint32_t before = a->occurrences;
                int rc = eas_cal_expand(ev->u.item.cal, from, a->to, on_occ, a);
                if (rc != EAS_ERR_LIMIT || a->occurrences == before) {
                    break;
                }
                from = a->from; /* a limit hit: the window is too large for one pass */
                break;
            }
        } else if (ev->u.item.cal != NULL) {
            say("CALERR %s %d\n", ev->u.item.server_id, ev->u.item.cal_err);
        }
        break;
    case EAS_EV_SYNC_COMPLETE:
        if (!a->synced) {
            a->synced = true;
            a->synced_ms = hal_time_monotonic_ms();
            say("SYNCED ms=%lu items=%lu\n", (unsigned long)a->synced_ms,
                (unsigned long)a->items);
        }
        break;
    default:
        break;
    }
    return EAS_OK;
}

/* ---- the store on the flash-like region ----------------------------------------------------- */

/* "Flash": a region of the code SSRAM that the image does not load (QEMU leaves it zeroed,
   so the first mount formats it). Programming follows NOR rules (only 1 -> 0). */
#define FLASH_SECTOR 8192u
#define FLASH_SECTORS 6u
static uint8_t g_flash[FLASH_SECTOR * FLASH_SECTORS]
    __attribute__((section(".flashstore"), aligned(4096)));
static fs_t g_fs;

static int fl_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, g_flash + off, len);
    return 0;
}

static int fl_prog(void *ctx, uint32_t off, const void *buf, size_t len)
{
    (void)ctx;
    const uint8_t *b = buf;
    for (size_t i = 0; i < len; i++) {
        g_flash[off + i] &= b[i];
    }
    return 0;
}

static int fl_erase(void *ctx, uint32_t sector)
{
    (void)ctx;
    memset(g_flash + sector * FLASH_SECTOR, 0xFF, FLASH_SECTOR);
    return 0;
}

static int st_put(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    return fs_put(ctx, key, data, len);
}

static int st_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    return fs_get(ctx, key, buf, cap, len);
}

static int st_del(void *ctx, const char *key)
{
    return fs_del(ctx, key);
}

/* The board's random source and log sink, with the flash store instead of its RAM one. */
static hal_sys_t g_sys;

/* ---- main ------------------------------------------------------------------------------------ */

static void report(const char *why)
{
    say("REPORT %s synced_ms=%lu items=%lu occurrences=%lu arena_peak=%u arena=%u "
        "tls_heap_peak=%u tls_heap=%u stack_peak=%u stack=%u static_ram=%u store_used=%lu "
        "connections=%lu handshakes=%lu heap_requests=%lu\n",
        why, (unsigned long)g_app.synced_ms, (unsigned long)g_app.items,
        (unsigned long)g_app.occurrences, (unsigned)g_arena.peak, (unsigned)sizeof(g_arena_mem),
        (unsigned)mps2_tls_heap_peak(), (unsigned)mps2_tls_heap_size(),
        (unsigned)fw_stack_peak(), (unsigned)fw_stack_size(), (unsigned)fw_static_ram(),
        (unsigned long)fs_used_bytes(&g_fs), (unsigned long)mps2_net_connections(),
        (unsigned long)mps2_tls_handshakes(), (unsigned long)fw_heap_requests());
}

int main(void)
{
    app_t *a = &g_app;
    fw_board_init();
    fw_stack_paint();
    parse_args(a);
    say("easd sync firmware on %s (%s), preset %s\n", fw_board_name(), fw_board_cpu(),
        FW_PRESET_NAME);
    static const char warn[] =
        "INSECURE RNG: xorshift seeded from the tick (QEMU has no TRNG); this image is for the "
        "emulator only";
    fw_log_write(HAL_LOG_WARN, "rng", warn, sizeof(warn) - 1);

    static const fs_flash_t flash = {fl_read, fl_prog, fl_erase, NULL, FLASH_SECTOR,
                                     FLASH_SECTORS};
    if (fs_mount(&g_fs, &flash) != EAS_OK) {
        say("FATAL: store mount failed\n");
        fw_exit(1);
    }
    /* QEMU user networking: the guest is 10.0.2.15, the host forwards 10.0.2.100:443 to the
       test server. wrong.test names the same server: the test uses it to prove the host name
       check (the certificate is for eas.test). */
    static const mps2_host_t hosts[] = {{"eas.test", {10, 0, 2, 100}},
                                        {"wrong.test", {10, 0, 2, 100}}};
    g_sys = *fw_board_hal();
    g_sys.store = (hal_store_t){st_put, st_get, st_del, &g_fs};
    static const mps2_net_cfg_t netcfg = {
        {10, 0, 2, 15}, {255, 255, 255, 0}, {10, 0, 2, 2}, hosts, 2, &g_sys};
    if (mps2_net_init(&netcfg) != EAS_OK) {
        say("FATAL: no network\n");
        fw_exit(1);
    }
    int rc = mps2_tls_init(fw_ca_der, fw_ca_der_len);
    if (rc != EAS_OK) {
        say("TLS setup failed: %d (no CA compiled in? -DEASD_FW_CA_FILE=...)\n", rc);
    }
    say("CLOCK floor=%lu trusted=%d\n", (unsigned long)mps2_tls_time_floor(),
        mps2_tls_clock_trusted() ? 1 : 0);

    static eas_account_cfg_t cfg;
    cfg.url = a->url;
    cfg.user = a->user;
    cfg.email = a->user;
    cfg.device_id = a->device;
    cfg.device_type = "easdfw";
    cfg.auth.kind = EAS_HTTP_AUTH_BASIC;
    cfg.auth.user = a->user;
    cfg.auth.password = a->pass;
    cfg.classes = EAS_CLASS_CALENDAR;
#if CONFIG_EAS_EMAIL
    cfg.classes |= EAS_CLASS_EMAIL;
#endif
    cfg.body_type = 1;
    cfg.window_size = 100;
    cfg.body_truncation = 256;
    cfg.store_prefix = "acct0";
    cfg.ping_interval_s = 60;

    eas_arena_init(&g_arena, g_arena_mem, sizeof(g_arena_mem));
    g_cal.exceptions = g_ex;
    g_cal.exception_cap = APP_EXCEPTIONS;
    g_cal.attendees = g_att;
    g_cal.attendee_cap = APP_ATTENDEES;
    /* No cookie jar: the servers this image targets do not need one (saves its RAM). */
    eas_engine_mem_t mem = {.folders = g_folders,
                            .folder_cap = APP_FOLDERS,
                            .outbox = g_outbox,
                            .outbox_cap = APP_OUTBOX,
                            .arena = &g_arena,
                            .http_work = g_http_work,
                            .http_work_len = sizeof(g_http_work),
                            .cal = &g_cal,
                            .config = EAS_CONFIG_FINGERPRINT};
    hal_net_t net = mps2_net_connector();
    rc = eas_engine_init(&g_eng, &cfg, &mem, &net, &g_sys, on_event, a);
    if (rc != EAS_OK) {
        say("FATAL: engine init %d\n", rc);
        fw_exit(1);
    }

    uint64_t deadline = 0;
    for (;;) {
        mps2_net_poll();
        uint64_t now = hal_time_monotonic_ms();
        unsigned wait = eas_engine_wait_io(&g_eng);
        bool pending = mps2_net_pending();
        if (pending || now >= deadline || wait != 0) {
            mps2_net_clear_pending();
            eas_step_event_t ev = (wait & EAS_IO_READ) ? EAS_STEP_READABLE
                                  : (wait & EAS_IO_WRITE) ? EAS_STEP_WRITABLE
                                                          : EAS_STEP_TICK;
            rc = eas_step(&g_eng, ev, now, &deadline);
            if (rc < 0 && rc != EAS_ERR_AGAIN) {
                say("STOPPED %d\n", rc);
                report("stopped");
                fw_exit(1);
            }
        }
        if (a->exit_on_cert && a->cert_refused != 0) {
            say("REFUSED %d\n", a->cert_refused);
            report("refused");
            fw_exit(2);
        }
        if (a->synced && (!a->exit_on_live || a->live > 0)) {
            report("done");
            fw_exit(0);
        }
        if (now > a->timeout_ms) {
            say("TIMEOUT after %lu ms\n", (unsigned long)now);
            report("timeout");
            fw_exit(1);
        }
        if (!mps2_net_pending()) {
            __asm volatile("wfi"); /* until the next SysTick (1 ms) */
        }
    }
}
