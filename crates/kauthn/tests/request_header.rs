//! The request-header table of the spec (§13.3, upstream `requestheader_test.go`
//! `TestRequestHeader`), every row run behind a verified front-proxy certificate; the
//! proxy-certificate and allowed-name checks of upstream's `x509.Verifier`; the headers the
//! caller strips; and hostile headers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

#[path = "x509_common/mod.rs"]
mod x509_common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use kauthn::{
    AudienceAgnostic, ClientCaPool, Context, EmptyHeaderName, Error, Header, HeaderRole, Limit,
    Outcome, Request, RequestAuthenticator, RequestHeaderAuthenticator, RequestHeaderConfig,
    RequestHeaderError, Response, RustCrypto, Scratch, UnixTime, Verdict, X509Error,
    strip_after_authentication,
};
use x509_common::*;

/// 2025-01-01T00:00:00Z.
const NOW: i64 = 1_735_689_600;

struct Fixtures {
    ca: Vec<u8>,
    proxy: Vec<u8>,
    server_only: Vec<u8>,
    other_ca_proxy: Vec<u8>,
    expired: Vec<u8>,
    no_cn: Vec<u8>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let ca_key = TestKey::p256(10);
        let ca_b = CertBuilder::new(&[cn("front-proxy-ca")]).ca();
        let ca = ca_b.build(&ca_key, &ca_key);
        let leaf = |subject: &[Attr], usage: &[u8]| {
            CertBuilder::new(subject)
                .issuer_name(&ca_b.subject)
                .serial(&[2])
                .ext(eku(&[usage]))
        };
        let proxy =
            leaf(&[cn("front-proxy-client")], oids::CLIENT_AUTH).build(&TestKey::p256(11), &ca_key);
        let server_only =
            leaf(&[cn("front-proxy-client")], oids::SERVER_AUTH).build(&TestKey::p256(12), &ca_key);
        let expired = leaf(&[cn("front-proxy-client")], oids::CLIENT_AUTH)
            .validity("20000101000000Z", "20010101000000Z")
            .build(&TestKey::p256(13), &ca_key);
        let no_cn = leaf(&[o("proxies")], oids::CLIENT_AUTH).build(&TestKey::p256(14), &ca_key);
        // A client certificate from another CA (as --client-ca-file's would be).
        let other_key = TestKey::p256(20);
        let other_b = CertBuilder::new(&[cn("client-ca")]).ca();
        let other_ca_proxy = CertBuilder::new(&[cn("front-proxy-client")])
            .issuer_name(&other_b.subject)
            .ext(eku(&[oids::CLIENT_AUTH]))
            .build(&TestKey::p256(21), &other_key);
        Fixtures {
            ca,
            proxy,
            server_only,
            other_ca_proxy,
            expired,
            no_cn,
        }
    })
}

fn authenticator(
    config: RequestHeaderConfig<'static>,
) -> RequestHeaderAuthenticator<'static, 'static, RustCrypto> {
    let pool = ClientCaPool::from_der(&[&fixtures().ca]).unwrap();
    RequestHeaderAuthenticator::new(pool, RustCrypto, config).unwrap()
}

