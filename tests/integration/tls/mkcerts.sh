#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Generate the TLS test certificates into $1 (made fresh each run; nothing is committed):
#   ca.pem            test CA (trusted by the client in the tests)
#   good.pem/.key     leaf for localhost, signed by the CA, valid now
#   wronghost.pem     leaf for wrong.example, signed by the CA
#   selfsigned.pem    self-signed leaf for localhost
#   expired.pem       leaf for localhost, signed by the CA, valid 2020-2021 only
#   future.pem        leaf for localhost, signed by the CA, valid from 2090 only
# All leaves share leaf.key. OpenSSL 3.0 has no -not_before for x509, so dated leaves are
# issued with `openssl ca -startdate/-enddate`.
set -eu
out=$1
rm -rf "$out"
mkdir -p "$out/db"
cd "$out"
: > db/index.txt
echo 1000 > db/serial

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = testca
[ testca ]
dir = .
database = ./db/index.txt
serial = ./db/serial
new_certs_dir = ./db
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = easd test CA
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf_localhost ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[ leaf_wrong ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
CNF

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ec ca.key
openssl req -config ca.cnf -new -x509 -key ca.key -out ca.pem -days 3650 -extensions v3_ca
ec leaf.key

# leaf NAME CN EXTENSIONS [ca date options...]
leaf() {
    name=$1; cn=$2; ext=$3; shift 3
    openssl req -new -key leaf.key -subj "/CN=$cn" -out "$name.csr"
    openssl ca -config ca.cnf -batch -notext -in "$name.csr" -out "$name.pem" \
        -extensions "$ext" "$@" 2>/dev/null
}
leaf good localhost leaf_localhost -days 30
leaf wronghost wrong.example leaf_wrong -days 30
leaf expired localhost leaf_localhost -startdate 20200101000000Z -enddate 20210101000000Z
leaf future localhost leaf_localhost -startdate 20900101000000Z -enddate 20910101000000Z

openssl req -new -x509 -key leaf.key -subj /CN=localhost -days 30 -out selfsigned.pem \
    -addext "subjectAltName=DNS:localhost" -addext "basicConstraints=critical,CA:false"

# Self-check: the chain facts each test relies on.
openssl verify -CAfile ca.pem good.pem >/dev/null
openssl verify -CAfile ca.pem wronghost.pem >/dev/null
! openssl verify -CAfile ca.pem selfsigned.pem >/dev/null 2>&1
! openssl verify -CAfile ca.pem expired.pem >/dev/null 2>&1
! openssl verify -CAfile ca.pem future.pem >/dev/null 2>&1
echo ok
