//! The C ABI of kauthn (`include/kauthn.h`).
//!
//! Shape, after rustls-ffi:
//! * opaque handles with `_new`/`_free` pairs: a [`Config`] is filled by setters, then
//!   turned into an [`Authenticator`] that many threads may call at once;
//! * a reusable [`AuthResult`] handle owns the copy of each call's input and the scratch
//!   space the user's strings live in, so C reads name, groups and extras as `(ptr, len)`
//!   views without copying, and a steady-state call allocates nothing;
//! * every export returns a `#[repr(u32)]` [`KauthnResult`] with stable numbers, writes its
//!   outputs only on success, and runs inside one panic boundary.
//!
//! All `unsafe` is in `ffi.rs`, each block with its `SAFETY:` reasoning. This file is the
//! safe Rust the exports call.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kauthn::jose::OwnedKeySet;
use kauthn::oidc::config::OidcFlags;
use kauthn::oidc::{JwksProvider, SwappableKeys};
use kauthn::{
    Anonymous, AudienceAgnostic, AuthenticatedGroupAdder, BearerToken, BootstrapSecret,
    BootstrapSecretStore, BootstrapTokenAuthenticator, CacheConfig, CachedTokenAuthenticator,
    ClientCaPool, Context, Errors, LookupError, OwnedTokenFile, Request, RequestAuthenticator,
    RequestHeaderAuthenticator, RequestHeaderConfig, RequestUnion, Response, Scratch,
    ServiceAccountAuthenticator, TokenAuthenticator, TokenUnion, UnixTime, Verdict,
    X509Authenticator, parse_bootstrap_secret_name,
};

mod ffi;

pub use ffi::*;

/// The signature backend for client certificates: aws-lc-rs with the `aws-lc` feature (the
/// fastest), else the pure-Rust default. Both give the same verdicts.
#[cfg(feature = "aws-lc")]
type DefaultVerifier = kauthn::AwsLc;
/// The signature backend for client certificates: the pure-Rust default (the `aws-lc`
/// feature switches to aws-lc-rs).
#[cfg(not(feature = "aws-lc"))]
type DefaultVerifier = kauthn::RustCrypto;

/// Bytes a result handle reserves for a copy of the call's input (token, headers, chain).
pub const KAUTHN_INPUT_CAPACITY: usize = 64 * 1024;
/// Bytes of scratch space a result handle gives the strategies for composed strings.
pub const KAUTHN_SCRATCH_CAPACITY: usize = 64 * 1024;
/// Most headers one request may carry through the C ABI.
pub const KAUTHN_MAX_HEADERS: usize = 128;
/// Most certificates in one presented chain.
pub const KAUTHN_MAX_CHAIN: usize = 16;

/// Stable result codes of every export. Numbers never change once released.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KauthnResult {
    /// The call did what it was asked.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument was not UTF-8.
    InvalidUtf8 = 2,
    /// The configuration was rejected; the config handle holds the message.
    InvalidConfig = 3,
    /// The call's input does not fit the result handle ([`KAUTHN_INPUT_CAPACITY`], [`KAUTHN_MAX_HEADERS`],
    /// [`KAUTHN_MAX_CHAIN`]).
    InputTooLarge = 4,
    /// An index was out of range.
    OutOfRange = 5,
    /// The output buffer was too small; the length needed was written.
    BufferTooSmall = 6,
    /// The library panicked; the handle involved should not be used again.
    Panic = 7,
    /// A bootstrap secret's token id is not `[a-z0-9]{6}`.
    InvalidTokenId = 8,
}

impl KauthnResult {
    /// A human-readable description of the code.
    pub fn message(self) -> &'static str {
        match self {
            KauthnResult::Ok => "ok",
            KauthnResult::NullArgument => "a required pointer argument was NULL",
            KauthnResult::InvalidUtf8 => "a string argument was not valid UTF-8",
            KauthnResult::InvalidConfig => "the configuration was rejected",
            KauthnResult::InputTooLarge => "the input is larger than the result handle holds",
            KauthnResult::OutOfRange => "index out of range",
            KauthnResult::BufferTooSmall => "the output buffer is too small",
            KauthnResult::Panic => "internal error: the library panicked",
            KauthnResult::InvalidTokenId => "bootstrap token id must match [a-z0-9]{6}",
        }
    }
}

