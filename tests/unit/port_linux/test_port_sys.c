/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks, randomness and the log sink of the Linux port. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "eas_log.h"
#include "easd_linux.h"

static void monotonic_never_goes_back(void **state)
{
    (void)state;
    uint64_t prev = hal_time_monotonic_ms();
    struct timespec ts = {0, 2000000};

    for (int i = 0; i < 1000; i++) {
        uint64_t now = hal_time_monotonic_ms();
        assert_true(now >= prev);
        prev = now;
    }
    /* It does advance: after sleeping 2 ms at least 1 ms has passed. */
    nanosleep(&ts, NULL);
    assert_true(hal_time_monotonic_ms() > prev);
}

static void utc_is_current_unix_time(void **state)
{
    (void)state;
    int64_t t = 0;
    time_t ref = time(NULL);

    assert_int_equal(hal_time_utc(&t), EAS_OK);
    assert_true(t >= (int64_t)ref && t <= (int64_t)ref + 2);
    assert_int_equal(hal_time_utc(NULL), EAS_ERR_PARAM);
}

static void rng_fills_every_byte(void **state)
{
    (void)state;
    uint8_t a[64];
    uint8_t b[64];
    int seen[256] = {0};
    int distinct = 0;

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(easd_linux_rng_fill(a, sizeof(a)), EAS_OK);
    assert_int_equal(easd_linux_rng_fill(b, sizeof(b)), EAS_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++) {
        if (!seen[a[i]]++) {
            distinct++;
        }
    }
    /* 64 random bytes with fewer than 20 distinct values: probability far below 1e-20. */
    assert_true(distinct >= 20);
    assert_int_equal(easd_linux_rng_fill(NULL, 0), EAS_OK);
    assert_int_equal(easd_linux_rng_fill(NULL, 1), EAS_ERR_PARAM);
}

/* Run fn with stderr captured into a buffer. */
static void capture_stderr(void (*fn)(void), char *out, size_t cap)
{
    char path[] = "/tmp/easd-log-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(2);
    FILE *f;
    size_t n;

    assert_true(fd >= 0 && saved >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    fn();
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    close(fd);
    f = fopen(path, "rb");
    assert_non_null(f);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    unlink(path);
}

static void emit_lines(void)
{
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_INFO, NULL});
    easd_linux_log_write(HAL_LOG_ERROR, "engine", "boom 42", 7);
    easd_linux_log_write(HAL_LOG_DEBUG, "engine", "hidden", 6); /* below the minimum level */
    easd_linux_log_write(HAL_LOG_WARN, "http", "a\nforged line\r", 14);
    EAS_LOGI(&easd_linux_hal()->log, "store", "via core macro %d", 7);
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_NONE, HAL_LOG_DEBUG, NULL});
    easd_linux_log_write(HAL_LOG_ERROR, "engine", "dropped", 7);
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_ERROR, NULL});
    easd_linux_log_write(HAL_LOG_WARN, "engine", "filtered", 8);
}

static void log_lines_have_time_level_module(void **state)
{
    (void)state;
    char text[2048];
    regex_t re;
    const char *pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                          "E engine: boom 42\n"
                          "[0-9-]{10}T[0-9:.]{12}Z W http: a\\?forged line\\?\n"
#if CONFIG_EAS_LOG_LEVEL >= 3
                          "[0-9-]{10}T[0-9:.]{12}Z I store: via core macro 7\n"
#endif
                          "$";

    capture_stderr(emit_lines, text, sizeof(text));
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
    if (regexec(&re, text, 0, NULL, 0) != 0) {
        print_message("captured:\n%s", text);
        fail();
    }
    regfree(&re);
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_INFO, NULL});
}

static void emit_syslog(void)
{
    easd_linux_log_config(
        &(easd_linux_log_config_t){EASD_LINUX_LOG_SYSLOG, HAL_LOG_DEBUG, "easd-test"});
    easd_linux_log_write(HAL_LOG_INFO, "test", "to syslog", 9);
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_INFO, NULL});
}

