//! One criterion suite over every authentication path, with the peer crates in the same run.
//! Run: `cargo bench -p kauthn-benches --bench authn`; results go to `benches/RESULTS.md`.
//!
//! * `main.rs`: token file, bootstrap, cache hit, the union end to end, the authenticating
//!   proxy;
//! * `x509.rs`: client certificates beside x509-parser, x509-cert and rustls-webpki;
//! * `jwt.rs`: JWT verification beside jsonwebtoken, jwt-simple and jwt-compact.
//!
//! Before measuring, every fixture is checked to be accepted by every row (the same checks run
//! in `cargo test` from `benches/tests/fixtures.rs`), so no row can time an error path.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use core::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, criterion_group};
use kauthn::{
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, BearerToken, BootstrapSecret,
    BootstrapTokenAuthenticator, CacheConfig, CachedTokenAuthenticator, Context, Header,
    OwnedTokenFile, Request, RequestAuthenticator, RequestUnion, Response, Scratch,
    TokenAuthenticator, TokenUnion, UnixTime, Verdict,
};
use kauthn_benches::{token, token_file_csv};

mod ffi;
mod jwt;
mod paired;
mod x509;

/// The suite's measurement: the CPU time of the benchmarking thread
/// (`CLOCK_THREAD_CPUTIME_ID`) rather than wall time. The bench machine's two cores are
/// shared with other builds; wall time then counts the time this thread waits for a core and
/// made medians swing by 2x between runs, while thread CPU time only counts the work (cache
/// and frequency effects of the neighbours remain). Every routine here is single-threaded.
pub(crate) struct CpuTime(WallTime);

impl Measurement for CpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }

    fn end(&self, start: Self::Intermediate) -> Self::Value {
        start.elapsed()
    }

    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }

    fn zero(&self) -> Self::Value {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Self::Value) -> f64 {
        value.as_secs_f64() * 1e9
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

/// The criterion instance every bench function receives.
pub(crate) type Criterion = criterion::Criterion<CpuTime>;

fn config() -> Criterion {
    criterion::Criterion::default().with_measurement(CpuTime(WallTime))
}

const NOW: i64 = 1_800_000_000;

/// One token-file authentication into a fresh `Response`, as a server makes per request.
fn token_file_lookup(f: &OwnedTokenFile, token: &str, ctx: &Context<'_>) -> bool {
    let mut buf = [0u8; 256];
    let mut s = Scratch::new(&mut buf);
    let mut out = Response::default();
    f.authenticate_token_into(black_box(token.as_bytes()), ctx, &mut s, &mut out)
        == Verdict::Authenticated
}

fn token_file(c: &mut Criterion) {
    let mut g = c.benchmark_group("token_file_lookup");
    for n in [10usize, 10_000, 1_000_000] {
        let f = OwnedTokenFile::parse(token_file_csv(n)).unwrap();
        // Look up a spread of entries so the 1M table is not served from one cache line.
        let tokens: Vec<String> = (0..64).map(|i| token(i * n / 64)).collect();
        // Misses likewise cycle through 64 absent tokens, so no row hangs on where one
        // token's digest happens to land.
        let absent: Vec<String> = (0..64).map(|i| format!("absent-token-{i}")).collect();
        let ctx = Context::at(UnixTime::from_secs(NOW));
        let mut i = 0;
        g.bench_with_input(BenchmarkId::new("hit", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % tokens.len();
                black_box(token_file_lookup(&f, &tokens[i], &ctx))
            })
        });
        g.bench_with_input(BenchmarkId::new("miss", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % absent.len();
                black_box(token_file_lookup(&f, &absent[i], &ctx))
            })
        });
    }
    g.finish();
}

fn secrets() -> [BootstrapSecret<'static>; 1] {
    [BootstrapSecret {
        namespace: "kube-system",
        name: "bootstrap-token-abcdef",
        type_: "bootstrap.kubernetes.io/token",
        has_data: true,
        token_id: Some(b"abcdef"),
        token_secret: Some(b"0123456789abcdef"),
        usage_bootstrap_authentication: Some(b"true"),
        auth_extra_groups: Some(b"system:bootstrappers:kubeadm:default-node-token"),
        expiration: Some(b"2100-01-01T00:00:00Z"),
        ..BootstrapSecret::default()
    }]
}

