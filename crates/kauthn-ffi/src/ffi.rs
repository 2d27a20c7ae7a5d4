//! The `extern "C"` functions and every `unsafe` block of the C ABI.
//!
//! Rules every export follows (rustls-ffi's):
//! * the body runs inside [`boundary`], so a panic becomes [`KauthnResult::Panic`] and never
//!   unwinds into C;
//! * every pointer argument is checked for NULL before use ([`KauthnResult::NullArgument`]);
//! * outputs are written only when the call succeeds.
#![allow(
    unsafe_code,
    non_camel_case_types,
    missing_docs,
    clippy::missing_safety_doc
)]

use core::panic::AssertUnwindSafe;
use core::ptr::NonNull;
use std::panic::catch_unwind;
use std::sync::Arc;

use kauthn::{Context, Errors, Header, Response, Scratch};

use crate::{
    AuthResultBuffers, Authenticator, Call, Config, Inner, KAUTHN_INPUT_CAPACITY, KAUTHN_MAX_CHAIN,
    KAUTHN_MAX_HEADERS, KAUTHN_SCRATCH_CAPACITY, KauthnResult, KauthnStatus,
};

/// A borrowed byte string: `data` may be NULL only when `len` is 0 (or, where documented,
/// to mean "absent").
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kauthn_bytes {
    pub data: *const u8,
    pub len: usize,
}

/// One request header.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kauthn_header {
    pub name: kauthn_bytes,
    pub value: kauthn_bytes,
}

/// The data of a bootstrap token Secret (`kube-system/bootstrap-token-<token_id>`). A field
/// whose `data` is NULL is absent from the Secret.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kauthn_bootstrap_secret {
    pub token_id: kauthn_bytes,
    pub token_secret: kauthn_bytes,
    pub expiration: kauthn_bytes,
    pub usage_bootstrap_authentication: kauthn_bytes,
    pub auth_extra_groups: kauthn_bytes,
}

/// `--oidc-*` settings. Fields whose `data` is NULL keep kube-apiserver's defaults
/// (username claim `sub`, signing algorithms `RS256`); lists are comma-separated.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kauthn_oidc_settings {
    pub issuer_url: kauthn_bytes,
    pub client_id: kauthn_bytes,
    pub username_claim: kauthn_bytes,
    pub username_prefix: kauthn_bytes,
    pub groups_claim: kauthn_bytes,
    pub groups_prefix: kauthn_bytes,
    pub signing_algs: kauthn_bytes,
}

/// `--requestheader-*` settings: the proxy CA bundle (PEM) and comma-separated lists.
/// NULL lists are empty (an empty `allowed_names` accepts any proxy the CA verifies).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kauthn_requestheader_settings {
    pub client_ca_pem: kauthn_bytes,
    pub username_headers: kauthn_bytes,
    pub uid_headers: kauthn_bytes,
    pub group_headers: kauthn_bytes,
    pub extra_header_prefixes: kauthn_bytes,
    pub allowed_names: kauthn_bytes,
}

/// A reusable result handle: the outcome of the last call and the memory its user's
/// strings point into.
pub struct AuthResult {
    // Declared first so it is dropped first: it borrows from `buffers` and `auth`.
    response: Response<'static>,
    status: KauthnStatus,
    reason: Option<Errors>,
    auth: Option<Arc<Inner>>,
    buffers: NonNull<AuthResultBuffers>,
}

impl Drop for AuthResult {
    fn drop(&mut self) {
        self.response.clear();
        self.auth = None;
        // SAFETY: `buffers` came from `Box::into_raw` in `AuthResult::new` and is freed only
        // here; the response that borrowed from it was cleared above.
        drop(unsafe { Box::from_raw(self.buffers.as_ptr()) });
    }
}

impl AuthResult {
    fn new() -> Self {
        let buffers = Box::new(AuthResultBuffers {
            input: vec![0u8; KAUTHN_INPUT_CAPACITY].into_boxed_slice(),
            scratch: vec![0u8; KAUTHN_SCRATCH_CAPACITY].into_boxed_slice(),
            headers: heapless::Vec::new(),
            chain: heapless::Vec::new(),
        });
        AuthResult {
            response: Response::default(),
            status: KauthnStatus::Empty,
            reason: None,
            auth: None,
            buffers: NonNull::from(Box::leak(buffers)),
        }
    }

    fn reset(&mut self) {
        self.response.clear();
        self.status = KauthnStatus::Empty;
        self.reason = None;
    }

