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
//! provider.
//!
//! # How the keys reach the core
//! The keys live in the core's [`SwappableKeys`], replaced whole after each successful
//! fetch; the core's [`JwtAuthenticator`] reads them through
//! [`SharedKeys`]. The authenticators are synchronous: [`RefetchingJwt`] wraps one, and when
//! it rejects a token for its signature (or because no keys are loaded yet) and the token
//! names a `kid` the keys do not have (or none), it asks [`JwksCache::refetch_blocking`] for
//! a rate-limited refetch and, when the keys changed, authenticates once more. The server
//! runs chains that can do this on Tokio's blocking pool, never on a runtime worker.
//! [`JwksCache::discover_until_ready`] is the background task that loads the first keys,
//! retrying every 10 s as kube-apiserver does.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use bytes::Bytes;
use hyper::Method;
use kauthn::jose::{KeySource, OwnedKeySet};
use kauthn::oidc::SwappableKeys;
use kauthn::{
    Context, Error, JwksProvider, JwtAuthenticator, OidcError, Response, Scratch,
    TokenAuthenticator, Verdict,
};
use serde::Deserialize;

use crate::http_client::{HttpClient, block_on};

/// Least time between two JWKS fetches triggered by unknown key ids.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// kube-apiserver's OIDC HTTP client timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time between discovery attempts until the first keys are loaded (upstream: 10 s).
pub const DISCOVERY_RETRY: Duration = Duration::from_secs(10);
/// Longest JWS header read to find a `kid` (a header is a few hundred bytes).
const MAX_HEADER_LEN: usize = 8 * 1024;

/// The fields of a discovery document kauthn reads.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Discovery {
    /// `issuer`.
    pub issuer: String,
    /// `jwks_uri`.
    #[serde(default)]
    pub jwks_uri: String,
}

/// The core key provider over a [`JwksCache`]'s keys.
#[derive(Debug, Clone)]
pub struct SharedKeys(pub Arc<SwappableKeys>);

impl JwksProvider for SharedKeys {
    fn with_keys(&self, f: &mut dyn FnMut(&dyn KeySource)) -> bool {
        self.0.with_keys(f)
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
    keys: Arc<SwappableKeys>,
    last_attempt: Mutex<Option<Instant>>,
    // Serialises fetches so concurrent unknown-kid lookups cause one request.
    fetching: tokio::sync::Mutex<()>,
}

impl JwksCache {
    /// A cache for `issuer` (discovery under it unless `discovery_url` is given), fetched
    /// with `client` (which holds `--oidc-ca-file` / `certificateAuthority`).
    pub fn new(issuer: &str, discovery_url: Option<&str>, client: HttpClient) -> Self {
        let discovery_url = discovery_url.filter(|d| !d.is_empty()).map_or_else(
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
            keys: Arc::new(SwappableKeys::new()),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The same cache with another rate limit (tests).
    pub fn with_min_interval(mut self, d: Duration) -> Self {
        self.min_interval = d;
        self
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The provider the core authenticator reads the keys through.
    pub fn provider(&self) -> SharedKeys {
        SharedKeys(Arc::clone(&self.keys))
    }

    /// The current keys (`None` before the first successful fetch).
    pub fn current(&self) -> Option<Arc<OwnedKeySet>> {
        self.keys.current()
    }

    /// True when a current key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.current().is_some_and(|set| {
            (0..set.key_count()).any(|i| set.key_at(i).and_then(|k| k.kid) == Some(kid))
        })
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

    async fn refresh_locked(&self) -> Result<Arc<OwnedKeySet>, String> {
        if let Ok(mut g) = self.last_attempt.lock() {
            *g = Some(Instant::now());
        }
        let known_uri = self.jwks_uri.read().ok().and_then(|g| g.clone());
        let uri = match known_uri {
            Some(u) => u,
            None => self.discover().await?.jwks_uri,
        };
        let body = self.get(&uri).await?;
        let mut keys = OwnedKeySet::new();
        let report = keys
            .add_jwks(&body)
            .map_err(|e| format!("oidc: invalid JWKS: {e}"))?;
        if keys.is_empty() {
            return Err(format!(
                "oidc: JWKS at {uri:?} has no usable key ({} skipped)",
                report.skipped
            ));
        }
        let count = keys.len();
        self.keys.replace(keys);
        tracing::info!(issuer = %self.issuer, keys = count, skipped = report.skipped, "JWKS loaded");
        self.current()
            .ok_or_else(|| "oidc: keys vanished after loading".to_string())
    }

    /// Fetches discovery (once) and the JWKS; on success replaces the keys, on failure
    /// keeps the known ones and returns why.
    pub async fn refresh(&self) -> Result<Arc<OwnedKeySet>, String> {
        let _one = self.fetching.lock().await;
        self.refresh_locked().await
    }

    /// Refetches the keys for a token naming `kid` (or no `kid`) that the current keys do
    /// not verify: at most once every `min_interval`, waiting for a fetch already under
    /// way, and keeping the known keys when the provider fails. Returns true when the keys
    /// were replaced.
    pub async fn refetch_for(&self, kid: Option<&str>) -> bool {
        let before = self.current();
        let _one = self.fetching.lock().await;
        let changed = |now: &Option<Arc<OwnedKeySet>>| match (&before, now) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (None, Some(_)) => true,
            _ => false,
        };
        // A fetch that finished while this one waited may have brought the key.
        if changed(&self.current()) {
            return true;
        }
        if kid.is_some_and(|k| self.has_kid(k)) {
            return false;
        }
        let recently = self
            .last_attempt
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|t| t.elapsed() < self.min_interval);
        if recently {
            return false;
        }
        match self.refresh_locked().await {
            Ok(_) => changed(&self.current()),
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, "JWKS refresh failed; keeping the known keys");
                false
            }
        }
    }

    /// [`JwksCache::refetch_for`] from synchronous code (the core authenticator's call
    /// path, on Tokio's blocking pool or outside any runtime).
    pub fn refetch_blocking(&self, kid: Option<&str>) -> bool {
        block_on(self.refetch_for(kid)).unwrap_or(false)
    }

    /// Loads the first keys, retrying every [`DISCOVERY_RETRY`] until it succeeds (the
    /// background task `kauthn serve` starts per issuer). Until then tokens of this issuer
    /// are rejected with `oidc: authenticator not initialized`.
    pub async fn discover_until_ready(self: Arc<Self>) {
        loop {
            if self.current().is_some() {
                return;
            }
            match self.refresh().await {
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(issuer = %self.issuer, error = %e, "oidc: authenticator is not healthy; retrying");
                }
            }
            tokio::time::sleep(DISCOVERY_RETRY).await;
        }
    }
}

