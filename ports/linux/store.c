/* SPDX-License-Identifier: Apache-2.0 */
/* easd_linux_store_* as one file per record in a directory. Atomicity comes from rename(2): a put
 * writes a temporary file completely and durably, then renames it over the record, so a
 * reader (or a restart after a crash) sees either the old inode or the new one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "eas/eas_err.h"
#include "easd_linux.h"

/* "r." + key + NUL; temporaries are "t." + key. The prefixes keep every valid key (even
 * "." and "..") a plain file name and keep temporaries apart from records. */
#define LX_STORE_NAME_MAX (2 + HAL_STORE_KEY_MAX + 1)

/* The store behind the process-wide easd_linux_store_*() calls and easd_linux_hal(). */
static easd_linux_store_t g_store = {.dirfd = -1, .open = false};
static easd_linux_store_fault_fn g_fault;

static bool key_valid(const char *key)
{
    bool ok = (key != NULL);
    size_t i = 0u;

    while (ok && key[i] != '\0') {
        char c = key[i];
        ok =
            (i < HAL_STORE_KEY_MAX) && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
        i++;
    }
    return ok && i > 0u;
}

static void make_name(char out[LX_STORE_NAME_MAX], char prefix, const char *key)
{
    (void)snprintf(out, LX_STORE_NAME_MAX, "%c.%s", prefix, key);
}

static bool fault(const char *key, easd_linux_store_point_t point)
{
    return (g_fault != NULL) && (g_fault(key, point) != 0);
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    int rc = EAS_OK;
    size_t off = 0u;

    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) ? EAS_ERR_STORE_FULL
                                                                        : EAS_ERR_STORE;
            break;
        }
        off += (size_t)n;
    }
    return rc;
}

/* Remove temporaries left by a put that never reached its rename. */
static void remove_stale(int dirfd)
{
    int fd = dup(dirfd);
    DIR *d = (fd >= 0) ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (d == NULL) {
        if (fd >= 0) {
            (void)close(fd);
        }
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == 't' && e->d_name[1] == '.') {
            (void)unlinkat(dirfd, e->d_name, 0);
        }
    }
    (void)closedir(d);
    (void)fsync(dirfd);
}

int easd_linux_store_open(easd_linux_store_t *st, const char *dir)
{
    int rc = EAS_ERR_PARAM;
    int fd = -1;

    if (st == NULL || dir == NULL || dir[0] == '\0') {
        goto done;
    }
    rc = EAS_ERR_STORE;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        easd_linux_logf(HAL_LOG_ERROR, "store", "cannot create %s (errno %d)", dir, errno);
        goto done;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        easd_linux_logf(HAL_LOG_ERROR, "store", "cannot open %s (errno %d)", dir, errno);
        goto done;
    }
    remove_stale(fd);
    easd_linux_store_close(st);
    st->dirfd = fd;
    st->open = true;
    fd = -1;
    rc = EAS_OK;
done:
    if (fd >= 0) {
        (void)close(fd);
    }
    return rc;
}

void easd_linux_store_close(easd_linux_store_t *st)
{
    if (st != NULL && st->open) {
        (void)close(st->dirfd);
    }
    if (st != NULL) {
        st->dirfd = -1;
        st->open = false;
    }
}

int easd_linux_store_init(const char *dir)
{
    return easd_linux_store_open(&g_store, dir);
}

void easd_linux_store_deinit(void)
{
    easd_linux_store_close(&g_store);
}

void easd_linux_store_set_fault_hook(easd_linux_store_fault_fn hook)
{
    g_fault = hook;
}