    /// Runs one authentication. `fill` copies the caller's input into the handle's input
    /// buffer and describes the call over that copy, so the user may borrow from it after
    /// the caller's memory is gone.
    fn run(
        &mut self,
        auth: &Authenticator,
        now: i64,
        fill: impl FnOnce(&mut InputArea) -> Result<Call<'static>, KauthnResult>,
    ) -> KauthnResult {
        self.reset();
        // The handle keeps the authenticator alive while its response borrows from it.
        let arc = Arc::clone(&auth.inner);
        // SAFETY: `arc` is stored in `self.auth` below and replaced only after the response
        // is cleared (`reset`), and `self.response` is cleared before `self.auth` is
        // dropped (`Drop`), so the reference never outlives the `Inner` it points to.
        let inner: &'static Inner = unsafe { &*Arc::as_ptr(&arc) };
        self.auth = Some(arc);
        // SAFETY: `buffers` is valid (allocated in `new`, freed in `Drop`) and nothing else
        // borrows it: the previous response was cleared by `reset` and the previous call's
        // header and chain views are overwritten below before any use.
        let buffers: &'static mut AuthResultBuffers = unsafe { &mut *self.buffers.as_ptr() };
        let AuthResultBuffers {
            input,
            scratch,
            headers,
            chain,
        } = buffers;
        headers.clear();
        chain.clear();
        let mut area = InputArea {
            bytes: Scratch::new(&mut input[..]),
            headers,
            chain,
        };
        let call = match fill(&mut area) {
            Ok(call) => call,
            Err(e) => return e,
        };
        let ctx = Context {
            now: crate::now(now),
            audiences: &inner.audience_views,
        };
        let mut scratch = Scratch::new(&mut scratch[..]);
        let verdict = inner.run(call, &ctx, &mut scratch, &mut self.response);
        self.status = match verdict {
            kauthn::Verdict::Authenticated => KauthnStatus::Authenticated,
            kauthn::Verdict::NotMine(_) => KauthnStatus::Unauthenticated,
            kauthn::Verdict::Rejected(_) => KauthnStatus::Rejected,
        };
        self.reason = crate::reason(&verdict);
        KauthnResult::Ok
    }
}

/// The input half of a result handle while a call copies its arguments in.
pub(crate) struct InputArea {
    bytes: Scratch<'static>,
    headers: &'static mut heapless::Vec<Header<'static>, KAUTHN_MAX_HEADERS>,
    chain: &'static mut heapless::Vec<&'static [u8], KAUTHN_MAX_CHAIN>,
}

impl InputArea {
    fn copy(&mut self, b: &[u8]) -> Result<&'static [u8], KauthnResult> {
        let dst = self
            .bytes
            .alloc(b.len())
            .map_err(|_| KauthnResult::InputTooLarge)?;
        dst.copy_from_slice(b);
        Ok(dst)
    }

    fn copy_str(&mut self, b: &[u8]) -> Result<&'static str, KauthnResult> {
        let s = self.copy(b)?;
        core::str::from_utf8(s).map_err(|_| KauthnResult::InvalidUtf8)
    }

    fn chain(&mut self, certs: &[&[u8]]) -> Result<&'static [&'static [u8]], KauthnResult> {
        for c in certs {
            let c = self.copy(c)?;
            self.chain
                .push(c)
                .map_err(|_| KauthnResult::InputTooLarge)?;
        }
        let list: *const heapless::Vec<&'static [u8], KAUTHN_MAX_CHAIN> = &raw const *self.chain;
        // SAFETY: reborrows the handle's chain list for the rest of the call; the list is not
        // touched again until the next call clears it, after the response that may borrow
        // these views has been cleared.
        let chain: &'static heapless::Vec<&'static [u8], KAUTHN_MAX_CHAIN> = unsafe { &*list };
        Ok(chain.as_slice())
    }
}

/// Views of the audience strings, stored beside the strings in the same `Inner`.
pub(crate) fn static_views(strings: &[Box<str>]) -> Box<[&'static str]> {
    strings
        .iter()
        .map(|s| {
            let p: *const str = &raw const **s;
            // SAFETY: each `Box<str>` is owned by `Inner::api_audiences`, never mutated, and
            // dropped after `Inner::audience_views` (field order), and heap contents do not
            // move when the boxes themselves move; so the views never dangle while reachable.
            unsafe { &*p }
        })
        .collect()
}

