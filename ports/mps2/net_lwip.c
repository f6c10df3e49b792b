/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport of the bare-metal port: lwIP raw TCP (NO_SYS) under an mbedtls TLS client,
 * behind the core's hal_io_t contract (non-blocking; 0 = try again after the next poll).
 *
 * Data flow: the LAN9118 is polled from mps2_net_poll(); lwIP calls back into this file with
 * connection events and received segments (kept as a pbuf chain per connection until the
 * core reads them, which is when the TCP window is reopened). mbedtls reads and writes
 * through bio_recv/bio_send over the same queue and tcp_write().
 */
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "eas/eas_err.h"
#include "hal/hal_log.h"
#include "hal/hal_rng.h"
#include "hal/hal_time.h"
#include "civil_time.h"
#include "lan9118.h"
#include "mps2_port.h"
#include "mps2_time_floor.h" /* generated at build time: MPS2_TLS_TIME_FLOOR */

#ifndef MPS2_TLS_HEAP_SIZE
/* Two record buffers (4 KB each plus overhead), the parsed trusted CAs, the handshake's
   ECDHE and the peer's chain while it is verified (an RSA-4096 signature check is the
   largest single need); measured peak in docs/footprint.md. */
#define MPS2_TLS_HEAP_SIZE (28u * 1024u)
#endif
#ifndef MPS2_MAX_CONNS
#define MPS2_MAX_CONNS 2
#endif

/* mbedtls 2.28 net_sockets.h values, without compiling its BSD-socket module. */
#define NET_CONN_RESET (-0x0050)

typedef struct conn {
    bool used;
    bool tls;
    bool connected;
    bool peer_closed; /* FIN received */
    bool handshake_done;
    int err; /* sticky negative eas_err_t once failed */
    struct tcp_pcb *pcb;
    struct pbuf *rx; /* received, not yet read */
    mbedtls_ssl_context ssl;
} conn_t;

typedef struct port {
    struct netif netif;
    mps2_net_cfg_t cfg;
    uint8_t frame[LAN9118_FRAME_MAX];
    conn_t conns[MPS2_MAX_CONNS];
    bool pending;
    uint32_t opened, handshakes;
    /* TLS */
    bool tls_ready;
    mbedtls_ssl_config conf;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
} port_t;

static port_t g_port;
static unsigned char g_tls_heap[MPS2_TLS_HEAP_SIZE] __attribute__((aligned(8)));

static void port_log(hal_log_level_t lvl, const char *module, const char *msg)
{
    const hal_sys_t *sys = g_port.cfg.sys;
    if (sys != NULL && sys->log.write != NULL) {
        sys->log.write(sys->log.ctx, lvl, module, msg, strlen(msg));
    }
}

static int port_rng(uint8_t *buf, size_t len)
{
    const hal_sys_t *sys = g_port.cfg.sys;
    return sys != NULL ? sys->rng.fill(sys->rng.ctx, buf, len) : EAS_ERR_UNSUPPORTED;
}

static void log_line(hal_log_level_t lvl, const char *msg)
{
    port_log(lvl, "mps2-net", msg);
}

/* ---- lwIP platform hooks --------------------------------------------------------------- */

u32_t sys_now(void)
{
    return (u32_t)hal_time_monotonic_ms();
}

uint32_t mps2_lwip_rand(void)
{
    uint32_t r = 0;
    (void)port_rng((uint8_t *)&r, sizeof(r));
    return r;
}

void mps2_lwip_assert(const char *msg, const char *file, int line)
{
    (void)file;
    (void)line;
    port_log(HAL_LOG_ERROR, "lwip", msg);
    for (;;) {
    }
}

/* ---- the netif on the LAN9118 ---------------------------------------------------------- */

static err_t netif_output(struct netif *nif, struct pbuf *p)
{
    (void)nif;
    port_t *s = &g_port;
    if (p->tot_len > sizeof(s->frame)) {
        return ERR_BUF;
    }
    (void)pbuf_copy_partial(p, s->frame, p->tot_len, 0);
    return lan9118_send(LAN9118_MPS2_BASE, s->frame, p->tot_len) == 0 ? ERR_OK : ERR_MEM;
}

