//! The HTTPS server: TLS that requests (never requires) a client certificate, HTTP/1.1 and
//! HTTP/2, limits on headers, bodies, time and connections, and kube-apiserver's answers.
//!
//! Upstream: `pkg/endpoints/filters/authentication.go` (the 401 path), `pkg/registry/
//! authentication/{selfsubjectreview,tokenreview}/rest.go`, `pkg/endpoints/handlers/
//! responsewriters/errors.go` (403 texts).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::DigitallySignedStruct;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime, pem::PemObject};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DistinguishedName, SignatureScheme};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, Format, RequestInfo, ReviewResult};
use crate::chain::{AuthOutcome, AuthUser, Chain};
use crate::metrics::{AuthResult, Metrics};

/// Largest request head (request line and headers) over HTTP/1.1; also the HTTP/2 header
/// list limit.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest request body (a review is well under 1 KiB; kube-apiserver allows 3 MiB for
/// arbitrary objects).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Time allowed for the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request's headers to arrive (HTTP/1.1), also the keep-alive idle
/// limit between requests.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for a request's body to arrive.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Concurrent connections; further connections are closed at once.
pub const MAX_CONNECTIONS: usize = 4096;

/// `POST` here: the caller's user info.
pub const SELF_SUBJECT_REVIEWS: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
/// `POST` here: a TokenReview, for callers in `--tokenreview-allowed-groups`.
pub const TOKEN_REVIEWS: &str = "/apis/authentication.k8s.io/v1/tokenreviews";

/// Asks every client for a certificate and accepts whatever it presents (or nothing):
/// the chain is verified by the authentication chain, so an untrusted certificate is a 401,
/// as with kube-apiserver, never a handshake failure. The handshake signature is still
/// checked: the client must hold the certificate's key.
///
/// No CA names are hinted: Go clients (kubectl) withhold a certificate that does not chain
/// to a hinted CA, and kauthn wants to see it to answer 401.
#[derive(Debug)]
struct RequestClientCert {
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The TLS server configuration from PEM files' contents.
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<rustls::ServerConfig, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--tls-cert-file: {e}"))?;
    if chain.is_empty() {
        return Err("--tls-cert-file: no CERTIFICATE block".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("--tls-private-key-file: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(RequestClientCert {
        algs: provider.signature_verification_algorithms,
    });
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert-file/--tls-private-key-file: {e}"))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// What every request handler shares.
pub struct AppState {
    /// The authentication chain.
    pub chain: Chain,
    /// Metrics.
    pub metrics: Metrics,
    /// `--tokenreview-allowed-groups`.
    pub tokenreview_allowed_groups: Vec<String>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("chain", &self.chain)
            .finish()
    }
}

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(%peer, "too many connections; closing");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let certs: Arc<Vec<Vec<u8>>> = Arc::new(
                tls.get_ref()
                    .1
                    .peer_certificates()
                    .map(|c| c.iter().map(|c| c.to_vec()).collect())
                    .unwrap_or_default(),
            );
            let svc = hyper::service::service_fn(move |req| {
                let state = Arc::clone(&state);
                let certs = Arc::clone(&certs);
                async move { Ok::<_, Infallible>(handle(state, certs, peer, req).await) }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .max_buf_size(MAX_HEADER_BYTES);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX))
                .keep_alive_interval(Some(Duration::from_secs(30)))
                .keep_alive_timeout(Duration::from_secs(10));
            if let Err(e) = builder.serve_connection(TokioIo::new(tls), svc).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

type Resp = Response<Full<Bytes>>;

fn plain(code: StatusCode, body: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = code;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn object(code: StatusCode, format: Format, body: Bytes) -> Resp {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = code;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    r.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("no-cache, private"),
    );
    r
}

fn status(
    code: StatusCode,
    reason: &str,
    message: &str,
    details: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails>,
    format: Format,
    pretty: bool,
) -> Resp {
    let s = api::failure_status(code.as_u16(), reason, message, details);
    object(code, format, api::encode_status(&s, format, pretty))
}

fn is_pretty(req: &Request<Incoming>) -> bool {
    // Upstream `isPrettyPrint`: `?pretty` (a true bool), else curl/Wget/browser agents.
    if let Some(q) = req.uri().query() {
        for kv in q.split('&') {
            let (k, v) = kv.split_once('=').unwrap_or((kv, "true"));
            if k == "pretty" {
                return matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True" | "");
            }
        }
    }
    let ua = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ua.starts_with("curl") || ua.starts_with("Wget") || ua.starts_with("Mozilla/")
}

fn now() -> kauthn::UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    kauthn::UnixTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn credential_kind(req: &Request<Incoming>, certs: &[Vec<u8>]) -> &'static str {
    match (
        req.headers().contains_key(hyper::header::AUTHORIZATION),
        certs.is_empty(),
    ) {
        (true, false) => "bearer+certificate",
        (true, true) => "bearer",
        (false, false) => "certificate",
        (false, true) => "none",
    }
}

