/* SPDX-License-Identifier: Apache-2.0 */
/* The poll()-based event loop: deadlines, fd readiness, wake-ups and stopping. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "easd_linux.h"

#define MAX_CALLS 64

/* A fake engine: records every call and follows a small script. */
struct fake {
    int calls;
    easd_linux_event_t ev[MAX_CALLS];
    uint64_t now[MAX_CALLS];
    uint64_t deadline_asked[MAX_CALLS];
    /* script */
    int ticks_wanted;
    uint64_t period_ms;
    int fd;
    bool want_read;
    bool want_write;
    easd_linux_loop_t *loop;
    int stop_after_command;
};

static int fake_step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *next_deadline_ms,
                     easd_linux_wait_t *wait)
{
    struct fake *f = ctx;
    int i = f->calls++;

    if (i >= MAX_CALLS) {
        return 99;
    }
    f->ev[i] = ev;
    f->now[i] = now_ms;
    f->deadline_asked[i] = *next_deadline_ms;
    if (ev == EASD_LINUX_EV_COMMAND && f->stop_after_command) {
        return 42;
    }
    if (ev == EASD_LINUX_EV_READABLE || ev == EASD_LINUX_EV_WRITABLE) {
        return 43;
    }
    if (f->ticks_wanted > 0 && i >= f->ticks_wanted) {
        return 44;
    }
    *next_deadline_ms = (f->period_ms != 0) ? now_ms + f->period_ms : EASD_LINUX_NO_DEADLINE;
    wait->fd = f->fd;
    wait->readable = f->want_read;
    wait->writable = f->want_write;
    wait->pending = false;
    return 0;
}

static void deadlines_wake_the_step_never_early(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    struct fake f = {.ticks_wanted = 5, .period_ms = 15, .fd = -1};

    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), 44);
    assert_int_equal(f.calls, 6);
    for (int i = 0; i < f.calls; i++) {
        assert_int_equal(f.ev[i], EASD_LINUX_EV_TICK);
    }
    for (int i = 1; i < f.calls; i++) {
        /* The deadline the previous call asked for has been reached, and is passed back. */
        assert_int_equal(f.deadline_asked[i], f.now[i - 1] + 15);
        assert_true(f.now[i] >= f.deadline_asked[i]);
    }
    easd_linux_loop_deinit(&loop);
}

static void readable_socketpair_reported(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    int sv[2];
    struct fake f = {.fd = -1, .want_read = true};

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f.fd = sv[0];
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), 43);
    assert_int_equal(f.calls, 2);
    assert_int_equal(f.ev[0], EASD_LINUX_EV_TICK);
    assert_int_equal(f.ev[1], EASD_LINUX_EV_READABLE);
    easd_linux_loop_deinit(&loop);
    close(sv[0]);
    close(sv[1]);
}

static void idle_socket_waits_for_deadline(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    int sv[2];
    struct fake f = {.fd = -1, .want_read = true, .ticks_wanted = 2, .period_ms = 5};

    /* Nothing to read: the loop must tick on the deadline, not report readable. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f.fd = sv[0];
    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), 44);
    assert_int_equal(f.ev[1], EASD_LINUX_EV_TICK);
    assert_int_equal(f.ev[2], EASD_LINUX_EV_TICK);
    easd_linux_loop_deinit(&loop);
    close(sv[0]);
    close(sv[1]);
}

static void writable_reported(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    int sv[2];
    struct fake f = {.fd = -1, .want_write = true};

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f.fd = sv[0];
    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), 43);
    assert_int_equal(f.ev[1], EASD_LINUX_EV_WRITABLE);
    easd_linux_loop_deinit(&loop);
    close(sv[0]);
    close(sv[1]);
}

static int g_idle_fd = -1;

static int pending_step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline,
                        easd_linux_wait_t *wait)
{
    int *calls = ctx;
    (*calls)++;
    if (ev == EASD_LINUX_EV_READABLE) {
        return 45;
    }
    if (*calls > 1) {
        return 46; /* woke by the fallback deadline: pending was ignored */
    }
    /* An fd that never becomes readable, but bytes buffered above it. The deadline only
     * bounds the test if the loop wrongly sleeps. */
    *deadline = now_ms + 10000u;
    wait->fd = g_idle_fd;
    wait->readable = true;
    wait->writable = false;
    wait->pending = true;
    return 0;
}

static void pending_bytes_reported_without_polling(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    int calls = 0;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    g_idle_fd = sv[0];
    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, pending_step, &calls), 45);
    assert_int_equal(calls, 2);
    easd_linux_loop_deinit(&loop);
    close(sv[0]);
    close(sv[1]);
}

