#!/usr/bin/env python3
"""Prints the criterion results under target/criterion as a Markdown table (median and its
95% interval per bench), for benches/RESULTS.md. Usage: python3 benches/table.py [REGEX]"""
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
pattern = re.compile(sys.argv[1] if len(sys.argv) > 1 else "")


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


rows = []
for est in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    name = bench["full_id"]
    if not pattern.search(name):
        continue
    m = json.loads(est.read_text())["median"]
    ci = m["confidence_interval"]
    rows.append((name, m["point_estimate"], ci["lower_bound"], ci["upper_bound"]))

print("| bench | median | 95% CI |")
print("| --- | ---: | --- |")
for name, med, lo, hi in rows:
    print(f"| `{name}` | {fmt(med)} | {fmt(lo)} – {fmt(hi)} |")

# The issue targets, each as (issue, what, kauthn bench, peer bench or None, limit, kind):
# kind "ratio<=": kauthn/peer <= limit; "ratio<=min": kauthn / the fastest of the listed peers <= limit; "ratio>=": peer/kauthn >= limit; "abs<=": kauthn <= limit ns;
# "flat": max/min over the listed benches <= limit; "info-min": kauthn / the fastest listed peer,
# for reference (no limit).
TARGETS = [
    ("3", "subject extraction within 2x of webpki parse-only (RSA leaf)",
     "x509_subject_rsa2048/kauthn_map_subject", "x509_subject_rsa2048/webpki_parse_only", 2.0, "ratio<="),
    ("3", "subject extraction within 2x of webpki parse-only (P-256 leaf)",
     "x509_subject_p256/kauthn_map_subject", "x509_subject_p256/webpki_parse_only", 2.0, "ratio<="),
    ("3", "kauthn parse alone within 2x of webpki parse-only (RSA leaf)",
     "x509_subject_rsa2048/kauthn_parse_only", "x509_subject_rsa2048/webpki_parse_only", 2.0, "ratio<="),
    ("3", "subject extraction >= 5x faster than x509-parser (RSA leaf)",
     "x509_subject_rsa2048/kauthn_map_subject", "x509_subject_rsa2048/x509-parser", 5.0, "ratio>="),
    ("3", "subject extraction >= 5x faster than x509-parser (P-256 leaf)",
     "x509_subject_p256/kauthn_map_subject", "x509_subject_p256/x509-parser", 5.0, "ratio>="),
    ("3", "full RSA-2048 chain verification <= 0.6x x509-cert+rsa",
     "x509_verify_rsa2048/kauthn", "x509_verify_rsa2048/x509-cert+rsa", 0.6, "ratio<="),
    ("4", "service-account RS256-2048 (parse, verify, validate, user) <= 0.6x jsonwebtoken[rust_crypto]",
     "jwt_rs256_2048/kauthn_service_account", "jwt_rs256_2048/jsonwebtoken_rust_crypto", 0.6, "ratio<="),
    ("4", "service-account ES256 no slower than jsonwebtoken[rust_crypto]",
     "jwt_es256/kauthn_service_account", "jwt_es256/jsonwebtoken_rust_crypto", 1.0, "ratio<="),
    ("4", "non-signature work <= 2.5 µs (service account, RS256-2048 token, SHA-256 included)",
     "jwt_non_signature/rs256_2048_service_account_sha256", None, 2500, "abs<="),
    ("4", "non-signature work <= 2.5 µs (service account, ES256 token, SHA-256 included)",
     "jwt_non_signature/es256_service_account_sha256", None, 2500, "abs<="),
    ("4", "(for reference) kauthn's base64url decoding alone of the RS256-2048 token",
     "jwt_non_signature/rs256_2048_base64url_only", None, None, "info"),
    ("4", "(for reference) base64ct decoding alone of the RS256-2048 token",
     "jwt_non_signature/rs256_2048_base64ct_only", None, None, "info"),
    ("8", "AwsLc: service_account RS256-2048 <= 0.9x the fastest peer",
     "jwt_rs256_2048/kauthn_service_account_aws_lc", ["jwt_rs256_2048/jsonwebtoken_rust_crypto", "jwt_rs256_2048/jsonwebtoken_aws_lc_rs", "jwt_rs256_2048/jwt-simple_pure_rust", "jwt_rs256_2048/jwt-compact"], 0.9, "ratio<=min"),
    ("8", "AwsLc: oidc RS256-2048 <= 0.9x the fastest peer",
     "jwt_rs256_2048/kauthn_oidc_aws_lc", ["jwt_rs256_2048/jsonwebtoken_rust_crypto", "jwt_rs256_2048/jsonwebtoken_aws_lc_rs", "jwt_rs256_2048/jwt-simple_pure_rust", "jwt_rs256_2048/jwt-compact"], 0.9, "ratio<=min"),
    ("8", "AwsLc: service_account RS256-4096 <= 0.9x the fastest peer",
     "jwt_rs256_4096/kauthn_service_account_aws_lc", ["jwt_rs256_4096/jsonwebtoken_rust_crypto", "jwt_rs256_4096/jsonwebtoken_aws_lc_rs", "jwt_rs256_4096/jwt-simple_pure_rust", "jwt_rs256_4096/jwt-compact"], 0.9, "ratio<=min"),
    ("8", "AwsLc: oidc RS256-4096 <= 0.9x the fastest peer",
     "jwt_rs256_4096/kauthn_oidc_aws_lc", ["jwt_rs256_4096/jsonwebtoken_rust_crypto", "jwt_rs256_4096/jsonwebtoken_aws_lc_rs", "jwt_rs256_4096/jwt-simple_pure_rust", "jwt_rs256_4096/jwt-compact"], 0.9, "ratio<=min"),
    ("8", "AwsLc: service_account ES256 <= 0.9x the fastest peer",
     "jwt_es256/kauthn_service_account_aws_lc", ["jwt_es256/jsonwebtoken_rust_crypto", "jwt_es256/jsonwebtoken_aws_lc_rs", "jwt_es256/jwt-simple_pure_rust", "jwt_es256/jwt-compact"], 0.9, "ratio<=min"),
    ("8", "AwsLc: oidc ES256 <= 0.9x the fastest peer",
     "jwt_es256/kauthn_oidc_aws_lc", ["jwt_es256/jsonwebtoken_rust_crypto", "jwt_es256/jsonwebtoken_aws_lc_rs", "jwt_es256/jwt-simple_pure_rust", "jwt_es256/jwt-compact"], 0.9, "ratio<=min"),
    ("8", "(floor) aws-lc-rs verifying the RS256-2048 signature alone, against the fastest peer",
     "jwt_rs256_2048/aws_lc_signature_only", ["jwt_rs256_2048/jsonwebtoken_rust_crypto", "jwt_rs256_2048/jsonwebtoken_aws_lc_rs", "jwt_rs256_2048/jwt-simple_pure_rust", "jwt_rs256_2048/jwt-compact"], None, "info-min"),
    ("8", "(floor) aws-lc-rs verifying the RS256-4096 signature alone, against the fastest peer",
     "jwt_rs256_4096/aws_lc_signature_only", ["jwt_rs256_4096/jsonwebtoken_rust_crypto", "jwt_rs256_4096/jsonwebtoken_aws_lc_rs", "jwt_rs256_4096/jwt-simple_pure_rust", "jwt_rs256_4096/jwt-compact"], None, "info-min"),
    ("8", "(floor) aws-lc-rs verifying the ES256 signature alone, against the fastest peer",
     "jwt_es256/aws_lc_signature_only", ["jwt_es256/jsonwebtoken_rust_crypto", "jwt_es256/jsonwebtoken_aws_lc_rs", "jwt_es256/jwt-simple_pure_rust", "jwt_es256/jwt-compact"], None, "info-min"),
    ("8", "RustCrypto: service-account RS256-2048 <= 0.6x jsonwebtoken[rust_crypto]",
     "jwt_rs256_2048/kauthn_service_account", "jwt_rs256_2048/jsonwebtoken_rust_crypto", 0.6, "ratio<="),
    ("8", "RustCrypto: service-account RS256-4096 <= 0.6x jsonwebtoken[rust_crypto]",
     "jwt_rs256_4096/kauthn_service_account", "jwt_rs256_4096/jsonwebtoken_rust_crypto", 0.6, "ratio<="),
    ("5", "cache hit for a 1 KB token <= 1.5 µs",
     "cache_hit_1kb_token", None, 1500, "abs<="),
    ("5", "cache hit < 1/20 of an RS256-2048 verification",
     "cache_hit_1kb_token", "jwt_rs256_2048/kauthn_service_account", 0.05, "ratio<="),
    ("8", "token-file hit flat within 20% from 10 to 1 000 000 entries",
     ["token_file_lookup/hit/10", "token_file_lookup/hit/10000", "token_file_lookup/hit/1000000"],
     None, 1.2, "flat"),
    ("8", "token-file miss flat within 20% from 10 to 1 000 000 entries",
     ["token_file_lookup/miss/10", "token_file_lookup/miss/10000", "token_file_lookup/miss/1000000"],
     None, 1.2, "flat"),
]

