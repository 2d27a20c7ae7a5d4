//! The TokenReview webhook transport (`--authentication-token-webhook-config-file`).
//!
//! Upstream: `k8s.io/apiserver/pkg/util/webhook/webhook.go` and
//! `plugin/pkg/authenticator/token/webhook/webhook.go` (spec §9): `POST` the TokenReview
//! JSON to the kubeconfig's server URL (the full endpoint), with the kubeconfig's TLS and
//! credentials, a 30 s timeout, and retries with backoff 500 ms × 1.5, jitter 0.2, 5 steps
//! on connection resets, 429, 500, 504 and any response carrying `Retry-After`; every other
//! error is final at once. Encoding and decoding the review is the core's (`webhook.rs`,
//! landing separately); the answer it builds is cached by the core's TTL cache with
//! errors never cached, and a failed call is a rejection (401).
//!
//! The core's authenticators are synchronous: [`WebhookClient`] implements the core's
//! [`WebhookTransport`] through [`WebhookClient::post_blocking`], which waits for the async
//! call from the thread the authentication runs on (the server runs chains with a webhook
//! on Tokio's blocking pool, so no runtime worker waits).

use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use kauthn::{TransportError, WebhookTransport};

use crate::http_client::{HttpClient, HttpError};
use crate::kubeconfig::WebhookTarget;

/// kube-apiserver's webhook client timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Retry schedule (upstream `DefaultRetryBackoffWithInitialDelay(500ms)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Growth per step.
    pub factor: f64,
    /// Random extra, as a fraction of the delay.
    pub jitter: f64,
    /// Attempts in all (at least 1).
    pub steps: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            factor: 1.5,
            jitter: 0.2,
            steps: 5,
        }
    }
}

/// Why a webhook call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// The connection or TLS failed, or the call timed out.
    Transport(HttpError),
    /// The webhook answered with a non-success status.
    Status {
        /// The HTTP status.
        code: u16,
        /// The first bytes of the body, for logs.
        body: String,
    },
    /// `Backoff::steps` was 0.
    NoAttempts,
}

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookError::Transport(e) => write!(f, "Post webhook: {e}"),
            WebhookError::Status { code, body } => {
                write!(
                    f,
                    "the server responded with the status code {code} but did not return more information: {body}"
                )
            }
            WebhookError::NoAttempts => {
                f.write_str("number of webhook retry attempts must be greater than 0, but is: 0")
            }
        }
    }
}

impl std::error::Error for WebhookError {}

/// A client for one webhook endpoint.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    url: String,
    token: Option<String>,
    client: HttpClient,
    backoff: Backoff,
}

fn should_retry(e: &WebhookError, retry_after: bool) -> bool {
    match e {
        // utilnet.IsConnectionReset / IsHTTP2ConnectionLost.
        WebhookError::Transport(HttpError::Transport(msg)) => {
            let m = msg.to_ascii_lowercase();
            m.contains("reset") || m.contains("broken pipe") || m.contains("connection closed")
        }
        WebhookError::Status { code, .. } => retry_after || matches!(code, 429 | 500 | 504),
        _ => false,
    }
}

impl WebhookClient {
    /// A client for a resolved kubeconfig target.
    pub fn from_target(
        t: &WebhookTarget,
        timeout: Duration,
        backoff: Backoff,
    ) -> Result<Self, String> {
        let identity = t
            .client_identity
            .as_ref()
            .map(|(c, k)| (c.as_slice(), k.as_slice()));
        Ok(WebhookClient {
            url: t.server.clone(),
            token: t.token.clone(),
            client: HttpClient::new(
                t.ca_pem.as_deref(),
                identity,
                t.tls_server_name.clone(),
                timeout,
            )?,
            backoff,
        })
    }