static void syslog_sink_accepts_lines(void **state)
{
    (void)state;
    /* No syslog daemon in CI: this checks only that the sink can be selected, used and left
     * without crashing or writing to stderr. */
    char text[256];
    capture_stderr(emit_syslog, text, sizeof(text));
    assert_string_equal(text, "");
}

/* ---- issue 11: local hardening ---- */

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void secret_file_owner_and_mode(void **state)
{
    (void)state;
    char dir[] = "/tmp/easd-secret-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/pw", dir);
    char buf[16];
    const char *why = NULL;

    write_file(path, "s3cret\nsecond line\n", 0600);
    assert_int_equal(easd_linux_read_secret(path, buf, sizeof(buf), &why), EAS_OK);
    assert_string_equal(buf, "s3cret");
    /* nothing of the rest of the file stays in the buffer */
    for (size_t i = 6; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0);
    }
    write_file(path, "s3cret\r\n", 0400);
    assert_int_equal(easd_linux_read_secret(path, buf, sizeof(buf), &why), EAS_OK);
    assert_string_equal(buf, "s3cret");

    /* readable by group or others: refused with the fix in the message, buffer wiped */
    static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0660};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, "s3cret\n", bad[i]);
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(easd_linux_read_secret(path, buf, sizeof(buf), &why), EAS_ERR_FORBIDDEN);
        assert_non_null(strstr(why, "chmod 600"));
        assert_int_equal(buf[0], 0);
    }
    /* a symbolic link to it, a directory, a missing file, an empty or too long secret */
    char link[64];
    snprintf(link, sizeof(link), "%s/link", dir);
    write_file(path, "s3cret\n", 0600);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(easd_linux_read_secret(link, buf, sizeof(buf), &why), EAS_ERR_NOT_FOUND);
    assert_int_equal(easd_linux_read_secret(dir, buf, sizeof(buf), &why), EAS_ERR_FORBIDDEN);
    assert_int_equal(easd_linux_read_secret("/nonexistent/pw", buf, sizeof(buf), &why),
                     EAS_ERR_NOT_FOUND);
    write_file(path, "\n", 0600);
    assert_int_equal(easd_linux_read_secret(path, buf, sizeof(buf), &why), EAS_ERR_FORMAT);
    write_file(path, "0123456789abcdefXYZ\n", 0600);
    assert_int_equal(easd_linux_read_secret(path, buf, sizeof(buf), &why), EAS_ERR_LIMIT);
    write_file(path, "0123456789abcde\n", 0600); /* exactly cap - 1 */
    assert_int_equal(easd_linux_read_secret(path, buf, sizeof(buf), &why), EAS_OK);
    assert_string_equal(buf, "0123456789abcde");
    unlink(link);
    unlink(path);
    rmdir(dir);
}

static void private_dir_is_created_and_tightened(void **state)
{
    (void)state;
    char dir[] = "/tmp/easd-priv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof(sub), "%s/state", dir);
    struct stat st;
    mode_t old = umask(0);
    assert_int_equal(easd_linux_private_dir(sub), EAS_OK);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(easd_linux_private_dir(sub), EAS_OK);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    umask(old);
    rmdir(sub);
    rmdir(dir);
}

static void harden_process_sets_everything(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(easd_linux_harden_process(), EAS_OK);
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 0);
    assert_int_equal(rl.rlim_max, 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    mode_t m = umask(077);
    assert_int_equal(m, 077);
    char buf[4] = {1, 2, 3, 4};
    easd_linux_wipe(buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(monotonic_never_goes_back),
        cmocka_unit_test(utc_is_current_unix_time),
        cmocka_unit_test(rng_fills_every_byte),
        cmocka_unit_test(log_lines_have_time_level_module),
        cmocka_unit_test(syslog_sink_accepts_lines),
        cmocka_unit_test(secret_file_owner_and_mode),
        cmocka_unit_test(private_dir_is_created_and_tightened),
        cmocka_unit_test(harden_process_sets_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
