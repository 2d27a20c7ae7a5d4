//! The webhook tables of the spec (§13.9, upstream `webhook_v1_test.go` and
//! `webhook_v1beta1_test.go`), the request encoding, the composition with the token cache,
//! and hostile responses.
//!
//! A scripted transport stands in for the HTTP client: it records each request body and
//! answers with a status code and body. Retries and TLS (`TestV1TLSConfig`, the call counts
//! of `TestV1WebhookCacheAndRetry`) are the embedder's transport's job; here each scripted
//! answer is the transport's final one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

use std::cell::{Cell, RefCell};

use kauthn::jose::{JoseError, JoseLimit, JsonType, Malformed};
use kauthn::{
    CacheConfig, CachedTokenAuthenticator, Context, Error, Limit, Outcome, ReviewField, Scratch,
    TokenAuthenticator, TokenReviewVersion, TransportError, UnixTime, Verdict, WebhookError,
    WebhookTokenAuthenticator, WebhookTransport, encode_token_review, token_review_len,
};

const NOW: i64 = 1_800_000_000;
const TOKEN: &[u8] = b"my-s3cr3t-t0ken";

/// Answers every POST with the scripted status and body, recording what it was sent.
#[derive(Default)]
struct Scripted {
    status: Cell<u16>,
    body: RefCell<String>,
    calls: Cell<usize>,
    requests: RefCell<Vec<Vec<u8>>>,
}

impl Scripted {
    fn answering(status: u16, body: &str) -> Self {
        let s = Scripted::default();
        s.set(status, body);
        s
    }

    fn set(&self, status: u16, body: &str) {
        self.status.set(status);
        *self.body.borrow_mut() = body.to_owned();
    }

    fn last_request(&self) -> serde_json::Value {
        serde_json::from_slice(self.requests.borrow().last().unwrap()).unwrap()
    }

    fn take_calls(&self) -> usize {
        self.calls.replace(0)
    }
}

impl WebhookTransport for Scripted {
    fn post(&self, body: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.calls.set(self.calls.get() + 1);
        self.requests.borrow_mut().push(body.to_vec());
        let status = self.status.get();
        if !(200..300).contains(&status) {
            return Err(TransportError::Status(status));
        }
        let b = self.body.borrow();
        let dst = response
            .get_mut(..b.len())
            .ok_or(TransportError::ResponseTooLarge)?;
        dst.copy_from_slice(b.as_bytes());
        Ok(b.len())
    }
}

/// A TokenReview response of `version` with `status`.
fn review(version: TokenReviewVersion, status: &str) -> String {
    format!(
        r#"{{"apiVersion":"{}","kind":"TokenReview","status":{status}}}"#,
        version.api_version()
    )
}

/// A comparable summary of an outcome.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Auth {
        name: String,
        uid: String,
        groups: Vec<String>,
        extra: Vec<(String, Vec<String>)>,
        audiences: Vec<String>,
    },
    No,
    Err(Vec<Error>),
}

fn got(o: &Outcome<'_>) -> Got {
    match o {
        Outcome::Authenticated(r) => Got::Auth {
            name: r.user.name.into(),
            uid: r.user.uid.into(),
            groups: r.user.groups.iter().map(String::from).collect(),
            extra: r
                .user
                .extra
                .iter()
                .map(|(k, v)| (k.to_owned(), v.iter().map(String::from).collect()))
                .collect(),
            audiences: r
                .audiences
                .as_slice()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        },
        Outcome::NotMine(_) => Got::No,
        Outcome::Rejected(e) => Got::Err(e.iter().collect()),
    }
}

fn named(name: &str) -> Got {
    Got::Auth {
        name: name.into(),
        uid: String::new(),
        groups: vec![],
        extra: vec![],
        audiences: vec![],
    }
}

fn with_audiences(g: Got, auds: &[&str]) -> Got {
    match g {
        Got::Auth {
            name,
            uid,
            groups,
            extra,
            ..
        } => Got::Auth {
            name,
            uid,
            groups,
            extra,
            audiences: auds.iter().map(|s| s.to_string()).collect(),
        },
        other => other,
    }
}

fn run<T: TokenAuthenticator>(a: &T, token: &[u8], ctx_auds: &[&str]) -> Got {
    let mut buf = vec![0u8; 64 * 1024];
    let ctx = Context::at(UnixTime::from_secs(NOW)).with_audiences(ctx_auds);
    let mut scratch = Scratch::new(&mut buf);
    got(&a.authenticate_token(token, &ctx, &mut scratch))
}