/// One `Header` per value, names in the order given.
fn headers(spec: &[(&'static str, &[&'static str])]) -> Vec<Header<'static>> {
    spec.iter()
        .flat_map(|(name, values)| {
            values.iter().map(move |v| Header {
                name,
                value: v.as_bytes(),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Auth {
        name: String,
        uid: String,
        groups: Vec<String>,
        extra: BTreeMap<String, Vec<String>>,
    },
    No,
    Err(Vec<Error>),
}

fn got(o: &Outcome<'_>) -> Got {
    match o {
        Outcome::Authenticated(r) => {
            assert!(r.audiences.is_empty());
            Got::Auth {
                name: r.user.name.into(),
                uid: r.user.uid.into(),
                groups: r.user.groups.iter().map(String::from).collect(),
                extra: r
                    .user
                    .extra
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.iter().map(String::from).collect()))
                    .collect(),
            }
        }
        Outcome::NotMine(_) => Got::No,
        Outcome::Rejected(e) => Got::Err(e.iter().collect()),
    }
}

fn user(name: &str, uid: &str, groups: &[&str], extra: &[(&str, &[&str])]) -> Got {
    Got::Auth {
        name: name.into(),
        uid: uid.into(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
        extra: extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect(),
    }
}

fn rejected(e: impl Into<Error>) -> Got {
    Got::Err(vec![e.into()])
}

fn run_with<A: RequestAuthenticator>(a: &A, hs: &[Header<'_>], chain: &[&[u8]]) -> Got {
    let mut buf = vec![0u8; 16 * 1024];
    let mut scratch = Scratch::new(&mut buf);
    let req = Request {
        headers: hs,
        path: "/api",
        client_chain: chain,
    };
    let ctx = Context::at(UnixTime::from_secs(NOW));
    got(&a.authenticate_request(&req, &ctx, &mut scratch))
}

fn run<A: RequestAuthenticator>(a: &A, hs: &[Header<'_>]) -> Got {
    run_with(a, hs, &[&fixtures().proxy])
}

// ---------------------------------------------------------------------------------------
// TestRequestHeader

struct Row {
    name: &'static str,
    config: RequestHeaderConfig<'static>,
    headers: &'static [(&'static str, &'static [&'static str])],
    want: fn() -> Got,
    /// Header names left after the caller strips (checked on success).
    left: &'static [&'static str],
}

const NAME: &[&str] = &["X-Remote-User"];
const NONE: RequestHeaderConfig<'static> = RequestHeaderConfig {
    username_headers: &[],
    uid_headers: &[],
    group_headers: &[],
    extra_header_prefixes: &[],
    allowed_names: &[],
};
const EXTRA_HEADERS: &[(&str, &[&str])] = &[
    ("X-Remote-User", &["Bob"]),
    ("X-Remote-Group-1", &["one-a", "one-b"]),
    ("X-Remote-Group-2", &["two-a", "two-b"]),
    ("X-Remote-extra-1-key1", &["alfa", "bravo"]),
    ("X-Remote-Extra-1-Key2", &["charlie", "delta"]),
    ("X-Remote-Extra-1-", &["india", "juliet"]),
    ("X-Remote-extra-2-", &["kilo", "lima"]),
    ("X-Remote-extra-2-Key1", &["echo", "foxtrot"]),
    ("X-Remote-Extra-2-key2", &["golf", "hotel"]),
];
const EXTRA_CONFIG: RequestHeaderConfig<'static> = RequestHeaderConfig {
    username_headers: NAME,
    group_headers: &["X-Remote-Group-1", "X-Remote-Group-2"],
    extra_header_prefixes: &["X-Remote-Extra-1-", "X-Remote-Extra-2-"],
    ..NONE
};

fn extra_user() -> Got {
    user(
        "Bob",
        "",
        &["one-a", "one-b", "two-a", "two-b"],
        &[
            ("key1", &["alfa", "bravo", "echo", "foxtrot"]),
            ("key2", &["charlie", "delta", "golf", "hotel"]),
            ("", &["india", "juliet", "kilo", "lima"]),
        ],
    )
}

