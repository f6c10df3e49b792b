/* SPDX-License-Identifier: Apache-2.0 */
/* TLS (mbedtls 2.28) layered over any hal_io_t: the record layer reads and writes through
 * the inner connection's send/recv, so the same code runs over a socket or a test pipe. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "eas/eas_err.h"
#include "easd_linux.h"
#include "hal/hal_time.h"
#include "linux_internal.h"

/* Shared by every TLS connection of one connector: parsed once, read-only afterwards. */
struct lx_tls_shared {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
};

enum lx_tls_state { LX_TLS_HANDSHAKE, LX_TLS_OPEN, LX_TLS_FAILED };

struct lx_tls {
    hal_io_t inner;
    mbedtls_ssl_context ssl;
    enum lx_tls_state state;
    int err;       /* sticky error once FAILED */
    int inner_err; /* the inner transport's error seen by a bio callback */
    enum lx_want want;
    size_t queued; /* plaintext bytes in a record mbedtls has queued but not yet sent */
    uint64_t deadline_ms;
    easd_linux_net_t *owner; /* connector tracking this connection, or NULL */
};

static int32_t tls_send(void *ctx, const uint8_t *buf, size_t len);
static int32_t tls_recv(void *ctx, uint8_t *buf, size_t len);
static void tls_close(void *ctx);

static int rng_cb(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    return (easd_linux_rng_fill(out, len) == EAS_OK) ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct lx_tls *t = ctx;
    int ret = t->inner.send(t->inner.ctx, buf, len);

    if (ret == 0) {
        t->want = LX_WANT_WRITE;
        ret = MBEDTLS_ERR_SSL_WANT_WRITE;
    } else if (ret < 0) {
        t->inner_err = ret;
        ret = MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return ret;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct lx_tls *t = ctx;
    int ret = t->inner.recv(t->inner.ctx, buf, len);

    if (ret == 0) {
        t->want = LX_WANT_READ;
        ret = MBEDTLS_ERR_SSL_WANT_READ;
    } else if (ret < 0) {
        /* Keep the transport's own reason (reset, closed, timeout) for the core. */
        t->inner_err = ret;
        ret = MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return ret;
}

/* The verification flags name the first thing wrong; report the most fundamental one: an
 * untrusted chain makes every other property meaningless, and a valid chain for the wrong
 * name is the usual misconfiguration. */
static int map_verify_flags(uint32_t flags)
{
    int err = EAS_ERR_TLS_CERT_OTHER;

    if ((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0u) {
        err = EAS_ERR_TLS_CERT_UNTRUSTED;
    } else if ((flags & MBEDTLS_X509_BADCERT_EXPIRED) != 0u) {
        err = EAS_ERR_TLS_CERT_EXPIRED;
    } else if ((flags & MBEDTLS_X509_BADCERT_FUTURE) != 0u) {
        err = EAS_ERR_TLS_CERT_FUTURE;
    } else if ((flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0u) {
        err = EAS_ERR_TLS_CERT_HOSTNAME;
    }
    return err;
}

static int tls_fail(struct lx_tls *t, int mret, int fallback)
{
    int err = fallback;
    uint32_t flags;

    if (t->inner_err != 0) {
        err = t->inner_err;
    } else if (mret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        flags = mbedtls_ssl_get_verify_result(&t->ssl);
        err = map_verify_flags(flags);
        easd_linux_logf(HAL_LOG_WARN, "tls", "certificate rejected: flags 0x%x", (unsigned)flags);
    } else if (mret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        err = EAS_ERR_CLOSED;
    } else {
        easd_linux_logf(HAL_LOG_WARN, "tls", "mbedtls error -0x%04x", (unsigned)-mret);
    }
    t->state = LX_TLS_FAILED;
    t->err = err;
    return err;
}

/* EAS_OK when the session is usable, EAS_ERR_AGAIN while the handshake waits for I/O. */
static int tls_progress(struct lx_tls *t)
{
    int rc = EAS_ERR_AGAIN;
    int ret;

    if (t->state == LX_TLS_HANDSHAKE) {
        if (hal_time_monotonic_ms() >= t->deadline_ms) {
            t->state = LX_TLS_FAILED;
            t->err = EAS_ERR_TIMEOUT;
        } else {
            ret = mbedtls_ssl_handshake(&t->ssl);
            if (ret == 0) {
                t->state = LX_TLS_OPEN;
                t->want = LX_WANT_NONE;
            } else if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
                (void)tls_fail(t, ret, EAS_ERR_TLS_HANDSHAKE);
            }
        }
    }
    if (t->state == LX_TLS_OPEN) {
        rc = EAS_OK;
    } else if (t->state == LX_TLS_FAILED) {
        rc = t->err;
    }
    return rc;
}

static int32_t tls_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct lx_tls *t = ctx;
    int32_t out = 0;
    int rc = tls_progress(t);
    int ret;
    size_t n = len;
    int max;

    if (rc != EAS_OK) {
        out = (rc == EAS_ERR_AGAIN) ? 0 : rc;
        goto done;
    }
    /* mbedtls_ssl_write() that hit WANT_WRITE has already encrypted the data into a queued
     * record; a retry flushes that record and reports whatever length the retry passed.
     * Flushing ourselves and reporting the length we queued keeps the count exact, and
     * returning 0 until the record is out keeps the caller waiting for writability (the
     * caller retries with the same leading bytes: hal_io.h). */
    if (t->queued != 0u) {
        if (t->ssl.out_left != 0u) {
            ret = mbedtls_ssl_write(&t->ssl, buf, 0u);
            if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
                goto done;
            }
            if (ret < 0) {
                out = tls_fail(t, ret, EAS_ERR_TLS);
                goto done;
            }
        }
        out = (int32_t)t->queued;
        t->queued = 0u;
        goto done;
    }
    if (len == 0u) {
        goto done;
    }
    max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
    if (max > 0 && n > (size_t)max) {
        n = (size_t)max;
    }
    ret = mbedtls_ssl_write(&t->ssl, buf, n);
    if (ret > 0) {
        out = ret;
    } else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && t->ssl.out_left != 0u) {
        t->queued = n;
        out = 0;
    } else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
        out = 0;
    } else {
        out = tls_fail(t, ret, EAS_ERR_TLS);
    }