/// A `'static` view of a slice of views owned beside it in the same `Inner`.
pub(crate) fn static_slice(views: &[&'static str]) -> &'static [&'static str] {
    let p: *const [&'static str] = views;
    // SAFETY: `views` is a `Box<[&str]>` that `Inner::_header_views` owns, never mutates,
    // and drops after the authenticators that borrow it (field order); the heap slice does
    // not move when the box does.
    unsafe { &*p }
}

fn boundary(f: impl FnOnce() -> KauthnResult) -> KauthnResult {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(KauthnResult::Panic)
}

/// The bytes of a `kauthn_bytes`, NULL with length 0 being empty.
///
/// SAFETY (callers): `b.data` points to `b.len` readable bytes that stay valid for the call.
unsafe fn bytes<'a>(b: kauthn_bytes) -> Result<&'a [u8], KauthnResult> {
    if b.len == 0 {
        return Ok(&[]);
    }
    if b.data.is_null() {
        return Err(KauthnResult::NullArgument);
    }
    // SAFETY: non-NULL, and the caller promises `len` readable bytes (header docs).
    Ok(unsafe { core::slice::from_raw_parts(b.data, b.len) })
}

/// `None` when `data` is NULL (absent), else the bytes.
unsafe fn optional<'a>(b: kauthn_bytes) -> Option<&'a [u8]> {
    if b.data.is_null() {
        return None;
    }
    // SAFETY: non-NULL; the caller promises `len` readable bytes.
    Some(unsafe { core::slice::from_raw_parts(b.data, b.len) })
}

unsafe fn raw<'a>(data: *const u8, len: usize) -> Result<&'a [u8], KauthnResult> {
    // SAFETY: forwarded caller promise.
    unsafe { bytes(kauthn_bytes { data, len }) }
}

unsafe fn slice<'a, T>(data: *const T, len: usize) -> Result<&'a [T], KauthnResult> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(KauthnResult::NullArgument);
    }
    // SAFETY: non-NULL; the caller promises `len` readable, initialised elements.
    Ok(unsafe { core::slice::from_raw_parts(data, len) })
}

fn utf8(b: &[u8]) -> Result<&str, KauthnResult> {
    core::str::from_utf8(b).map_err(|_| KauthnResult::InvalidUtf8)
}

unsafe fn config_mut<'a>(cfg: *mut Config) -> Result<&'a mut Config, KauthnResult> {
    // SAFETY: the caller passes a pointer from `kauthn_config_new` not yet freed, used by
    // one thread at a time (header docs).
    unsafe { cfg.as_mut() }.ok_or(KauthnResult::NullArgument)
}

/// The body of a config setter that takes one byte string: checks `cfg` and `ptr`/`len`,
/// then lets `set` store the bytes.
///
/// SAFETY (callers): as for `config_mut` and `raw`.
unsafe fn set_config_bytes(
    cfg: *mut Config,
    ptr: *const u8,
    len: usize,
    set: impl FnOnce(&mut Config, &[u8]) -> Result<(), KauthnResult>,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: the caller's promises on `cfg` and `ptr`/`len`, passed on.
        let checked = unsafe { config_mut(cfg).and_then(|c| Ok((c, raw(ptr, len)?))) };
        let (cfg, bytes) = match checked {
            Ok(x) => x,
            Err(code) => return code,
        };
        match set(cfg, bytes) {
            Ok(()) => KauthnResult::Ok,
            Err(code) => code,
        }
    })
}

unsafe fn auth_ref<'a>(auth: *const Authenticator) -> Result<&'a Authenticator, KauthnResult> {
    // SAFETY: the caller passes a pointer from `kauthn_authenticator_new` not yet freed;
    // shared use from many threads is fine (`Authenticator` is `Sync`).
    unsafe { auth.as_ref() }.ok_or(KauthnResult::NullArgument)
}

unsafe fn result_mut<'a>(r: *mut AuthResult) -> Result<&'a mut AuthResult, KauthnResult> {
    // SAFETY: the caller passes a pointer from `kauthn_auth_result_new` not yet freed, used
    // by one thread at a time.
    unsafe { r.as_mut() }.ok_or(KauthnResult::NullArgument)
}

unsafe fn result_ref<'a>(r: *const AuthResult) -> Result<&'a AuthResult, KauthnResult> {
    // SAFETY: as `result_mut`, read-only.
    unsafe { r.as_ref() }.ok_or(KauthnResult::NullArgument)
}

macro_rules! try_ffi {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return code,
        }
    };
}

/// Writes a view's pointer and length, or fails on NULL outputs.
unsafe fn write_view(s: &[u8], out_ptr: *mut *const u8, out_len: *mut usize) -> KauthnResult {
    if out_ptr.is_null() || out_len.is_null() {
        return KauthnResult::NullArgument;
    }
    // SAFETY: both outputs are non-NULL and point to writable storage (caller promise).
    unsafe {
        *out_ptr = s.as_ptr();
        *out_len = s.len();
    }
    KauthnResult::Ok
}

