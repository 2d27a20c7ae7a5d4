//! Token result cache (upstream `k8s.io/apiserver/pkg/authentication/token/cache`).
//!
//! # Shape
//! * Key: HMAC-SHA-256, under a key the embedder draws at random once per process, of
//!   `u32be(len(token)) ‖ token ‖ u32be(len(auds)) ‖ (u32be(len(aud)) ‖ aud)*` with the
//!   request's audiences in order — upstream's exact encoding. The token is never stored.
//! * Storage: 32 stripes chosen by FNV-32 of the key (as upstream), each a set-associative
//!   table of [`CACHE_WAYS`]-entry buckets behind its own lock. A full bucket evicts its
//!   soonest-expiring entry, so capacity is fixed and every operation is O(1).
//! * Entries hold the result serialised into [`CACHE_ENTRY_BYTES`]; a hit copies it into
//!   the caller's [`Scratch`] and rebuilds a borrowed [`Response`]. Lookups and inserts
//!   allocate nothing; the table is allocated once when the cache is built. A result too
//!   large for an entry is returned but not cached.
//!
//! # Beyond upstream
//! A success is cached for `min(success TTL, credential expiry)`: a cached answer never
//! outlives the JWT's `exp` or the bootstrap token's `expiration` it came from.
//!
//! # Single flight
//! As upstream, concurrent misses for one key make one backend call: with the default
//! lock under `std` ([`SyncStripe`]), later callers wait for the first and then read its
//! cached result. Unlike upstream, a result that is not cached (an error, with
//! `cache_errors` off) is not handed to the waiters: each then asks the backend itself.
//! Upstream also caches audit annotations; there are none here.

use core::cell::RefCell;

use alloc::vec::Vec;
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::authenticator::{Context, TokenAuthenticator, Verdict};
use crate::error::{Error, Errors};
use crate::scratch::Scratch;
use crate::time::UnixTime;
use crate::user::Response;