done:
    return out;
}

static int32_t tls_recv(void *ctx, uint8_t *buf, size_t len)
{
    struct lx_tls *t = ctx;
    int32_t out = 0;
    int rc = tls_progress(t);
    int ret;

    if (rc != EAS_OK) {
        out = (rc == EAS_ERR_AGAIN) ? 0 : rc;
        goto done;
    }
    if (len == 0u) {
        goto done;
    }
    if (len > (size_t)INT32_MAX) {
        len = (size_t)INT32_MAX;
    }
    ret = mbedtls_ssl_read(&t->ssl, buf, len);
    if (ret > 0) {
        out = ret;
    } else if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        out = 0;
    } else if (ret == 0) {
        /* Transport EOF without close_notify never reaches here (bio maps it), but treat
         * it as the end of stream it would be. */
        t->state = LX_TLS_FAILED;
        t->err = EAS_ERR_CLOSED;
        out = t->err;
    } else {
        out = tls_fail(t, ret, EAS_ERR_TLS);
    }
done:
    return out;
}

static void tls_close(void *ctx)
{
    struct lx_tls *t = ctx;

    if (t != NULL) {
        if (t->owner != NULL) {
            lx_net_forget(t->owner, t);
        }
        if (t->state == LX_TLS_OPEN) {
            /* One non-blocking attempt; a peer that cannot take it gets a plain close. */
            (void)mbedtls_ssl_close_notify(&t->ssl);
        }
        mbedtls_ssl_free(&t->ssl);
        if (t->inner.close != NULL) {
            t->inner.close(t->inner.ctx);
        }
        free(t);
    }
}

