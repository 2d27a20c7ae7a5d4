//! The authentication chain, assembled in kube-apiserver's order.
//!
//! Upstream: `pkg/kubeapiserver/authenticator/config.go` `Config.New` (spec §2.1):
//! front proxy, x509, then the bearer token over a token union (token file, service
//! accounts, bootstrap, JWT, webhook) behind the 10 s token cache, all under the
//! authenticated-group adder, and anonymous last through a fail-on-error union.
//!
//! The core authenticators are synchronous and write into a caller-owned response; this
//! module runs them on the calling thread with a per-call scratch buffer and returns an
//! owned [`AuthUser`]. Two strategies wait for the network inside that call — the JWT
//! authenticators when a token names an unknown key (a rate-limited JWKS refetch) and the
//! webhook on a cache miss — so when either is configured ([`Chain::does_io`]) the server
//! runs [`Chain::authenticate`] on Tokio's blocking pool.
//!
//! Service accounts: kauthn has no cluster, so `--service-account-lookup` cannot be honoured
//! (legacy tokens are not checked against their Secret and ServiceAccount) and bound tokens
//! are not checked against live Pods, Secrets and Nodes; both are accepted on signature and
//! claims alone, and the start-up log says so.

use std::collections::BTreeMap;
use std::sync::Arc;

use kauthn::{
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, BearerToken, BootstrapTokenAuthenticator,
    CacheConfig, CachedTokenAuthenticator, Context, Header, Request, RequestAuthenticator,
    RequestHeaderAuthenticator, RequestHeaderConfig, RequestUnion, Response, RustCrypto,
    SERVICE_ACCOUNT_LEGACY_ISSUER, Scratch, ServiceAccountAuthenticator, TokenAuthenticator,
    TokenUnion, UnixTime, Verdict, WebhookTokenAuthenticator, X509Authenticator,
};

use crate::config::{Config, ConfigError};
use crate::jwks::{JwksCache, RefetchingJwt};

type DynToken = Box<dyn TokenAuthenticator + Send + Sync>;
type DynRequest = Box<dyn RequestAuthenticator + Send + Sync>;

/// Bytes of scratch space for one authentication: composed and decoded strings (prefixed
/// names, decoded certificate strings, a cached user) live here.
/// A webhook's answer is read into it too, so it bounds the answer's size.
pub const SCRATCH_BYTES: usize = 64 * 1024;

/// An authenticated user, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthUser {
    /// The user name.
    pub name: String,
    /// The UID.
    pub uid: String,
    /// Groups, in order.
    pub groups: Vec<String>,
    /// Extra values by key.
    pub extra: BTreeMap<String, Vec<String>>,
    /// The audiences the credential was valid for.
    pub audiences: Vec<String>,
}

impl AuthUser {
    fn from_response(r: &Response<'_>) -> Self {
        AuthUser {
            name: r.user.name.to_string(),
            uid: r.user.uid.to_string(),
            groups: r.user.groups.iter().map(str::to_string).collect(),
            extra: r
                .user
                .extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(str::to_string).collect()))
                .collect(),
            audiences: r
                .audiences
                .as_slice()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// What authenticating a request concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The request is from this user (possibly `system:anonymous`).
    Authenticated(AuthUser),
    /// No authenticator recognised the credentials (metrics: `failure`).
    Failure,
    /// An authenticator rejected the credentials; the reason is for logs only (metrics:
    /// `error`).
    Error(String),
}

/// The assembled chain.
pub struct Chain {
    authn: Option<AuthenticatedGroupAdder<RequestUnion<Vec<DynRequest>, DynRequest>>>,
    anonymous: Option<Anonymous<Vec<String>, String>>,
    api_audiences: &'static [&'static str],
    jwks: Vec<Arc<JwksCache>>,
    does_io: bool,
    /// Names of the strategies configured, in order, for the start-up log.
    pub strategies: Vec<&'static str>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("strategies", &self.strategies)
            .finish()
    }
}

fn leak_strs(v: &[String]) -> &'static [&'static str] {
    // Built once per process: the authenticators borrow their configuration for 'static.
    let strs: Vec<&'static str> = v
        .iter()
        .map(|s| &*Box::leak(s.clone().into_boxed_str()))
        .collect();
    Box::leak(strs.into_boxed_slice())
}

