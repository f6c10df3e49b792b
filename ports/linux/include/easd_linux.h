/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file easd_linux.h
 * @brief The Linux port: what applications, tools and tests call beyond the HAL itself.
 *
 * The port provides:
 * - a ready-made ::hal_sys_t for eas_engine_init() (easd_linux_hal(): the file store, getrandom()
 *   and the log sink below), and the clocks of hal_time.h for the application's loop,
 * - a connector (::hal_net_t) for plain TCP and TLS (mbedtls 2.28) connections,
 * - the file store's setup (a directory of records),
 * - log sink configuration (stderr or syslog, minimum level),
 * - a poll()-based event loop that drives a step function by its deadline.
 *
 * Unlike the core, the port may allocate (one context per connection) and use the OS.
 * Everything here is meant for one thread (the loop's) except where a function says it is
 * thread-safe or async-signal-safe.
 */
#ifndef EASD_LINUX_H
#define EASD_LINUX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Connections                                                                               */
/* ----------------------------------------------------------------------------------------- */

/** The system CA bundle used when ::easd_linux_net_config_t::ca_file is NULL. */
#define EASD_LINUX_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/** Default limit for TCP connect plus TLS handshake, when the config says 0. */
#define EASD_LINUX_CONNECT_TIMEOUT_MS_DEFAULT 15000u

/** Connector settings. Strings are copied by easd_linux_net_init(). */
typedef struct easd_linux_net_config {
    /** PEM file (or directory of PEM files) of trusted CAs; NULL = the system bundle. */
    const char *ca_file;
    /**
     * Time allowed from open() until the connection is usable (TCP connect of every
     * resolved address in turn, plus the TLS handshake); 0 = the default. When it passes,
     * send/recv return EAS_ERR_TIMEOUT.
     */
    uint32_t connect_timeout_ms;
} easd_linux_net_config_t;

/**
 * Connector state. Caller-owned; must outlive every connection it opened (TLS connections
 * point at its configuration and trusted CA chain). Treat the members as private.
 */
typedef struct easd_linux_net {
    /** The CA path as configured; empty = the system bundle. */
    char ca_file[4096];
    /** See ::easd_linux_net_config_t::connect_timeout_ms (already defaulted). */
    uint32_t connect_timeout_ms;
    /** Loaded TLS configuration and CA chain (created on the first TLS open); private. */
    void *tls;
    /** The newest connection opened through this connector while it is open; private. */
    hal_io_t current;
} easd_linux_net_t;

/**
 * @brief Set up a connector and the ::hal_net_t the core calls.
 *
 * Does not touch the network. A CA file named in @p cfg is loaded here, so a missing or
 * unusable one is a clear, permanent error at start (EAS_ERR_TLS_CA) rather than a
 * connection failure the engine would retry; the system bundle is loaded by the first TLS
 * open() (EAS_ERR_TLS_CA there if it cannot be read).
 * @param[out] net  connector state.
 * @param[in]  cfg  settings, or NULL for defaults.
 * @param[out] hal  filled with open() and @p net as its context.
 * @return EAS_OK, EAS_ERR_PARAM (NULL pointers, CA path too long), EAS_ERR_TLS_CA.
 */
int easd_linux_net_init(easd_linux_net_t *net, const easd_linux_net_config_t *cfg, hal_net_t *hal);

/** @brief Release what the connector holds. Every connection must be closed first. */
void easd_linux_net_deinit(easd_linux_net_t *net);

/**
 * @brief The socket of an open connection (plain or TLS), for poll().
 * @return the file descriptor, or -1 when @p io is not a Linux port connection or has none.
 */
int easd_linux_io_fd(const hal_io_t *io);

/** No deadline: wait for I/O or a command only. */
#define EASD_LINUX_NO_DEADLINE UINT64_MAX

/** What an event loop must wait for before calling the step function again. */
typedef struct easd_linux_wait {
    /** File descriptor to poll, or -1 for none (deadline / commands only). */
    int fd;
    /** Wake up when @ref fd is readable. */
    bool readable;
    /** Wake up when @ref fd is writable. */
    bool writable;
    /**
     * Data is already buffered above the socket (a TLS record partly consumed): do not
     * wait, report "readable" at once. poll() would not see these bytes.
     */
    bool pending;
    /**
     * The connection's own time limit (TCP connect or TLS handshake timeout), absolute
     * monotonic ms, or ::EASD_LINUX_NO_DEADLINE. When it passes, the loop reports the fd
     * event it waited for, and the next send/recv returns EAS_ERR_TIMEOUT.
     */
    uint64_t deadline_ms;
} easd_linux_wait_t;

/**
 * @brief Translate what the core waits for on a connection into what the OS must report.
 *
 * The core knows only that send or recv returned 0. Underneath, a connection may be
 * waiting for something else: a TCP connect in progress needs writability, a TLS handshake
 * may need to read while the core wants to write (and the reverse), and TLS may hold
 * decrypted bytes the socket no longer shows. Call this after every step that left the
 * core waiting on @p io.
 * @param[in]  io         the connection (may be NULL: then @p out waits for nothing).
 * @param[in]  want_read  the core waits for incoming data.
 * @param[in]  want_write the core waits to send.
 * @param[out] out        fd and events for poll().
 */
void easd_linux_io_wait(const hal_io_t *io, bool want_read, bool want_write,
                        easd_linux_wait_t *out);

/**
 * @brief easd_linux_io_wait() for the newest connection opened through @p net that is
 * still open (the core keeps its ::hal_io_t to itself; the port remembers what it handed
 * out). With no open connection, @p out waits for nothing (fd -1).
 *
 * The adapter that plugs the engine into easd_linux_loop_run() is then:
 * @code
 * static int app_step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline,
 *                     easd_linux_wait_t *wait)
 * {
 *     struct app *a = ctx;   // holds eas_engine_t eng and easd_linux_net_t net
 *     int rc = eas_step(&a->eng, (eas_step_event_t)ev, now_ms, deadline);
 *     unsigned io = eas_engine_wait_io(&a->eng);
 *     easd_linux_net_wait(&a->net, (io & EAS_IO_READ) != 0u, (io & EAS_IO_WRITE) != 0u, wait);
 *     return rc;   // non-zero (a stopped state) ends the loop
 * }
 * @endcode
 */
void easd_linux_net_wait(const easd_linux_net_t *net, bool want_read, bool want_write,
                         easd_linux_wait_t *out);

/* ----------------------------------------------------------------------------------------- */
/* Store                                                                                     */
/* ----------------------------------------------------------------------------------------- */

/**
 * @brief Open (creating it with mode 0700 if needed) the directory that holds the records.
 *
 * Record "k" is the file "r.k"; a put writes "t.k", fsyncs it, renames it over "r.k" and
 * fsyncs the directory. Leftover "t.*" files of an interrupted put are removed here, so an
 * interrupted put leaves the previous record. Calling it again switches directories.
 * Before the first successful call every store function returns EAS_ERR_STORE.
 * @return EAS_OK, EAS_ERR_PARAM (NULL) or EAS_ERR_STORE (cannot create or open).
 */
int easd_linux_store_init(const char *dir);

/** @brief Close the store directory; store calls return EAS_ERR_STORE until the next init. */
void easd_linux_store_deinit(void);

/** The file store's operations (the ::hal_store_t of easd_linux_hal() calls these). The
    contract is hal_store.h's. */
int easd_linux_store_put(const char *key, const uint8_t *data, size_t len);
int easd_linux_store_get(const char *key, uint8_t *buf, size_t cap, size_t *len);
int easd_linux_store_del(const char *key);

/**
 * One store directory as an object, for a process with several accounts (or a test) that
 * wants a store each. The process-wide calls above work on one default instance; these take
 * the instance. A zero-initialised instance is closed (every call returns EAS_ERR_STORE).
 * One instance must not be used by two threads at once; two instances may.
 */
typedef struct easd_linux_store {
    int dirfd; /**< private */
    bool open; /**< private */
} easd_linux_store_t;

/** @brief easd_linux_store_init() for @p st: open (create 0700) @p dir, remove leftovers. */
int easd_linux_store_open(easd_linux_store_t *st, const char *dir);
/** @brief Close @p st (safe on a closed or zero-initialised instance). */
void easd_linux_store_close(easd_linux_store_t *st);
/** The file store's operations on @p store (contract: hal_store.h). */
int easd_linux_store_put_in(easd_linux_store_t *store, const char *key, const uint8_t *data,
                            size_t len);
int easd_linux_store_get_in(easd_linux_store_t *store, const char *key, uint8_t *buf, size_t cap,
                            size_t *len);
int easd_linux_store_del_in(easd_linux_store_t *store, const char *key);

/** Points inside easd_linux_store_put() where a test can simulate a crash. */
typedef enum easd_linux_store_point {
    /** The temporary file is written but not yet fsynced. */
    EASD_LINUX_STORE_AFTER_WRITE = 1,
    /** The temporary file is durable; the rename has not happened. */
    EASD_LINUX_STORE_BEFORE_RENAME = 2,
    /** Renamed; the directory is not yet fsynced. */
    EASD_LINUX_STORE_BEFORE_DIR_SYNC = 3
} easd_linux_store_point_t;

/**
 * Fault hook for tests: called at each ::easd_linux_store_point_t of every put. Returning
 * non-zero makes the put stop right there as if the process had died (nothing is cleaned
 * up) and return EAS_ERR_STORE. The hook may also _exit() or raise(SIGKILL).
 */
typedef int (*easd_linux_store_fault_fn)(const char *key, easd_linux_store_point_t point);

/** @brief Install (or with NULL remove) the fault hook. For tests only. */
void easd_linux_store_set_fault_hook(easd_linux_store_fault_fn hook);

/* ----------------------------------------------------------------------------------------- */
/* Log                                                                                       */
/* ----------------------------------------------------------------------------------------- */

/** Where log lines go. */
typedef enum easd_linux_log_sink {
    /** One line per message on stderr: "2024-05-01T12:00:00.123Z E engine: text". */
    EASD_LINUX_LOG_STDERR = 0,
    /** syslog(3), facility LOG_DAEMON, priority from the level. */
    EASD_LINUX_LOG_SYSLOG = 1,
    /** Drop every line. */
    EASD_LINUX_LOG_NONE = 2
} easd_linux_log_sink_t;

/** Log settings. */
typedef struct easd_linux_log_config {
    /** Destination. */
    easd_linux_log_sink_t sink;
    /** Lines less severe than this are dropped (HAL_LOG_ERROR keeps errors only). */
    hal_log_level_t min_level;
    /** syslog identity (static storage); NULL = "easd". */
    const char *ident;
} easd_linux_log_config_t;

/**
 * @brief Select the sink and minimum level. The default, without a call, is stderr at
 * HAL_LOG_INFO. Not thread-safe with concurrent easd_linux_log_write() calls.
 */
void easd_linux_log_config(const easd_linux_log_config_t *cfg);

/** @brief Write one line to the configured sink (the ::hal_log_t of easd_linux_hal()). */
void easd_linux_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len);