fn webhook_err(e: WebhookError) -> Got {
    Got::Err(vec![Error::Webhook(e)])
}

const VERSIONS: [TokenReviewVersion; 2] = [TokenReviewVersion::V1, TokenReviewVersion::V1Beta1];

// ---------------------------------------------------------------------------------------
// Request encoding

#[test]
fn the_request_is_what_upstreams_client_sends() {
    let mut out = [0u8; 512];
    let n = encode_token_review(TokenReviewVersion::V1, TOKEN, &["api"], &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":{},\
         \"spec\":{\"token\":\"my-s3cr3t-t0ken\",\"audiences\":[\"api\"]},\"status\":{\"user\":{}}}\n"
    );
    assert_eq!(
        token_review_len(TokenReviewVersion::V1, TOKEN, &["api"]).unwrap(),
        n
    );
}

#[test]
fn v1beta1_requests_differ_only_in_api_version_and_omit_empty_audiences() {
    let mut out = [0u8; 512];
    let n = encode_token_review(TokenReviewVersion::V1Beta1, b"t", &[], &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1beta1\",\"metadata\":{},\
         \"spec\":{\"token\":\"t\"},\"status\":{\"user\":{}}}\n"
    );
}

#[test]
fn an_empty_token_is_omitted_like_go_omitempty() {
    let mut out = [0u8; 512];
    let n = encode_token_review(TokenReviewVersion::V1, b"", &["a", "b"], &mut out).unwrap();
    let s = std::str::from_utf8(&out[..n]).unwrap();
    assert!(s.contains("\"spec\":{\"audiences\":[\"a\",\"b\"]}"), "{s}");
}

