/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbedtls 2.28 configuration of the easd bare-metal port: a TLS 1.2 *client* and nothing
 * else. One key exchange (ECDHE-ECDSA on P-256) and one cipher suite (AES-128-GCM with
 * SHA-256); the server's chain is verified against a CA compiled into the image (DER, so no
 * PEM/base64 code) and its host name is checked (SNI sent). All memory comes from one static
 * buffer (memory_buffer_alloc): no heap.
 *
 * Not included, on purpose: RSA (an RSA-certified server needs MBEDTLS_RSA_C,
 * MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED and ~15 KB more flash), server side, TLS 1.3,
 * renegotiation, session tickets, PEM, the entropy module (the port seeds CTR-DRBG from the
 * board's random source, hal_sys_t::rng), certificate validity dates (the board has no RTC: see
 * docs/firmware.md).
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
#define MBEDTLS_CTR_DRBG_C

/* Public key: P-256 ECDH/ECDSA */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_MPI_MAX_SIZE 48
#define MBEDTLS_MPI_WINDOW_SIZE 2
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
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
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
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
