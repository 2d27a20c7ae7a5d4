//! A small HTTPS (and HTTP) client for OIDC discovery, JWKS and TokenReview webhooks:
//! rustls with the `ring` provider, hyper's HTTP/1.1 connection API, one connection per
//! request (these calls are rare: discovery, key refreshes, cache misses), and a timeout
//! on the whole exchange. Without a CA bundle the host's roots are trusted (as Go's
//! `crypto/tls` does for `--oidc-ca-file` unset and for a kubeconfig without a CA), read
//! with rustls-native-certs.
//!
//! [`block_on`] is the bridge from the core's synchronous authenticators (JWKS refetch,
//! webhook transport) to this async client.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Largest response body read (a JWKS or a TokenReview is a few KiB).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is not usable.
    BadUrl(String),
    /// Connecting, TLS or HTTP failed.
    Transport(String),
    /// The whole exchange took longer than the timeout.
    Timeout,
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::BadUrl(s) => write!(f, "invalid URL: {s}"),
            HttpError::Transport(s) => f.write_str(s),
            HttpError::Timeout => f.write_str("request timed out"),
        }
    }
}

impl std::error::Error for HttpError {}

/// A response: status, `Retry-After` presence and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// Whether the server asked for a delay (`Retry-After`).
    pub retry_after: bool,
    /// The body.
    pub body: Bytes,
}

/// Parses a PEM bundle into trust anchors; errors say why.
pub fn roots_from_pem(pem: &[u8]) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("invalid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("invalid CA certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err("data does not contain any valid RSA or ECDSA certificates".into());
    }
    Ok(roots)
}

/// The host's trust anchors; certificates that do not parse are skipped, as Go skips them.
fn native_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(error = %e, "reading the host's CA certificates");
    }
    let (added, skipped) = roots.add_parsable_certificates(found.certs);
    tracing::debug!(added, skipped, "host CA certificates");
    roots
}

/// Runs `fut` to completion from synchronous code: on a multi-threaded Tokio runtime's
/// worker (moving the worker's other tasks away first) or blocking-pool thread, through
/// that runtime; outside any runtime, on a temporary single-threaded one.
///
/// # Errors
/// When called on a current-thread runtime, or when no runtime exists and one cannot be
/// built.
pub fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, String> {
    match tokio::runtime::Handle::try_current() {
        // A current-thread runtime cannot lend its only thread.
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread => {
            Err("cannot wait for I/O on a current-thread runtime".into())
        }
        Ok(h) => Ok(tokio::task::block_in_place(|| h.block_on(fut))),
        Err(_) => Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(fut)),
    }
}

/// A client with fixed TLS settings.
#[derive(Clone)]
pub struct HttpClient {
    tls: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HttpClient {
    /// A client trusting `ca_pem` (or, when `None`, the host's roots), with an optional
    /// client certificate chain and key (PEM), and a per-request timeout.
    pub fn new(
        ca_pem: Option<&[u8]>,
        identity: Option<(&[u8], &[u8])>,
        server_name: Option<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let roots = match ca_pem {
            Some(pem) => roots_from_pem(pem)?,
            None => native_roots(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let mut tls = match identity {
            Some((cert_pem, key_pem)) => {
                let chain = CertificateDer::pem_slice_iter(cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("client certificate: {e}"))?;
                let key = PrivateKeyDer::from_pem_slice(key_pem)
                    .map_err(|e| format!("client key: {e}"))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("client certificate: {e}"))?
            }
            None => builder.with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(HttpClient {
            tls: Arc::new(tls),
            server_name,
            timeout,
        })
    }

    /// The timeout of one exchange.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one request and reads the whole response, within the timeout.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        tokio::time::timeout(self.timeout, self.send_inner(method, url, headers, body))
            .await
            .map_err(|_| HttpError::Timeout)?
    }

    async fn send_inner(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| HttpError::BadUrl(format!("{url}: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(HttpError::BadUrl(format!(
                    "{url}: scheme must be https or http"
                )));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| HttpError::BadUrl(format!("{url}: no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| host.clone());
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| HttpError::Transport(format!("dial tcp {host}:{port}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, authority)
            .header(
                hyper::header::USER_AGENT,
                concat!("kauthn/", env!("CARGO_PKG_VERSION")),
            );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| HttpError::BadUrl(e.to_string()))?;
        if https {
            let name = self.server_name.clone().unwrap_or(host);
            let name =
                ServerName::try_from(name).map_err(|e| HttpError::BadUrl(format!("{url}: {e}")))?;
            let tls = TlsConnector::from(Arc::clone(&self.tls))
                .connect(name, tcp)
                .await
                .map_err(|e| HttpError::Transport(format!("tls: {e}")))?;
            exchange(TokioIo::new(tls), req).await
        } else {
            exchange(TokioIo::new(tcp), req).await
        }
    }
}

async fn exchange<IO>(io: IO, req: Request<Full<Bytes>>) -> Result<HttpResponse, HttpError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| HttpError::Transport(e.to_string()))?;
    let conn = tokio::spawn(conn);
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| HttpError::Transport(e.to_string()))?;
    let status = resp.status();
    let retry_after = resp.headers().contains_key(hyper::header::RETRY_AFTER);
    let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| HttpError::Transport(format!("reading response: {e}")))?
        .to_bytes();
    conn.abort();
    Ok(HttpResponse {
        status,
        retry_after,
        body,
    })
}