static int conn_deadline_step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline,
                              easd_linux_wait_t *wait)
{
    int *calls = ctx;
    (*calls)++;
    if (ev == EASD_LINUX_EV_WRITABLE) {
        return (now_ms >= wait->deadline_ms) ? 47 : 48;
    }
    if (*calls > 1) {
        return 49;
    }
    /* A connect in progress that will never complete; the core itself has no deadline. */
    *deadline = EASD_LINUX_NO_DEADLINE;
    wait->fd = g_idle_fd;
    wait->readable = false;
    wait->writable = false; /* only the connection's limit can wake us */
    wait->pending = false;
    wait->deadline_ms = now_ms + 20u;
    return 0;
}

static void connection_deadline_wakes_the_step(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    int calls = 0;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    g_idle_fd = sv[0];
    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, conn_deadline_step, &calls), 47);
    assert_int_equal(calls, 2);
    easd_linux_loop_deinit(&loop);
    close(sv[0]);
    close(sv[1]);
}

static void *wake_later(void *arg)
{
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    easd_linux_loop_wake(arg);
    return NULL;
}

static void wake_from_another_thread_delivers_command(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    pthread_t th;
    struct fake f = {.fd = -1, .stop_after_command = 1}; /* no deadline, no fd */

    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(pthread_create(&th, NULL, wake_later, &loop), 0);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), 42);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(f.calls, 2);
    assert_int_equal(f.ev[1], EASD_LINUX_EV_COMMAND);

    /* Wake-ups queued before run() are delivered after the first tick, collapsed. */
    f = (struct fake){.fd = -1, .stop_after_command = 1};
    easd_linux_loop_wake(&loop);
    easd_linux_loop_wake(&loop);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), 42);
    assert_int_equal(f.calls, 2);
    assert_int_equal(f.ev[0], EASD_LINUX_EV_TICK);
    assert_int_equal(f.ev[1], EASD_LINUX_EV_COMMAND);
    easd_linux_loop_deinit(&loop);
}

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    easd_linux_loop_stop(arg);
    return NULL;
}

static void stop_from_another_thread(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    pthread_t th;
    struct fake f = {.fd = -1};

    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(pthread_create(&th, NULL, stop_later, &loop), 0);
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), EASD_LINUX_LOOP_STOPPED);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(f.calls, 1);
    easd_linux_loop_deinit(&loop);
}

static int g_raise_sig;

static int signal_step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline,
                       easd_linux_wait_t *wait)
{
    int *calls = ctx;
    (void)ev;
    (void)now_ms;
    (void)wait;
    if ((*calls)++ == 0) {
        raise(g_raise_sig); /* arrives while the loop is about to sleep forever */
    }
    *deadline = EASD_LINUX_NO_DEADLINE;
    return (*calls > 3) ? 77 : 0;
}

static void sigterm_and_sigint_stop_cleanly(void **state)
{
    (void)state;
    static const int sigs[] = {SIGTERM, SIGINT};
    easd_linux_loop_t loop;
    struct sigaction before;
    struct sigaction after;

    for (size_t i = 0; i < 2; i++) {
        int calls = 0;
        g_raise_sig = sigs[i];
        assert_int_equal(sigaction(sigs[i], NULL, &before), 0);
        assert_int_equal(easd_linux_loop_init(&loop, EASD_LINUX_LOOP_SIGNALS), EAS_OK);
        assert_int_equal(easd_linux_loop_run(&loop, signal_step, &calls), EASD_LINUX_LOOP_STOPPED);
        assert_int_equal(calls, 1);
        assert_int_equal(loop.signo, sigs[i]);
        /* The previous disposition is back. */
        assert_int_equal(sigaction(sigs[i], NULL, &after), 0);
        assert_ptr_equal(after.sa_handler, before.sa_handler);
        easd_linux_loop_deinit(&loop);
    }
}

static void closed_fd_is_an_error_not_a_spin(void **state)
{
    (void)state;
    easd_linux_loop_t loop;
    int sv[2];
    struct fake f = {.fd = -1, .want_read = true};

    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK); /* before: no fd reuse */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[0]);
    close(sv[1]);
    f.fd = sv[0]; /* stale descriptor */
    assert_int_equal(easd_linux_loop_run(&loop, fake_step, &f), EAS_ERR_PARAM);
    assert_int_equal(f.calls, 1);
    easd_linux_loop_deinit(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deadlines_wake_the_step_never_early),
        cmocka_unit_test(readable_socketpair_reported),
        cmocka_unit_test(idle_socket_waits_for_deadline),
        cmocka_unit_test(writable_reported),
        cmocka_unit_test(pending_bytes_reported_without_polling),
        cmocka_unit_test(connection_deadline_wakes_the_step),
        cmocka_unit_test(wake_from_another_thread_delivers_command),
        cmocka_unit_test(stop_from_another_thread),
        cmocka_unit_test(sigterm_and_sigint_stop_cleanly),
        cmocka_unit_test(closed_fd_is_an_error_not_a_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