fn random_key() -> Result<[u8; 32], ConfigError> {
    // The cache key must be secret and unpredictable; without OS randomness kauthn does
    // not start rather than run with a guessable key.
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| {
        ConfigError::new(
            "token cache",
            "",
            format!("no OS randomness for the cache key: {e}"),
        )
    })?;
    Ok(key)
}

impl Chain {
    /// Builds the chain from a validated configuration.
    pub fn build(config: Config) -> Result<Self, ConfigError> {
        let api_audiences = leak_strs(&config.api_audiences);
        let mut strategies = Vec::new();
        let mut jwks = Vec::new();
        let mut does_io = false;
        let mut requests: Vec<DynRequest> = Vec::new();
        // 1. request header (front proxy), audience-agnostic.
        if let Some(rh) = config.request_header {
            let rh_config = RequestHeaderConfig {
                username_headers: leak_strs(&rh.username_headers),
                uid_headers: leak_strs(&rh.uid_headers),
                group_headers: leak_strs(&rh.group_headers),
                extra_header_prefixes: leak_strs(&rh.extra_header_prefixes),
                allowed_names: leak_strs(&rh.allowed_names),
            };
            let auth = RequestHeaderAuthenticator::new(rh.pool, RustCrypto, rh_config)
                .map_err(|e| ConfigError::new("--requestheader-*", "", e.to_string()))?;
            requests.push(Box::new(AudienceAgnostic::new(api_audiences, auth)));
            strategies.push("request-header");
        }
        // 2. x509.
        if let Some((_, pool)) = config.client_ca {
            requests.push(Box::new(X509Authenticator::new(pool, RustCrypto)));
            strategies.push("x509");
        }
        // 3. tokens, in upstream's order.
        let mut tokens: Vec<DynToken> = Vec::new();
        if let Some((_, table)) = config.token_file {
            tokens.push(Box::new(AudienceAgnostic::new(api_audiences, table)));
            strategies.push("token-file");
        }
        if let Some(sa) = config.service_accounts {
            if sa.lookup {
                tracing::warn!(
                    "--service-account-lookup: kauthn has no cluster to look objects up in; service-account tokens are accepted on their signature and claims alone"
                );
            }
            let sa_err =
                |e: kauthn::Error| ConfigError::new("--service-account-issuer", "", e.to_string());
            let legacy = ServiceAccountAuthenticator::legacy(
                [SERVICE_ACCOUNT_LEGACY_ISSUER],
                api_audiences.iter().copied(),
                sa.keys.clone(),
            )
            .map_err(sa_err)?;
            tokens.push(Box::new(legacy));
            strategies.push("service-account-legacy");
            if !sa.issuers.is_empty() {
                let bound = ServiceAccountAuthenticator::bound(
                    leak_strs(&sa.issuers).iter().copied(),
                    api_audiences.iter().copied(),
                    sa.keys,
                )
                .map_err(sa_err)?;
                tokens.push(Box::new(bound));
                strategies.push("service-account-bound");
            }
        }
        if let Some(store) = config.bootstrap {
            store.clone().spawn_reloader_if_runtime();
            tokens.push(Box::new(AudienceAgnostic::new(
                api_audiences,
                BootstrapTokenAuthenticator::new(store),
            )));
            strategies.push("bootstrap-token");
        }
        // JWT/OIDC: one audience-agnostic fail-on-error union of every issuer.
        if !config.jwt.is_empty() {
            let list: Vec<DynToken> = config
                .jwt
                .into_iter()
                .map(|j| {
                    tracing::debug!(source = %j.source, issuer = %j.authenticator.issuer(), "JWT authenticator");
                    jwks.push(Arc::clone(&j.keys));
                    Box::new(RefetchingJwt::new(j.authenticator, j.keys)) as DynToken
                })
                .collect();
            tokens.push(Box::new(AudienceAgnostic::new(
                api_audiences,
                TokenUnion::fail_on_error(list),
            )));
            strategies.push("jwt");
            does_io = true;
        }
        // The webhook, in its own TTL cache (errors never cached).
        if let Some(w) = config.webhook {
            let ttl = i64::try_from(w.cache_ttl.as_secs()).unwrap_or(i64::MAX);
            let webhook = WebhookTokenAuthenticator::new(w.client, w.version)
                .with_implicit_audiences(api_audiences);
            tokens.push(Box::new(CachedTokenAuthenticator::<_>::new(
                crate::webhook::LoggedWebhook(webhook),
                random_key()?,
                CacheConfig::webhook(ttl),
            )));
            strategies.push("webhook");
            does_io = true;
        }
        if !tokens.is_empty() {
            let union = TokenUnion::new(tokens);
            let cached = CachedTokenAuthenticator::<_>::new(
                union,
                random_key()?,
                CacheConfig::KUBE_APISERVER,
            );
            requests.push(Box::new(BearerToken::new(cached)));
        }
        let authn = (!requests.is_empty())
            .then(|| AuthenticatedGroupAdder::new(RequestUnion::new(requests)));
        let anonymous = config.anonymous.enabled.then(|| {
            strategies.push("anonymous");
            Anonymous::with_paths(config.anonymous.paths.clone())
        });
        Ok(Chain {
            authn,
            anonymous,
            api_audiences,
            jwks,
            does_io,
            strategies,
        })
    }