/// Copies `text` into `buf` (not NUL-terminated) and its length into `out_len`; when
/// `buf` is too small, writes only the length needed and returns `BufferTooSmall`.
unsafe fn write_text(text: &str, buf: *mut u8, len: usize, out_len: *mut usize) -> KauthnResult {
    if out_len.is_null() {
        return KauthnResult::NullArgument;
    }
    // SAFETY: `out_len` is non-NULL and writable (caller promise).
    unsafe { *out_len = text.len() };
    if text.len() > len {
        return KauthnResult::BufferTooSmall;
    }
    if text.is_empty() {
        return KauthnResult::Ok;
    }
    if buf.is_null() {
        return KauthnResult::NullArgument;
    }
    // SAFETY: `buf` has `len >= text.len()` writable bytes (caller promise) and cannot
    // overlap our string.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buf, text.len()) };
    KauthnResult::Ok
}

// ---------------------------------------------------------------------------------------
// Messages and version

/// The library version, a NUL-terminated static string such as `"0.1.0"`.
#[unsafe(no_mangle)]
pub extern "C" fn kauthn_version() -> *const core::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Copies the description of `code` into `buf`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_result_message(
    code: KauthnResult,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> KauthnResult {
    // SAFETY: forwarded caller promises on `buf`/`out_len`.
    boundary(|| unsafe { write_text(code.message(), buf, len, out_len) })
}

// ---------------------------------------------------------------------------------------
// Configuration

/// Creates an empty configuration (anonymous off, token cache 10 s for successes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_new(out: *mut *mut Config) -> KauthnResult {
    boundary(|| {
        if out.is_null() {
            return KauthnResult::NullArgument;
        }
        let cfg = Box::into_raw(Box::new(Config::new()));
        // SAFETY: `out` is non-NULL and writable (caller promise).
        unsafe { *out = cfg };
        KauthnResult::Ok
    })
}

/// Frees a configuration. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_free(cfg: *mut Config) {
    let _ = boundary(|| {
        if !cfg.is_null() {
            // SAFETY: `cfg` came from `kauthn_config_new` and is freed once (caller promise).
            drop(unsafe { Box::from_raw(cfg) });
        }
        KauthnResult::Ok
    });
}

/// Sets the client CA bundle (PEM, the contents of `--client-ca-file`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_client_ca_pem(
    cfg: *mut Config,
    pem: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `pem`/`len`.
    unsafe {
        set_config_bytes(cfg, pem, len, |cfg, pem| {
            cfg.client_ca_pem = Some(pem.to_vec());
            Ok(())
        })
    }
}

/// Sets the static token file (CSV, the contents of `--token-auth-file`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_token_file_csv(
    cfg: *mut Config,
    csv: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `csv`/`len`.
    unsafe {
        set_config_bytes(cfg, csv, len, |cfg, csv| {
            cfg.token_file_csv = Some(csv.to_vec());
            Ok(())
        })
    }
}

/// Enables bootstrap token authentication; Secrets are then added at runtime with
/// `kauthn_authenticator_put_bootstrap_secret`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_bootstrap_tokens(
    cfg: *mut Config,
    enabled: bool,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg`.
        let cfg = try_ffi!(unsafe { config_mut(cfg) });
        cfg.bootstrap = enabled;
        KauthnResult::Ok
    })
}

/// Adds one API audience (`--api-audiences`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_add_api_audience(
    cfg: *mut Config,
    audience: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `audience`/`len`.
    unsafe {
        set_config_bytes(cfg, audience, len, |cfg, aud| {
            let aud = utf8(aud)?;
            cfg.api_audiences.push(aud.to_owned());
            Ok(())
        })
    }
}

/// Turns anonymous authentication on or off (`--anonymous-auth`; off by default here).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_anonymous(
    cfg: *mut Config,
    enabled: bool,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg`.
        let cfg = try_ffi!(unsafe { config_mut(cfg) });
        cfg.anonymous = enabled;
        KauthnResult::Ok
    })
}

/// Restricts anonymous requests to this exact path (`anonymous.conditions[].path`); may be
/// called several times.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_add_anonymous_path(
    cfg: *mut Config,
    path: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `path`/`len`.
    unsafe {
        set_config_bytes(cfg, path, len, |cfg, path| {
            let path = utf8(path)?;
            cfg.anonymous_paths.push(path.to_owned());
            Ok(())
        })
    }
}