/// The outcome of one authentication, as seen from C.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KauthnStatus {
    /// The result handle holds no authentication yet.
    Empty = 0,
    /// Authenticated: the user views are valid.
    Authenticated = 1,
    /// No configured strategy recognised the credential (upstream's `ok=false, err=nil`);
    /// with anonymous disabled, a server answers 401.
    Unauthenticated = 2,
    /// The credential was recognised and rejected (`err != nil`); a server answers 401.
    Rejected = 3,
}

/// Configuration gathered by the setters before an authenticator is built.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub(crate) client_ca_pem: Option<Vec<u8>>,
    pub(crate) token_file_csv: Option<Vec<u8>>,
    pub(crate) bootstrap: bool,
    pub(crate) api_audiences: Vec<String>,
    pub(crate) anonymous: bool,
    pub(crate) anonymous_paths: Vec<String>,
    pub(crate) sa_key_pems: Vec<Vec<u8>>,
    pub(crate) sa_issuers: Vec<String>,
    pub(crate) oidc: Option<OidcSettings>,
    pub(crate) oidc_jwks: Option<Vec<u8>>,
    pub(crate) requestheader: Option<RequestHeaderSettings>,
    pub(crate) success_ttl: i64,
    pub(crate) failure_ttl: i64,
    pub(crate) last_error: String,
}

impl Config {
    /// kube-apiserver's defaults: anonymous off (an embedder opts in), token cache 10 s for
    /// successes and none for failures.
    pub fn new() -> Self {
        Config {
            success_ttl: 10,
            failure_ttl: 0,
            ..Config::default()
        }
    }
}

/// `--oidc-*` settings as the C ABI receives them.
#[derive(Debug, Default, Clone)]
pub(crate) struct OidcSettings {
    pub(crate) issuer_url: String,
    pub(crate) client_id: String,
    pub(crate) username_claim: Option<String>,
    pub(crate) username_prefix: Option<String>,
    pub(crate) groups_claim: Option<String>,
    pub(crate) groups_prefix: Option<String>,
    pub(crate) signing_algs: Option<String>,
}

/// `--requestheader-*` settings as the C ABI receives them (lists comma-separated).
#[derive(Debug, Default, Clone)]
pub(crate) struct RequestHeaderSettings {
    pub(crate) client_ca_pem: Vec<u8>,
    pub(crate) username_headers: Vec<String>,
    pub(crate) uid_headers: Vec<String>,
    pub(crate) group_headers: Vec<String>,
    pub(crate) extra_header_prefixes: Vec<String>,
    pub(crate) allowed_names: Vec<String>,
}

/// Splits a comma-separated list, dropping empty items.
pub(crate) fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A bootstrap token Secret as the C ABI stores it (`kube-system/bootstrap-token-<id>`).
#[derive(Debug, Clone, Default)]
pub(crate) struct OwnedSecret {
    name: String,
    token_id: Option<Vec<u8>>,
    token_secret: Option<Vec<u8>>,
    expiration: Option<Vec<u8>>,
    usage_bootstrap_authentication: Option<Vec<u8>>,
    auth_extra_groups: Option<Vec<u8>>,
}

/// Bootstrap Secrets added and removed at runtime, behind a lock.
#[derive(Debug, Default)]
pub(crate) struct SecretStore {
    secrets: RwLock<HashMap<String, OwnedSecret>>,
}

impl BootstrapSecretStore for SecretStore {
    fn with_secret(
        &self,
        token_id: &str,
        f: &mut dyn FnMut(&BootstrapSecret<'_>),
    ) -> Result<bool, LookupError> {
        let map = self.secrets.read().map_err(|_| LookupError)?;
        let Some(s) = map.get(token_id) else {
            return Ok(false);
        };
        let view = BootstrapSecret {
            namespace: kauthn::BOOTSTRAP_NAMESPACE,
            name: &s.name,
            type_: kauthn::BOOTSTRAP_SECRET_TYPE,
            deleting: false,
            has_data: true,
            token_id: s.token_id.as_deref(),
            token_secret: s.token_secret.as_deref(),
            expiration: s.expiration.as_deref(),
            usage_bootstrap_authentication: s.usage_bootstrap_authentication.as_deref(),
            auth_extra_groups: s.auth_extra_groups.as_deref(),
        };
        f(&view);
        Ok(true)
    }
}

type DynToken = Box<dyn TokenAuthenticator + Send + Sync>;
type DynRequest = Box<dyn RequestAuthenticator + Send + Sync>;

/// A built authenticator: the kube-apiserver chain over the configuration, shared by
/// every thread and every result handle that used it (through an `Arc`).
pub struct Inner {
    // Request chain: group adder over [x509, bearer(tokens)], then anonymous on no-opinion.
    request: RequestUnion<Vec<DynRequest>, DynRequest>,
    // Token chain with the group adder, for token-only calls.
    token: AuthenticatedGroupAdder<Arc<dyn TokenAuthenticator + Send + Sync>>,
    bootstrap: Option<Arc<SecretStore>>,
    oidc_keys: Option<Arc<SwappableKeys>>,
    // Borrowed views of owned strings, built once; see ffi.rs for why the lifetime is
    // 'static. Declared after everything that borrows them, so they are dropped last.
    pub(crate) audience_views: Box<[&'static str]>,
    _header_views: Vec<Box<[&'static str]>>,
    _strings: Vec<Box<[Box<str>]>>,
}

impl core::fmt::Debug for Inner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inner")
            .field("api_audiences", &self.audience_views)
            .finish()
    }
}

/// The authenticator handle C holds.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub(crate) inner: Arc<Inner>,
}