static err_t netif_setup(struct netif *nif)
{
    uint8_t mac[6];
    if (lan9118_init(LAN9118_MPS2_BASE, mac) != 0) {
        return ERR_IF;
    }
    memcpy(nif->hwaddr, mac, sizeof(mac));
    nif->hwaddr_len = 6;
    nif->mtu = 1500;
    nif->name[0] = 'e';
    nif->name[1] = '0';
    nif->output = etharp_output;
    nif->linkoutput = netif_output;
    nif->flags =
        NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

int mps2_net_init(const mps2_net_cfg_t *cfg)
{
    port_t *s = &g_port;
    ip4_addr_t ip, mask, gw;
    s->cfg = *cfg;
    lwip_init();
    IP4_ADDR(&ip, cfg->ip[0], cfg->ip[1], cfg->ip[2], cfg->ip[3]);
    IP4_ADDR(&mask, cfg->netmask[0], cfg->netmask[1], cfg->netmask[2], cfg->netmask[3]);
    IP4_ADDR(&gw, cfg->gateway[0], cfg->gateway[1], cfg->gateway[2], cfg->gateway[3]);
    if (netif_add(&s->netif, &ip, &mask, &gw, NULL, netif_setup, ethernet_input) == NULL) {
        log_line(HAL_LOG_ERROR, "no LAN9118 at 0x40200000");
        return EAS_ERR_IO;
    }
    netif_set_default(&s->netif);
    netif_set_up(&s->netif);
    return EAS_OK;
}

void mps2_net_poll(void)
{
    port_t *s = &g_port;
    for (int i = 0; i < 16; i++) { /* bounded: timers must run too */
        int n = lan9118_recv(LAN9118_MPS2_BASE, s->frame, sizeof(s->frame));
        if (n == 0) {
            break;
        }
        if (n < 0) {
            continue;
        }
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
        if (p == NULL) {
            break; /* out of pool: TCP retransmits */
        }
        (void)pbuf_take(p, s->frame, (u16_t)n);
        if (s->netif.input(p, &s->netif) != ERR_OK) {
            pbuf_free(p);
        }
    }
    sys_check_timeouts();
}

bool mps2_net_pending(void)
{
    return g_port.pending;
}

void mps2_net_clear_pending(void)
{
    g_port.pending = false;
}

uint32_t mps2_net_connections(void)
{
    return g_port.opened;
}

uint32_t mps2_tls_handshakes(void)
{
    return g_port.handshakes;
}

/* ---- TCP callbacks ----------------------------------------------------------------------- */

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)pcb;
    conn_t *c = arg;
    if (c != NULL) {
        c->connected = (err == ERR_OK);
        g_port.pending = true;
    }
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    conn_t *c = arg;
    (void)err;
    if (c == NULL) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL) {
        c->peer_closed = true;
    } else if (c->rx == NULL) {
        c->rx = p;
    } else {
        pbuf_cat(c->rx, p);
    }
    g_port.pending = true;
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)pcb;
    (void)len;
    g_port.pending = true; /* room in the send buffer again */
    return ERR_OK;
}

static void on_error(void *arg, err_t err)
{
    conn_t *c = arg;
    if (c != NULL) {
        c->pcb = NULL; /* lwIP has freed it */
        c->err = c->connected ? EAS_ERR_RESET : EAS_ERR_CONNECT;
        (void)err;
        g_port.pending = true;
    }
}

/* ---- plain byte moves over the pcb ------------------------------------------------------- */

static int32_t tcp_put(conn_t *c, const uint8_t *buf, size_t len)
{
    if (c->err != 0) {
        return c->err;
    }
    if (!c->connected || c->pcb == NULL) {
        return 0;
    }
    size_t room = tcp_sndbuf(c->pcb);
    size_t n = len < room ? len : room;
    if (n > 0xffffu) {
        n = 0xffffu;
    }
    if (n == 0) {
        return 0;
    }
    err_t e = tcp_write(c->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM) {
        return 0;
    }
    if (e != ERR_OK) {
        c->err = EAS_ERR_IO;
        return c->err;
    }
    (void)tcp_output(c->pcb);
    return (int32_t)n;
}

static int32_t tcp_get(conn_t *c, uint8_t *buf, size_t len)
{
    if (c->rx != NULL) {
        size_t n = c->rx->tot_len < len ? c->rx->tot_len : len;
        (void)pbuf_copy_partial(c->rx, buf, (u16_t)n, 0);
        c->rx = pbuf_free_header(c->rx, (u16_t)n);
        if (c->pcb != NULL) {
            tcp_recved(c->pcb, (u16_t)n);
        }
        return (int32_t)n;
    }
    if (c->err != 0) {
        return c->err;
    }
    if (c->peer_closed) {
        return EAS_ERR_CLOSED;
    }
    return 0;
}