if len(sys.argv) <= 1:
    med = {name: m for name, m, _, _ in rows}
    print()
    print("| issue | target | measured | met? |")
    print("| --- | --- | --- | --- |")
    for issue, what, ours, peer, limit, kind in TARGETS:
        try:
            if kind == "flat":
                vals = [med[b] for b in ours]
                r = max(vals) / min(vals)
                got, ok = f"max/min = {r:.2f} ({', '.join(fmt(v) for v in vals)})", r <= limit
            elif kind == "info":
                got, ok = fmt(med[ours]), None
            elif kind == "abs<=":
                got, ok = fmt(med[ours]), med[ours] <= limit
            elif kind in ("ratio<=min", "info-min"):
                best = min(peer, key=lambda p: med[p])
                r = med[ours] / med[best]
                got = f"{r:.2f}x ({fmt(med[ours])} vs {best.split('/')[1]} {fmt(med[best])})"
                ok = r <= limit if kind == "ratio<=min" else None
            elif kind == "ratio<=":
                r = med[ours] / med[peer]
                got, ok = f"{r:.2f}x ({fmt(med[ours])} vs {fmt(med[peer])})", r <= limit
            else:
                r = med[peer] / med[ours]
                got, ok = f"{r:.2f}x faster ({fmt(med[ours])} vs {fmt(med[peer])})", r >= limit
        except KeyError as e:
            got, ok = f"missing {e}", False
        verdict = "–" if ok is None else ("yes" if ok else "**no**")
        print(f"| {issue} | {what} | {got} | {verdict} |")