#[test]
fn strings_are_escaped_as_go_encoding_json_does() {
    let cases: &[(&[u8], &str)] = &[
        (b"a\"b\\c", r#""a\"b\\c""#),
        (b"\x08\x0c\n\r\t", r#""\b\f\n\r\t""#),
        (b"\x00\x01\x1f\x7f", "\"\\u0000\\u0001\\u001f\x7f\""),
        (b"<a>&", r#""\u003ca\u003e\u0026""#),
        ("\u{2028}\u{2029}é".as_bytes(), "\"\\u2028\\u2029é\""),
        // Go replaces each byte of invalid UTF-8 with U+FFFD.
        (b"a\xff\xe2\x82b", r#""a\ufffd\ufffd\ufffdb""#),
        (b"\xf0\x9f\x98\x80", "\"\u{1f600}\""),
    ];
    for (token, want) in cases {
        let mut out = [0u8; 512];
        let n = encode_token_review(TokenReviewVersion::V1, token, &[], &mut out).unwrap();
        let s = std::str::from_utf8(&out[..n]).unwrap();
        let want = format!("\"spec\":{{\"token\":{want}}}");
        assert!(s.contains(&want), "{token:?}: {s} lacks {want}");
        // The body is JSON and carries the token (lossily, as Go's does).
        let v: serde_json::Value = serde_json::from_str(s).unwrap();
        assert_eq!(v["spec"]["token"].as_str().unwrap(), go_lossy(token));
    }
}

/// Go's `[]byte` to JSON string conversion: one U+FFFD per byte of invalid UTF-8.
fn go_lossy(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        for _ in chunk.invalid() {
            s.push('\u{fffd}');
        }
    }
    s
}

#[test]
fn audiences_are_escaped_too() {
    let mut out = [0u8; 512];
    let n = encode_token_review(TokenReviewVersion::V1, b"t", &["a\"<b"], &mut out).unwrap();
    let s = std::str::from_utf8(&out[..n]).unwrap();
    assert!(s.contains(r#""audiences":["a\"\u003cb"]"#), "{s}");
}

#[test]
fn a_short_buffer_is_a_named_limit_not_a_panic() {
    let need = token_review_len(TokenReviewVersion::V1, TOKEN, &[]).unwrap();
    for len in 0..need {
        let mut out = vec![0u8; len];
        assert_eq!(
            encode_token_review(TokenReviewVersion::V1, TOKEN, &[], &mut out),
            Err(Error::LimitExceeded(Limit::Scratch))
        );
    }
}

#[test]
fn the_server_sees_token_review_type_meta_and_the_token() {
    for v in VERSIONS {
        let t = Scripted::answering(
            200,
            &review(
                v,
                r#"{"authenticated":true,"user":{"username":"somebody"}}"#,
            ),
        );
        let a = WebhookTokenAuthenticator::new(&t, v);
        assert_eq!(run(&a, TOKEN, &[]), named("somebody"));
        let req = t.last_request();
        assert_eq!(req["kind"], "TokenReview");
        assert_eq!(req["apiVersion"], v.api_version());
        assert_eq!(req["spec"]["token"], "my-s3cr3t-t0ken");
        assert!(req["spec"].get("audiences").is_none());
    }
}

#[test]
fn the_request_carries_the_context_audiences() {
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":true,"user":{"username":"x"}}"#,
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1)
        .with_implicit_audiences(&["api"]);
    run(&a, TOKEN, &["api", "other"]);
    assert_eq!(
        t.last_request()["spec"]["audiences"],
        serde_json::json!(["api", "other"])
    );
}

// ---------------------------------------------------------------------------------------
// TestV1WebhookTokenAuthenticator / TestV1beta1WebhookTokenAuthenticator

struct Row {
    name: &'static str,
    implicit: &'static [&'static str],
    ctx: &'static [&'static str],
    status: &'static str,
    want: fn() -> Got,
}

fn full_user() -> Got {
    Got::Auth {
        name: "person@place.com".into(),
        uid: "abcd-1234".into(),
        groups: vec!["stuff-dev".into(), "main-eng".into()],
        extra: vec![("foo".into(), vec!["bar".into(), "baz".into()])],
        audiences: vec![],
    }
}

const ROWS: &[Row] = &[
    Row {
        name: "pass-through minimal",
        implicit: &[],
        ctx: &[],
        status: r#"{"authenticated":true,"user":{"username":"somebody"}}"#,
        want: || named("somebody"),
    },
    Row {
        name: "pass-through full",
        implicit: &[],
        ctx: &[],
        status: r#"{"authenticated":true,"user":{"username":"person@place.com","uid":"abcd-1234","groups":["stuff-dev","main-eng"],"extra":{"foo":["bar","baz"]}}}"#,
        want: full_user,
    },
    Row {
        name: "unauthenticated shouldn't even include extra provided info",
        implicit: &[],
        ctx: &[],
        status: r#"{"authenticated":false,"user":{"username":"garbage","uid":"abcd-1234","groups":["not-actually-used"]}}"#,
        want: || Got::No,
    },
    Row {
        name: "unauthenticated shouldn't even include extra provided info (empty status)",
        implicit: &[],
        ctx: &[],
        status: r#"{"authenticated":false}"#,
        want: || Got::No,
    },
    Row {
        name: "good audience",
        implicit: &["api"],
        ctx: &["api"],
        status: r#"{"authenticated":true,"user":{"username":"somebody"}}"#,
        want: || with_audiences(named("somebody"), &["api"]),
    },
    Row {
        name: "good audience (superset implicit)",
        implicit: &["api", "other"],
        ctx: &["api"],
        status: r#"{"authenticated":true,"user":{"username":"somebody"}}"#,
        want: || with_audiences(named("somebody"), &["api"]),
    },
    Row {
        name: "bad audiences",
        implicit: &["api"],
        ctx: &["other"],
        status: r#"{"authenticated":false}"#,
        want: || Got::No,
    },
    Row {
        name: "bad audiences (legacy backend: authenticated without audiences)",
        implicit: &["api"],
        ctx: &["other"],
        status: r#"{"authenticated":true,"user":{"username":"somebody"}}"#,
        want: || Got::No,
    },
    Row {
        name: "audience aware backend",
        implicit: &["api"],
        ctx: &["api"],
        status: r#"{"authenticated":true,"user":{"username":"somebody"},"audiences":["api"]}"#,
        want: || with_audiences(named("somebody"), &["api"]),
    },
    Row {
        name: "audience aware backend without context audiences",
        implicit: &[],
        ctx: &[],
        status: r#"{"authenticated":true,"user":{"username":"somebody"},"audiences":["api"]}"#,
        want: || named("somebody"),
    },
    Row {
        name: "audience aware backend, mismatch",
        implicit: &["api"],
        ctx: &["api"],
        status: r#"{"authenticated":true,"user":{"username":"somebody"},"audiences":["other"]}"#,
        want: || Got::No,
    },
];

#[test]
fn upstream_webhook_token_authenticator_table_passes_for_v1_and_v1beta1() {
    let mut ran = 0;
    for v in VERSIONS {
        for row in ROWS {
            let t = Scripted::answering(200, &review(v, row.status));
            let a = WebhookTokenAuthenticator::new(&t, v).with_implicit_audiences(row.implicit);
            assert_eq!(run(&a, TOKEN, row.ctx), (row.want)(), "{v:?} {}", row.name);
            assert_eq!(t.take_calls(), 1, "{}", row.name);
            ran += 1;
        }
    }
    println!("{ran} webhook table rows");
}

#[test]
fn the_intersection_follows_the_status_audiences_order() {
    // Upstream: wantAuds.Intersect(gotAuds) keeps gotAuds' order.
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":true,"user":{"username":"u"},"audiences":["b","x","a"]}"#,
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    assert_eq!(
        run(&a, TOKEN, &["a", "b"]),
        with_audiences(named("u"), &["b", "a"])
    );
}

#[test]
fn a_denial_with_a_message_is_an_error_carrying_the_message() {
    for v in VERSIONS {
        let t = Scripted::answering(
            200,
            &review(v, r#"{"authenticated":false,"error":"token expired"}"#),
        );
        let a = WebhookTokenAuthenticator::new(&t, v);
        let Got::Err(errs) = run(&a, TOKEN, &[]) else {
            panic!("not an error")
        };
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].to_string(), "token expired");
        assert!(matches!(errs[0], Error::Webhook(WebhookError::Denied(m)) if !m.is_cut()));
    }
}

#[test]
fn the_full_denial_message_is_available_from_review_into() {
    let msg =
        "the token was revoked by the identity provider at 12:00 because of a password change";
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            &format!(r#"{{"authenticated":false,"error":"{msg}","user":{{"username":"x"}}}}"#),
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    let mut buf = vec![0u8; 4096];
    let mut scratch = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut out = kauthn::Response::default();
    let r = a.review_into(TOKEN, &ctx, &mut scratch, &mut out);
    assert_eq!(r.status_error, Some(msg));
    let Verdict::Rejected(errs) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    let Some(Error::Webhook(WebhookError::Denied(excerpt))) = errs.first() else {
        panic!("{errs:?}")
    };
    assert!(excerpt.is_cut());
    assert!(msg.starts_with(excerpt.as_str()));
    assert_eq!(errs.to_string(), format!("{}…", excerpt.as_str()));
    assert_eq!(out.user.name, "", "a denial leaves no user behind");
}

#[test]
fn an_escaped_denial_message_is_unescaped() {
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"error":"bad \"token\" \u00e9"}"#,
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    let mut buf = vec![0u8; 4096];
    let mut scratch = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut out = kauthn::Response::default();
    let r = a.review_into(TOKEN, &ctx, &mut scratch, &mut out);
    assert_eq!(r.status_error, Some("bad \"token\" é"));
}

#[test]
fn audiences_are_checked_before_the_authenticated_flag() {
    // Upstream returns "not mine" on an audience mismatch even when the webhook denied the
    // token with a message.
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":false,"error":"nope","audiences":["other"]}"#,
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    assert_eq!(run(&a, TOKEN, &["api"]), Got::No);
    assert_eq!(
        run(&a, TOKEN, &[]),
        webhook_err(WebhookError::Denied(kauthn::MessageExcerpt::new("nope")))
    );
}

#[test]
fn nulls_are_zero_values_and_extra_keys_without_values_are_kept() {
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":true,"user":{"username":"u","uid":null,"groups":["a",null],"extra":{"k":null,"e":[],"v":["x",null]}},"audiences":null,"error":null}"#,
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    assert_eq!(
        run(&a, TOKEN, &[]),
        Got::Auth {
            name: "u".into(),
            uid: String::new(),
            groups: vec!["a".into(), String::new()],
            extra: vec![
                ("k".into(), vec![]),
                ("e".into(), vec![]),
                ("v".into(), vec!["x".into(), String::new()]),
            ],
            audiences: vec![],
        }
    );
}

#[test]
fn unknown_members_are_ignored_and_type_meta_may_be_absent() {
    let t = Scripted::answering(
        200,
        r#"{"metadata":{"creationTimestamp":null},"spec":{"token":"x"},"status":{"authenticated":true,"user":{"username":"u","nickname":"n"},"extra":1}}"#,
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    assert_eq!(run(&a, TOKEN, &[]), named("u"));
}

#[test]
fn escaped_user_strings_are_unescaped() {
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":true,"user":{"username":"j\u00f6rg","groups":["a\/b","\ud83d\ude00"],"extra":{"k\u0065y":["v\n"]}}}"#,
        ),
    );
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    assert_eq!(
        run(&a, TOKEN, &[]),
        Got::Auth {
            name: "jörg".into(),
            uid: String::new(),
            groups: vec!["a/b".into(), "\u{1f600}".into()],
            extra: vec![("key".into(), vec!["v\n".into()])],
            audiences: vec![],
        }
    );
}