    /// Posts a TokenReview body and returns the response body of a 2xx answer, retrying
    /// as upstream does.
    pub async fn post(&self, body: Bytes) -> Result<Bytes, WebhookError> {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        let mut delay = self.backoff.initial;
        let mut last = WebhookError::NoAttempts;
        for attempt in 0..self.backoff.steps {
            if attempt > 0 {
                let jitter = delay.mul_f64(self.backoff.jitter * jitter_fraction());
                tokio::time::sleep(delay + jitter).await;
                delay = delay.mul_f64(self.backoff.factor);
            }
            let (err, retry_after) = match self
                .client
                .send(Method::POST, &self.url, &headers, body.clone())
                .await
            {
                Ok(r) if r.status.is_success() => return Ok(r.body),
                Ok(r) => {
                    let text: String = String::from_utf8_lossy(&r.body).chars().take(256).collect();
                    (
                        WebhookError::Status {
                            code: r.status.as_u16(),
                            body: text,
                        },
                        r.retry_after,
                    )
                }
                Err(e) => (WebhookError::Transport(e), false),
            };
            let retry = should_retry(&err, retry_after);
            tracing::debug!(url = %self.url, attempt, error = %err, retry, "webhook call failed");
            last = err;
            if !retry {
                break;
            }
        }
        Err(last)
    }

