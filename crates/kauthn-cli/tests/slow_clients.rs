//! Slow clients time out: a connection that never finishes its TLS handshake, one that never
//! finishes its request head, and one that never finishes its body are each ended by the
//! server within a bounded time (`server::HANDSHAKE_TIMEOUT`, `HEADER_READ_TIMEOUT`,
//! `BODY_READ_TIMEOUT`), so they cannot hold a connection slot forever.
//!
//! The three connections run side by side, so the test takes about the longest timeout (30 s).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core
)]

#[path = "cli_common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Server, TempDir};
use kauthn_cli::server::{BODY_READ_TIMEOUT, HANDSHAKE_TIMEOUT, HEADER_READ_TIMEOUT};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// Margin for a loaded 2-core CI machine.
const SLACK: Duration = Duration::from_secs(15);

fn tls_config(dir: &TempDir) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(dir.join("state/ca.crt")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain: Vec<_> = CertificateDer::pem_file_iter(dir.join("state/admin.crt"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("state/admin.key")).unwrap();
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn connect_tls(port: u16, cfg: Arc<rustls::ClientConfig>) -> Tls {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(cfg, name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

/// Reads until the server closes the connection (EOF, reset or a TLS close), returning what
/// arrived and when the close came.
fn read_until_closed(r: &mut impl Read) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                panic!("the server kept the connection open for 120 s")
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                panic!("the server kept the connection open for 120 s")
            }
            // A reset or an unclean TLS end is also the server hanging up.
            Err(_) => return (got, Instant::now()),
        }
    }
}

fn assert_closed_within(what: &str, started: Instant, closed: Instant, limit: Duration) {
    let took = closed - started;
    assert!(
        took + Duration::from_millis(500) >= limit,
        "{what}: closed after {took:?}, before its {limit:?} timeout: something else ended it"
    );
    assert!(
        took <= limit + SLACK,
        "{what}: closed only after {took:?} (timeout {limit:?})"
    );
}

#[test]
fn slow_handshakes_request_heads_and_bodies_are_cut_off() {
    let dir = TempDir::new("slow");
    let state = dir.s("state");
    let srv = Server::start(&["--state-dir", state.as_str()], dir.path());
    let port = srv.port;
    let cfg = tls_config(&dir);

    // 1. TCP open, not one TLS byte sent.
    let handshake = std::thread::spawn(move || {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let start = Instant::now();
        let (got, closed) = read_until_closed(&mut tcp);
        assert!(
            got.is_empty(),
            "the server sent {} bytes unasked",
            got.len()
        );
        assert_closed_within("silent TLS handshake", start, closed, HANDSHAKE_TIMEOUT);
    });

    // 2. Handshake done, then half a request head, then nothing.
    let head_cfg = Arc::clone(&cfg);
    let head = std::thread::spawn(move || {
        let mut tls = connect_tls(port, head_cfg);
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo")
            .unwrap();
        tls.flush().unwrap();
        let start = Instant::now();
        let (got, closed) = read_until_closed(&mut tls);
        let text = String::from_utf8_lossy(&got);
        assert!(
            !text.contains(" 200 "),
            "an unfinished head was answered: {text}"
        );
        assert_closed_within(
            "unfinished request head",
            start,
            closed,
            HEADER_READ_TIMEOUT,
        );
    });

    // 3. A complete head announcing 100 bytes of body, then 10 of them.
    let body = std::thread::spawn(move || {
        let mut tls = connect_tls(port, cfg);
        tls.write_all(
            b"POST /apis/authentication.k8s.io/v1/tokenreviews HTTP/1.1\r\n\
              Host: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"kind\":\"T",
        )
        .unwrap();
        tls.flush().unwrap();
        let start = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0_u8; 4096];
        // The answer is a 408 Status; the connection may stay open after it.
        let answered = loop {
            let n = tls.read(&mut buf).unwrap_or(0);
            got.extend_from_slice(&buf[..n]);
            if n == 0 || got.windows(4).any(|w| w == b"\r\n\r\n") {
                break Instant::now();
            }
        };
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 408"),
            "expected 408 for an unfinished body, got: {text}"
        );
        assert_closed_within("unfinished body", start, answered, BODY_READ_TIMEOUT);
    });

    for (what, t) in [("handshake", handshake), ("head", head), ("body", body)] {
        if let Err(e) = t.join() {
            panic!("{what}: {e:?}\nserver log:\n{}", srv.logs());
        }
    }
}