/// Sets the token cache lifetimes in seconds (0 disables a side; both 0 disables the cache).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_cache_ttls(
    cfg: *mut Config,
    success_secs: i64,
    failure_secs: i64,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg`.
        let cfg = try_ffi!(unsafe { config_mut(cfg) });
        cfg.success_ttl = success_secs.max(0);
        cfg.failure_ttl = failure_secs.max(0);
        KauthnResult::Ok
    })
}

/// Adds a service-account public key file (PEM: public keys, certificates, or private keys
/// whose public part is used — what `--service-account-key-file` accepts). Any key enables
/// legacy service-account tokens.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_add_service_account_key_pem(
    cfg: *mut Config,
    pem: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `pem`/`len`.
    unsafe {
        set_config_bytes(cfg, pem, len, |cfg, pem| {
            cfg.sa_key_pems.push(pem.to_vec());
            Ok(())
        })
    }
}

/// Adds a service-account issuer (`--service-account-issuer`; the first is primary).
/// Issuers enable bound service-account tokens.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_add_service_account_issuer(
    cfg: *mut Config,
    issuer: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `issuer`/`len`.
    unsafe {
        set_config_bytes(cfg, issuer, len, |cfg, iss| {
            let iss = utf8(iss)?;
            cfg.sa_issuers.push(iss.to_owned());
            Ok(())
        })
    }
}

fn opt_string(b: Option<&[u8]>) -> Result<Option<String>, KauthnResult> {
    b.map(|b| utf8(b).map(str::to_owned)).transpose()
}

/// Configures one OIDC provider with `--oidc-*` semantics. Its keys come from
/// `kauthn_config_set_oidc_jwks` and can be replaced later with
/// `kauthn_authenticator_set_oidc_jwks`; until then its tokens are rejected.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_oidc(
    cfg: *mut Config,
    settings: *const kauthn_oidc_settings,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg`.
        let cfg = try_ffi!(unsafe { config_mut(cfg) });
        // SAFETY: caller promise on `settings` (NULL or a valid struct).
        let Some(o) = (unsafe { settings.as_ref() }) else {
            return KauthnResult::NullArgument;
        };
        // SAFETY: every field obeys the `kauthn_bytes` contract (caller promise).
        let fields = unsafe {
            [
                optional(o.issuer_url),
                optional(o.client_id),
                optional(o.username_claim),
                optional(o.username_prefix),
                optional(o.groups_claim),
                optional(o.groups_prefix),
                optional(o.signing_algs),
            ]
        };
        let mut strings = Vec::with_capacity(fields.len());
        for f in fields {
            strings.push(try_ffi!(opt_string(f)));
        }
        let mut it = strings.into_iter();
        let mut next = || it.next().flatten();
        cfg.oidc = Some(crate::OidcSettings {
            issuer_url: next().unwrap_or_default(),
            client_id: next().unwrap_or_default(),
            username_claim: next(),
            username_prefix: next(),
            groups_claim: next(),
            groups_prefix: next(),
            signing_algs: next(),
        });
        KauthnResult::Ok
    })
}

/// Sets the OIDC provider's initial keys (a JWKS document).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_oidc_jwks(
    cfg: *mut Config,
    jwks: *const u8,
    len: usize,
) -> KauthnResult {
    // SAFETY: the caller's promises on `cfg` and `jwks`/`len`.
    unsafe {
        set_config_bytes(cfg, jwks, len, |cfg, jwks| {
            cfg.oidc_jwks = Some(jwks.to_vec());
            Ok(())
        })
    }
}

/// Trusts an authenticating proxy (`--requestheader-*`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_set_requestheader(
    cfg: *mut Config,
    settings: *const kauthn_requestheader_settings,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg`.
        let cfg = try_ffi!(unsafe { config_mut(cfg) });
        // SAFETY: caller promise on `settings` (NULL or a valid struct).
        let Some(r) = (unsafe { settings.as_ref() }) else {
            return KauthnResult::NullArgument;
        };
        // SAFETY: every field obeys the `kauthn_bytes` contract (caller promise).
        let (ca, lists) = try_ffi!(unsafe {
            bytes(r.client_ca_pem).map(|ca| {
                let lists = [
                    optional(r.username_headers),
                    optional(r.uid_headers),
                    optional(r.group_headers),
                    optional(r.extra_header_prefixes),
                    optional(r.allowed_names),
                ];
                (ca, lists)
            })
        });
        let mut parsed = Vec::with_capacity(lists.len());
        for l in lists {
            let s = try_ffi!(opt_string(l)).unwrap_or_default();
            parsed.push(crate::list(&s));
        }
        let mut it = parsed.into_iter();
        let mut next = || it.next().unwrap_or_default();
        cfg.requestheader = Some(crate::RequestHeaderSettings {
            client_ca_pem: ca.to_vec(),
            username_headers: next(),
            uid_headers: next(),
            group_headers: next(),
            extra_header_prefixes: next(),
            allowed_names: next(),
        });
        KauthnResult::Ok
    })
}

/// Copies the reason the last `kauthn_authenticator_new` with this config failed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_config_error_message(
    cfg: *const Config,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg` (read-only use).
        let Some(cfg) = (unsafe { cfg.as_ref() }) else {
            return KauthnResult::NullArgument;
        };
        // SAFETY: caller promises on `buf`/`out_len`.
        unsafe { write_text(&cfg.last_error, buf, len, out_len) }
    })
}

