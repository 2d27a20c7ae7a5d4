//! Load on loopback: 64 concurrent TLS connections, every request answered without error,
//! for a cached bearer token and for a client certificate. Bounded in count (64 × 50
//! requests per credential) and time (a deadline), and loopback only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

#[path = "cli_common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};

const CONNECTIONS: usize = 64;
const REQUESTS_PER_CONNECTION: usize = 50;
// Unoptimised builds verify a P-256 chain in ~10 ms, so the certificate run is shorter
// there; release builds run the full count.
const CERT_REQUESTS_PER_CONNECTION: usize = if cfg!(debug_assertions) { 10 } else { 50 };
const DEADLINE: Duration = Duration::from_secs(180);

fn client_config(ca: &[u8], identity: Option<(&[u8], &[u8])>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca) {
        roots.add(c.unwrap()).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let cfg = match identity {
        Some((cert, key)) => b
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert)
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_slice(key).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    Arc::new(cfg)
}

/// Runs the load and returns requests per second; panics on any error or wrong status.
async fn load(
    port: u16,
    tls: Arc<rustls::ClientConfig>,
    bearer: Option<String>,
    requests: usize,
) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let tls = Arc::clone(&tls);
        let bearer = bearer.clone();
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
                .await
                .unwrap();
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            for _ in 0..requests {
                let mut req = hyper::Request::get("/api").header("host", "127.0.0.1");
                if let Some(b) = &bearer {
                    req = req.header("authorization", format!("Bearer {b}"));
                }
                let resp = send
                    .send_request(req.body(Empty::<Bytes>::new()).unwrap())
                    .await
                    .unwrap();
                // Authenticated and not authorized: kube-apiserver's 403.
                assert_eq!(resp.status(), 403);
                resp.into_body().collect().await.unwrap();
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(DEADLINE, t)
            .await
            .expect("load deadline")
            .unwrap();
    }
    (CONNECTIONS * requests) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_connections_are_all_answered() {
    let dir = common::TempDir::new("load");
    let state = dir.s("state");
    let srv = common::Server::start(&["--state-dir", &state], dir.path());
    let ca = std::fs::read(dir.join("state/ca.crt")).unwrap();
    let cert = std::fs::read(dir.join("state/myuser.crt")).unwrap();
    let key = std::fs::read(dir.join("state/myuser.key")).unwrap();
    let csv = std::fs::read_to_string(dir.join("state/tokens.csv")).unwrap();
    let token = csv.split(',').next().unwrap().to_string();

    let token_rps = load(
        srv.port,
        client_config(&ca, None),
        Some(token),
        REQUESTS_PER_CONNECTION,
    )
    .await;
    let cert_rps = load(
        srv.port,
        client_config(&ca, Some((&cert, &key))),
        None,
        CERT_REQUESTS_PER_CONNECTION,
    )
    .await;
    println!(
        "load: {CONNECTIONS} connections: cached token {token_rps:.0} req/s ({REQUESTS_PER_CONNECTION} requests each), client certificate {cert_rps:.0} req/s ({CERT_REQUESTS_PER_CONNECTION} requests each)"
    );
    // Every request was counted as a successful authentication.
    let metrics_tls = client_config(&ca, None);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", srv.port))
        .await
        .unwrap();
    let stream = tokio_rustls::TlsConnector::from(metrics_tls)
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = send
        .send_request(
            hyper::Request::get("/metrics")
                .header("host", "x")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let want = format!(
        "authentication_attempts{{result=\"success\"}} {}",
        CONNECTIONS * (REQUESTS_PER_CONNECTION + CERT_REQUESTS_PER_CONNECTION)
    );
    assert!(text.contains(&want), "{text}");
    assert!(
        text.contains("authentication_attempts{result=\"error\"} 0"),
        "{text}"
    );
}