const ROWS: &[Row] = &[
    Row {
        name: "empty",
        config: NONE,
        headers: &[],
        want: || Got::No,
        left: &[],
    },
    Row {
        name: "user no match",
        config: RequestHeaderConfig {
            username_headers: NAME,
            ..NONE
        },
        headers: &[],
        want: || Got::No,
        left: &[],
    },
    Row {
        name: "user match",
        config: RequestHeaderConfig {
            username_headers: NAME,
            ..NONE
        },
        headers: &[("X-Remote-User", &["Bob"])],
        want: || user("Bob", "", &[], &[]),
        left: &[],
    },
    Row {
        name: "user exact match",
        config: RequestHeaderConfig {
            username_headers: NAME,
            ..NONE
        },
        headers: &[
            ("Prefixed-X-Remote-User-With-Suffix", &["Bob"]),
            ("X-Remote-User-With-Suffix", &["Bob"]),
        ],
        want: || Got::No,
        left: &[],
    },
    Row {
        name: "user first match",
        config: RequestHeaderConfig {
            username_headers: &[
                "X-Remote-User",
                "A-Second-X-Remote-User",
                "Another-X-Remote-User",
            ],
            ..NONE
        },
        headers: &[
            ("X-Remote-User", &["", "First header, second value"]),
            (
                "A-Second-X-Remote-User",
                &["Second header, first value", "Second header, second value"],
            ),
            ("Another-X-Remote-User", &["Third header, first value"]),
        ],
        want: || user("Second header, first value", "", &[], &[]),
        left: &[],
    },
    Row {
        name: "user case-insensitive",
        config: RequestHeaderConfig {
            username_headers: &["x-REMOTE-user"],
            ..NONE
        },
        headers: &[("X-Remote-User", &["Bob"])],
        want: || user("Bob", "", &[], &[]),
        left: &[],
    },
    Row {
        name: "groups none",
        config: RequestHeaderConfig {
            username_headers: NAME,
            group_headers: &["X-Remote-Group"],
            ..NONE
        },
        headers: &[("X-Remote-User", &["Bob"])],
        want: || user("Bob", "", &[], &[]),
        left: &[],
    },
    Row {
        name: "groups all matches",
        config: RequestHeaderConfig {
            username_headers: NAME,
            group_headers: &["X-Remote-Group-1", "X-Remote-Group-2"],
            ..NONE
        },
        headers: &[
            ("X-Remote-User", &["Bob"]),
            ("X-Remote-Group-1", &["one-a", "one-b"]),
            ("X-Remote-Group-2", &["two-a", "two-b"]),
        ],
        want: || user("Bob", "", &["one-a", "one-b", "two-a", "two-b"], &[]),
        left: &[],
    },
    Row {
        name: "groups case-insensitive",
        config: RequestHeaderConfig {
            username_headers: &["X-REMOTE-User"],
            group_headers: &["X-REMOTE-Group"],
            ..NONE
        },
        headers: &[("X-Remote-User", &["Bob"]), ("X-Remote-Group", &["Users"])],
        want: || user("Bob", "", &["Users"], &[]),
        left: &[],
    },
    Row {
        name: "uid none",
        config: RequestHeaderConfig {
            username_headers: NAME,
            uid_headers: &["X-Remote-Uid"],
            ..NONE
        },
        headers: &[("X-Remote-User", &["Bob"])],
        want: || user("Bob", "", &[], &[]),
        left: &[],
    },
    Row {
        name: "uid exact match",
        config: RequestHeaderConfig {
            username_headers: NAME,
            uid_headers: &["X-Remote-Uid"],
            ..NONE
        },
        headers: &[
            ("X-Remote-User", &["Bob"]),
            ("X-Remote-Uid-1", &["8f5ea9d1-a5ed-4d02-80a2-26709216350b"]),
            ("X-Remote-Uid-2", &["a8a5ce6e-7b2c-4c3f-9b2e-7b6c0f3c1e2d"]),
        ],
        want: || user("Bob", "", &[], &[]),
        left: &["X-Remote-Uid-1", "X-Remote-Uid-2"],
    },
    Row {
        name: "uid first match",
        config: RequestHeaderConfig {
            username_headers: NAME,
            uid_headers: &["X-Remote-Uid-1", "X-Remote-Uid-2"],
            ..NONE
        },
        headers: &[
            ("X-Remote-User", &["Bob"]),
            ("X-Remote-Uid-1", &["8f5ea9d1-a5ed-4d02-80a2-26709216350b"]),
            ("X-Remote-Uid-2", &["a8a5ce6e-7b2c-4c3f-9b2e-7b6c0f3c1e2d"]),
        ],
        want: || user("Bob", "8f5ea9d1-a5ed-4d02-80a2-26709216350b", &[], &[]),
        left: &[],
    },
    Row {
        name: "extra prefix matches case-insensitive",
        config: EXTRA_CONFIG,
        headers: EXTRA_HEADERS,
        want: extra_user,
        left: &[],
    },
    Row {
        name: "extra prefix matches case-insensitive with unrelated headers",
        config: EXTRA_CONFIG,
        headers: &[
            ("X-Remote-User", &["Bob"]),
            ("X-Remote-Group-1", &["one-a", "one-b"]),
            ("X-Remote-Group-2", &["two-a", "two-b"]),
            ("X-Remote-extra-1-key1", &["alfa", "bravo"]),
            ("X-Remote-Extra-1-Key2", &["charlie", "delta"]),
            ("X-Remote-Extra-1-", &["india", "juliet"]),
            ("X-Remote-extra-2-", &["kilo", "lima"]),
            ("X-Remote-extra-2-Key1", &["echo", "foxtrot"]),
            ("X-Remote-Extra-2-key2", &["golf", "hotel"]),
            ("X-Group-Remote", &["snorlax"]),
            ("X-Group-Bear", &["panda"]),
        ],
        want: extra_user,
        left: &["X-Group-Remote", "X-Group-Bear"],
    },
    Row {
        name: "escaped extra keys",
        config: RequestHeaderConfig {
            username_headers: NAME,
            group_headers: &["X-Remote-Group"],
            extra_header_prefixes: &["X-Remote-Extra-"],
            ..NONE
        },
        headers: &[
            ("X-Remote-User", &["Bob"]),
            ("X-Remote-Group", &["one-a", "one-b"]),
            ("X-Remote-Extra-Alpha", &["alphabetical"]),
            ("X-Remote-Extra-Alph4num3r1c", &["alphanumeric"]),
            ("X-Remote-Extra-Percent%20encoded", &["percent encoded"]),
            (
                "X-Remote-Extra-Almost%zzpercent%xxencoded",
                &["not quite percent encoded"],
            ),
            (
                "X-Remote-Extra-Example.com%2fpercent%2520encoded",
                &["url with double percent encoding"],
            ),
            (
                "X-Remote-Extra-Example.com%2F%E4%BB%8A%E6%97%A5%E3%81%AF",
                &["url with unicode"],
            ),
            (
                "X-Remote-Extra-Abc123!#$+.-_*\\^`~|'",
                &["header key legal characters"],
            ),
        ],
        want: || {
            user(
                "Bob",
                "",
                &["one-a", "one-b"],
                &[
                    ("alpha", &["alphabetical"]),
                    ("alph4num3r1c", &["alphanumeric"]),
                    ("percent encoded", &["percent encoded"]),
                    ("almost%zzpercent%xxencoded", &["not quite percent encoded"]),
                    (
                        "example.com/percent%20encoded",
                        &["url with double percent encoding"],
                    ),
                    ("example.com/今日は", &["url with unicode"]),
                    ("abc123!#$+.-_*\\^`~|'", &["header key legal characters"]),
                ],
            )
        },
        left: &[],
    },
];