/* ---- mbedtls glue ------------------------------------------------------------------------ */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    int32_t n = tcp_put(ctx, buf, len);
    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    return n > 0 ? (int)n : NET_CONN_RESET;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    int32_t n = tcp_get(ctx, buf, len);
    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (n == EAS_ERR_CLOSED) {
        return 0; /* EOF: mbedtls reports MBEDTLS_ERR_SSL_CONN_EOF */
    }
    return n > 0 ? (int)n : NET_CONN_RESET;
}

/* ---- the clock for certificate dates -------------------------------------------------------
 *
 * The board may have no RTC. What the image does know is that it cannot run before it was
 * built: MPS2_TLS_TIME_FLOOR (UTC midnight of the build day, generated) plus the uptime is a
 * lower bound of the true time. If the board's UTC clock (hal_time_utc: an RTC, SNTP, or the
 * application's fw_set_utc) is set and not before that floor, it is used and trusted.
 *
 * A lower bound proves "expired" (valid_to before it means expired now) but can never prove
 * "not yet valid": a certificate issued after the build is normal (renewals). So without a
 * trusted clock the "not yet valid" verdict is dropped in verify_cb; with one, both count. */

static bool g_clock_trusted;

time_t mps2_tls_time(time_t *out)
{
    int64_t floor = (int64_t)MPS2_TLS_TIME_FLOOR + (int64_t)(hal_time_monotonic_ms() / 1000u);
    int64_t utc = 0;
    g_clock_trusted = hal_time_utc(&utc) == EAS_OK && utc >= (int64_t)MPS2_TLS_TIME_FLOOR;
    time_t t = (time_t)(g_clock_trusted ? utc : floor);
    if (out != NULL) {
        *out = t;
    }
    return t;
}

/* UTC calendar fields for x509 (MBEDTLS_PLATFORM_GMTIME_R_ALT): newlib's gmtime and its
   time-zone state stay out of the image. NULL (before 1970) makes x509 treat every
   certificate as expired: fails closed. */
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    return mps2_civil_utc((int64_t)*tt, tm_buf) == 0 ? tm_buf : NULL;
}

int64_t mps2_tls_time_floor(void)
{
    return (int64_t)MPS2_TLS_TIME_FLOOR;
}

bool mps2_tls_clock_trusted(void)
{
    (void)mps2_tls_time(NULL);
    return g_clock_trusted;
}

/* Called by mbedtls for every certificate of the chain with what it found. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    (void)ctx;
    (void)crt;
    (void)depth;
    (void)mps2_tls_time(NULL); /* the same verdict on the clock as the date checks just made */
    if ((*flags & MBEDTLS_X509_BADCERT_FUTURE) != 0u && !g_clock_trusted) {
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_FUTURE;
        log_line(HAL_LOG_WARN, "TLS: certificate issued after this image was built; "
                               "accepted (no trusted clock to tell whether it is valid yet)");
    }
    return 0;
}

static int drbg_entropy(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return port_rng(buf, len) == 0 ? 0 : -1;
}

/* Length of the DER certificate at @p (its outer SEQUENCE), 0 if it is not one that fits. */
static size_t der_cert_len(const uint8_t *p, size_t avail)
{
    if (avail < 2 || p[0] != 0x30) {
        return 0;
    }
    size_t len = p[1], hdr = 2;
    if ((len & 0x80u) != 0u) {
        size_t n = len & 0x7fu;
        if (n == 0 || n > 3 || avail < 2 + n) {
            return 0;
        }
        len = 0;
        for (size_t i = 0; i < n; i++) {
            len = (len << 8) | p[2 + i];
        }
        hdr += n;
    }
    return len <= avail - hdr ? hdr + len : 0;
}