// ---------------------------------------------------------------------------------------
// Authenticator

/// Builds an authenticator from `cfg` (which stays owned by the caller). On
/// `InvalidConfig`, `kauthn_config_error_message` says why.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_new(
    cfg: *mut Config,
    out: *mut *mut Authenticator,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `cfg`.
        let cfg = try_ffi!(unsafe { config_mut(cfg) });
        if out.is_null() {
            return KauthnResult::NullArgument;
        }
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            cfg.last_error = "no random source for the token cache key".to_owned();
            return KauthnResult::InvalidConfig;
        }
        match Authenticator::new(cfg, key) {
            Ok(auth) => {
                cfg.last_error.clear();
                // SAFETY: `out` is non-NULL and writable (caller promise).
                unsafe { *out = Box::into_raw(Box::new(auth)) };
                KauthnResult::Ok
            }
            Err(e) => {
                cfg.last_error = e;
                KauthnResult::InvalidConfig
            }
        }
    })
}

/// Frees an authenticator. Result handles that used it keep what they need alive until
/// they are reused or freed. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_free(auth: *mut Authenticator) {
    let _ = boundary(|| {
        if !auth.is_null() {
            // SAFETY: `auth` came from `kauthn_authenticator_new`, freed once, and no call
            // on it is in progress (caller promise).
            drop(unsafe { Box::from_raw(auth) });
        }
        KauthnResult::Ok
    });
}

/// Adds or replaces a bootstrap token Secret. Needs bootstrap tokens enabled.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_put_bootstrap_secret(
    auth: *const Authenticator,
    secret: *const kauthn_bootstrap_secret,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `auth`.
        let auth = try_ffi!(unsafe { auth_ref(auth) });
        // SAFETY: caller promise on `secret` (NULL or a valid struct).
        let Some(s) = (unsafe { secret.as_ref() }) else {
            return KauthnResult::NullArgument;
        };
        // SAFETY: each field obeys the `kauthn_bytes` contract (caller promise).
        let (id, fields) = try_ffi!(unsafe {
            bytes(s.token_id).map(|id| {
                let fields = [
                    optional(s.token_secret),
                    optional(s.expiration),
                    optional(s.usage_bootstrap_authentication),
                    optional(s.auth_extra_groups),
                ];
                (id, fields)
            })
        });
        let id = try_ffi!(utf8(id));
        let [secret, expiration, usage, groups] = fields;
        let owned = try_ffi!(crate::secret_from_parts(
            id, secret, expiration, usage, groups
        ));
        match auth.put_bootstrap_secret(owned) {
            Ok(()) => KauthnResult::Ok,
            Err(e) => e,
        }
    })
}

/// Replaces the OIDC provider's keys with a new JWKS document without rebuilding the
/// authenticator; calls in progress finish with the keys they started with. On
/// `INVALID_CONFIG` (not a usable JWKS, or OIDC not configured) the old keys stay.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_set_oidc_jwks(
    auth: *const Authenticator,
    jwks: *const u8,
    len: usize,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promises on `auth` and `jwks`/`len`.
        let (auth, jwks) =
            try_ffi!(unsafe { auth_ref(auth).and_then(|a| Ok((a, raw(jwks, len)?))) });
        match auth.set_oidc_jwks(jwks) {
            Ok(()) => KauthnResult::Ok,
            Err(_) => KauthnResult::InvalidConfig,
        }
    })
}

/// Removes the bootstrap token Secret of `token_id`, if present.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_remove_bootstrap_secret(
    auth: *const Authenticator,
    token_id: *const u8,
    len: usize,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promises on `auth` and `token_id`/`len`.
        let (auth, id) =
            try_ffi!(unsafe { auth_ref(auth).and_then(|a| Ok((a, raw(token_id, len)?))) });
        let id = try_ffi!(utf8(id));
        match auth.remove_bootstrap_secret(id) {
            Ok(()) => KauthnResult::Ok,
            Err(e) => e,
        }
    })
}

/// Authenticates a bearer token at `now` (Unix seconds). The outcome is in `result`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_authenticate_token(
    auth: *const Authenticator,
    token: *const u8,
    token_len: usize,
    now: i64,
    result: *mut AuthResult,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promises on every pointer argument.
        let (auth, token, r) = try_ffi!(unsafe {
            auth_ref(auth).and_then(|a| Ok((a, raw(token, token_len)?, result_mut(result)?)))
        });
        r.run(auth, now, |area| Ok(Call::Token(area.copy(token)?)))
    })
}

