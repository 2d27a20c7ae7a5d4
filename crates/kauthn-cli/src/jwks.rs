//! OIDC discovery and the JWKS key cache for the JWT authenticators (`--oidc-*`,
//! `--authentication-config` `jwt`).
//!
//! Upstream: go-oidc v2 (`oidc.go` `NewProvider`, `jwks.go` `remoteKeySet`) as kube-apiserver
//! uses it (spec §8.4): discovery at `<issuer>/.well-known/openid-configuration` (or the
//! configured `discoveryURL`), the returned `issuer` must equal the configured one, the
//! document must name `jwks_uri`; keys are refetched when a token names an unknown `kid`,
//! and known keys are kept when the provider is unreachable.
//!
//! Beyond go-oidc: refetches are rate-limited ([`MIN_REFRESH_INTERVAL`]), so a stream of
//! tokens with made-up `kid`s cannot turn kauthn into a traffic amplifier against the
//! provider. The verified key set is an owned core [`OwnedKeySet`], ready for the core's
//! JWT authenticator once it lands.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use kauthn::jose::OwnedKeySet;
use serde::Deserialize;

use crate::http_client::HttpClient;

/// Least time between two JWKS fetches triggered by unknown key ids.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// kube-apiserver's OIDC HTTP client timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The fields of a discovery document kauthn reads.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Discovery {
    /// `issuer`.
    pub issuer: String,
    /// `jwks_uri`.
    #[serde(default)]
    pub jwks_uri: String,
}

/// One fetched key set.
#[derive(Debug, Default)]
pub struct KeySnapshot {
    /// The keys, checked by the core's JOSE loader.
    pub keys: OwnedKeySet,
    /// Their `kid`s.
    pub kids: Vec<String>,
    /// When fetched.
    pub fetched: Option<Instant>,
}

impl KeySnapshot {
    /// True when a key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.kids.iter().any(|k| k == kid)
    }
}