static int shared_load(easd_linux_net_t *net, struct lx_tls_shared **out)
{
    int rc = EAS_ERR_TLS_CA;
    struct lx_tls_shared *s = NULL;
    const char *path = (net->ca_file[0] != '\0') ? net->ca_file : EASD_LINUX_SYSTEM_CA_FILE;
    struct stat st;
    int ret;

    if (net->tls != NULL) {
        *out = net->tls;
        rc = EAS_OK;
        goto done;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = EAS_ERR_NOMEM;
        goto done;
    }
    mbedtls_x509_crt_init(&s->ca);
    mbedtls_ssl_config_init(&s->conf);
    if (stat(path, &st) != 0) {
        easd_linux_logf(HAL_LOG_ERROR, "tls", "CA file %s: not found", path);
        goto done;
    }
    ret = S_ISDIR(st.st_mode) ? mbedtls_x509_crt_parse_path(&s->ca, path)
                              : mbedtls_x509_crt_parse_file(&s->ca, path);
    /* A positive return counts certificates that failed to parse; a bundle with some odd
     * entries is still usable as long as at least one CA was loaded. */
    if (ret < 0 || s->ca.version == 0) {
        easd_linux_logf(HAL_LOG_ERROR, "tls", "CA file %s: no usable certificate", path);
        goto done;
    }
    rc = EAS_ERR_TLS;
    if (mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        goto done;
    }
    mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
    mbedtls_ssl_conf_rng(&s->conf, rng_cb, NULL);
    mbedtls_ssl_conf_min_version(&s->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    net->tls = s;
    *out = s;
    s = NULL;
    rc = EAS_OK;
done:
    if (s != NULL) {
        mbedtls_ssl_config_free(&s->conf);
        mbedtls_x509_crt_free(&s->ca);
        free(s);
    }
    return rc;
}

int lx_tls_preload(easd_linux_net_t *net)
{
    struct lx_tls_shared *s = NULL;
    return shared_load(net, &s);
}

void lx_tls_shared_free(easd_linux_net_t *net)
{
    struct lx_tls_shared *s = net->tls;

    if (s != NULL) {
        mbedtls_ssl_config_free(&s->conf);
        mbedtls_x509_crt_free(&s->ca);
        free(s);
        net->tls = NULL;
    }
}

int lx_tls_open(easd_linux_net_t *net, const char *host, const hal_io_t *inner,
                uint64_t deadline_ms, hal_io_t *io)
{
    int rc = EAS_ERR_PARAM;
    struct lx_tls *t = NULL;
    struct lx_tls_shared *s = NULL;
    hal_io_t owned = *inner;

    rc = shared_load(net, &s);
    if (rc != EAS_OK) {
        goto done;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = EAS_ERR_NOMEM;
        goto done;
    }
    mbedtls_ssl_init(&t->ssl);
    t->inner = owned;
    owned.close = NULL;
    t->state = LX_TLS_HANDSHAKE;
    t->want = LX_WANT_WRITE; /* the ClientHello goes first */
    t->deadline_ms = deadline_ms;
    rc = EAS_ERR_TLS;
    if (mbedtls_ssl_setup(&t->ssl, &s->conf) != 0) {
        goto done;
    }
    /* Sets both the name checked against the certificate and the SNI extension. */
    if (mbedtls_ssl_set_hostname(&t->ssl, host) != 0) {
        rc = EAS_ERR_PARAM;
        goto done;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    io->send = tls_send;
    io->recv = tls_recv;
    io->close = tls_close;
    io->ctx = t;
    t = NULL;
    rc = EAS_OK;
done:
    if (owned.close != NULL) {
        owned.close(owned.ctx);
    }
    if (t != NULL) {
        tls_close(t);
    }
    return rc;
}

bool lx_tls_is(const hal_io_t *io)
{
    return (io != NULL) && (io->close == tls_close) && (io->ctx != NULL);
}

const hal_io_t *lx_tls_inner(const hal_io_t *io)
{
    const hal_io_t *inner = NULL;

    if (lx_tls_is(io)) {
        inner = &((const struct lx_tls *)io->ctx)->inner;
    }
    return inner;
}

void lx_tls_wait(const hal_io_t *io, bool want_read, bool want_write, easd_linux_wait_t *out)
{
    const struct lx_tls *t = io->ctx;
    easd_linux_wait_t inner_wait;

    easd_linux_io_wait(&t->inner, t->want == LX_WANT_READ, t->want == LX_WANT_WRITE, &inner_wait);
    out->fd = inner_wait.fd;
    out->deadline_ms = EASD_LINUX_NO_DEADLINE;
    if (t->state == LX_TLS_HANDSHAKE) {
        /* Whatever the core wants, the handshake needs its own direction first. */
        out->readable = inner_wait.readable;
        out->writable = inner_wait.writable;
        out->deadline_ms =
            (inner_wait.deadline_ms < t->deadline_ms) ? inner_wait.deadline_ms : t->deadline_ms;
    } else if (t->state == LX_TLS_OPEN) {
        out->readable = want_read || (want_write && t->want == LX_WANT_READ);
        out->writable = want_write || (want_read && t->want == LX_WANT_WRITE);
        out->pending = want_read && (mbedtls_ssl_get_bytes_avail(&t->ssl) > 0u);
    } else {
        /* Failed: the next call returns the error at once; let the loop call it. */
        out->readable = want_read;
        out->writable = want_write;
    }
}

void lx_tls_set_owner(const hal_io_t *io, easd_linux_net_t *owner)
{
    if (lx_tls_is(io)) {
        ((struct lx_tls *)io->ctx)->owner = owner;
    }
}