impl Authenticator {
    /// Builds the chain kube-apiserver would build from `cfg` (spec §2.1 order).
    pub fn new(cfg: &Config, cache_key: [u8; 32]) -> Result<Self, String> {
        let audiences: Vec<String> = cfg.api_audiences.clone();
        let mut tokens: Vec<DynToken> = Vec::new();
        if let Some(csv) = &cfg.token_file_csv {
            let file = OwnedTokenFile::parse(csv.clone())
                .map_err(|e| format!("token file: {}", e.with_path("<token file>")))?;
            tokens.push(Box::new(AudienceAgnostic::new(audiences.clone(), file)));
        }
        // Service accounts: legacy tokens whenever keys are given, bound tokens when
        // issuers are given too (kube-apiserver's rule). --api-audiences defaults to the
        // issuers.
        if !cfg.sa_key_pems.is_empty() {
            let mut keys = OwnedKeySet::new();
            for pem in &cfg.sa_key_pems {
                keys.add_pem(pem)
                    .map_err(|e| format!("service-account key: {e}"))?;
            }
            let sa_audiences: Vec<String> = if audiences.is_empty() {
                cfg.sa_issuers.clone()
            } else {
                audiences.clone()
            };
            let legacy = ServiceAccountAuthenticator::legacy(
                [kauthn::SERVICE_ACCOUNT_LEGACY_ISSUER.to_owned()],
                sa_audiences.clone(),
                keys.clone(),
            )
            .map_err(|e| format!("service accounts: {e}"))?
            .with_verifier(DefaultVerifier::default());
            tokens.push(Box::new(legacy));
            if !cfg.sa_issuers.is_empty() {
                let bound =
                    ServiceAccountAuthenticator::bound(cfg.sa_issuers.clone(), sa_audiences, keys)
                        .map_err(|e| format!("service accounts: {e}"))?
                        .with_verifier(DefaultVerifier::default());
                tokens.push(Box::new(bound));
            }
        } else if !cfg.sa_issuers.is_empty() {
            return Err("service-account issuers need at least one service-account key".into());
        }
        let bootstrap = if cfg.bootstrap {
            let store = Arc::new(SecretStore::default());
            tokens.push(Box::new(AudienceAgnostic::new(
                audiences.clone(),
                BootstrapTokenAuthenticator::new(Arc::clone(&store)),
            )));
            Some(store)
        } else {
            None
        };
        let oidc_keys = match &cfg.oidc {
            Some(o) => {
                let keys = Arc::new(SwappableKeys::new());
                if let Some(jwks) = &cfg.oidc_jwks {
                    keys.replace_jwks(jwks)
                        .map_err(|e| format!("OIDC JWKS: {e}"))?;
                }
                tokens.push(oidc_authenticator(o, &audiences, Arc::clone(&keys))?);
                Some(keys)
            }
            None => None,
        };
        let union: DynToken = Box::new(TokenUnion::new(tokens));
        let token_chain: Arc<dyn TokenAuthenticator + Send + Sync> =
            if cfg.success_ttl > 0 || cfg.failure_ttl > 0 {
                let config = CacheConfig {
                    success_ttl: cfg.success_ttl,
                    failure_ttl: cfg.failure_ttl,
                    cache_errors: true,
                    capacity: 4096,
                };
                let cached: CachedTokenAuthenticator<DynToken> =
                    CachedTokenAuthenticator::new(union, cache_key, config);
                Arc::new(cached)
            } else {
                Arc::from(union)
            };

        let mut requests: Vec<DynRequest> = Vec::new();
        let mut strings: Vec<Box<[Box<str>]>> = Vec::new();
        let mut header_views: Vec<Box<[&'static str]>> = Vec::new();
        if let Some(rh) = &cfg.requestheader {
            let pool = ClientCaPool::from_pem(&rh.client_ca_pem)
                .map_err(|e| format!("requestheader client CA: {e}"))?;
            let mut view = |v: &[String]| -> &'static [&'static str] {
                let owned: Box<[Box<str>]> = v.iter().map(|s| s.clone().into_boxed_str()).collect();
                let views = ffi::static_views(&owned);
                strings.push(owned);
                let slice = ffi::static_slice(&views);
                header_views.push(views);
                slice
            };
            let config = RequestHeaderConfig {
                username_headers: view(&rh.username_headers),
                uid_headers: view(&rh.uid_headers),
                group_headers: view(&rh.group_headers),
                extra_header_prefixes: view(&rh.extra_header_prefixes),
                allowed_names: view(&rh.allowed_names),
            };
            let rh = RequestHeaderAuthenticator::new(pool, DefaultVerifier::default(), config)
                .map_err(|e| format!("requestheader: {e}"))?;
            requests.push(Box::new(AudienceAgnostic::new(audiences.clone(), rh)));
        }
        if let Some(pem) = &cfg.client_ca_pem {
            let pool = ClientCaPool::from_pem(pem).map_err(|e| format!("client CA: {e}"))?;
            requests.push(Box::new(X509Authenticator::new(
                pool,
                DefaultVerifier::default(),
            )));
        }
        requests.push(Box::new(BearerToken::new(Arc::clone(&token_chain))));
        let authenticated: DynRequest =
            Box::new(AuthenticatedGroupAdder::new(RequestUnion::new(requests)));
        let mut chain: Vec<DynRequest> = vec![authenticated];
        if cfg.anonymous {
            chain.push(Box::new(Anonymous::with_paths(cfg.anonymous_paths.clone())));
        }
        let api_audiences: Box<[Box<str>]> =
            audiences.into_iter().map(String::into_boxed_str).collect();
        let audience_views = ffi::static_views(&api_audiences);
        strings.push(api_audiences);
        Ok(Authenticator {
            inner: Arc::new(Inner {
                request: RequestUnion::fail_on_error(chain),
                token: AuthenticatedGroupAdder::new(token_chain),
                bootstrap,
                oidc_keys,
                audience_views,
                _header_views: header_views,
                _strings: strings,
            }),
        })
    }