fn left_after_strip(
    a: &RequestHeaderAuthenticator<'_, '_, RustCrypto>,
    hs: &[Header<'_>],
) -> BTreeSet<String> {
    let req = Request {
        headers: hs,
        ..Request::default()
    };
    let stripped: BTreeSet<&str> = a.headers_to_strip(&req).collect();
    hs.iter()
        .map(|h| h.name)
        .filter(|n| !stripped.contains(n))
        .map(String::from)
        .collect()
}

#[test]
fn upstream_request_header_table_passes_behind_a_verified_proxy() {
    for row in ROWS {
        let a = authenticator(row.config);
        let hs = headers(row.headers);
        let g = run(&a, &hs);
        assert_eq!(g, (row.want)(), "{}", row.name);
        if matches!(g, Got::Auth { .. }) {
            let want: BTreeSet<String> = row.left.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                left_after_strip(&a, &hs),
                want,
                "{}: headers left",
                row.name
            );
        }
    }
    println!("{} request-header table rows", ROWS.len());
}

#[test]
fn the_header_step_alone_gives_the_same_answers() {
    for row in ROWS {
        let a = authenticator(row.config);
        let hs = headers(row.headers);
        let mut buf = vec![0u8; 16 * 1024];
        let mut scratch = Scratch::new(&mut buf);
        let req = Request {
            headers: &hs,
            ..Request::default()
        };
        let mut out = Response::default();
        let v = a.authenticate_headers_into(&req, &mut scratch, &mut out);
        assert_eq!(got(&v.into_outcome(out)), (row.want)(), "{}", row.name);
    }
}