    /// [`WebhookClient::post`] from synchronous code running on a multi-threaded Tokio
    /// runtime worker (the core's transport trait), or from outside any runtime.
    pub fn post_blocking(&self, body: Bytes) -> Result<Bytes, WebhookError> {
        crate::http_client::block_on(self.post(body))
            .map_err(|e| WebhookError::Transport(HttpError::Transport(e)))?
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The core's classification of a failed call (the detail goes to the log).
fn classify(e: &WebhookError) -> TransportError {
    match e {
        WebhookError::Status { code, .. } => TransportError::Status(*code),
        WebhookError::Transport(HttpError::Timeout) => TransportError::Timeout,
        WebhookError::Transport(HttpError::Transport(m)) if m.starts_with("tls") => {
            TransportError::Tls
        }
        WebhookError::Transport(HttpError::Transport(_)) => TransportError::Connection,
        WebhookError::Transport(HttpError::BadUrl(_)) | WebhookError::NoAttempts => {
            TransportError::Other
        }
    }
}

/// The core webhook authenticator's HTTP: one blocking call (with upstream's retries) per
/// review. Every failure is logged with its cause and returned classified, so the token is
/// rejected (401) and, the webhook cache never keeping errors, asked again next time.
impl WebhookTransport for WebhookClient {
    fn post(&self, body: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        match self.post_blocking(Bytes::copy_from_slice(body)) {
            Ok(answer) => {
                let dst = response
                    .get_mut(..answer.len())
                    .ok_or(TransportError::ResponseTooLarge)?;
                dst.copy_from_slice(&answer);
                Ok(answer.len())
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "token webhook call failed");
                Err(classify(&e))
            }
        }
    }
}

fn jitter_fraction() -> f64 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

/// Whether a status is one of the answers upstream treats as success (200–226 range is
/// not special here: any 2xx is read as a TokenReview).
pub fn is_success(code: StatusCode) -> bool {
    code.is_success()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::testutil;

    fn fast() -> Backoff {
        Backoff {
            initial: Duration::from_millis(1),
            factor: 1.5,
            jitter: 0.0,
            steps: 5,
        }
    }

    async fn server_answering(
        code: u16,
        retry_after: bool,
        calls: Arc<AtomicUsize>,
    ) -> (String, String) {
        let (tls, ca) = testutil::self_signed();
        let handler: testutil::Handler = Arc::new(move |method, path, body| {
            calls.fetch_add(1, Ordering::SeqCst);
            assert_eq!((method, path), ("POST", "/authenticate"));
            assert!(body.starts_with(b"{\"kind\":\"TokenReview\""));
            let headers = if retry_after {
                vec![("retry-after", "0".to_string())]
            } else {
                vec![]
            };
            let status = StatusCode::from_u16(code).unwrap();
            let body = "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"status\":{\"authenticated\":true,\"user\":{\"username\":\"jane\"}}}";
            (status, headers, body.to_string())
        });
        let addr = testutil::serve(Some(tls), handler).await;
        (
            format!("https://127.0.0.1:{}/authenticate", addr.port()),
            ca,
        )
    }

    fn client(url: String, ca: String, backoff: Backoff) -> WebhookClient {
        let t = WebhookTarget {
            server: url,
            ca_pem: Some(ca.into_bytes()),
            token: Some("webhook-credential".into()),
            ..WebhookTarget::default()
        };
        WebhookClient::from_target(&t, Duration::from_secs(5), backoff).unwrap()
    }

    const REVIEW: &str = "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":{},\"spec\":{\"token\":\"t\"},\"status\":{\"user\":{}}}";

    #[tokio::test]
    async fn a_200_answer_is_returned_after_one_call() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (url, ca) = server_answering(200, false, Arc::clone(&calls)).await;
        let body = client(url, ca, fast())
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap();
        assert!(body.starts_with(b"{\"apiVersion\""));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_500_is_retried_five_times_then_is_an_error() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (url, ca) = server_answering(500, false, Arc::clone(&calls)).await;
        let err = client(url, ca, fast())
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap_err();
        assert!(matches!(err, WebhookError::Status { code: 500, .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn a_429_is_retried_and_a_404_is_final() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (url, ca) = server_answering(429, false, Arc::clone(&calls)).await;
        client(url, ca, fast())
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        let calls = Arc::new(AtomicUsize::new(0));
        let (url, ca) = server_answering(404, false, Arc::clone(&calls)).await;
        client(url, ca, fast())
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retry_after_makes_any_status_retryable() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (url, ca) = server_answering(503, true, Arc::clone(&calls)).await;
        client(url, ca, fast())
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn an_untrusted_server_certificate_fails_without_retrying() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (url, _ca) = server_answering(200, false, Arc::clone(&calls)).await;
        let (_, other_ca) = testutil::self_signed();
        let err = client(url, other_ca, fast())
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("tls"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_slow_webhook_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts and never answers.
        let hold = tokio::spawn(async move {
            let conn = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(conn);
        });
        let t = WebhookTarget {
            server: format!("http://127.0.0.1:{port}/authenticate"),
            ..WebhookTarget::default()
        };
        let c = WebhookClient::from_target(&t, Duration::from_millis(200), fast()).unwrap();
        let started = std::time::Instant::now();
        let err = c
            .post(Bytes::from_static(REVIEW.as_bytes()))
            .await
            .unwrap_err();
        assert_eq!(err, WebhookError::Transport(HttpError::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
        hold.abort();
    }

    #[test]
    fn post_blocking_works_outside_a_runtime() {
        let t = WebhookTarget {
            server: "http://127.0.0.1:1/authenticate".into(),
            ..WebhookTarget::default()
        };
        let c = WebhookClient::from_target(&t, Duration::from_millis(500), fast()).unwrap();
        assert!(matches!(
            c.post_blocking(Bytes::new()),
            Err(WebhookError::Transport(_))
        ));
    }
}

/// The core webhook authenticator, logging the webhook's whole `status.error` when it
/// denies a token (the aggregate error keeps only its first bytes).
#[derive(Debug)]
pub struct LoggedWebhook<'c>(pub kauthn::WebhookTokenAuthenticator<'c, WebhookClient>);

impl kauthn::TokenAuthenticator for LoggedWebhook<'_> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &kauthn::Context<'a>,
        scratch: &mut kauthn::Scratch<'a>,
        out: &mut kauthn::Response<'a>,
    ) -> kauthn::Verdict {
        let review = self.0.review_into(token, ctx, scratch, out);
        if let Some(message) = review.status_error {
            tracing::info!(url = %self.0.transport().url(), message, "token webhook denied the token");
        }
        review.verdict
    }
}