/** @brief printf-style easd_linux_log_write() for the port itself and its tools. */
void easd_linux_logf(hal_log_level_t level, const char *module, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ----------------------------------------------------------------------------------------- */
/* HAL services for the engine                                                               */
/* ----------------------------------------------------------------------------------------- */

/** @brief getrandom(2) (blocks only until the kernel pool is seeded, at early boot). */
int easd_linux_rng_fill(uint8_t *buf, size_t len);

/**
 * @brief The port's ::hal_sys_t for eas_engine_init(): the file store (one directory, set by
 * easd_linux_store_init()), getrandom() and the log sink of easd_linux_log_config().
 * Static storage; valid for the life of the program.
 */
const hal_sys_t *easd_linux_hal(void);

/**
 * @brief Fill @p out with the port's ::hal_sys_t whose store is @p store (random source and
 *        log sink as easd_linux_hal()): one per account when a process runs several engines.
 *        @p out and @p store must outlive the engine.
 */
void easd_linux_hal_with_store(hal_sys_t *out, easd_linux_store_t *store);

/* ----------------------------------------------------------------------------------------- */
/* Event loop                                                                                */
/* ----------------------------------------------------------------------------------------- */

/** Why the loop calls the step function. Same meaning as the core's eas_step() events. */
typedef enum easd_linux_event {
    /** First call, or the deadline the step returned has passed. */
    EASD_LINUX_EV_TICK = 0,
    /** The fd the step asked for is readable (or hung up / in error: recv will tell). */
    EASD_LINUX_EV_READABLE = 1,
    /** The fd the step asked for is writable (or in error: send will tell). */
    EASD_LINUX_EV_WRITABLE = 2,
    /** easd_linux_loop_wake() was called: the application queued a command. */
    EASD_LINUX_EV_COMMAND = 3
} easd_linux_event_t;

/**
 * The step function the loop drives (an adapter around eas_step()).
 *
 * @param ctx           the context given to easd_linux_loop_run().
 * @param ev            why it is called.
 * @param now_ms        hal_time_monotonic_ms() at the wake-up.
 * @param[in,out] next_deadline_ms  absolute monotonic time of the next TICK, or
 *                      ::EASD_LINUX_NO_DEADLINE. Preset to the previous value.
 * @param[in,out] wait  what to wait for (see easd_linux_io_wait()); preset to the previous
 *                      value.
 * @return 0 to go on; any other value stops the loop, which returns it.
 */
typedef int (*easd_linux_step_fn)(void *ctx, easd_linux_event_t ev, uint64_t now_ms,
                                  uint64_t *next_deadline_ms, easd_linux_wait_t *wait);

/** Loop state. Caller-owned; treat the members as private. */
typedef struct easd_linux_loop {
    /** eventfd that wake() and stop() write to. */
    int wake_fd;
    /** Set by stop() / a signal. */
    volatile sig_atomic_t stop;
    /** The signal that stopped the loop, or 0. */
    volatile sig_atomic_t signo;
    /** EASD_LINUX_LOOP_* flags from init. */
    unsigned flags;
} easd_linux_loop_t;

/** Flag for easd_linux_loop_init(): SIGINT and SIGTERM stop the loop while it runs. */
#define EASD_LINUX_LOOP_SIGNALS 1u

/** Value returned by easd_linux_loop_run() when stopped by stop() or a signal. */
#define EASD_LINUX_LOOP_STOPPED 0

/**
 * @brief Prepare a loop.
 * @param flags 0 or ::EASD_LINUX_LOOP_SIGNALS. Only one loop at a time may use signals.
 * @return EAS_OK, EAS_ERR_PARAM or EAS_ERR_IO (eventfd failed).
 */
int easd_linux_loop_init(easd_linux_loop_t *loop, unsigned flags);

/**
 * @brief Run until the step function returns non-zero, stop() is called or (with
 * ::EASD_LINUX_LOOP_SIGNALS) SIGINT/SIGTERM arrives.
 *
 * Calls @p step once with ::EASD_LINUX_EV_TICK, then waits in poll() for the fd events,
 * the deadline and wake-ups it asked for, and calls it again with the reason. A deadline
 * never fires early. Signal handlers installed by the loop are restored on return.
 * @return the step's non-zero value, ::EASD_LINUX_LOOP_STOPPED, or EAS_ERR_IO if poll()
 *         failed.
 */
int easd_linux_loop_run(easd_linux_loop_t *loop, easd_linux_step_fn step, void *ctx);

/**
 * @brief Wake the loop with ::EASD_LINUX_EV_COMMAND. Thread-safe and async-signal-safe.
 * Several wake-ups before the loop runs are delivered as one COMMAND event.
 */
void easd_linux_loop_wake(easd_linux_loop_t *loop);

/** @brief Make run() return ::EASD_LINUX_LOOP_STOPPED. Thread- and async-signal-safe. */
void easd_linux_loop_stop(easd_linux_loop_t *loop);

/** @brief Release the loop's eventfd. */
void easd_linux_loop_deinit(easd_linux_loop_t *loop);

/* ---- process hardening (tools holding a user's secrets) ---- */

/**
 * @brief Make the process keep secrets to itself: no core dumps (RLIMIT_CORE 0), not
 *        dumpable or ptrace-attachable by other processes of the user (PR_SET_DUMPABLE 0),
 *        and files it creates private (umask 077).
 * @return EAS_OK, or EAS_ERR_IO if a step failed (errno tells which).
 */
int easd_linux_harden_process(void);

/**
 * @brief Read a secret (password, token) from @p path: the first line, without its line
 *        end. The file must be a regular file owned by the user and not readable or
 *        writable by group or others; it is read with read(2) only, so no stdio buffer
 *        keeps a copy.
 * @return EAS_OK; EAS_ERR_PARAM (NULL, or @p cap 0); EAS_ERR_NOT_FOUND (cannot open);
 *         EAS_ERR_FORBIDDEN (owner or mode wrong: the message names the fix);
 *         EAS_ERR_LIMIT (longer than @p cap - 1); EAS_ERR_FORMAT (empty);
 *         EAS_ERR_IO. @p why (may be NULL) receives a static explanation.
 */
int easd_linux_read_secret(const char *path, char *out, size_t cap, const char **why);

/** @brief Overwrite @p len bytes at @p p with zeros in a way the compiler keeps. */
void easd_linux_wipe(void *p, size_t len);

/**
 * @brief Create or open a directory for private state: created 0700, and an existing one
 *        owned by the user tightened to 0700 (group/other bits removed).
 * @return EAS_OK, EAS_ERR_FORBIDDEN (exists but owned by someone else), EAS_ERR_IO.
 */
int easd_linux_private_dir(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* EASD_LINUX_H */
