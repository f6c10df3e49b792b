/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux file store against the hal_store.h contract: exact bytes, key rules, the NOMEM
 * contract of get, and atomicity when the process dies inside a put. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "easd_linux.h"

static char g_dir[64];

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            (void)unlink(path);
        }
    }
    (void)closedir(d);
    (void)rmdir(dir);
}

static int setup(void **state)
{
    (void)state;
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_WARN, NULL});
    (void)snprintf(g_dir, sizeof(g_dir), "/tmp/easd-store-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        return -1;
    }
    return easd_linux_store_init(g_dir) == EAS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    easd_linux_store_set_fault_hook(NULL);
    easd_linux_store_deinit();
    rm_tree(g_dir);
    return 0;
}

static int file_exists(const char *name)
{
    char path[256];
    struct stat st;

    (void)snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    return stat(path, &st) == 0;
}

static void roundtrip_exact_bytes(void **state)
{
    (void)state;
    uint8_t data[300];
    uint8_t buf[400];
    size_t len = 0;

    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 13u); /* includes NUL and 0xff bytes */
    }
    assert_int_equal(easd_linux_store_put("acct0.folders", data, sizeof(data)), EAS_OK);
    assert_int_equal(easd_linux_store_get("acct0.folders", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(buf, data, sizeof(data));

    /* A shorter rewrite must not keep the old tail. */
    assert_int_equal(easd_linux_store_put("acct0.folders", (const uint8_t *)"abc", 3), EAS_OK);
    assert_int_equal(easd_linux_store_get("acct0.folders", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "abc", 3);

    /* Empty records exist and are distinct from missing ones. */
    assert_int_equal(easd_linux_store_put("empty", NULL, 0), EAS_OK);
    len = 99;
    assert_int_equal(easd_linux_store_get("empty", NULL, 0, &len), EAS_OK);
    assert_int_equal(len, 0);

    /* Records survive re-opening the directory (a restart). */
    assert_int_equal(easd_linux_store_init(g_dir), EAS_OK);
    assert_int_equal(easd_linux_store_get("acct0.folders", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 3);
}

static void key_validation(void **state)
{
    (void)state;
    char k48[49];
    char k49[50];
    uint8_t buf[8];
    size_t len = 0;
    static const char *const bad[] = {"", "a/b", "a b", "ä", "a\nb", "../x", "k*", "a:b"};

    memset(k48, 'k', 48);
    k48[48] = '\0';
    memset(k49, 'k', 49);
    k49[49] = '\0';
    assert_int_equal(easd_linux_store_put(k48, (const uint8_t *)"x", 1), EAS_OK);
    assert_int_equal(easd_linux_store_put(k49, (const uint8_t *)"x", 1), EAS_ERR_STORE_KEY);
    assert_int_equal(easd_linux_store_get(k49, buf, sizeof(buf), &len), EAS_ERR_STORE_KEY);
    assert_int_equal(easd_linux_store_del(k49), EAS_ERR_STORE_KEY);
    assert_int_equal(easd_linux_store_put(NULL, (const uint8_t *)"x", 1), EAS_ERR_STORE_KEY);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(easd_linux_store_put(bad[i], (const uint8_t *)"x", 1), EAS_ERR_STORE_KEY);
        assert_int_equal(easd_linux_store_get(bad[i], buf, sizeof(buf), &len), EAS_ERR_STORE_KEY);
        assert_int_equal(easd_linux_store_del(bad[i]), EAS_ERR_STORE_KEY);
    }
    /* "." and ".." are valid keys by the charset; they must be ordinary records. */
    assert_int_equal(easd_linux_store_put(".", (const uint8_t *)"dot", 3), EAS_OK);
    assert_int_equal(easd_linux_store_put("..", (const uint8_t *)"dotdot", 6), EAS_OK);
    assert_int_equal(easd_linux_store_get(".", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "dot", 3);
    assert_int_equal(easd_linux_store_get("..", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "dotdot", 6);
    assert_int_equal(easd_linux_store_put("A-z_0.9", (const uint8_t *)"ok", 2), EAS_OK);
}

static void get_nomem_reports_length(void **state)
{
    (void)state;
    uint8_t data[100];
    uint8_t buf[100];
    size_t len = 0;

    memset(data, 0x5a, sizeof(data));
    assert_int_equal(easd_linux_store_put("big", data, sizeof(data)), EAS_OK);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(easd_linux_store_get("big", buf, 10, &len), EAS_ERR_NOMEM);
    assert_int_equal(len, 100);
    assert_int_equal(easd_linux_store_get("big", buf, 99, &len), EAS_ERR_NOMEM);
    assert_int_equal(len, 100);
    assert_int_equal(easd_linux_store_get("big", buf, 100, &len), EAS_OK);
    assert_int_equal(len, 100);
    assert_memory_equal(buf, data, 100);
}

static void not_found_and_delete(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t len = 0;

    assert_int_equal(easd_linux_store_get("nope", buf, sizeof(buf), &len), EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(easd_linux_store_del("nope"), EAS_OK);
    assert_int_equal(easd_linux_store_put("k", (const uint8_t *)"v", 1), EAS_OK);
    assert_int_equal(easd_linux_store_del("k"), EAS_OK);
    assert_int_equal(easd_linux_store_get("k", buf, sizeof(buf), &len), EAS_ERR_STORE_NOT_FOUND);
    assert_false(file_exists("r.k"));
}

static void uninitialised_store_fails(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t len = 0;

    easd_linux_store_deinit();
    assert_int_equal(easd_linux_store_put("k", (const uint8_t *)"v", 1), EAS_ERR_STORE);
    assert_int_equal(easd_linux_store_get("k", buf, sizeof(buf), &len), EAS_ERR_STORE);
    assert_int_equal(easd_linux_store_del("k"), EAS_ERR_STORE);
    assert_int_equal(easd_linux_store_init("/nonexistent-dir/sub"), EAS_ERR_STORE);
    assert_int_equal(easd_linux_store_init(NULL), EAS_ERR_PARAM);
    assert_int_equal(easd_linux_store_init(g_dir), EAS_OK);
}

static easd_linux_store_point_t g_crash_point;
static int g_crash_exit;

static int crash_hook(const char *key, easd_linux_store_point_t point)
{
    (void)key;
    if (point == g_crash_point) {
        if (g_crash_exit) {
            _exit(0); /* a real process death at this point */
        }
        return 1;
    }
    return 0;
}

/* A put interrupted anywhere before the rename leaves the old record, before and after the
 * restart that clears the temporary. */
static void crash_before_rename_keeps_old(void **state)
{
    (void)state;
    static const easd_linux_store_point_t points[] = {EASD_LINUX_STORE_AFTER_WRITE,
                                                      EASD_LINUX_STORE_BEFORE_RENAME};
    uint8_t buf[32];
    size_t len = 0;

    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(easd_linux_store_put("sync.key", (const uint8_t *)"old-record", 10), EAS_OK);
        g_crash_point = points[i];
        g_crash_exit = 0;
        easd_linux_store_set_fault_hook(crash_hook);
        assert_int_equal(easd_linux_store_put("sync.key", (const uint8_t *)"NEW-RECORD-LONGER", 17),
                         EAS_ERR_STORE);
        easd_linux_store_set_fault_hook(NULL);
        assert_true(file_exists("t.sync.key")); /* the crash left its temporary behind */
        assert_int_equal(easd_linux_store_get("sync.key", buf, sizeof(buf), &len), EAS_OK);
        assert_int_equal(len, 10);
        assert_memory_equal(buf, "old-record", 10);
        /* Restart: the temporary is cleaned, the old record is still there. */
        assert_int_equal(easd_linux_store_init(g_dir), EAS_OK);
        assert_false(file_exists("t.sync.key"));
        assert_int_equal(easd_linux_store_get("sync.key", buf, sizeof(buf), &len), EAS_OK);
        assert_int_equal(len, 10);
        assert_memory_equal(buf, "old-record", 10);
    }
    /* After the rename the new record is the committed one. */
    g_crash_point = EASD_LINUX_STORE_BEFORE_DIR_SYNC;
    easd_linux_store_set_fault_hook(crash_hook);
    assert_int_equal(easd_linux_store_put("sync.key", (const uint8_t *)"NEW", 3), EAS_ERR_STORE);
    easd_linux_store_set_fault_hook(NULL);
    assert_int_equal(easd_linux_store_init(g_dir), EAS_OK);
    assert_int_equal(easd_linux_store_get("sync.key", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "NEW", 3);
}

/* The same with a real process exit between write and rename. */
static void process_exit_before_rename_keeps_old(void **state)
{
    (void)state;
    uint8_t buf[32];
    size_t len = 0;
    int status = 0;
    pid_t pid;

    assert_int_equal(easd_linux_store_put("policy", (const uint8_t *)"v1", 2), EAS_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        g_crash_point = EASD_LINUX_STORE_BEFORE_RENAME;
        g_crash_exit = 1;
        easd_linux_store_set_fault_hook(crash_hook);
        (void)easd_linux_store_put("policy", (const uint8_t *)"v2-never", 8);
        _exit(7); /* not reached when the hook fires */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(file_exists("t.policy"));
    assert_int_equal(easd_linux_store_init(g_dir), EAS_OK);
    assert_int_equal(easd_linux_store_get("policy", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "v1", 2);
}

/* Self-describing records: magic, version, length, then bytes derived from both, so a
 * reader can tell a complete record of any version from a torn or mixed one. */
#define REC_MAGIC 0x45415344u
#define REC_KEYS  3
#define REC_MAX   (12u + 24000u)

static size_t rec_len(uint32_t v, unsigned k)
{
    return 12u + (size_t)((v * 7919u + k * 104729u) % 24000u);
}

static void rec_make(uint8_t *out, uint32_t v, unsigned k)
{
    size_t n = rec_len(v, k);
    uint32_t hdr[3] = {REC_MAGIC, v, (uint32_t)n};

    memcpy(out, hdr, sizeof(hdr));
    for (size_t i = 12; i < n; i++) {
        out[i] = (uint8_t)(v * 31u + i * 7u + k);
    }
}

/* Returns the record's version, or 0 when it is not a complete record of this key. */
static uint32_t rec_check(const uint8_t *buf, size_t len, unsigned k)
{
    uint32_t hdr[3];

    if (len < 12u) {
        return 0;
    }
    memcpy(hdr, buf, sizeof(hdr));
    if (hdr[0] != REC_MAGIC || hdr[2] != len || rec_len(hdr[1], k) != len) {
        return 0;
    }
    for (size_t i = 12; i < len; i++) {
        if (buf[i] != (uint8_t)(hdr[1] * 31u + i * 7u + k)) {
            return 0;
        }
    }
    return hdr[1];
}

static const char *rec_key(unsigned k)
{
    static const char *const keys[REC_KEYS] = {"acct0.sync.cal", "acct0.folders", "outbox.0"};
    return keys[k];
}

/* Child: rewrite the records forever, acknowledging every completed put on the pipe. */
static void writer_child(int ack_fd, uint32_t base)
{
    static uint8_t rec[REC_MAX];
    for (uint32_t v = base + 1u;; v++) {
        for (unsigned k = 0; k < REC_KEYS; k++) {
            uint32_t ack[2] = {k, v};
            rec_make(rec, v, k);
            if (easd_linux_store_put(rec_key(k), rec, rec_len(v, k)) != EAS_OK) {
                _exit(3);
            }
            if (write(ack_fd, ack, sizeof(ack)) != (ssize_t)sizeof(ack)) {
                _exit(4);
            }
        }
    }
}

static void sigkill_during_puts_leaves_complete_records(void **state)
{
    (void)state;
    static uint8_t buf[REC_MAX];
    uint32_t prev[REC_KEYS] = {0};
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    int rounds = 12;

    print_message("seed %u\n", seed);
    srand(seed);
    for (int r = 0; r < rounds; r++) {
        uint32_t base = (uint32_t)(r + 1) * 1000000u;
        uint32_t acked[REC_KEYS] = {0};
        uint32_t ack[2];
        int fds[2];
        int status = 0;
        int target = 3 + rand() % 40;
        int got = 0;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            (void)close(fds[0]);
            writer_child(fds[1], base);
        }
        (void)close(fds[1]);
        while (got < target && read(fds[0], ack, sizeof(ack)) == (ssize_t)sizeof(ack)) {
            acked[ack[0]] = ack[1];
            got++;
        }
        /* Kill at a varying moment inside the next puts. */
        usleep((useconds_t)(rand() % 3000));
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        /* Puts the child finished before dying are committed too. */
        while (read(fds[0], ack, sizeof(ack)) == (ssize_t)sizeof(ack)) {
            assert_true(ack[0] < REC_KEYS);
            acked[ack[0]] = ack[1];
        }
        (void)close(fds[0]);

        assert_int_equal(easd_linux_store_init(g_dir), EAS_OK);
        for (unsigned k = 0; k < REC_KEYS; k++) {
            size_t len = 0;
            int rc = easd_linux_store_get(rec_key(k), buf, sizeof(buf), &len);
            uint32_t v;
            if (rc == EAS_ERR_STORE_NOT_FOUND) {
                /* Only possible when nothing was ever committed for this key. */
                assert_int_equal(prev[k], 0);
                assert_int_equal(acked[k], 0);
                continue;
            }
            assert_int_equal(rc, EAS_OK);
            v = rec_check(buf, len, k);
            assert_true(v != 0u); /* complete, not torn, not mixed */
            if (acked[k] != 0u) {
                /* The last acknowledged put, or the one in flight if it got past rename. */
                assert_true(v == acked[k] || v == acked[k] + 1u);
            } else {
                assert_true(v == prev[k] || v == base + 1u);
            }
            prev[k] = v;
        }
    }
}

/* Two accounts, two stores: the same key through each account's hal_sys_t lands in its own
 * directory, apart from the process-wide store; a zero-initialised instance is closed. */
static void store_per_instance(void **state)
{
    (void)state;
    char dir2[64];
    easd_linux_store_t a = {0};
    easd_linux_store_t b = {0};
    hal_sys_t sys_a;
    hal_sys_t sys_b;
    uint8_t buf[8];
    size_t len = 0;

    (void)snprintf(dir2, sizeof(dir2), "/tmp/easd-store2-XXXXXX");
    assert_non_null(mkdtemp(dir2));
    assert_int_equal(easd_linux_store_put_in(&a, "k", (const uint8_t *)"x", 1), EAS_ERR_STORE);
    easd_linux_store_close(&a); /* closed and zeroed: must not close fd 0 */
    assert_true(fcntl(0, F_GETFD) != -1 || errno != EBADF);
    assert_int_equal(easd_linux_store_open(&a, g_dir), EAS_OK);
    assert_int_equal(easd_linux_store_open(&b, dir2), EAS_OK);
    easd_linux_hal_with_store(&sys_a, &a);
    easd_linux_hal_with_store(&sys_b, &b);
    assert_ptr_equal(sys_a.rng.fill, easd_linux_hal()->rng.fill);

    assert_int_equal(sys_a.store.put(sys_a.store.ctx, "acct", (const uint8_t *)"A", 1), EAS_OK);
    assert_int_equal(sys_b.store.put(sys_b.store.ctx, "acct", (const uint8_t *)"BB", 2), EAS_OK);
    assert_int_equal(sys_a.store.get(sys_a.store.ctx, "acct", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(buf, "A", 1);
    assert_int_equal(sys_b.store.get(sys_b.store.ctx, "acct", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "BB", 2);
    /* the process-wide store (also g_dir) sees a's record, b's lives only in dir2 */
    assert_int_equal(easd_linux_store_get("acct", buf, sizeof(buf), &len), EAS_OK);
    assert_int_equal(len, 1);
    assert_int_equal(sys_b.store.del(sys_b.store.ctx, "acct"), EAS_OK);
    assert_int_equal(sys_b.store.get(sys_b.store.ctx, "acct", buf, sizeof(buf), &len),
                     EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(sys_a.store.get(sys_a.store.ctx, "acct", buf, sizeof(buf), &len), EAS_OK);
    /* the ready-made hal_sys_t keeps using the process-wide store */
    assert_int_equal(easd_linux_hal()->store.get(NULL, "acct", buf, sizeof(buf), &len), EAS_OK);

    easd_linux_store_close(&b);
    assert_int_equal(sys_b.store.put(sys_b.store.ctx, "k", (const uint8_t *)"x", 1), EAS_ERR_STORE);
    easd_linux_store_close(&a);
    rm_tree(dir2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(roundtrip_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(key_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(get_nomem_reports_length, setup, teardown),
        cmocka_unit_test_setup_teardown(not_found_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(uninitialised_store_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(store_per_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_before_rename_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(process_exit_before_rename_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(sigkill_during_puts_leaves_complete_records, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