/// Runs `work` (an authentication) where it may block: on Tokio's blocking pool when the
/// chain can wait for the network (JWT key refetch, webhook), else right here (pure
/// computation, as kube-apiserver does it on the request's goroutine).
///
/// A panic in the chain becomes `failed(reason)`, upstream's `errAuthnCrash`.
async fn off_runtime<T, F>(state: &Arc<AppState>, work: F, failed: fn(String) -> T) -> T
where
    T: Send + 'static,
    F: FnOnce(&Chain) -> T + Send + 'static,
{
    if !state.chain.does_io() {
        return work(&state.chain);
    }
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || work(&state.chain))
        .await
        .unwrap_or_else(|e| {
            failed(format!(
                "Internal error occurred: authentication failed unexpectedly: {e}"
            ))
        })
}

async fn handle(
    state: Arc<AppState>,
    certs: Arc<Vec<Vec<u8>>>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Resp {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let pretty = is_pretty(&req);
    match (path.as_str(), &method) {
        ("/healthz" | "/livez" | "/readyz", &Method::GET | &Method::HEAD) => {
            return plain(StatusCode::OK, "ok");
        }
        ("/version", &Method::GET) => {
            let v = serde_json::json!({
                "major": "1",
                "minor": "32",
                "gitVersion": concat!("v1.32.0+kauthn-", env!("CARGO_PKG_VERSION")),
                "gitCommit": "",
                "gitTreeState": "",
                "buildDate": "",
                "goVersion": "",
                "compiler": "rustc",
                "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
            });
            let body = if pretty {
                serde_json::to_vec_pretty(&v)
            } else {
                serde_json::to_vec(&v)
            }
            .unwrap_or_default();
            return object(StatusCode::OK, Format::Json, Bytes::from(body));
        }
        ("/metrics", &Method::GET) => {
            let mut r = Response::new(Full::new(Bytes::from(state.metrics.render())));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return r;
        }
        _ => {}
    }

    // Every other response is an API object: pick its format first (kube-apiserver
    // negotiates before it writes the 401).
    let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let Some(format) = api::negotiate_accept(accept) else {
        return status(
            StatusCode::NOT_ACCEPTABLE,
            "NotAcceptable",
            &format!(
                "only the following media types are accepted: {}",
                api::ACCEPTED_MEDIA_TYPES
            ),
            None,
            Format::Json,
            pretty,
        );
    };

    // Authenticate (spec §2.2).
    let start = Instant::now();
    let headers: Vec<(String, Vec<u8>)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    let outcome = {
        let (path, certs) = (path.clone(), Arc::clone(&certs));
        off_runtime(
            &state,
            move |chain| {
                let headers: Vec<(&str, &[u8])> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice()))
                    .collect();
                let chain_refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
                chain.authenticate(&headers, &path, &chain_refs, chain.api_audiences(), now())
            },
            AuthOutcome::Error,
        )
        .await
    };
    let elapsed = start.elapsed();
    let user = match outcome {
        AuthOutcome::Authenticated(u) => {
            state.metrics.record(AuthResult::Success, elapsed);
            u
        }
        AuthOutcome::Failure | AuthOutcome::Error(_) => {
            let (result, reason) = match &outcome {
                AuthOutcome::Error(r) => (AuthResult::Error, r.as_str()),
                _ => (AuthResult::Failure, "no authenticator accepted the request"),
            };
            state.metrics.record(result, elapsed);
            tracing::info!(
                %peer,
                method = %method,
                path = %path,
                credential = credential_kind(&req, &certs),
                reason,
                "Unable to authenticate the request"
            );
            drain_small_body(req).await;
            return status(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Unauthorized",
                None,
                format,
                pretty,
            );
        }
    };
    tracing::debug!(%peer, method = %method, path = %path, user = %user.name, "authenticated");

    let info = RequestInfo::new(
        method.as_str(),
        &path,
        req.uri().query().unwrap_or_default(),
    );
    let may_review = user
        .groups
        .iter()
        .any(|g| state.tokenreview_allowed_groups.contains(g));
    match (path.as_str(), &method) {
        (SELF_SUBJECT_REVIEWS, &Method::POST) => {
            let (req_format, body) = match read_body(req, format, pretty).await {
                Ok(x) => x,
                Err(resp) => return resp,
            };
            if let Err(e) = api::decode_self_subject_review(&body, req_format) {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &e,
                    None,
                    format,
                    pretty,
                );
            }
            object(
                StatusCode::CREATED,
                format,
                api::encode_self_subject_review(&user, format, pretty),
            )
        }
        (TOKEN_REVIEWS, &Method::POST) if may_review => {
            let (req_format, body) = match read_body(req, format, pretty).await {
                Ok(x) => x,
                Err(resp) => return resp,
            };
            let review = match api::decode_token_review(&body, req_format) {
                Ok(r) => r,
                Err(e) => {
                    return status(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        &e,
                        None,
                        format,
                        pretty,
                    );
                }
            };
            if review.token.is_empty() {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "token is required for TokenReview in authentication",
                    None,
                    format,
                    pretty,
                );
            }
            let result = {
                let review = review.clone();
                off_runtime(
                    &state,
                    move |chain| review_token(chain, &review),
                    |e| ReviewResult {
                        user: None,
                        error: Some(e),
                    },
                )
                .await
            };
            tracing::info!(
                %peer,
                reviewer = %user.name,
                authenticated = result.user.is_some(),
                reason = result.error.as_deref().unwrap_or_default(),
                "TokenReview"
            );
            object(
                StatusCode::CREATED,
                format,
                api::encode_token_review(&review, &result, format, pretty),
            )
        }
        _ => {
            drain_small_body(req).await;
            forbidden(&user, &info, &path, format, pretty)
        }
    }
}