#[test]
fn group_values_are_not_split_on_commas() {
    let a = authenticator(RequestHeaderConfig {
        username_headers: NAME,
        group_headers: &["X-Remote-Group"],
        ..NONE
    });
    let hs = headers(&[
        ("X-Remote-User", &["u"]),
        ("X-Remote-Group", &["a,b", "", "c"]),
    ]);
    assert_eq!(run(&a, &hs), user("u", "", &["a,b", "c"], &[]));
}

#[test]
fn an_empty_username_value_is_not_mine() {
    let a = authenticator(RequestHeaderConfig {
        username_headers: NAME,
        ..NONE
    });
    assert_eq!(run(&a, &headers(&[("X-Remote-User", &[""])])), Got::No);
}

#[test]
fn extra_values_keep_empty_strings() {
    let a = authenticator(RequestHeaderConfig {
        username_headers: NAME,
        extra_header_prefixes: &["X-Remote-Extra-"],
        ..NONE
    });
    let hs = headers(&[("X-Remote-User", &["u"]), ("X-Remote-Extra-K", &["", "v"])]);
    assert_eq!(run(&a, &hs), user("u", "", &[], &[("k", &["", "v"])]));
}

#[test]
fn configured_names_are_trimmed_and_empty_ones_refused() {
    let a = authenticator(RequestHeaderConfig {
        username_headers: &["  X-Remote-User\t"],
        extra_header_prefixes: &[" X-Remote-Extra- "],
        ..NONE
    });
    let hs = headers(&[("X-Remote-User", &["u"]), ("X-Remote-Extra-K", &["v"])]);
    assert_eq!(run(&a, &hs), user("u", "", &[], &[("k", &["v"])]));

    let pool = ClientCaPool::from_der(&[&fixtures().ca]).unwrap();
    let err = RequestHeaderAuthenticator::new(
        pool,
        RustCrypto,
        RequestHeaderConfig {
            username_headers: &["X-Remote-User", " "],
            ..NONE
        },
    )
    .unwrap_err();
    assert_eq!(err, EmptyHeaderName(" "));
    assert_eq!(err.to_string(), r#"empty header " ""#);
}

// ---------------------------------------------------------------------------------------
// The proxy certificate (upstream x509.Verifier)

fn standard() -> RequestHeaderAuthenticator<'static, 'static, RustCrypto> {
    authenticator(RequestHeaderConfig::STANDARD)
}

fn bob() -> Vec<Header<'static>> {
    headers(&[("X-Remote-User", &["Bob"]), ("X-Remote-Group", &["g"])])
}

#[test]
fn no_client_certificate_is_not_mine_whatever_the_headers_say() {
    assert_eq!(run_with(&standard(), &bob(), &[]), Got::No);
}

#[test]
fn a_certificate_from_another_ca_is_rejected_with_the_raw_x509_error() {
    let f = fixtures();
    let g = run_with(&standard(), &bob(), &[&f.other_ca_proxy]);
    assert_eq!(g, rejected(X509Error::UnknownAuthority));
    if let Got::Err(e) = g {
        assert_eq!(
            e[0].to_string(),
            "x509: certificate signed by unknown authority"
        );
    }
}

#[test]
fn a_certificate_without_client_auth_is_rejected() {
    let f = fixtures();
    assert_eq!(
        run_with(&standard(), &bob(), &[&f.server_only]),
        rejected(X509Error::IncompatibleUsage)
    );
}

#[test]
fn an_expired_proxy_certificate_is_rejected() {
    let f = fixtures();
    assert!(matches!(
        run_with(&standard(), &bob(), &[&f.expired]),
        Got::Err(e) if matches!(e[..], [Error::X509(X509Error::Expired { .. })])
    ));
}