/// Authenticates a TLS client certificate chain (DER, leaf first) at `now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_authenticate_chain(
    auth: *const Authenticator,
    chain: *const kauthn_bytes,
    chain_len: usize,
    now: i64,
    result: *mut AuthResult,
) -> KauthnResult {
    // SAFETY: forwarded caller promises.
    unsafe {
        kauthn_authenticator_authenticate_request(
            auth,
            core::ptr::null(),
            0,
            chain,
            chain_len,
            core::ptr::null(),
            0,
            now,
            result,
        )
    }
}

/// Authenticates a whole request: headers (for `Authorization` and front-proxy headers),
/// the optional client chain (DER, leaf first), and the URL path, at `now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_authenticator_authenticate_request(
    auth: *const Authenticator,
    headers: *const kauthn_header,
    headers_len: usize,
    chain: *const kauthn_bytes,
    chain_len: usize,
    path: *const u8,
    path_len: usize,
    now: i64,
    result: *mut AuthResult,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promises on every pointer argument.
        let (auth, headers, chain, path, r) = try_ffi!(unsafe {
            auth_ref(auth).and_then(|a| {
                Ok((
                    a,
                    slice(headers, headers_len)?,
                    slice(chain, chain_len)?,
                    raw(path, path_len)?,
                    result_mut(result)?,
                ))
            })
        });
        if headers.len() > KAUTHN_MAX_HEADERS || chain.len() > KAUTHN_MAX_CHAIN {
            return KauthnResult::InputTooLarge;
        }
        r.run(auth, now, |area| {
            for h in headers {
                // SAFETY: each header's bytes obey the `kauthn_bytes` contract.
                let (name, value) = unsafe { (bytes(h.name)?, bytes(h.value)?) };
                let header = Header {
                    name: area.copy_str(name)?,
                    value: area.copy(value)?,
                };
                area.headers
                    .push(header)
                    .map_err(|_| KauthnResult::InputTooLarge)?;
            }
            let mut certs: heapless::Vec<&[u8], KAUTHN_MAX_CHAIN> = heapless::Vec::new();
            for c in chain {
                // SAFETY: each certificate obeys the `kauthn_bytes` contract.
                let der = unsafe { bytes(*c)? };
                certs.push(der).map_err(|_| KauthnResult::InputTooLarge)?;
            }
            let chain = area.chain(&certs)?;
            let path = area.copy_str(path)?;
            let list: *const heapless::Vec<Header<'static>, KAUTHN_MAX_HEADERS> =
                &raw const *area.headers;
            // SAFETY: reborrows the handle's header list for the rest of the call; it is not
            // touched again until the next call clears it, after the response that may
            // borrow these views has been cleared.
            let headers: &'static heapless::Vec<Header<'static>, KAUTHN_MAX_HEADERS> =
                unsafe { &*list };
            Ok(Call::Request {
                headers: headers.as_slice(),
                path,
                chain,
            })
        })
    })
}

// ---------------------------------------------------------------------------------------
// Results

/// Creates a result handle (about 130 KiB: the input copy and scratch space). Reuse it
/// across calls on one thread at a time; a steady-state call then allocates nothing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_new(out: *mut *mut AuthResult) -> KauthnResult {
    boundary(|| {
        if out.is_null() {
            return KauthnResult::NullArgument;
        }
        // SAFETY: `out` is non-NULL and writable (caller promise).
        unsafe { *out = Box::into_raw(Box::new(AuthResult::new())) };
        KauthnResult::Ok
    })
}

/// Frees a result handle; every view taken from it becomes invalid. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_free(result: *mut AuthResult) {
    let _ = boundary(|| {
        if !result.is_null() {
            // SAFETY: `result` came from `kauthn_auth_result_new` and is freed once.
            drop(unsafe { Box::from_raw(result) });
        }
        KauthnResult::Ok
    });
}

/// The status of the last authentication in `result` (`EMPTY` for NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_status(result: *const AuthResult) -> KauthnStatus {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: caller promise on `result`.
        unsafe { result_ref(result) }.map_or(KauthnStatus::Empty, |r| r.status)
    }))
    .unwrap_or(KauthnStatus::Empty)
}

fn authenticated(r: &AuthResult) -> Result<&Response<'static>, KauthnResult> {
    if r.status == KauthnStatus::Authenticated {
        Ok(&r.response)
    } else {
        Err(KauthnResult::OutOfRange)
    }
}