#[test]
fn version_flag_values_follow_upstream() {
    assert_eq!(
        TokenReviewVersion::from_flag("v1"),
        Ok(TokenReviewVersion::V1)
    );
    assert_eq!(
        TokenReviewVersion::from_flag("v1beta1"),
        Ok(TokenReviewVersion::V1Beta1)
    );
    assert_eq!(TokenReviewVersion::default(), TokenReviewVersion::V1Beta1);
    assert_eq!(
        TokenReviewVersion::from_flag("x").unwrap_err().to_string(),
        r#"unsupported authentication webhook version "x", supported versions are "v1", "v1beta1""#
    );
}

// ---------------------------------------------------------------------------------------
// Transport failures

#[test]
fn every_transport_failure_rejects_the_token() {
    for status in [500, 404, 429, 403, 504, 301] {
        let t = Scripted::answering(status, "");
        let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
        assert_eq!(
            run(&a, TOKEN, &[]),
            webhook_err(WebhookError::Transport(TransportError::Status(status)))
        );
    }
    let e = Error::Webhook(WebhookError::Transport(TransportError::Status(500)));
    assert_eq!(e.to_string(), "webhook answered with HTTP status 500");
}

/// A transport that claims more bytes than it was lent.
struct Liar;

impl WebhookTransport for Liar {
    fn post(&self, _: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        Ok(response.len() + 1)
    }
}