#[test]
fn the_certificate_is_checked_before_the_headers() {
    let f = fixtures();
    let hs = [Header {
        name: "X-Remote-User",
        value: b"\xff",
    }];
    assert_eq!(
        run_with(&standard(), &hs, &[&f.other_ca_proxy]),
        rejected(X509Error::UnknownAuthority)
    );
}

#[test]
fn allowed_names_admit_only_listed_common_names() {
    let f = fixtures();
    let allowed = authenticator(RequestHeaderConfig {
        allowed_names: &["other", "front-proxy-client"],
        ..RequestHeaderConfig::STANDARD
    });
    assert_eq!(run(&allowed, &bob()), user("Bob", "", &["g"], &[]));

    let denied = authenticator(RequestHeaderConfig {
        allowed_names: &["front-proxy"],
        ..RequestHeaderConfig::STANDARD
    });
    let g = run(&denied, &bob());
    let Got::Err(e) = &g else { panic!("{g:?}") };
    assert!(matches!(
        e[..],
        [Error::RequestHeader(RequestHeaderError::NameNotAllowed(_))]
    ));
    assert_eq!(
        e[0].to_string(),
        "x509: subject with cn=front-proxy-client is not in the allowed list"
    );
    // Exact comparison: no case folding, no prefix match.
    let case = authenticator(RequestHeaderConfig {
        allowed_names: &["FRONT-PROXY-CLIENT"],
        ..RequestHeaderConfig::STANDARD
    });
    assert!(matches!(run(&case, &bob()), Got::Err(_)));
    // A certificate without CN passes only an empty list.
    assert_eq!(
        run_with(&standard(), &bob(), &[&f.no_cn]),
        user("Bob", "", &["g"], &[])
    );
    let g = run_with(&denied, &bob(), &[&f.no_cn]);
    let Got::Err(e) = &g else { panic!("{g:?}") };
    assert_eq!(
        e[0].to_string(),
        "x509: subject with cn= is not in the allowed list"
    );
}

#[test]
fn a_long_common_name_is_cut_in_the_error() {
    let e = Error::RequestHeader(RequestHeaderError::NameNotAllowed(
        kauthn::MessageExcerpt::new("a-very-long-front-proxy-common-name"),
    ));
    assert_eq!(
        e.to_string(),
        "x509: subject with cn=a-very-long-front-pr… is not in the allowed list"
    );
}

#[test]
fn audiences_wrap_the_authenticator_as_kube_apiserver_does() {
    let a = AudienceAgnostic::new(&["api"], standard());
    let hs = bob();
    let chain: [&[u8]; 1] = [&fixtures().proxy];
    let req = Request {
        headers: &hs,
        path: "/",
        client_chain: &chain,
    };
    let mut buf = [0u8; 1024];
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(&["api"]);
    let r = a
        .authenticate_request(&req, &ctx, &mut Scratch::new(&mut buf))
        .into_response()
        .unwrap();
    assert_eq!((r.user.name, r.audiences.as_slice()), ("Bob", &["api"][..]));
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(&["other"]);
    let mut buf = [0u8; 1024];
    assert!(matches!(
        a.authenticate_request(&req, &ctx, &mut Scratch::new(&mut buf)),
        Outcome::NotMine(None)
    ));
}

// ---------------------------------------------------------------------------------------
// Headers to strip

