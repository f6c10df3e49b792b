/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket between easctl and easd: a Unix stream socket in STATE/run (directory
 * 0700, socket 0600: only the user reaches it). One request line per connection; the
 * daemon answers with text and closes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "easd.h"

#define CTL_TIMEOUT_MS 30000
#define CTL_ANSWER_MAX (16u << 20)

void easd_ctl_path(const easd_config_t *cfg, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/run/easd.sock", cfg->state_dir);
}

static int fill_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path)) {
        return -1;
    }
    memcpy(a->sun_path, path, strlen(path) + 1);
    return 0;
}

int easd_ctl_listen(const char *path)
{
    char dir[EASD_PATH_MAX];
    struct sockaddr_un a;
    if (fill_addr(path, &a) != 0) {
        return -1;
    }
    (void)snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    if (easd_mkdirs(dir) != 0 || chmod(dir, 0700) != 0) {
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    (void)unlink(path); /* a socket left by a killed daemon */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0 || listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static long ms_left(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return CTL_TIMEOUT_MS -
           (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

int easd_ctl_request(const char *path, const char *line, char **out)
{
    struct sockaddr_un a;
    struct timespec t0;
    *out = NULL;
    if (fill_addr(path, &a) != 0) {
        return -2;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -2;
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return (errno == ENOENT || errno == ECONNREFUSED) ? -1 : -2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n = strlen(line);
    if (write(fd, line, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
        close(fd);
        return -2;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        long left = ms_left(&t0);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            rc = -2;
            break;
        }
        if (len + 1 >= cap) {
            if (cap >= CTL_ANSWER_MAX) {
                rc = -2;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = -2;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    if (!buf) {
        return -2;
    }
    buf[len] = '\0';
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}