#[test]
fn a_transport_claiming_more_bytes_than_lent_is_rejected() {
    let a = WebhookTokenAuthenticator::new(Liar, TokenReviewVersion::V1);
    assert_eq!(
        run(&a, TOKEN, &[]),
        webhook_err(WebhookError::Transport(TransportError::ResponseTooLarge))
    );
}

#[test]
fn a_scratch_too_small_for_the_request_is_a_named_limit() {
    let t = Scripted::answering(200, "{}");
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    let mut buf = [0u8; 64];
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut scratch = Scratch::new(&mut buf);
    assert_eq!(
        got(&a.authenticate_token(TOKEN, &ctx, &mut scratch)),
        Got::Err(vec![Error::LimitExceeded(Limit::Scratch)])
    );
    assert_eq!(
        t.take_calls(),
        0,
        "nothing is sent when the body does not fit"
    );
    assert_eq!(scratch.remaining(), 64, "a failed call keeps no scratch");
}

#[test]
fn a_response_larger_than_the_scratch_is_rejected() {
    let big = review(
        TokenReviewVersion::V1,
        &format!(
            r#"{{"authenticated":true,"user":{{"username":"{}"}}}}"#,
            "x".repeat(100_000)
        ),
    );
    let t = Scripted::answering(200, &big);
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    assert_eq!(
        run(&a, TOKEN, &[]),
        webhook_err(WebhookError::Transport(TransportError::ResponseTooLarge))
    );
}

// ---------------------------------------------------------------------------------------
// Hostile responses

fn decode_err(body: &str) -> Got {
    let t = Scripted::answering(200, body);
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    run(&a, TOKEN, &[])
}

fn wrong_type(field: ReviewField, found: JsonType) -> Got {
    webhook_err(WebhookError::WrongType { field, found })
}