#[test]
fn configured_headers_and_extra_prefixes_are_stripped() {
    let a = authenticator(RequestHeaderConfig {
        username_headers: &["X-Custom-User"],
        uid_headers: &["X-Custom-Uid"],
        group_headers: &["X-Custom-Group"],
        extra_header_prefixes: &["X-Custom-Extra-"],
        allowed_names: &[],
    });
    for name in [
        "x-custom-user",
        "X-Custom-Uid",
        "X-CUSTOM-GROUP",
        "X-Custom-Extra-",
        "x-custom-extra-anything",
    ] {
        assert!(a.must_strip(name), "{name}");
    }
    for name in [
        "X-Custom-User-2",
        "X-Custom-Extra",
        "Authorization",
        "X-Remote-User",
    ] {
        assert!(!a.must_strip(name), "{name}");
    }
    let hs = headers(&[
        ("X-Custom-User", &["u"]),
        ("Accept", &["*/*"]),
        ("X-Custom-Group", &["a", "b"]),
        ("X-Custom-Extra-K", &["v"]),
    ]);
    let req = Request {
        headers: &hs,
        ..Request::default()
    };
    assert_eq!(
        a.headers_to_strip(&req).collect::<Vec<_>>(),
        [
            "X-Custom-User",
            "X-Custom-Group",
            "X-Custom-Group",
            "X-Custom-Extra-K"
        ]
    );
}

