/* SPDX-License-Identifier: Apache-2.0 */
/* A poll()-based loop that drives a step function: it sleeps until the step's deadline, the
 * fd it waits on, or a wake-up (eventfd) and tells the step which of them happened. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "eas/eas_err.h"
#include "easd_linux.h"

/* The loop that SIGINT/SIGTERM stop; only one loop at a time may own the signals. */
static easd_linux_loop_t *volatile g_signal_loop;

static void loop_kick(easd_linux_loop_t *loop)
{
    uint64_t one = 1u;
    int saved = errno;

    /* A full counter (2^64-2 pending wake-ups) still leaves the fd readable, so a failed
     * write loses nothing. */
    (void)!write(loop->wake_fd, &one, sizeof(one));
    errno = saved;
}

static void on_signal(int signo)
{
    easd_linux_loop_t *loop = g_signal_loop;

    if (loop != NULL) {
        loop->signo = signo;
        loop->stop = 1;
        loop_kick(loop);
    }
}

int easd_linux_loop_init(easd_linux_loop_t *loop, unsigned flags)
{
    int rc = EAS_ERR_PARAM;

    if (loop == NULL) {
        goto done;
    }
    memset(loop, 0, sizeof(*loop));
    loop->flags = flags;
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rc = (loop->wake_fd >= 0) ? EAS_OK : EAS_ERR_IO;
done:
    return rc;
}

void easd_linux_loop_deinit(easd_linux_loop_t *loop)
{
    if (loop != NULL && loop->wake_fd >= 0) {
        (void)close(loop->wake_fd);
        loop->wake_fd = -1;
    }
}

void easd_linux_loop_wake(easd_linux_loop_t *loop)
{
    if (loop != NULL && loop->wake_fd >= 0) {
        loop_kick(loop);
    }
}

void easd_linux_loop_stop(easd_linux_loop_t *loop)
{
    if (loop != NULL) {
        loop->stop = 1;
        if (loop->wake_fd >= 0) {
            loop_kick(loop);
        }
    }
}

/* Read and reset the eventfd counter; true when any wake-up was pending. */
static int drain_wake(easd_linux_loop_t *loop)
{
    uint64_t count = 0u;
    ssize_t n = read(loop->wake_fd, &count, sizeof(count));

    return (n == (ssize_t)sizeof(count) && count > 0u) ? 1 : 0;
}

/* Wait for the next reason to step. Returns EAS_OK with *ev set, EASD_LINUX_LOOP_STOPPED
 * (as 1, remapped by the caller) when stopped, or EAS_ERR_IO / EAS_ERR_PARAM. */
static int wait_event(easd_linux_loop_t *loop, uint64_t deadline, const easd_linux_wait_t *w,
                      easd_linux_event_t *ev)
{
    int rc = EAS_ERR_AGAIN;

    while (rc == EAS_ERR_AGAIN) {
        struct pollfd p[2];
        nfds_t nfds = 1;
        int timeout = -1;
        uint64_t now;
        uint64_t deadline_poll;
        int n;

        if (loop->stop) {
            rc = 1;
            break;
        }
        if (w->fd >= 0 && w->readable && w->pending) {
            /* Bytes are waiting above the socket: poll() cannot see them. */
            *ev = EASD_LINUX_EV_READABLE;
            rc = EAS_OK;
            break;
        }
        now = hal_time_monotonic_ms();
        if (w->fd >= 0 && w->deadline_ms != EASD_LINUX_NO_DEADLINE && now >= w->deadline_ms) {
            /* The connection's own limit: let the step call it and learn of the timeout. */
            *ev = w->readable ? EASD_LINUX_EV_READABLE : EASD_LINUX_EV_WRITABLE;
            rc = EAS_OK;
            break;
        }
        if (w->fd >= 0 && w->deadline_ms < deadline) {
            deadline_poll = w->deadline_ms;
        } else {
            deadline_poll = deadline;
        }
        if (deadline != EASD_LINUX_NO_DEADLINE && now >= deadline) {
            *ev = EASD_LINUX_EV_TICK;
            rc = EAS_OK;
            break;
        }
        if (deadline_poll != EASD_LINUX_NO_DEADLINE) {
            timeout =
                (deadline_poll - now > (uint64_t)INT_MAX) ? INT_MAX : (int)(deadline_poll - now);
        }
        p[0].fd = loop->wake_fd;
        p[0].events = POLLIN;
        p[0].revents = 0;
        if (w->fd >= 0 && (w->readable || w->writable)) {
            p[1].fd = w->fd;
            p[1].events = (short)((w->readable ? POLLIN : 0) | (w->writable ? POLLOUT : 0));
            p[1].revents = 0;
            nfds = 2;
        }
        n = poll(p, nfds, timeout);
        if (n < 0) {
            if (errno != EINTR) {
                rc = EAS_ERR_IO;
            }
            continue;
        }
        if ((p[0].revents & POLLIN) != 0 && drain_wake(loop) && !loop->stop) {
            *ev = EASD_LINUX_EV_COMMAND;
            rc = EAS_OK;
        } else if (nfds == 2 && p[1].revents != 0) {
            if ((p[1].revents & POLLNVAL) != 0) {
                /* The step asked for a closed fd: waiting on it would spin forever. */
                rc = EAS_ERR_PARAM;
            } else if (w->readable && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                /* Hang-up and error are reported as readable: recv returns the reason. */
                *ev = EASD_LINUX_EV_READABLE;
                rc = EAS_OK;
            } else {
                *ev = EASD_LINUX_EV_WRITABLE;
                rc = EAS_OK;
            }
        } else {
            /* A timeout (the deadline check above decides) or a spurious wake-up. */
        }
    }
    return rc;
}

int easd_linux_loop_run(easd_linux_loop_t *loop, easd_linux_step_fn step, void *ctx)
{
    int rc = EAS_ERR_PARAM;
    struct sigaction sa;
    struct sigaction old_int;
    struct sigaction old_term;
    int signals = 0;
    uint64_t deadline = EASD_LINUX_NO_DEADLINE;
    easd_linux_wait_t w = {.fd = -1,
                           .readable = false,
                           .writable = false,
                           .pending = false,
                           .deadline_ms = EASD_LINUX_NO_DEADLINE};
    easd_linux_event_t ev = EASD_LINUX_EV_TICK;

    if (loop == NULL || step == NULL || loop->wake_fd < 0) {
        goto done;
    }
    loop->signo = 0;
    if ((loop->flags & EASD_LINUX_LOOP_SIGNALS) != 0u) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        (void)sigemptyset(&sa.sa_mask);
        g_signal_loop = loop;
        (void)sigaction(SIGINT, &sa, &old_int);
        (void)sigaction(SIGTERM, &sa, &old_term);
        signals = 1;
    }
    for (;;) {
        if (loop->stop) {
            rc = EASD_LINUX_LOOP_STOPPED;
            break;
        }
        rc = step(ctx, ev, hal_time_monotonic_ms(), &deadline, &w);
        if (rc != 0) {
            break;
        }
        rc = wait_event(loop, deadline, &w, &ev);
        if (rc == 1) {
            rc = EASD_LINUX_LOOP_STOPPED;
            break;
        }
        if (rc != EAS_OK) {
            break;
        }
    }
    /* A later run() starts fresh; stop() before run() still stops it at once. */
    loop->stop = 0;
    if (signals) {
        (void)sigaction(SIGINT, &old_int, NULL);
        (void)sigaction(SIGTERM, &old_term, NULL);
        g_signal_loop = NULL;
    }
done:
    return rc;
}