#[test]
fn malformed_json_is_a_clear_error() {
    let cases: &[(&str, JoseError)] = &[
        ("", JoseError::Malformed(Malformed::JsonSyntax)),
        ("{", JoseError::Malformed(Malformed::JsonSyntax)),
        (
            r#"{"status":{"authenticated":true}"#,
            JoseError::Malformed(Malformed::JsonSyntax),
        ),
        (
            r#"{"status":{}} trailing"#,
            JoseError::Malformed(Malformed::JsonSyntax),
        ),
        ("[]", JoseError::Malformed(Malformed::NotAnObject)),
        (
            "\"TokenReview\"",
            JoseError::Malformed(Malformed::NotAnObject),
        ),
        (
            r#"{"status":{},"status":{}}"#,
            JoseError::Malformed(Malformed::DuplicateMember),
        ),
        (
            r#"{"status":{"error":"\ud800"}}"#,
            JoseError::Malformed(Malformed::LoneSurrogate),
        ),
        (
            r#"{"status":{"error":"\x"}}"#,
            JoseError::Malformed(Malformed::InvalidEscape),
        ),
        (
            "{\"status\":{\"error\":\"a\u{1}b\"}}",
            JoseError::Malformed(Malformed::JsonSyntax),
        ),
    ];
    for (body, e) in cases {
        assert_eq!(
            decode_err(body),
            webhook_err(WebhookError::Json(*e)),
            "{body}"
        );
    }
}

#[test]
fn non_utf8_responses_are_rejected() {
    struct Bytes;
    impl WebhookTransport for Bytes {
        fn post(&self, _: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
            let b = b"{\"status\":{\"error\":\"\xff\"}}";
            response[..b.len()].copy_from_slice(b);
            Ok(b.len())
        }
    }
    let a = WebhookTokenAuthenticator::new(Bytes, TokenReviewVersion::V1);
    assert_eq!(
        run(&a, TOKEN, &[]),
        webhook_err(WebhookError::Json(JoseError::Malformed(Malformed::Utf8)))
    );
}

#[test]
fn deep_nesting_is_a_named_limit() {
    let body = format!(r#"{{"x":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        decode_err(&body),
        webhook_err(WebhookError::Json(JoseError::LimitExceeded(
            JoseLimit::JsonDepth
        )))
    );
}

#[test]
fn huge_responses_are_a_named_limit() {
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(kauthn::jose::MAX_JSON_LEN));
    let t = Scripted::answering(200, &body);
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1);
    let mut buf = vec![0u8; 3 * kauthn::jose::MAX_JSON_LEN];
    let ctx = Context::at(UnixTime::from_secs(NOW));
    let mut scratch = Scratch::new(&mut buf);
    assert_eq!(
        got(&a.authenticate_token(TOKEN, &ctx, &mut scratch)),
        webhook_err(WebhookError::Json(JoseError::LimitExceeded(
            JoseLimit::JsonSize
        )))
    );
}

