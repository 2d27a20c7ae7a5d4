#!/usr/bin/env python3
"""Writes the bench fixtures in this folder: X.509 chains and signed service-account JWTs.

Run once with `python3 benches/data/make.py` (needs the `cryptography` package); the outputs
are checked in so that every bench run measures the same bytes. Private keys are not kept:
rerunning makes new keys, new certificates and new tokens (the benches read whatever is here).
"""
import base64
import datetime
import hashlib
import json
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = pathlib.Path(__file__).resolve().parent
# Validity windows cover the benches' fixed clock (1_800_000_000 = 2027-01-15).
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2045, 1, 1, tzinfo=datetime.timezone.utc)


def write(name, data):
    (OUT / name).write_bytes(data)


def ca_cert(key, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def leaf_cert(key, ca_key, ca):
    # The shape kubeadm gives a client certificate: CN = user, O = groups, clientAuth only.
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dev"),
        x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-admin"),
    ])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def chain(prefix, make_key):
    ca_key = make_key()
    ca = ca_cert(ca_key, f"bench {prefix} CA")
    leaf = leaf_cert(make_key(), ca_key, ca)
    write(f"{prefix}-ca.der", ca.public_bytes(serialization.Encoding.DER))
    write(f"{prefix}-ca.pem", ca.public_bytes(serialization.Encoding.PEM))
    write(f"{prefix}-leaf.der", leaf.public_bytes(serialization.Encoding.DER))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def spki(key):
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def token(name, key, alg):
    # kube-apiserver's key id: unpadded base64url of SHA-256 over the SPKI DER.
    kid = b64url(hashlib.sha256(spki(key)).digest()).decode()
    header = {"alg": alg, "kid": kid}
    # A bound service-account token as kube-apiserver issues it (TokenRequest, pod-bound).
    iss = "https://kubernetes.default.svc.cluster.local"
    claims = {
        "aud": [iss],
        "exp": 4102444800,
        "iat": 1700000000,
        "iss": iss,
        "jti": "0c6b5d8e-4b8e-4a53-8f3e-2b1f6e3a9c41",
        "kubernetes.io": {
            "namespace": "default",
            "node": {"name": "node-1", "uid": "6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
            "pod": {"name": "app-7d9f8b6c5-x2k4q", "uid": "8a2b3c4d-5e6f-4a7b-9c8d-0e1f2a3b4c5d"},
            "serviceaccount": {"name": "app", "uid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"},
            "warnafter": 1700003607,
        },
        "nbf": 1700000000,
        "sub": "system:serviceaccount:default:app",
    }
    enc = lambda o: b64url(json.dumps(o, separators=(",", ":")).encode())
    signing_input = enc(header) + b"." + enc(claims)
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    write(f"{name}.jwt", signing_input + b"." + b64url(sig))
    write(
        f"{name}.pub.pem",
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


rsa_key = lambda bits: (lambda: rsa.generate_private_key(public_exponent=65537, key_size=bits))
p256_key = lambda: ec.generate_private_key(ec.SECP256R1())

chain("rsa2048", rsa_key(2048))
chain("p256", p256_key)
token("sa-rs256-2048", rsa_key(2048)(), "RS256")
token("sa-rs256-4096", rsa_key(4096)(), "RS256")
token("sa-es256", p256_key(), "ES256")