    /// True when authenticating may wait for the network (JWT key refetches, webhook
    /// calls): run [`Chain::authenticate`] where blocking is allowed.
    pub fn does_io(&self) -> bool {
        self.does_io
    }

    /// Starts, on the current Tokio runtime, the tasks that load each JWT issuer's first
    /// keys (retrying until the provider answers).
    pub fn start_background(&self) {
        for cache in &self.jwks {
            tokio::spawn(Arc::clone(cache).discover_until_ready());
        }
    }

    /// Loads each JWT issuer's keys once, waiting for the answers (`kauthn authenticate`);
    /// failures are logged and leave that issuer uninitialised.
    pub async fn load_keys_once(&self) {
        for cache in &self.jwks {
            if let Err(e) = cache.refresh().await {
                tracing::warn!(issuer = %cache.issuer(), error = %e, "oidc: authenticator is not healthy");
            }
        }
    }

    /// The API audiences (`--api-audiences`).
    pub fn api_audiences(&self) -> &'static [&'static str] {
        self.api_audiences
    }

    /// Authenticates a request as kube-apiserver's filter does (spec §2.2): `headers` as
    /// received, `path` without the query, `client_chain` as presented in the handshake
    /// (DER, leaf first), `audiences` the request's audiences (the API audiences for a
    /// request, the TokenReview's for a review).
    pub fn authenticate(
        &self,
        headers: &[(&str, &[u8])],
        path: &str,
        client_chain: &[&[u8]],
        audiences: &[&str],
        now: UnixTime,
    ) -> AuthOutcome {
        let hdrs: Vec<Header<'_>> = headers
            .iter()
            .map(|(name, value)| Header { name, value })
            .collect();
        let req = Request {
            headers: &hdrs,
            path,
            client_chain,
        };
        let ctx = Context::at(now).with_audiences(audiences);
        let mut buf = vec![0u8; SCRATCH_BYTES];
        let mut scratch = Scratch::new(&mut buf);
        let mut out = Box::<Response<'_>>::default();
        let mut verdict = match &self.authn {
            Some(a) => a.authenticate_request_into(&req, &ctx, &mut scratch, &mut out),
            None => Verdict::NotMine(None),
        };
        // union.NewFailOnError(authn, anonymous): anonymous only when nothing errored.
        if let (Verdict::NotMine(_), Some(anon)) = (&verdict, &self.anonymous) {
            verdict = anon.authenticate_request_into(&req, &ctx, &mut scratch, &mut out);
        }
        match verdict {
            Verdict::Authenticated => {
                // The filter's audience check: when both sides have audiences they must
                // intersect.
                if !audiences.is_empty()
                    && !out.audiences.is_empty()
                    && !out
                        .audiences
                        .as_slice()
                        .iter()
                        .any(|a| audiences.contains(a))
                {
                    return AuthOutcome::Error(format!(
                        "unable to match the audience: {:?} , accepted: {:?}",
                        out.audiences.as_slice(),
                        audiences
                    ));
                }
                AuthOutcome::Authenticated(AuthUser::from_response(&out))
            }
            Verdict::NotMine(_) => AuthOutcome::Failure,
            Verdict::Rejected(errs) => AuthOutcome::Error(errs.to_string()),
        }
    }
}

impl crate::bootstrap_dir::SecretsDir {
    /// Starts the reloader when called inside a Tokio runtime (`kauthn serve`); the
    /// one-shot `kauthn authenticate` has none and needs none.
    pub fn spawn_reloader_if_runtime(self) {
        if tokio::runtime::Handle::try_current().is_ok() {
            self.spawn_reloader();
        }
    }
}