#[test]
fn members_of_the_wrong_type_are_go_style_errors() {
    use JsonType::*;
    use ReviewField as F;
    let cases: &[(&str, Got)] = &[
        (r#"{"kind":1}"#, wrong_type(F::Kind, Number)),
        (r#"{"apiVersion":true}"#, wrong_type(F::ApiVersion, Bool)),
        (r#"{"status":[]}"#, wrong_type(F::Status, Array)),
        (
            r#"{"status":{"authenticated":"true"}}"#,
            wrong_type(F::Authenticated, String),
        ),
        (
            r#"{"status":{"authenticated":1}}"#,
            wrong_type(F::Authenticated, Number),
        ),
        (r#"{"status":{"user":"me"}}"#, wrong_type(F::User, String)),
        (
            r#"{"status":{"authenticated":true,"user":{"username":5}}}"#,
            wrong_type(F::Username, Number),
        ),
        (
            r#"{"status":{"authenticated":true,"user":{"uid":{}}}}"#,
            wrong_type(F::Uid, Object),
        ),
        (
            r#"{"status":{"authenticated":true,"user":{"groups":"a"}}}"#,
            wrong_type(F::Groups, String),
        ),
        (
            r#"{"status":{"authenticated":true,"user":{"groups":[1]}}}"#,
            wrong_type(F::Group, Number),
        ),
        (
            r#"{"status":{"authenticated":true,"user":{"extra":[]}}}"#,
            wrong_type(F::Extra, Array),
        ),
        (
            r#"{"status":{"authenticated":true,"user":{"extra":{"k":"v"}}}}"#,
            wrong_type(F::ExtraValues, String),
        ),
        (
            r#"{"status":{"authenticated":true,"user":{"extra":{"k":[[]]}}}}"#,
            wrong_type(F::ExtraValue, Array),
        ),
        (
            r#"{"status":{"audiences":"api"}}"#,
            wrong_type(F::Audiences, String),
        ),
        (
            r#"{"status":{"audiences":[false]}}"#,
            wrong_type(F::Audience, Bool),
        ),
        (r#"{"status":{"error":{}}}"#, wrong_type(F::Error, Object)),
        // Types are checked in a negative answer too, as Go's decoder does.
        (
            r#"{"status":{"authenticated":false,"user":{"groups":"a"}}}"#,
            wrong_type(F::Groups, String),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(&decode_err(body), want, "{body}");
    }
    let e = Error::Webhook(WebhookError::WrongType {
        field: F::Authenticated,
        found: String,
    });
    assert_eq!(
        e.to_string(),
        "json: cannot unmarshal string into Go struct field TokenReview.status.authenticated of type bool"
    );
}

#[test]
fn another_version_or_kind_is_rejected() {
    assert_eq!(
        decode_err(&review(
            TokenReviewVersion::V1Beta1,
            r#"{"authenticated":true,"user":{"username":"u"}}"#
        )),
        webhook_err(WebhookError::UnexpectedApiVersion)
    );
    assert_eq!(
        decode_err(r#"{"kind":"Status","status":{"authenticated":true,"user":{"username":"u"}}}"#),
        webhook_err(WebhookError::UnexpectedKind)
    );
}

#[test]
fn oversized_users_are_named_limits() {
    let groups: Vec<String> = (0..=kauthn::MAX_GROUPS)
        .map(|i| format!("\"g{i}\""))
        .collect();
    assert_eq!(
        decode_err(&format!(
            r#"{{"status":{{"authenticated":true,"user":{{"username":"u","groups":[{}]}}}}}}"#,
            groups.join(",")
        )),
        Got::Err(vec![Error::LimitExceeded(Limit::Groups)])
    );
    let auds: Vec<String> = (0..=kauthn::MAX_AUDIENCES)
        .map(|i| format!("\"a{i}\""))
        .collect();
    assert_eq!(
        decode_err(&format!(
            r#"{{"status":{{"authenticated":true,"user":{{"username":"u"}},"audiences":[{}]}}}}"#,
            auds.join(",")
        )),
        Got::Err(vec![Error::LimitExceeded(Limit::Audiences)])
    );
    let extra: Vec<String> = (0..=kauthn::MAX_EXTRA_VALUES)
        .map(|i| format!("\"k{i}\":[\"v\"]"))
        .collect();
    assert_eq!(
        decode_err(&format!(
            r#"{{"status":{{"authenticated":true,"user":{{"username":"u","extra":{{{}}}}}}}}}"#,
            extra.join(",")
        )),
        Got::Err(vec![Error::LimitExceeded(Limit::ExtraValues)])
    );
    // A negative answer with a huge user is not an error: its user is ignored.
    assert_eq!(
        decode_err(&format!(
            r#"{{"status":{{"authenticated":false,"user":{{"username":"u","groups":[{}]}}}}}}"#,
            groups.join(",")
        )),
        Got::No
    );
}

#[test]
fn mutated_responses_never_panic() {
    let base = review(
        TokenReviewVersion::V1,
        r#"{"authenticated":true,"user":{"username":"p\u00e9rson","uid":"1","groups":["a","b"],"extra":{"k":["v","w"]}},"audiences":["api"],"error":""}"#,
    );
    let t = Scripted::answering(200, "");
    let a = WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1)
        .with_implicit_audiences(&["api"]);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = [0usize; 3];
    for _ in 0..20_000 {
        let mut b = base.clone().into_bytes();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[i] = (next() & 0xff) as u8,
                1 => {
                    b.remove(i);
                }
                _ => b.truncate(i),
            }
            if b.is_empty() {
                break;
            }
        }
        let body = String::from_utf8_lossy(&b).into_owned();
        t.set(200, &body);
        let g = run(&a, TOKEN, &["api"]);
        outcomes[match g {
            Got::Auth { .. } => 0,
            Got::No => 1,
            Got::Err(_) => 2,
        }] += 1;
    }
    println!("mutated responses: {outcomes:?} (auth, not mine, error)");
    assert!(outcomes[2] > 0);
}

// ---------------------------------------------------------------------------------------
// Composition with the token cache (kube-apiserver: cache.New(webhook, false, ttl, ttl))

const CACHE_KEY: [u8; 32] = [7; 32];
const TTL: i64 = 2400 * 3600;

fn cached_webhook(
    t: &Scripted,
) -> CachedTokenAuthenticator<WebhookTokenAuthenticator<'static, &Scripted>> {
    CachedTokenAuthenticator::new(
        WebhookTokenAuthenticator::new(t, TokenReviewVersion::V1),
        CACHE_KEY,
        CacheConfig::webhook(TTL),
    )
}

#[test]
fn upstream_cache_and_retry_sequence_holds_for_the_cached_webhook() {
    // TestV1WebhookCacheAndRetry: the transport's retries are not modelled, so each step
    // costs one post where upstream counts five for 500 and 429.
    let t = Scripted::default();
    let c = cached_webhook(&t);
    let allow = review(
        TokenReviewVersion::V1,
        r#"{"authenticated":true,"user":{"username":"fake"}}"#,
    );
    let status_err = |code| webhook_err(WebhookError::Transport(TransportError::Status(code)));
    let steps: &[(&[u8], u16, Got, usize)] = &[
        (b"t0k3n", 500, status_err(500), 1),
        (b"t0k3n", 404, status_err(404), 1),
        (b"t0k3n", 200, named("fake"), 1),
        (b"t0k3n", 500, named("fake"), 0),
        (b"an0th3r_t0k3n", 500, status_err(500), 1),
        (b"an0th3r_t0k3n", 429, status_err(429), 1),
        (b"an0th3r_t0k3n", 200, named("fake"), 1),
        (b"an0th3r_t0k3n", 500, named("fake"), 0),
    ];
    for (i, (token, status, want, calls)) in steps.iter().enumerate() {
        t.set(*status, &allow);
        assert_eq!(&run(&c, token, &[]), want, "step {i}");
        assert_eq!(t.take_calls(), *calls, "step {i}");
    }
}

#[test]
fn the_webhook_cache_keeps_not_mine_and_never_denials() {
    let t = Scripted::default();
    let c = cached_webhook(&t);
    t.set(
        200,
        &review(TokenReviewVersion::V1, r#"{"authenticated":false}"#),
    );
    assert_eq!(run(&c, b"tok", &[]), Got::No);
    assert_eq!(run(&c, b"tok", &[]), Got::No);
    assert_eq!(t.take_calls(), 1, "not mine is cached");

    t.set(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":false,"error":"no"}"#,
        ),
    );
    for _ in 0..2 {
        assert!(matches!(run(&c, b"denied", &[]), Got::Err(_)));
    }
    assert_eq!(
        t.take_calls(),
        2,
        "a denial with a message is an error, never cached"
    );
}

#[test]
fn cached_answers_expire_after_the_ttl() {
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":true,"user":{"username":"u","groups":["g"]}}"#,
        ),
    );
    let c: CachedTokenAuthenticator<_> = CachedTokenAuthenticator::new(
        WebhookTokenAuthenticator::new(&t, TokenReviewVersion::V1),
        CACHE_KEY,
        CacheConfig::webhook(120),
    );
    let at = |secs: i64| {
        let mut buf = vec![0u8; 8192];
        let ctx = Context::at(UnixTime::from_secs(secs));
        let mut scratch = Scratch::new(&mut buf);
        got(&c.authenticate_token(TOKEN, &ctx, &mut scratch))
    };
    let user = Got::Auth {
        name: "u".into(),
        uid: String::new(),
        groups: vec!["g".into()],
        extra: vec![],
        audiences: vec![],
    };
    assert_eq!(at(NOW), user);
    assert_eq!(at(NOW + 119), user);
    assert_eq!(t.take_calls(), 1);
    assert_eq!(at(NOW + 120), user);
    assert_eq!(t.take_calls(), 1, "asked again once the TTL passed");
}

#[test]
fn cached_answers_keep_the_audiences_they_were_given() {
    let t = Scripted::answering(
        200,
        &review(
            TokenReviewVersion::V1,
            r#"{"authenticated":true,"user":{"username":"u"},"audiences":["api"]}"#,
        ),
    );
    let c = cached_webhook(&t);
    for _ in 0..2 {
        assert_eq!(
            run(&c, TOKEN, &["api"]),
            with_audiences(named("u"), &["api"])
        );
    }
    assert_eq!(
        run(&c, TOKEN, &[]),
        named("u"),
        "no audiences is another key"
    );
    assert_eq!(t.take_calls(), 2);
}