/// Largest unread request body read (and dropped) before an early answer.
const DRAIN_BYTES: usize = 64 * 1024;
/// Time allowed for that.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads and drops a small request body before an answer that does not need it (401,
/// 403): over HTTP/2 an answer sent while the client is still sending ends the stream with
/// RST_STREAM(NO_ERROR) (RFC 9113 §8.1), which curl 7.x reports as a framing error instead
/// of the status. Large or slow bodies are not waited for.
async fn drain_small_body(req: Request<Incoming>) {
    use hyper::body::Body as _;
    if req.body().is_end_stream() {
        return;
    }
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return;
    }
    let body = Limited::new(req.into_body(), DRAIN_BYTES);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, body.collect()).await;
}

fn forbidden(
    user: &AuthUser,
    info: &RequestInfo,
    path: &str,
    format: Format,
    pretty: bool,
) -> Resp {
    let (msg, details) = info.forbidden(&user.name, path);
    status(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &msg,
        Some(details),
        format,
        pretty,
    )
}

/// Runs a TokenReview as kube-apiserver's TokenReview REST handler does: a request with
/// only `Authorization: Bearer <token>` through the whole chain, with the review's
/// audiences (or the API audiences).
pub fn review_token(chain: &Chain, review: &api::TokenReviewRequest) -> ReviewResult {
    let bearer = format!("Bearer {}", review.token);
    let headers = [("authorization", bearer.as_bytes())];
    let auds: Vec<&str> = if review.audiences.is_empty() {
        chain.api_audiences().to_vec()
    } else {
        review.audiences.iter().map(String::as_str).collect()
    };
    match chain.authenticate(&headers, "", &[], &auds, now()) {
        AuthOutcome::Authenticated(u) => ReviewResult {
            user: Some(u),
            error: None,
        },
        AuthOutcome::Failure => ReviewResult::default(),
        AuthOutcome::Error(e) => ReviewResult {
            user: None,
            error: Some(e),
        },
    }
}

async fn read_body(
    req: Request<Incoming>,
    format: Format,
    pretty: bool,
) -> Result<(Format, Bytes), Resp> {
    let ct = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(req_format) = api::content_type_format(ct) else {
        return Err(status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                api::ACCEPTED_MEDIA_TYPES
            ),
            None,
            format,
            pretty,
        ));
    };
    let too_large = || {
        status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Request entity too large: limit is {MAX_BODY_BYTES}"),
            None,
            format,
            pretty,
        )
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), MAX_BODY_BYTES);
    match tokio::time::timeout(BODY_READ_TIMEOUT, body.collect()).await {
        Ok(Ok(b)) => Ok((req_format, b.to_bytes())),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("error reading the request body: {e}"),
            None,
            format,
            pretty,
        )),
        Err(_) => Err(status(
            StatusCode::REQUEST_TIMEOUT,
            "Timeout",
            "timed out reading the request body",
            None,
            format,
            pretty,
        )),
    }
}