    /// Adds or replaces the bootstrap Secret for `token_id`.
    pub(crate) fn put_bootstrap_secret(&self, secret: OwnedSecret) -> Result<(), KauthnResult> {
        let store = self
            .inner
            .bootstrap
            .as_ref()
            .ok_or(KauthnResult::InvalidConfig)?;
        let id = secret
            .name
            .trim_start_matches(kauthn::BOOTSTRAP_SECRET_NAME_PREFIX)
            .to_owned();
        let mut map = store.secrets.write().map_err(|_| KauthnResult::Panic)?;
        map.insert(id, secret);
        Ok(())
    }

    /// Replaces the OIDC provider's keys with those of a JWKS document; on error the old
    /// keys stay.
    pub(crate) fn set_oidc_jwks(&self, jwks: &[u8]) -> Result<(), String> {
        let keys = self
            .inner
            .oidc_keys
            .as_ref()
            .ok_or("OIDC is not configured")?;
        keys.replace_jwks(jwks)
            .map(|_| ())
            .map_err(|e| format!("OIDC JWKS: {e}"))
    }

    /// Removes the bootstrap Secret for `token_id`, if any.
    pub(crate) fn remove_bootstrap_secret(&self, token_id: &str) -> Result<(), KauthnResult> {
        let store = self
            .inner
            .bootstrap
            .as_ref()
            .ok_or(KauthnResult::InvalidConfig)?;
        let mut map = store.secrets.write().map_err(|_| KauthnResult::Panic)?;
        map.remove(token_id);
        Ok(())
    }
}

/// Shares a runtime-replaceable key set between the authenticator and the handle that
/// replaces it.
struct SharedJwks(Arc<SwappableKeys>);