/// Bytes of serialised user one entry holds. 2 KiB fits a service account with every
/// extra, or a user with several dozen groups; larger results are not cached.
pub const CACHE_ENTRY_BYTES: usize = 2048;
/// Entries per bucket: a lookup compares at most this many keys.
pub const CACHE_WAYS: usize = 8;
const STRIPES: usize = 32;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How results are kept (upstream `cache.New(auth, cacheErrs, successTTL, failureTTL)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Seconds a success is kept; 0 disables caching successes.
    pub success_ttl: i64,
    /// Seconds a failure ("not mine", and errors when `cache_errors`) is kept; 0 disables.
    pub failure_ttl: i64,
    /// Whether errors are cached as failures (kube-apiserver's outer cache: yes; the
    /// webhook cache: no).
    pub cache_errors: bool,
    /// Total entries across all stripes (rounded up to whole buckets).
    pub capacity: usize,
}

impl CacheConfig {
    /// kube-apiserver's outer token cache: successes 10 s, failures not cached, errors
    /// cacheable.
    pub const KUBE_APISERVER: CacheConfig = CacheConfig {
        success_ttl: 10,
        failure_ttl: 0,
        cache_errors: true,
        capacity: 4096,
    };

    /// kube-apiserver's webhook cache with `ttl` on both sides and errors never cached.
    pub const fn webhook(ttl: i64) -> CacheConfig {
        CacheConfig {
            success_ttl: ttl,
            failure_ttl: ttl,
            cache_errors: false,
            capacity: 4096,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Authenticated,
    NotMine(Option<Error>),
}

#[derive(Clone)]
struct Entry {
    key: [u8; 32],
    // The first second at which the entry is stale.
    expires: i64,
    used: bool,
    kind: Kind,
    errors: Errors,
    len: u16,
    blob: [u8; CACHE_ENTRY_BYTES],
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            key: [0; 32],
            expires: 0,
            used: false,
            kind: Kind::Authenticated,
            errors: Errors::new(),
            len: 0,
            blob: [0; CACHE_ENTRY_BYTES],
        }
    }
}

/// One stripe of the cache: buckets of [`CACHE_WAYS`] entries.
pub struct Stripe {
    entries: Vec<Entry>,
    // Keys whose backend call is under way (single flight). Bounded: when full, further
    // misses are not coalesced. Only the `std` lock (`SyncStripe`) reads it.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    in_flight: heapless::Vec<[u8; 32], MAX_IN_FLIGHT>,
}

/// Most keys per stripe whose backend calls are coalesced at once.
const MAX_IN_FLIGHT: usize = 32;

impl core::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stripe")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl Stripe {
    fn new(buckets: usize) -> Self {
        Stripe {
            entries: alloc::vec![Entry::default(); buckets.max(1) * CACHE_WAYS],
            in_flight: heapless::Vec::new(),
        }
    }

    fn bucket(&mut self, key: &[u8; 32]) -> &mut [Entry] {
        let buckets = self.entries.len() / CACHE_WAYS;
        let mut b = [0u8; 4];
        b.copy_from_slice(key.get(4..8).unwrap_or(&[0; 4]));
        let i = (u32::from_le_bytes(b) as usize) % buckets.max(1);
        self.entries
            .get_mut(i * CACHE_WAYS..(i + 1) * CACHE_WAYS)
            .unwrap_or_default()
    }
}

/// A lock around a [`Stripe`], so the cache works with `std::sync::Mutex` on servers and
/// with a `RefCell` where there are no threads.
pub trait StripeLock {
    /// Wraps a stripe.
    fn new(stripe: Stripe) -> Self;
    /// Runs `f` with the stripe locked.
    fn with<R>(&self, f: impl FnOnce(&mut Stripe) -> R) -> R;

    /// Waits while another caller's backend call for `key` is under way, then marks the
    /// key as ours. Returns whether it was marked (and so must be released). The default
    /// does not coalesce.
    fn claim(&self, key: &[u8; 32]) -> bool {
        let _ = key;
        false
    }

    /// Ends the backend call for `key` and wakes its waiters.
    fn release(&self, key: &[u8; 32]) {
        let _ = key;
    }
}

/// A stripe behind a mutex with a condition variable, so concurrent misses for one key
/// wait for the first caller's backend call (upstream's single flight).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct SyncStripe {
    stripe: std::sync::Mutex<Stripe>,
    done: std::sync::Condvar,
}

#[cfg(feature = "std")]
impl SyncStripe {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stripe> {
        // See the `Mutex` impl below for why poison is cleared.
        self.stripe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(feature = "std")]
impl StripeLock for SyncStripe {
    fn new(stripe: Stripe) -> Self {
        SyncStripe {
            stripe: std::sync::Mutex::new(stripe),
            done: std::sync::Condvar::new(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Stripe) -> R) -> R {
        f(&mut self.lock())
    }

    fn claim(&self, key: &[u8; 32]) -> bool {
        let mut guard = self.lock();
        // No timeout: the leader always releases (a drop guard, even when the backend
        // panics), and a waiter that gave up would only call the same slow backend itself.
        while guard.in_flight.contains(key) {
            guard = self
                .done
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        guard.in_flight.push(*key).is_ok()
    }

    fn release(&self, key: &[u8; 32]) {
        let mut guard = self.lock();
        guard.in_flight.retain(|k| k != key);
        drop(guard);
        self.done.notify_all();
    }
}

/// Releases a claimed key when the backend call ends, also by panic.
struct Release<'l, L: StripeLock> {
    lock: &'l L,
    key: [u8; 32],
    claimed: bool,
}

impl<L: StripeLock> Drop for Release<'_, L> {
    fn drop(&mut self) {
        if self.claimed {
            self.lock.release(&self.key);
        }
    }
}

impl StripeLock for RefCell<Stripe> {
    fn new(stripe: Stripe) -> Self {
        RefCell::new(stripe)
    }
    fn with<R>(&self, f: impl FnOnce(&mut Stripe) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

#[cfg(feature = "std")]
impl StripeLock for std::sync::Mutex<Stripe> {
    fn new(stripe: Stripe) -> Self {
        std::sync::Mutex::new(stripe)
    }
    fn with<R>(&self, f: impl FnOnce(&mut Stripe) -> R) -> R {
        // A panic while holding the lock leaves at worst one half-written entry, whose
        // key no longer matches what it holds only if the panic hit mid-copy; clearing
        // the poison and carrying on is safer for an auth server than failing every
        // request.
        let mut guard = self
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

/// The lock used by default: a mutex with single flight under `std`, a `RefCell` without.
#[cfg(feature = "std")]
pub type DefaultStripeLock = SyncStripe;
/// The lock used by default: a mutex with `std`, a `RefCell` without.
#[cfg(not(feature = "std"))]
pub type DefaultStripeLock = RefCell<Stripe>;

/// A token authenticator with a result cache in front (upstream `cache.New`).
pub struct CachedTokenAuthenticator<T, L = DefaultStripeLock> {
    inner: T,
    mac: HmacSha256,
    config: CacheConfig,
    stripes: Vec<L>,
}

impl<T, L> core::fmt::Debug for CachedTokenAuthenticator<T, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CachedTokenAuthenticator")
            .field("config", &self.config)
            .finish()
    }
}

impl<T: TokenAuthenticator, L: StripeLock> CachedTokenAuthenticator<T, L> {
    /// Caches `inner`'s results. `hmac_key` must be random and secret, drawn once per
    /// process (the core has no random source of its own).
    pub fn new(inner: T, hmac_key: [u8; 32], config: CacheConfig) -> Self {
        let buckets = config.capacity.div_ceil(STRIPES * CACHE_WAYS);
        let stripes = (0..STRIPES).map(|_| L::new(Stripe::new(buckets))).collect();
        // HMAC pads a short key with zeros to the block size; doing it here makes the
        // construction infallible.
        let mut block = [0u8; 64];
        for (d, s) in block.iter_mut().zip(hmac_key) {
            *d = s;
        }
        let mac = HmacSha256::new(&block.into());
        CachedTokenAuthenticator {
            inner,
            mac,
            config,
            stripes,
        }
    }

    /// The wrapped authenticator.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The cache key of `token` under `audiences` (exposed for tests and diagnostics).
    pub fn key(&self, token: &[u8], audiences: &[&str]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
        mac.update(&len(token.len()));
        mac.update(token);
        mac.update(&len(audiences.len()));
        for aud in audiences {
            mac.update(&len(aud.len()));
            mac.update(aud.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    fn stripe(&self, key: &[u8; 32]) -> Option<&L> {
        // FNV-32 (not 32a), as upstream picks its stripe.
        let mut h: u32 = 0x811c_9dc5;
        for b in key {
            h = h.wrapping_mul(0x0100_0193);
            h ^= u32::from(*b);
        }
        self.stripes.get((h as usize) % STRIPES)
    }

    fn lookup<'a>(
        &self,
        key: &[u8; 32],
        now: UnixTime,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Option<Verdict> {
        let stripe = self.stripe(key)?;
        let hit = stripe.with(|s| {
            let e = s
                .bucket(key)
                .iter()
                .find(|e| e.used && bool::from(e.key.ct_eq(key)) && now.as_secs() < e.expires)?;
            Some(match e.kind {
                Kind::NotMine(reason) if e.errors.is_empty() => Ok(Verdict::NotMine(reason)),
                Kind::NotMine(_) => Ok(Verdict::Rejected(e.errors.clone())),
                Kind::Authenticated => {
                    let blob = e.blob.get(..usize::from(e.len))?;
                    let copy = scratch.alloc(blob.len()).ok()?;
                    copy.copy_from_slice(blob);
                    Err(copy)
                }
            })
        })?;
        match hit {
            Ok(verdict) => Some(verdict),
            Err(blob) => decode(blob, out).map(|()| Verdict::Authenticated),
        }
    }

    fn store(&self, key: &[u8; 32], now: UnixTime, verdict: &Verdict, response: &Response<'_>) {
        let c = &self.config;
        // Encoded here, outside the stripe lock, so that the lock is held only for a copy of
        // the `len` encoded bytes, not for the encoding.
        let mut blob = [0u8; CACHE_ENTRY_BYTES];
        let (kind, errors, ttl, len, cap) = match verdict {
            Verdict::Authenticated => {
                let Some(len) = encode(response, &mut blob) else {
                    return;
                };
                (
                    Kind::Authenticated,
                    Errors::new(),
                    c.success_ttl,
                    len,
                    response.expires_at,
                )
            }
            Verdict::NotMine(reason) => (
                Kind::NotMine(*reason),
                Errors::new(),
                c.failure_ttl,
                0,
                None,
            ),
            Verdict::Rejected(_) if !c.cache_errors => return,
            Verdict::Rejected(e) => (Kind::NotMine(None), e.clone(), c.failure_ttl, 0, None),
        };
        if ttl <= 0 {
            return;
        }
        let mut expires = now.as_secs().saturating_add(ttl);
        if let Some(cap) = cap {
            expires = expires.min(cap.as_secs());
        }
        if expires <= now.as_secs() {
            return;
        }
        let Some(stripe) = self.stripe(key) else {
            return;
        };
        stripe.with(|s| {
            let bucket = s.bucket(key);
            let now = now.as_secs();
            let slot = match bucket.iter().position(|e| e.used && e.key == *key) {
                Some(i) => Some(i),
                None => bucket
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| {
                        if !e.used || e.expires <= now {
                            i64::MIN
                        } else {
                            e.expires
                        }
                    })
                    .map(|(i, _)| i),
            };
            if let Some(e) = slot.and_then(|i| bucket.get_mut(i)) {
                e.key = *key;
                e.expires = expires;
                e.used = true;
                e.kind = kind;
                e.errors = errors;
                e.len = u16::try_from(len).unwrap_or(0);
                if let (Some(dst), Some(src)) = (e.blob.get_mut(..len), blob.get(..len)) {
                    dst.copy_from_slice(src);
                }
            }
        });
    }
}

impl<T: TokenAuthenticator, L: StripeLock> TokenAuthenticator for CachedTokenAuthenticator<T, L> {
    fn authenticate_token_into<'a>(
        &'a self,
        token: &'a [u8],
        ctx: &Context<'a>,
        scratch: &mut Scratch<'a>,
        out: &mut Response<'a>,
    ) -> Verdict {
        let key = self.key(token, ctx.audiences);
        if let Some(hit) = self.lookup(&key, ctx.now, scratch, out) {
            return hit;
        }
        let Some(lock) = self.stripe(&key) else {
            return self.inner.authenticate_token_into(token, ctx, scratch, out);
        };
        // Single flight: wait for a call under way for this key, then look again.
        let release = Release {
            lock,
            key,
            claimed: lock.claim(&key),
        };
        if release.claimed {
            if let Some(hit) = self.lookup(&key, ctx.now, scratch, out) {
                return hit;
            }
        }
        let verdict = self.inner.authenticate_token_into(token, ctx, scratch, out);
        self.store(&key, ctx.now, &verdict, out);
        drop(release);
        verdict
    }
}

// Serialised response: counts, then length-prefixed strings. Lengths are u16: an entry is
// 2 KiB, so nothing longer could fit anyway.
struct Writer<'b> {
    out: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) -> Option<()> {
        let end = self.at.checked_add(b.len())?;
        self.out.get_mut(self.at..end)?.copy_from_slice(b);
        self.at = end;
        Some(())
    }
    fn u16(&mut self, n: usize) -> Option<()> {
        self.bytes(&u16::try_from(n).ok()?.to_le_bytes())
    }
    fn str(&mut self, s: &str) -> Option<()> {
        self.u16(s.len())?;
        self.bytes(s.as_bytes())
    }
}

fn encode(r: &Response<'_>, out: &mut [u8]) -> Option<usize> {
    let mut w = Writer { out, at: 0 };
    let u = &r.user;
    w.bytes(
        &r.expires_at
            .map_or(i64::MIN, UnixTime::as_secs)
            .to_le_bytes(),
    )?;
    w.str(u.name)?;
    w.str(u.uid)?;
    w.u16(u.groups.len())?;
    for g in u.groups.iter() {
        w.str(g)?;
    }
    w.u16(u.extra.len())?;
    for (k, values) in u.extra.iter() {
        w.str(k)?;
        w.u16(values.len())?;
        for v in values.iter() {
            w.str(v)?;
        }
    }
    w.u16(r.audiences.len())?;
    for a in r.audiences.as_slice() {
        w.str(a)?;
    }
    Some(w.at)
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.rest.get(..n)?, self.rest.get(n..)?);
        self.rest = tail;
        Some(head)
    }
    fn u16(&mut self) -> Option<usize> {
        let b = self.take(2)?;
        Some(usize::from(u16::from_le_bytes([*b.first()?, *b.get(1)?])))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u16()?;
        core::str::from_utf8(self.take(n)?).ok()
    }
}

fn decode<'a>(blob: &'a [u8], out: &mut Response<'a>) -> Option<()> {
    let mut r = Reader { rest: blob };
    let mut exp = [0u8; 8];
    exp.copy_from_slice(r.take(8)?);
    let exp = i64::from_le_bytes(exp);
    out.clear();
    out.expires_at = (exp != i64::MIN).then_some(UnixTime::from_secs(exp));
    let u = &mut out.user;
    u.name = r.str()?;
    u.uid = r.str()?;
    for _ in 0..r.u16()? {
        u.groups.push(r.str()?).ok()?;
    }
    for _ in 0..r.u16()? {
        let k = r.str()?;
        let n = r.u16()?;
        if n == 0 {
            u.extra.push_key(k).ok()?;
        }
        for _ in 0..n {
            u.extra.push(k, r.str()?).ok()?;
        }
    }
    for _ in 0..r.u16()? {
        out.audiences.push(r.str()?).ok()?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{Audiences, Extra, Groups, User};

    #[test]
    fn responses_survive_a_round_trip() {
        let mut extra = Extra::new();
        extra.push("k", "v1").unwrap();
        extra.push("k", "v2").unwrap();
        extra.push_key("empty").unwrap();
        let r = Response {
            user: User {
                name: "n",
                uid: "u",
                groups: Groups::from_slice(&["a", "b"]).unwrap(),
                extra,
            },
            audiences: Audiences::from_slice(&["aud"]).unwrap(),
            expires_at: Some(UnixTime::from_secs(42)),
        };
        let mut buf = [0u8; 256];
        let n = encode(&r, &mut buf).unwrap();
        let mut back = Response::default();
        decode(&buf[..n], &mut back).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn oversized_responses_do_not_encode() {
        let long = "x".repeat(CACHE_ENTRY_BYTES);
        let r = Response::new(User::named(&long));
        let mut buf = [0u8; CACHE_ENTRY_BYTES];
        assert_eq!(encode(&r, &mut buf), None);
    }
}