fn bootstrap(c: &mut Criterion) {
    let secrets = secrets();
    let a = BootstrapTokenAuthenticator::new(&secrets[..]);
    let ctx = Context::at(UnixTime::from_secs(NOW));
    c.bench_function("bootstrap_token", |b| {
        b.iter(|| {
            let mut buf = [0u8; 256];
            let mut s = Scratch::new(&mut buf);
            black_box(
                a.authenticate_token(black_box(b"abcdef.0123456789abcdef"), &ctx, &mut s)
                    .is_authenticated(),
            )
        })
    });
}

/// A token file holding one 1 KB token (the size of a bound service-account JWT), and
/// that token.
fn cache_fixture() -> (String, OwnedTokenFile) {
    let tok = "x".repeat(1024);
    let f = OwnedTokenFile::parse(format!("{tok},system:serviceaccount:default:app,uid,\"system:serviceaccounts,system:serviceaccounts:default\"\n")).unwrap();
    (tok, f)
}

fn cache_context() -> Context<'static> {
    Context::at(UnixTime::from_secs(NOW)).with_audiences(&["https://kubernetes.default.svc"])
}

/// One cache hit: the token's result is cached after the first call.
fn cache_hit_once(
    cached: &CachedTokenAuthenticator<&OwnedTokenFile>,
    tok: &str,
    ctx: &Context<'_>,
) -> bool {
    let mut buf = [0u8; 1024];
    let mut s = Scratch::new(&mut buf);
    cached
        .authenticate_token(black_box(tok.as_bytes()), ctx, &mut s)
        .is_authenticated()
}

fn cache_hit(c: &mut Criterion) {
    let (tok, f) = cache_fixture();
    let cached = CachedTokenAuthenticator::new(&f, [7; 32], CacheConfig::KUBE_APISERVER);
    let ctx = cache_context();
    c.bench_function("cache_hit_1kb_token", |b| {
        b.iter(|| black_box(cache_hit_once(&cached, &tok, &ctx)))
    });
}

/// Issue 5's absolute target, sampled over the paired run like the non-signature rows (one
/// block per round), so that its quartiles show the machine's phase.
fn cache_hit_paired(report: &mut paired::Report) {
    let (tok, f) = cache_fixture();
    let cached = CachedTokenAuthenticator::new(&f, [7; 32], CacheConfig::KUBE_APISERVER);
    let ctx = cache_context();
    report.compare(
        "5",
        "cache hit for a 1 KB token <= 1.5 µs",
        paired::Target::TimeAtMost(1500.0),
        &mut [
            paired::Row::new("cache_hit_1kb_token", || {
                black_box(cache_hit_once(&cached, &tok, &ctx));
            }),
            paired::core_probe(),
        ],
    );
}

fn union_end_to_end(c: &mut Criterion) {
    let f = OwnedTokenFile::parse(token_file_csv(1000)).unwrap();
    let secrets = secrets();
    let boot = BootstrapTokenAuthenticator::new(&secrets[..]);
    let api = ["https://kubernetes.default.svc"];
    let tf = AudienceAgnostic::new(&api, &f);
    let bt = AudienceAgnostic::new(&api, &boot);
    let tokens: [&dyn TokenAuthenticator; 2] = [&tf, &bt];
    let bearer = BearerToken::new(TokenUnion::new(&tokens[..]));
    let requests: [&dyn RequestAuthenticator; 1] = [&bearer];
    let inner = AuthenticatedGroupAdder::new(RequestUnion::new(&requests[..]));
    let anon = Anonymous::new();
    let chain: [&dyn RequestAuthenticator; 2] = [&inner, &anon];
    let chain = RequestUnion::fail_on_error(&chain[..]);
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(&api);
    let value = format!("Bearer {}", token(500));
    let headers = [Header {
        name: "Authorization",
        value: value.as_bytes(),
    }];
    let req = Request {
        headers: &headers,
        path: "/api",
        client_chain: &[],
    };
    c.bench_function("union_bearer_token_file", |b| {
        b.iter(|| {
            let mut buf = [0u8; 512];
            let mut s = Scratch::new(&mut buf);
            black_box(
                chain
                    .authenticate_request(black_box(&req), &ctx, &mut s)
                    .is_authenticated(),
            )
        })
    });
}

