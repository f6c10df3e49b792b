/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks and randomness for Linux. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero */
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "easd_linux.h"
#include "eas/eas_err.h"
#include "easd_linux.h"
#include "hal/hal_time.h"

/* 2020-01-01T00:00:00Z. A device without an RTC boots near 1970; any earlier time is a
 * clock that has not been set, and certificate and Ping logic must not trust it. */
#define LX_UTC_PLAUSIBLE_MIN 1577836800LL

uint64_t hal_time_monotonic_ms(void)
{
    struct timespec ts = {0, 0};

    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int hal_time_utc(int64_t *unix_seconds)
{
    int rc = EAS_ERR_PARAM;
    struct timespec ts = {0, 0};

    if (unix_seconds == NULL) {
        goto done;
    }
    rc = EAS_ERR_STATE;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || (int64_t)ts.tv_sec < LX_UTC_PLAUSIBLE_MIN) {
        goto done;
    }
    *unix_seconds = (int64_t)ts.tv_sec;
    rc = EAS_OK;
done:
    return rc;
}

int easd_linux_rng_fill(uint8_t *buf, size_t len)
{
    int rc = EAS_OK;
    size_t off = 0u;

    if (buf == NULL && len > 0u) {
        rc = EAS_ERR_PARAM;
    }
    while (rc == EAS_OK && off < len) {
        /* Flags 0: block until the kernel pool is initialised, then never again. */
        ssize_t n = getrandom(buf + off, len - off, 0);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            rc = (n < 0 && errno == ENOSYS) ? EAS_ERR_UNSUPPORTED : EAS_ERR_IO;
        }
    }
    return rc;
}

/* ---- process hardening ---- */

int easd_linux_harden_process(void)
{
    int rc = EAS_OK;
    struct rlimit none = {0, 0};

    (void)umask(077);
    /* A core file would hold the password and mail; so would another process of the same
     * user attaching with ptrace or reading /proc/<pid>/mem. */
    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        rc = EAS_ERR_IO;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        rc = EAS_ERR_IO;
    }
    return rc;
}

void easd_linux_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0u) {
        explicit_bzero(p, len);
    }
}

int easd_linux_read_secret(const char *path, char *out, size_t cap, const char **why)
{
    const char *msg = "";
    int rc = EAS_ERR_PARAM;
    int fd = -1;
    struct stat st;
    size_t len = 0u;

    if (path == NULL || out == NULL || cap == 0u) {
        goto done;
    }
    out[0] = '\0';
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        rc = EAS_ERR_NOT_FOUND;
        msg = "cannot be opened (missing, unreadable or a symbolic link)";
        goto done;
    }
    if (fstat(fd, &st) != 0) {
        rc = EAS_ERR_IO;
        msg = "cannot be inspected";
        goto done;
    }
    rc = EAS_ERR_FORBIDDEN;
    if (!S_ISREG(st.st_mode)) {
        msg = "is not a regular file";
        goto done;
    }
    if (st.st_uid != geteuid()) {
        msg = "is not owned by you (chown it, or use your own copy)";
        goto done;
    }
    if ((st.st_mode & 077) != 0) {
        msg = "is readable or writable by group or others (chmod 600 it)";
        goto done;
    }
    rc = EAS_OK;
    while (rc == EAS_OK) {
        if (len + 1u >= cap) {
            /* Room is left only for the NUL: anything more is too long (unless it is the
               line end, checked below by reading one more byte). */
            char c = 0;
            ssize_t n = read(fd, &c, 1);
            if (n == 1 && c != '\n' && c != '\r') {
                rc = EAS_ERR_LIMIT;
                msg = "holds a secret longer than this tool accepts";
            }
            easd_linux_wipe(&c, sizeof(c));
            break;
        }
        ssize_t n = read(fd, out + len, cap - 1u - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = EAS_ERR_IO;
            msg = "cannot be read";
            break;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (memchr(out, '\n', len) != NULL || memchr(out, '\r', len) != NULL) {
            break;
        }
    }
    if (rc == EAS_OK) {
        size_t line = strcspn(out, "\r\n");
        if (line < len) {
            len = line;
        }
        easd_linux_wipe(out + len, cap - len); /* the rest of the file does not stay around */
        out[len] = '\0';
        if (len == 0u || memchr(out, '\0', len) != NULL) {
            rc = EAS_ERR_FORMAT;
            msg = "is empty (the first line is the secret)";
        }
    }
done:
    if (fd >= 0) {
        (void)close(fd);
    }
    if (rc != EAS_OK && out != NULL && cap > 0u) {
        easd_linux_wipe(out, cap);
    }
    if (why != NULL) {
        *why = msg;
    }
    return rc;
}

int easd_linux_private_dir(const char *path)
{
    struct stat st;

    if (path == NULL) {
        return EAS_ERR_PARAM;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        return EAS_ERR_IO;
    }
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return EAS_ERR_IO;
    }
    if (st.st_uid != geteuid()) {
        return EAS_ERR_FORBIDDEN;
    }
    if ((st.st_mode & 077) != 0 && chmod(path, st.st_mode & 0700) != 0) {
        return EAS_ERR_IO;
    }
    return EAS_OK;
}

/* ---- the ready-made hal_sys_t of the Linux port ---- */

static int lx_store_put(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    return ctx != NULL ? easd_linux_store_put_in(ctx, key, data, len) : easd_linux_store_put(key, data, len);
}

static int lx_store_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    return ctx != NULL ? easd_linux_store_get_in(ctx, key, buf, cap, len) : easd_linux_store_get(key, buf, cap, len);
}

static int lx_store_del(void *ctx, const char *key)
{
    return ctx != NULL ? easd_linux_store_del_in(ctx, key) : easd_linux_store_del(key);
}

static int lx_rng_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return easd_linux_rng_fill(buf, len);
}

static void lx_log_write(void *ctx, hal_log_level_t level, const char *module, const char *msg,
                         size_t len)
{
    (void)ctx;
    easd_linux_log_write(level, module, msg, len);
}

static const hal_sys_t k_linux_hal = {
    .store = {lx_store_put, lx_store_get, lx_store_del, NULL},
    .rng = {lx_rng_fill, NULL},
    .log = {lx_log_write, NULL},
};

const hal_sys_t *easd_linux_hal(void)
{
    return &k_linux_hal;
}

void easd_linux_hal_with_store(hal_sys_t *out, easd_linux_store_t *store)
{
    *out = k_linux_hal;
    out->store.ctx = store;
}
