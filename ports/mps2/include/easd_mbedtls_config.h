/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbedtls 2.28 configuration of the easd bare-metal port: a TLS 1.2 *client* and nothing
 * else. Key exchange ECDHE (P-256) signed by the server's RSA or ECDSA (P-256) key; AES-GCM
 * (128 with SHA-256, 256 with SHA-384). Certificates: RSA 2048..4096 bits (PKCS#1 v1.5) and
 * ECDSA P-256, signed with SHA-256/384/512. The server's chain is verified against the CAs
 * compiled into the image (DER, so no PEM/base64 code), including validity dates against
 * the port's clock (see mps2_tls_time in net_lwip.c: build-time floor + uptime, or the
 * board's UTC clock), and its host name is checked (SNI sent). All memory comes from one
 * static buffer (memory_buffer_alloc): no heap.
 *
 * Not included, on purpose: static-RSA and DHE key exchange, CBC cipher suites, RSASSA-PSS
 * certificates, other curves (P-384, X25519), SHA-1 signatures, server side, TLS 1.3,
 * renegotiation, session tickets, PEM, the entropy module (the port seeds CTR-DRBG from the
 * board's random source, hal_sys_t::rng). docs/firmware.md lists what servers this reaches.
 */
#ifndef EASD_MBEDTLS_CONFIG_H
#define EASD_MBEDTLS_CONFIG_H

/* System */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG /* high-water mark for the RAM table (mbedtls_memory_buffer_alloc_max_get) */
#define MBEDTLS_NO_PLATFORM_ENTROPY
/* Time for the certificate dates: mbedtls_time() is the port's clock (net_lwip.c, never
   libc's time()), and the UTC conversion is the port's too (no newlib gmtime). */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_TIME_ALT
#define MBEDTLS_PLATFORM_STD_TIME mps2_tls_time
#define MBEDTLS_PLATFORM_GMTIME_R_ALT
#include <time.h>
time_t mps2_tls_time(time_t *out);
#define MBEDTLS_DEPRECATED_REMOVED

/* Symmetric crypto and hashes */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_C /* SHA-384 signatures (RSA CA chains) and the AES-256 suites */
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_CTR_DRBG_C

/* Public key: P-256 ECDH/ECDSA, RSA verification (PKCS#1 v1.5) */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_MPI_MAX_SIZE 512 /* RSA-4096 */
#define MBEDTLS_MPI_WINDOW_SIZE 2
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C

/* X.509: parse and verify the server's chain */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 4

/* TLS 1.2 client */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/* What Exchange Online and current IIS/Exchange servers offer with RSA certificates
   (ECDHE-RSA-AES256/128-GCM), and the same for ECDSA ones; the client's order. */
#define MBEDTLS_SSL_CIPHERSUITES                                                             \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,                                     \
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
/* Records of at most 4 KB in both directions: the client asks for it with the
   max_fragment_length extension (RFC 6066), which OpenSSL-based servers honour. A server
   that ignores it and sends a larger record makes the connection fail (never a buffer
   overrun); such a deployment sets MPS2_TLS_IN_CONTENT_LEN=16384 (and a 12 KB larger heap). */
#ifndef MPS2_TLS_IN_CONTENT_LEN
#define MPS2_TLS_IN_CONTENT_LEN 4096
#endif
#define MBEDTLS_SSL_IN_CONTENT_LEN MPS2_TLS_IN_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#include "mbedtls/check_config.h"

#endif /* EASD_MBEDTLS_CONFIG_H */