/// The authenticating proxy (`--requestheader-*`): the proxy's P-256 client certificate is
/// verified against the front-proxy CA (a pool built from PEM, as from
/// `--requestheader-client-ca-file`), then the user is read from the headers.
fn request_header(c: &mut Criterion) {
    use kauthn::{ClientCaPool, RequestHeaderAuthenticator, RequestHeaderConfig, RustCrypto};
    let pool = ClientCaPool::from_pem(kauthn_benches::data::P256_CA_PEM).unwrap();
    let config = RequestHeaderConfig {
        username_headers: &["X-Remote-User"],
        uid_headers: &["X-Remote-Uid"],
        group_headers: &["X-Remote-Group"],
        extra_header_prefixes: &["X-Remote-Extra-"],
        allowed_names: &["kubernetes-admin"],
    };
    let auth = RequestHeaderAuthenticator::new(pool, RustCrypto, config).unwrap();
    let headers = [
        Header {
            name: "X-Remote-User",
            value: b"alice",
        },
        Header {
            name: "X-Remote-Group",
            value: b"dev",
        },
        Header {
            name: "X-Remote-Group",
            value: b"ops",
        },
        Header {
            name: "X-Remote-Extra-Scopes",
            value: b"openid",
        },
    ];
    let chain = [kauthn_benches::data::P256_LEAF_DER];
    let req = Request {
        headers: &headers,
        path: "/api",
        client_chain: &chain,
    };
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let check = |buf: &mut [u8]| {
        let mut s = Scratch::new(buf);
        let mut out = Response::default();
        auth.authenticate_request_into(&req, &ctx, &mut s, &mut out) == Verdict::Authenticated
            && out.user.name == "alice"
    };
    assert!(
        check(&mut [0u8; 512]),
        "the request-header fixture is rejected"
    );
    c.bench_function("request_header_p256_proxy", |b| {
        b.iter(|| {
            let mut buf = [0u8; 512];
            black_box(check(black_box(&mut buf)))
        })
    });
}

criterion_group! {
    name = benches;
    config = config();
    targets = token_file, bootstrap, cache_hit, union_end_to_end, request_header
}
criterion_group! {
    name = x509_benches;
    config = config();
    targets = x509::subject, x509::verify
}
criterion_group! {
    name = jwt_benches;
    config = config();
    targets = jwt::verify, jwt::non_signature
}
criterion_group! {
    name = ffi_benches;
    config = config();
    targets = ffi::service_account_rs256
}

/// Token-file flatness (issue 8), measured in turns (see `paired.rs`): the three sizes'
/// hits take turns, then their misses.
fn token_file_paired(report: &mut paired::Report) {
    let sizes = [10usize, 10_000, 1_000_000];
    let files: Vec<OwnedTokenFile> = sizes
        .iter()
        .map(|&n| OwnedTokenFile::parse(token_file_csv(n)).unwrap())
        .collect();
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let ctx = &ctx;
    for hit in [true, false] {
        let mut rows: Vec<paired::Row<'_>> = sizes
            .iter()
            .zip(&files)
            .map(|(&n, f)| {
                let tokens: Vec<String> = if hit {
                    (0..64).map(|i| token(i * n / 64)).collect()
                } else {
                    (0..64).map(|i| format!("absent-token-{i}")).collect()
                };
                let mut i = 0;
                let name = match n {
                    10 => "10",
                    10_000 => "10000",
                    _ => "1000000",
                };
                paired::Row::new(name, move || {
                    i = (i + 1) % tokens.len();
                    black_box(token_file_lookup(f, &tokens[i], ctx));
                })
            })
            .collect();
        let what = if hit { "hit" } else { "miss" };
        report.compare(
            "8",
            &format!("token-file {what} flat within 20% from 10 to 1 000 000 entries"),
            paired::Target::FlatWithin(1.2),
            &mut rows,
        );
    }
}

// criterion_main!, with the fixture checks first. `KAUTHN_BENCH_PAIRED=1` runs the paired
// comparisons of `paired.rs` instead of criterion.
fn main() {
    x509::check_fixtures();
    jwt::check_fixtures();
    if std::env::var_os("KAUTHN_BENCH_PAIRED").is_some() {
        let mut report = paired::Report::new();
        x509::paired(&mut report);
        jwt::paired(&mut report);
        token_file_paired(&mut report);
        cache_hit_paired(&mut report);
        report.print();
        return;
    }
    benches();
    x509_benches();
    jwt_benches();
    ffi_benches();
    config().configure_from_args().final_summary();
}