/// Writes the view `get` picks from an authenticated result.
unsafe fn view(
    result: *const AuthResult,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
    get: impl FnOnce(&Response<'static>) -> Option<&'static str>,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `result`.
        let r = try_ffi!(unsafe { result_ref(result) });
        let resp = try_ffi!(authenticated(r));
        let Some(s) = get(resp) else {
            return KauthnResult::OutOfRange;
        };
        // SAFETY: caller promises on the outputs.
        unsafe { write_view(s.as_bytes(), out_ptr, out_len) }
    })
}

/// Counts what `get` counts in an authenticated result; 0 otherwise.
unsafe fn count(result: *const AuthResult, get: impl FnOnce(&Response<'static>) -> usize) -> usize {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: caller promise on `result`.
        let Ok(r) = (unsafe { result_ref(result) }) else {
            return 0;
        };
        authenticated(r).map_or(0, get)
    }))
    .unwrap_or(0)
}

/// The user name (valid until `result` is reused or freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_name(
    result: *const AuthResult,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> KauthnResult {
    // SAFETY: forwarded caller promises.
    unsafe { view(result, out_ptr, out_len, |r| Some(r.user.name)) }
}

/// The user's UID; empty when none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_uid(
    result: *const AuthResult,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> KauthnResult {
    // SAFETY: forwarded caller promises.
    unsafe { view(result, out_ptr, out_len, |r| Some(r.user.uid)) }
}

/// How many groups the user has (0 unless authenticated).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_groups_len(result: *const AuthResult) -> usize {
    // SAFETY: forwarded caller promise.
    unsafe { count(result, |r| r.user.groups.len()) }
}

/// Group `index`, in order.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_group(
    result: *const AuthResult,
    index: usize,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> KauthnResult {
    // SAFETY: forwarded caller promises.
    unsafe {
        view(result, out_ptr, out_len, |r| {
            r.user.groups.as_slice().get(index).copied()
        })
    }
}

/// How many extra keys the user has.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_extra_len(result: *const AuthResult) -> usize {
    // SAFETY: forwarded caller promise.
    unsafe { count(result, |r| r.user.extra.len()) }
}

/// Extra key `index`, in first-insertion order.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_extra_key(
    result: *const AuthResult,
    index: usize,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> KauthnResult {
    // SAFETY: forwarded caller promises.
    unsafe { view(result, out_ptr, out_len, |r| r.user.extra.keys().nth(index)) }
}

/// How many audiences the response is valid for (0: audience-agnostic).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_audiences_len(result: *const AuthResult) -> usize {
    // SAFETY: forwarded caller promise.
    unsafe { count(result, |r| r.audiences.len()) }
}

/// Audience `index`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_audience(
    result: *const AuthResult,
    index: usize,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> KauthnResult {
    // SAFETY: forwarded caller promises.
    unsafe {
        view(result, out_ptr, out_len, |r| {
            r.audiences.as_slice().get(index).copied()
        })
    }
}

/// How many values extra key `key_index` has.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_extra_values_len(
    result: *const AuthResult,
    key_index: usize,
) -> usize {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: caller promise on `result`.
        let Ok(r) = (unsafe { result_ref(result) }) else {
            return 0;
        };
        let Ok(resp) = authenticated(r) else {
            return 0;
        };
        resp.user
            .extra
            .iter()
            .nth(key_index)
            .map_or(0, |(_, v)| v.len())
    }))
    .unwrap_or(0)
}

/// Value `value_index` of extra key `key_index`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_extra_value(
    result: *const AuthResult,
    key_index: usize,
    value_index: usize,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `result`.
        let r = try_ffi!(unsafe { result_ref(result) });
        let resp = try_ffi!(authenticated(r));
        let value = resp
            .user
            .extra
            .iter()
            .nth(key_index)
            .and_then(|(_, values)| values.iter().nth(value_index));
        let Some(value) = value else {
            return KauthnResult::OutOfRange;
        };
        // SAFETY: caller promises on the outputs.
        unsafe { write_view(value.as_bytes(), out_ptr, out_len) }
    })
}

/// Copies why the last authentication did not succeed (upstream's message, e.g.
/// `invalid bearer token`; empty when authenticated or when no strategy said why).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kauthn_auth_result_message(
    result: *const AuthResult,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> KauthnResult {
    boundary(|| {
        // SAFETY: caller promise on `result`.
        let r = try_ffi!(unsafe { result_ref(result) });
        let text = match &r.reason {
            Some(e) if !e.is_empty() => {
                // Messages are short; a fixed buffer keeps this call allocation-free.
                let mut s: heapless::String<512> = heapless::String::new();
                let _ = core::fmt::write(&mut s, format_args!("{e}"));
                s
            }
            _ => heapless::String::new(),
        };
        // SAFETY: caller promises on `buf`/`out_len`.
        unsafe { write_text(&text, buf, len, out_len) }
    })
}