impl JwksProvider for SharedJwks {
    fn with_keys(&self, f: &mut dyn FnMut(&dyn kauthn::jose::KeySource)) -> bool {
        self.0.with_keys(f)
    }
}

fn oidc_authenticator(
    o: &OidcSettings,
    api_audiences: &[String],
    keys: Arc<SwappableKeys>,
) -> Result<DynToken, String> {
    let mut flags = OidcFlags {
        issuer_url: o.issuer_url.clone(),
        client_id: o.client_id.clone(),
        ..OidcFlags::default()
    };
    if let Some(c) = &o.username_claim {
        flags.username_claim = c.clone();
    }
    if let Some(p) = &o.username_prefix {
        flags.username_prefix = p.clone();
    }
    if let Some(c) = &o.groups_claim {
        flags.groups_claim = c.clone();
    }
    if let Some(p) = &o.groups_prefix {
        flags.groups_prefix = p.clone();
    }
    if let Some(a) = &o.signing_algs {
        flags.signing_algs = list(a);
    }
    let (config, algorithms) = flags
        .to_config()
        .map_err(|e| format!("OIDC: {e}"))?
        .ok_or("OIDC: the issuer URL and client id are required")?;
    let auth = config
        .build(&[kauthn::SERVICE_ACCOUNT_LEGACY_ISSUER], SharedJwks(keys))
        .map_err(|e| format!("OIDC: {e}"))?
        .algorithms(algorithms)
        .with_verifier(DefaultVerifier::default());
    // kube-apiserver wraps the JWT authenticators in the audience-agnostic wrapper.
    Ok(Box::new(AudienceAgnostic::new(
        api_audiences.to_vec(),
        TokenUnion::fail_on_error(vec![auth]),
    )))
}

pub(crate) fn secret_from_parts(
    token_id: &str,
    token_secret: Option<&[u8]>,
    expiration: Option<&[u8]>,
    usage_bootstrap_authentication: Option<&[u8]>,
    auth_extra_groups: Option<&[u8]>,
) -> Result<OwnedSecret, KauthnResult> {
    let name = format!("{}{token_id}", kauthn::BOOTSTRAP_SECRET_NAME_PREFIX);
    if parse_bootstrap_secret_name(&name).is_none() {
        return Err(KauthnResult::InvalidTokenId);
    }
    Ok(OwnedSecret {
        name,
        token_id: Some(token_id.as_bytes().to_vec()),
        token_secret: token_secret.map(<[u8]>::to_vec),
        expiration: expiration.map(<[u8]>::to_vec),
        usage_bootstrap_authentication: usage_bootstrap_authentication.map(<[u8]>::to_vec),
        auth_extra_groups: auth_extra_groups.map(<[u8]>::to_vec),
    })
}

/// What one call asks for.
pub(crate) enum Call<'a> {
    Token(&'a [u8]),
    Request {
        headers: &'a [kauthn::Header<'a>],
        path: &'a str,
        chain: &'a [&'a [u8]],
    },
}

impl Inner {
    pub(crate) fn run<'a>(
        &'a self,
        call: Call<'a>,
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        match call {
            Call::Token(token) => self.token.authenticate_token_into(token, ctx, scratch, out),
            Call::Request {
                headers,
                path,
                chain,
            } => {
                let req = Request {
                    headers,
                    path,
                    client_chain: chain,
                };
                self.request
                    .authenticate_request_into(&req, ctx, scratch, out)
            }
        }
    }
}

/// Formats the reason of a non-success verdict for logs.
pub(crate) fn reason(verdict: &Verdict) -> Option<Errors> {
    match verdict {
        Verdict::Authenticated => None,
        Verdict::NotMine(None) => Some(Errors::new()),
        Verdict::NotMine(Some(e)) => Some(Errors::one(*e)),
        Verdict::Rejected(e) => Some(e.clone()),
    }
}

pub(crate) fn now(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs)
}

/// The memory a result handle owns: the input copy, the scratch arena, and the header and
/// chain views of the current call.
pub(crate) struct AuthResultBuffers {
    pub(crate) input: Box<[u8]>,
    pub(crate) scratch: Box<[u8]>,
    pub(crate) headers: heapless::Vec<kauthn::Header<'static>, KAUTHN_MAX_HEADERS>,
    pub(crate) chain: heapless::Vec<&'static [u8], KAUTHN_MAX_CHAIN>,
}