int easd_linux_store_put_in(easd_linux_store_t *store, const char *key, const uint8_t *data, size_t len)
{
    int dirfd = (store != NULL && store->open) ? store->dirfd : -1;
    int rc = EAS_ERR_STORE_KEY;
    int fd = -1;
    bool leave_tmp = false;
    char tmp[LX_STORE_NAME_MAX];
    char rec[LX_STORE_NAME_MAX];

    if (!key_valid(key)) {
        goto done;
    }
    rc = EAS_ERR_STORE;
    if (dirfd < 0 || (data == NULL && len > 0u)) {
        goto done;
    }
    make_name(tmp, 't', key);
    make_name(rec, 'r', key);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = (errno == ENOSPC || errno == EDQUOT) ? EAS_ERR_STORE_FULL : EAS_ERR_STORE;
        goto done;
    }
    rc = write_all(fd, data, len);
    if (rc != EAS_OK) {
        goto done;
    }
    rc = EAS_ERR_STORE;
    if (fault(key, EASD_LINUX_STORE_AFTER_WRITE)) {
        leave_tmp = true;
        goto done;
    }
    /* The data must be on the medium before the name points at it, or a power cut after
     * the rename could leave a record of the right name and the wrong (empty) content. */
    if (fsync(fd) != 0) {
        rc = (errno == ENOSPC || errno == EDQUOT) ? EAS_ERR_STORE_FULL : EAS_ERR_STORE;
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto done;
    }
    fd = -1;
    if (fault(key, EASD_LINUX_STORE_BEFORE_RENAME)) {
        leave_tmp = true;
        goto done;
    }
    if (renameat(dirfd, tmp, dirfd, rec) != 0) {
        goto done;
    }
    if (fault(key, EASD_LINUX_STORE_BEFORE_DIR_SYNC)) {
        goto done;
    }
    /* The rename itself is only durable once the directory is synced. */
    if (fsync(dirfd) != 0) {
        goto done;
    }
    rc = EAS_OK;
done:
    if (fd >= 0) {
        (void)close(fd);
    }
    if (rc != EAS_OK && rc != EAS_ERR_STORE_KEY && !leave_tmp && dirfd >= 0) {
        /* Nothing to undo after a rename; before it, the temporary is just garbage. */
        (void)unlinkat(dirfd, tmp, 0);
    }
    return rc;
}

int easd_linux_store_get_in(easd_linux_store_t *store, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    int dirfd = (store != NULL && store->open) ? store->dirfd : -1;
    int rc = EAS_ERR_STORE_KEY;
    int fd = -1;
    char rec[LX_STORE_NAME_MAX];
    struct stat st;
    size_t size;
    size_t off = 0u;

    if (!key_valid(key)) {
        goto done;
    }
    rc = EAS_ERR_STORE;
    if (dirfd < 0 || len == NULL || (buf == NULL && cap > 0u)) {
        goto done;
    }
    make_name(rec, 'r', key);
    fd = openat(dirfd, rec, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = (errno == ENOENT) ? EAS_ERR_STORE_NOT_FOUND : EAS_ERR_STORE;
        goto done;
    }
    /* The open file is one committed version (a concurrent put renames a new inode in),
     * so its size is the record's size. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        goto done;
    }
    size = (size_t)st.st_size;
    *len = size;
    if (size > cap) {
        rc = EAS_ERR_NOMEM;
        goto done;
    }
    while (off < size) {
        ssize_t n = read(fd, buf + off, size - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    if (off == size) {
        rc = EAS_OK;
    }
done:
    if (fd >= 0) {
        (void)close(fd);
    }
    return rc;
}

int easd_linux_store_del_in(easd_linux_store_t *store, const char *key)
{
    int dirfd = (store != NULL && store->open) ? store->dirfd : -1;
    int rc = EAS_ERR_STORE_KEY;
    char rec[LX_STORE_NAME_MAX];

    if (!key_valid(key)) {
        goto done;
    }
    rc = EAS_ERR_STORE;
    if (dirfd < 0) {
        goto done;
    }
    make_name(rec, 'r', key);
    if (unlinkat(dirfd, rec, 0) != 0 && errno != ENOENT) {
        goto done;
    }
    if (fsync(dirfd) != 0) {
        goto done;
    }
    rc = EAS_OK;
done:
    return rc;
}

int easd_linux_store_put(const char *key, const uint8_t *data, size_t len)
{
    return easd_linux_store_put_in(&g_store, key, data, len);
}

int easd_linux_store_get(const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    return easd_linux_store_get_in(&g_store, key, buf, cap, len);
}

int easd_linux_store_del(const char *key)
{
    return easd_linux_store_del_in(&g_store, key);
}