/// The `kid` of a compact JWS's protected header, when it has one (read without any
/// verification: it only decides whether a refetch may help).
pub fn token_kid(token: &[u8]) -> Option<String> {
    let header = token.split(|b| *b == b'.').next()?;
    if header.len() > MAX_HEADER_LEN {
        return None;
    }
    let json = Base64UrlUnpadded::decode_vec(std::str::from_utf8(header).ok()?).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
    v.get("kid")?.as_str().map(str::to_string)
}

/// A core JWT authenticator whose keys come from a [`JwksCache`], refetched when a token
/// fails verification because its `kid` is unknown (see the module docs).
#[derive(Debug)]
pub struct RefetchingJwt {
    inner: JwtAuthenticator<SharedKeys, String>,
    cache: Arc<JwksCache>,
}

impl RefetchingJwt {
    /// Wraps `inner`, whose provider must be `cache.provider()`.
    pub fn new(inner: JwtAuthenticator<SharedKeys, String>, cache: Arc<JwksCache>) -> Self {
        RefetchingJwt { inner, cache }
    }

    /// The key cache.
    pub fn cache(&self) -> &Arc<JwksCache> {
        &self.cache
    }
}

impl TokenAuthenticator for RefetchingJwt {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let verdict = self.authenticate_once(token, ctx, scratch, out);
        let Verdict::Rejected(errors) = &verdict else {
            return verdict;
        };
        let keys_missing = errors.iter().any(|e| {
            matches!(
                e,
                Error::Oidc(OidcError::InvalidSignature | OidcError::NotInitialized)
            )
        });
        if !keys_missing {
            return verdict;
        }
        let kid = token_kid(token);
        if kid.as_deref().is_some_and(|k| self.cache.has_kid(k)) {
            // The key is known and did not verify: a bad signature, not a rotation.
            return verdict;
        }
        if self.cache.refetch_blocking(kid.as_deref()) {
            return self.authenticate_once(token, ctx, scratch, out);
        }
        verdict
    }
}

impl RefetchingJwt {
    /// One pass of the core authenticator; a rejection is logged with the configured
    /// names filled in ([`JwtAuthenticator::explain`]), which the aggregate error printed
    /// by the server leaves as `...`.
    fn authenticate_once<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let verdict = self.inner.authenticate_token_into(token, ctx, scratch, out);
        if let Verdict::Rejected(errors) = &verdict {
            for e in errors.iter() {
                tracing::info!(issuer = %self.inner.issuer(), reason = %self.inner.explain(&e), "JWT authenticator rejected the token");
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
        let keys = c.refresh().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert!(c.has_kid("k1"));
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
        assert!(!c.refetch_for(Some("k1")).await);
        assert_eq!(p.jwks_calls.load(Ordering::SeqCst), 1);
        // Rotated key: the first unknown kid after the interval refetches...
        p.kids.lock().unwrap().push("k2".into());
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(c.refetch_for(Some("k2")).await);
        assert!(c.has_kid("k2"));
        assert_eq!(p.jwks_calls.load(Ordering::SeqCst), 2);
        // ...and a flood of made-up kids within the interval does not.
        for i in 0..20 {
            assert!(!c.refetch_for(Some(&format!("bogus-{i}"))).await);
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
        assert!(!c.refetch_for(Some("k9")).await);
        assert!(c.has_kid("k1"));
        assert_eq!(c.current().unwrap().len(), 1);
    }
}

#[cfg(test)]
mod kid_tests {
    use super::token_kid;

    #[test]
    fn the_kid_is_read_from_the_protected_header_only() {
        // {"alg":"ES256","kid":"k1"}
        assert_eq!(
            token_kid(b"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.e30.sig").as_deref(),
            Some("k1")
        );
        // {"alg":"ES256"}
        assert_eq!(token_kid(b"eyJhbGciOiJFUzI1NiJ9.e30.sig"), None);
        assert_eq!(token_kid(b"not a jwt"), None);
    }
}