int mps2_tls_init(const uint8_t *ca_der, size_t ca_len)
{
    port_t *s = &g_port;
    static const char pers[] = "easd-mps2";
    mbedtls_memory_buffer_alloc_init(g_tls_heap, sizeof(g_tls_heap));
    mbedtls_ctr_drbg_init(&s->drbg);
    mbedtls_x509_crt_init(&s->ca);
    mbedtls_ssl_config_init(&s->conf);
    if (mbedtls_ctr_drbg_seed(&s->drbg, drbg_entropy, NULL, (const unsigned char *)pers,
                              sizeof(pers) - 1) != 0) {
        return EAS_ERR_TLS;
    }
    /* One or more DER certificates back to back. */
    size_t off = 0;
    while (ca_der != NULL && off < ca_len) {
        size_t n = der_cert_len(ca_der + off, ca_len - off);
        if (n == 0 || mbedtls_x509_crt_parse_der(&s->ca, ca_der + off, n) != 0) {
            off = 0;
            break;
        }
        off += n;
    }
    if (off == 0) {
        log_line(HAL_LOG_ERROR, "the embedded CA certificates do not parse");
        return EAS_ERR_TLS_CA;
    }
    if (mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        return EAS_ERR_TLS;
    }
    /* Never optional: an unverifiable chain or a wrong name ends the connection. */
    mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
    mbedtls_ssl_conf_verify(&s->conf, verify_cb, NULL);
    mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
    mbedtls_ssl_conf_min_version(&s->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    /* Ask the server for records that fit the 4 KB input buffer (easd_mbedtls_config.h). */
    if (MBEDTLS_SSL_IN_CONTENT_LEN <= 4096 &&
        mbedtls_ssl_conf_max_frag_len(&s->conf, MBEDTLS_SSL_MAX_FRAG_LEN_4096) != 0) {
        return EAS_ERR_TLS;
    }
    s->tls_ready = true;
    return EAS_OK;
}

size_t mps2_tls_heap_peak(void)
{
    size_t used = 0, blocks = 0;
    mbedtls_memory_buffer_alloc_max_get(&used, &blocks);
    return used;
}

size_t mps2_tls_heap_size(void)
{
    return sizeof(g_tls_heap);
}

/* Append to a NUL-terminated line without overflowing it (no printf in the port). */
static size_t put_str(char *buf, size_t cap, size_t n, const char *s)
{
    while (*s != '\0' && n + 1 < cap) {
        buf[n++] = *s++;
    }
    buf[n] = '\0';
    return n;
}

static size_t put_u32(char *buf, size_t cap, size_t n, uint32_t v)
{
    char d[11];
    size_t i = sizeof(d) - 1;
    d[i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    return put_str(buf, cap, n, &d[i]);
}

static int32_t tls_fail(conn_t *c, int ret, int fallback)
{
    int err = fallback;
    uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0) {
        err = EAS_ERR_TLS_CERT_OTHER;
        if ((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0u) {
            err = EAS_ERR_TLS_CERT_UNTRUSTED;
        } else if ((flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0u) {
            err = EAS_ERR_TLS_CERT_HOSTNAME;
        } else if ((flags & MBEDTLS_X509_BADCERT_EXPIRED) != 0u) {
            err = EAS_ERR_TLS_CERT_EXPIRED;
        } else if ((flags & MBEDTLS_X509_BADCERT_FUTURE) != 0u) {
            err = EAS_ERR_TLS_CERT_FUTURE;
        }
    } else if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
        err = EAS_ERR_NOMEM;
    } else if (ret == NET_CONN_RESET && c->err != 0) {
        err = c->err;
    }
    log_line(HAL_LOG_ERROR, err == EAS_ERR_TLS_CERT_UNTRUSTED  ? "TLS: certificate not trusted"
                            : err == EAS_ERR_TLS_CERT_HOSTNAME ? "TLS: certificate name mismatch"
                            : err == EAS_ERR_TLS_CERT_EXPIRED  ? "TLS: certificate expired"
                            : err == EAS_ERR_TLS_CERT_FUTURE   ? "TLS: certificate not yet valid"
                                                               : "TLS: connection failed");
    if (err == EAS_ERR_TLS_CERT_UNTRUSTED) {
        /* mbedtls also ends here when a signature could not be checked for lack of heap: give
           the numbers that tell the two apart (a high-water mark near the size). */
        char line[80] = "TLS: heap high-water ";
        size_t n = strlen(line);
        n = put_u32(line, sizeof(line), n, (uint32_t)mps2_tls_heap_peak());
        n = put_str(line, sizeof(line), n, " of ");
        n = put_u32(line, sizeof(line), n, (uint32_t)sizeof(g_tls_heap));
        (void)put_str(line, sizeof(line), n, " B (MPS2_TLS_HEAP_SIZE)");
        log_line(HAL_LOG_WARN, line);
    }
    c->err = err;
    return err;
}

/* 1 when the handshake is done, 0 while it runs, negative on failure. */
static int32_t tls_progress(conn_t *c)
{
    if (c->handshake_done) {
        return 1;
    }
    if (c->err != 0) {
        return c->err;
    }
    int ret = mbedtls_ssl_handshake(&c->ssl);
    if (ret == 0) {
        c->handshake_done = true;
        g_port.handshakes++;
        log_line(HAL_LOG_INFO, mbedtls_ssl_get_ciphersuite(&c->ssl)); /* what was negotiated */
        return 1;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    return tls_fail(c, ret, EAS_ERR_TLS_HANDSHAKE);
}

/* ---- hal_io_t ---------------------------------------------------------------------------- */

static int32_t io_send(void *ctx, const uint8_t *buf, size_t len)
{
    conn_t *c = ctx;
    if (!c->tls) {
        return tcp_put(c, buf, len);
    }
    int32_t hs = tls_progress(c);
    if (hs <= 0) {
        return hs;
    }
    int ret = mbedtls_ssl_write(&c->ssl, buf, len);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    return ret > 0 ? ret : tls_fail(c, ret, EAS_ERR_TLS);
}

static int32_t io_recv(void *ctx, uint8_t *buf, size_t len)
{
    conn_t *c = ctx;
    if (!c->tls) {
        return tcp_get(c, buf, len);
    }
    int32_t hs = tls_progress(c);
    if (hs <= 0) {
        return hs;
    }
    int ret = mbedtls_ssl_read(&c->ssl, buf, len);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        c->err = EAS_ERR_CLOSED;
        return EAS_ERR_CLOSED;
    }
    return ret > 0 ? ret : tls_fail(c, ret, EAS_ERR_TLS);
}

static void io_close(void *ctx)
{
    conn_t *c = ctx;
    if (c->tls) {
        if (c->handshake_done && c->err == 0) {
            (void)mbedtls_ssl_close_notify(&c->ssl); /* best effort, never waits */
        }
        mbedtls_ssl_free(&c->ssl);
    }
    if (c->pcb != NULL) {
        tcp_arg(c->pcb, NULL);
        tcp_recv(c->pcb, NULL);
        tcp_sent(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        if (tcp_close(c->pcb) != ERR_OK) {
            tcp_abort(c->pcb);
        }
    }
    if (c->rx != NULL) {
        pbuf_free(c->rx);
    }
    memset(c, 0, sizeof(*c));
}

static int resolve(const char *host, ip4_addr_t *out)
{
    const port_t *s = &g_port;
    for (size_t i = 0; i < s->cfg.host_count; i++) {
        if (strcmp(s->cfg.hosts[i].name, host) == 0) {
            const uint8_t *a = s->cfg.hosts[i].ip;
            IP4_ADDR(out, a[0], a[1], a[2], a[3]);
            return EAS_OK;
        }
    }
    return ip4addr_aton(host, out) ? EAS_OK : EAS_ERR_DNS;
}

static int net_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec,
                    hal_io_t *io)
{
    port_t *s = ctx;
    ip4_addr_t addr;
    int rc = resolve(host, &addr);
    if (rc != EAS_OK) {
        return rc;
    }
    if (sec == HAL_NET_TLS && !s->tls_ready) {
        return EAS_ERR_TLS_CA;
    }
    conn_t *c = NULL;
    for (size_t i = 0; i < MPS2_MAX_CONNS; i++) {
        if (!s->conns[i].used) {
            c = &s->conns[i];
            break;
        }
    }
    if (c == NULL) {
        return EAS_ERR_NOMEM;
    }
    memset(c, 0, sizeof(*c));
    c->used = true;
    c->tls = (sec == HAL_NET_TLS);
    if (c->tls) {
        mbedtls_ssl_init(&c->ssl);
        if (mbedtls_ssl_setup(&c->ssl, &s->conf) != 0 ||
            mbedtls_ssl_set_hostname(&c->ssl, host) != 0) {
            mbedtls_ssl_free(&c->ssl);
            memset(c, 0, sizeof(*c));
            return EAS_ERR_NOMEM;
        }
        mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    }
    c->pcb = tcp_new();
    if (c->pcb == NULL) {
        io_close(c);
        return EAS_ERR_NOMEM;
    }
    tcp_arg(c->pcb, c);
    tcp_recv(c->pcb, on_recv);
    tcp_sent(c->pcb, on_sent);
    tcp_err(c->pcb, on_error);
    tcp_nagle_disable(c->pcb);
    if (tcp_connect(c->pcb, &addr, port, on_connected) != ERR_OK) {
        io_close(c);
        return EAS_ERR_CONNECT;
    }
    s->opened++;
    io->send = io_send;
    io->recv = io_recv;
    io->close = io_close;
    io->ctx = c;
    return EAS_OK;
}

hal_net_t mps2_net_connector(void)
{
    hal_net_t n = {net_open, &g_port};
    return n;
}