#[test]
fn the_filter_strips_authorization_standard_and_configured_headers_after_any_success() {
    let custom = RequestHeaderConfig {
        username_headers: &["X-Custom-User"],
        ..NONE
    };
    for name in [
        "Authorization",
        "authorization",
        "X-Remote-User",
        "x-remote-uid",
        "X-Remote-Group",
        "X-Remote-Extra-Scopes",
        "x-remote-extra-",
    ] {
        assert!(strip_after_authentication(name, None), "{name}");
        assert!(strip_after_authentication(name, Some(&custom)), "{name}");
    }
    assert!(!strip_after_authentication("X-Custom-User", None));
    assert!(strip_after_authentication("X-Custom-User", Some(&custom)));
    for name in [
        "Accept",
        "X-Remote-Users",
        "X-Remote-Extra",
        "Proxy-Authorization",
    ] {
        assert!(!strip_after_authentication(name, Some(&custom)), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Hostile headers

fn extra_config() -> RequestHeaderAuthenticator<'static, 'static, RustCrypto> {
    authenticator(RequestHeaderConfig::STANDARD)
}

#[test]
fn non_utf8_values_are_clear_errors() {
    let a = extra_config();
    let cases: [(&[Header<'static>], HeaderRole); 4] = [
        (
            &[Header {
                name: "X-Remote-User",
                value: b"b\xffb",
            }],
            HeaderRole::Username,
        ),
        (
            &[
                Header {
                    name: "X-Remote-User",
                    value: b"u",
                },
                Header {
                    name: "X-Remote-Uid",
                    value: b"\xc3",
                },
            ],
            HeaderRole::Uid,
        ),
        (
            &[
                Header {
                    name: "X-Remote-User",
                    value: b"u",
                },
                Header {
                    name: "X-Remote-Group",
                    value: b"\x80",
                },
            ],
            HeaderRole::Group,
        ),
        (
            &[
                Header {
                    name: "X-Remote-User",
                    value: b"u",
                },
                Header {
                    name: "X-Remote-Extra-K",
                    value: b"\xed\xa0\x80",
                },
            ],
            HeaderRole::Extra,
        ),
    ];
    for (hs, role) in cases {
        assert_eq!(
            run(&a, hs),
            rejected(RequestHeaderError::NonUtf8Value(role))
        );
    }
    assert_eq!(
        Error::from(RequestHeaderError::NonUtf8Value(HeaderRole::Group)).to_string(),
        "requestheader: group header value is not valid UTF-8"
    );
}

#[test]
fn nul_in_values_or_decoded_keys_is_rejected() {
    let a = extra_config();
    let hs = [Header {
        name: "X-Remote-User",
        value: b"admin\0evil",
    }];
    assert_eq!(
        run(&a, &hs),
        rejected(RequestHeaderError::NulInValue(HeaderRole::Username))
    );
    let hs = headers(&[("X-Remote-User", &["u"]), ("X-Remote-Extra-A%00b", &["v"])]);
    assert_eq!(run(&a, &hs), rejected(RequestHeaderError::NulInExtraKey));
}

#[test]
fn invalid_percent_escapes_keep_the_lowercased_key_and_non_utf8_decodes_are_errors() {
    let a = extra_config();
    for (raw, key) in [
        ("X-Remote-Extra-A%", "a%"),
        ("X-Remote-Extra-A%4", "a%4"),
        ("X-Remote-Extra-A%G1%41", "a%g1%41"),
        ("X-Remote-Extra-%41%", "%41%"),
        ("X-Remote-Extra-+", "+"),
    ] {
        let hs = [
            Header {
                name: "X-Remote-User",
                value: b"u",
            },
            Header {
                name: raw,
                value: b"v",
            },
        ];
        assert_eq!(run(&a, &hs), user("u", "", &[], &[(key, &["v"])]), "{raw}");
    }
    let hs = headers(&[("X-Remote-User", &["u"]), ("X-Remote-Extra-%C3%28", &["v"])]);
    assert_eq!(run(&a, &hs), rejected(RequestHeaderError::NonUtf8ExtraKey));
}

#[test]
fn non_ascii_header_names_never_split_a_character() {
    let a = extra_config();
    for raw in [
        "X-Remote-Extraé",
        "X-Remote-Extr\u{e9}-k",
        "X-Remote-Extra-É",
        "é",
    ] {
        let hs = [
            Header {
                name: "X-Remote-User",
                value: b"u",
            },
            Header {
                name: raw,
                value: b"v",
            },
        ];
        let g = run(&a, &hs);
        assert!(matches!(g, Got::Auth { .. }), "{raw}: {g:?}");
    }
}

#[test]
fn a_hundred_thousand_extra_headers_are_a_named_limit() {
    let a = extra_config();
    let names: Vec<String> = (0..100_000)
        .map(|i| format!("X-Remote-Extra-K{i}"))
        .collect();
    let mut hs = vec![Header {
        name: "X-Remote-User",
        value: b"u",
    }];
    hs.extend(names.iter().map(|n| Header {
        name: n,
        value: b"v",
    }));
    let start = std::time::Instant::now();
    assert_eq!(
        run(&a, &hs),
        rejected(Error::LimitExceeded(Limit::ExtraValues))
    );
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn a_hundred_thousand_unrelated_headers_still_authenticate() {
    let a = extra_config();
    let names: Vec<String> = (0..100_000).map(|i| format!("X-Other-{i}")).collect();
    let mut hs: Vec<Header<'_>> = names
        .iter()
        .map(|n| Header {
            name: n,
            value: b"v",
        })
        .collect();
    hs.push(Header {
        name: "X-Remote-User",
        value: b"u",
    });
    let start = std::time::Instant::now();
    assert_eq!(run(&a, &hs), user("u", "", &[], &[]));
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn too_many_groups_are_a_named_limit() {
    let a = extra_config();
    let mut hs = vec![Header {
        name: "X-Remote-User",
        value: b"u",
    }];
    hs.extend((0..=kauthn::MAX_GROUPS).map(|_| Header {
        name: "X-Remote-Group",
        value: b"g",
    }));
    assert_eq!(run(&a, &hs), rejected(Error::LimitExceeded(Limit::Groups)));
}

#[test]
fn a_scratch_too_small_for_decoded_keys_is_a_named_limit() {
    let a = extra_config();
    let hs = headers(&[
        ("X-Remote-User", &["u"]),
        ("X-Remote-Extra-ABCDEFGH", &["v"]),
    ]);
    let chain: [&[u8]; 1] = [&fixtures().proxy];
    let req = Request {
        headers: &hs,
        path: "/",
        client_chain: &chain,
    };
    let mut buf = [0u8; 4];
    let mut scratch = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut out = Response::default();
    assert_eq!(
        a.authenticate_request_into(&req, &ctx, &mut scratch, &mut out),
        Verdict::rejected(Error::LimitExceeded(Limit::Scratch))
    );
    assert_eq!(out.user.name, "", "a rejection leaves no user behind");
}

#[test]
fn an_unvalidated_empty_prefix_strips_nothing() {
    let c = RequestHeaderConfig {
        username_headers: &[""],
        extra_header_prefixes: &[" "],
        ..NONE
    };
    assert!(c.validate().is_err());
    assert!(!c.must_strip("Accept"));
    assert!(!c.must_strip(""));
}