/// Discovery and keys of one issuer.
#[derive(Debug)]
pub struct JwksCache {
    issuer: String,
    discovery_url: String,
    client: HttpClient,
    min_interval: Duration,
    jwks_uri: RwLock<Option<String>>,
    keys: RwLock<Arc<KeySnapshot>>,
    last_attempt: Mutex<Option<Instant>>,
    // Serialises fetches so concurrent unknown-kid lookups cause one request.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
struct JwksDoc {
    #[serde(default)]
    keys: Vec<serde_json::Value>,
}

impl JwksCache {
    /// A cache for `issuer` (discovery under it unless `discovery_url` is given), fetched
    /// with `client` (which holds `--oidc-ca-file` / `certificateAuthority`).
    pub fn new(issuer: &str, discovery_url: Option<&str>, client: HttpClient) -> Self {
        let discovery_url = discovery_url.map_or_else(
            || {
                format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                )
            },
            str::to_string,
        );
        JwksCache {
            issuer: issuer.to_string(),
            discovery_url,
            client,
            min_interval: MIN_REFRESH_INTERVAL,
            jwks_uri: RwLock::new(None),
            keys: RwLock::new(Arc::new(KeySnapshot::default())),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The same cache with another rate limit (tests).
    pub fn with_min_interval(mut self, d: Duration) -> Self {
        self.min_interval = d;
        self
    }

    /// The current keys (possibly empty before the first successful fetch).
    pub fn snapshot(&self) -> Arc<KeySnapshot> {
        match self.keys.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    async fn get(&self, url: &str) -> Result<Bytes, String> {
        let r = self
            .client
            .send(
                Method::GET,
                url,
                &[("accept", "application/json")],
                Bytes::new(),
            )
            .await
            .map_err(|e| format!("Get {url:?}: {e}"))?;
        if !r.status.is_success() {
            return Err(format!(
                "{}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
                    .chars()
                    .take(256)
                    .collect::<String>()
            ));
        }
        Ok(r.body)
    }

    /// Fetches the discovery document and checks it.
    pub async fn discover(&self) -> Result<Discovery, String> {
        let body = self.get(&self.discovery_url).await?;
        let d: Discovery = serde_json::from_slice(&body)
            .map_err(|e| format!("oidc: failed to decode provider discovery object: {e}"))?;
        if d.issuer != self.issuer {
            return Err(format!(
                "oidc: issuer did not match the issuer returned by provider, expected {:?} got {:?}",
                self.issuer, d.issuer
            ));
        }
        if d.jwks_uri.is_empty() {
            return Err("provider did not return JWKS URL".into());
        }
        if let Ok(mut g) = self.jwks_uri.write() {
            *g = Some(d.jwks_uri.clone());
        }
        Ok(d)
    }

    /// Fetches discovery (once) and the JWKS; on success replaces the keys, on failure
    /// keeps the known ones and returns why.
    pub async fn refresh(&self) -> Result<Arc<KeySnapshot>, String> {
        let _one = self.fetching.lock().await;
        if let Ok(mut g) = self.last_attempt.lock() {
            *g = Some(Instant::now());
        }
        let known_uri = self.jwks_uri.read().ok().and_then(|g| g.clone());
        let uri = match known_uri {
            Some(u) => u,
            None => self.discover().await?.jwks_uri,
        };
        let body = self.get(&uri).await?;
        let doc: JwksDoc = serde_json::from_slice(&body)
            .map_err(|e| format!("oidc: failed to decode keys: {e}"))?;
        let mut keys = OwnedKeySet::new();
        keys.add_jwks(&body)
            .map_err(|e| format!("oidc: invalid JWKS: {e}"))?;
        let kids = doc
            .keys
            .iter()
            .filter_map(|k| k.get("kid").and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        let snap = Arc::new(KeySnapshot {
            keys,
            kids,
            fetched: Some(Instant::now()),
        });
        if let Ok(mut g) = self.keys.write() {
            *g = Arc::clone(&snap);
        }
        Ok(snap)
    }

    /// The keys to verify a token whose header names `kid`: the current keys when they
    /// have it (or when the token names none); else one refetch, at most every
    /// `min_interval`, keeping the known keys when the provider fails.
    pub async fn keys_for(&self, kid: Option<&str>) -> Arc<KeySnapshot> {
        let snap = self.snapshot();
        let Some(kid) = kid else {
            return snap;
        };
        if snap.has_kid(kid) {
            return snap;
        }
        let recently = self
            .last_attempt
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|t| t.elapsed() < self.min_interval);
        if recently {
            return snap;
        }
        match self.refresh().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, "JWKS refresh failed; keeping the known keys");
                self.snapshot()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use base64ct::{Base64UrlUnpadded, Encoding};
    use hyper::StatusCode;

    use super::*;
    use crate::testutil;

    fn jwk(kid: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let raw = key.public_key_raw().to_vec(); // 0x04 || X || Y
        let x = Base64UrlUnpadded::encode_string(&raw[1..33]);
        let y = Base64UrlUnpadded::encode_string(&raw[33..65]);
        format!(
            "{{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"{kid}\",\"use\":\"sig\",\"x\":\"{x}\",\"y\":\"{y}\"}}"
        )
    }

    struct Provider {
        issuer: String,
        ca: String,
        jwks_calls: Arc<AtomicUsize>,
        down: Arc<AtomicBool>,
        kids: Arc<Mutex<Vec<String>>>,
    }

    async fn provider(issuer_override: Option<&str>) -> Provider {
        let (tls, ca) = testutil::self_signed();
        let jwks_calls = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let kids = Arc::new(Mutex::new(vec!["k1".to_string()]));
        let issuer_slot = Arc::new(Mutex::new(String::new()));
        let (c, d, k, i) = (
            Arc::clone(&jwks_calls),
            Arc::clone(&down),
            Arc::clone(&kids),
            Arc::clone(&issuer_slot),
        );
        let override_iss = issuer_override.map(str::to_string);
        let handler: testutil::Handler = Arc::new(move |_m, path, _b| {
            if d.load(Ordering::SeqCst) {
                return (StatusCode::SERVICE_UNAVAILABLE, vec![], "down".into());
            }
            let issuer = i.lock().unwrap().clone();
            match path {
                "/.well-known/openid-configuration" => {
                    let iss = override_iss.clone().unwrap_or_else(|| issuer.clone());
                    (
                        StatusCode::OK,
                        vec![],
                        format!("{{\"issuer\":\"{iss}\",\"jwks_uri\":\"{issuer}/keys\"}}"),
                    )
                }
                "/keys" => {
                    c.fetch_add(1, Ordering::SeqCst);
                    let keys: Vec<String> = k.lock().unwrap().iter().map(|k| jwk(k)).collect();
                    (
                        StatusCode::OK,
                        vec![],
                        format!("{{\"keys\":[{}]}}", keys.join(",")),
                    )
                }
                _ => (StatusCode::NOT_FOUND, vec![], String::new()),
            }
        });
        let addr = testutil::serve(Some(tls), handler).await;
        let issuer = format!("https://127.0.0.1:{}", addr.port());
        *issuer_slot.lock().unwrap() = issuer.clone();
        Provider {
            issuer,
            ca,
            jwks_calls,
            down,
            kids,
        }
    }

    fn cache(p: &Provider) -> JwksCache {
        let client =
            HttpClient::new(Some(p.ca.as_bytes()), None, None, Duration::from_secs(5)).unwrap();
        JwksCache::new(&p.issuer, None, client)
    }

    #[tokio::test]
    async fn discovery_then_jwks_over_https_loads_the_keys() {
        let p = provider(None).await;
        let c = cache(&p);
        let snap = c.refresh().await.unwrap();
        assert_eq!(snap.kids, ["k1"]);
        assert_eq!(snap.keys.len(), 1);
    }

    #[tokio::test]
    async fn an_issuer_mismatch_in_discovery_is_rejected() {
        let p = provider(Some("https://evil.example")).await;
        let err = cache(&p).refresh().await.unwrap_err();
        assert!(
            err.starts_with("oidc: issuer did not match the issuer returned by provider"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_within_the_rate_limit() {
        let p = provider(None).await;
        let c = cache(&p).with_min_interval(Duration::from_millis(300));
        c.refresh().await.unwrap();
        assert_eq!(p.jwks_calls.load(Ordering::SeqCst), 1);
        // Known kid: no fetch.
        assert!(c.keys_for(Some("k1")).await.has_kid("k1"));
        assert_eq!(p.jwks_calls.load(Ordering::SeqCst), 1);
        // Rotated key: the first unknown kid after the interval refetches...
        p.kids.lock().unwrap().push("k2".into());
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(c.keys_for(Some("k2")).await.has_kid("k2"));
        assert_eq!(p.jwks_calls.load(Ordering::SeqCst), 2);
        // ...and a flood of made-up kids within the interval does not.
        for i in 0..20 {
            assert!(
                !c.keys_for(Some(&format!("bogus-{i}")))
                    .await
                    .has_kid("bogus")
            );
        }
        assert_eq!(p.jwks_calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn known_keys_are_kept_while_the_provider_is_down() {
        let p = provider(None).await;
        let c = cache(&p).with_min_interval(Duration::ZERO);
        c.refresh().await.unwrap();
        p.down.store(true, Ordering::SeqCst);
        assert!(c.refresh().await.is_err());
        let snap = c.keys_for(Some("k9")).await;
        assert!(snap.has_kid("k1"));
        assert_eq!(snap.keys.len(), 1);
    }
}
