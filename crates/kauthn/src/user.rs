//! The user model: name, uid, ordered groups, extra, and audiences, with fixed capacities.
//!
//! Upstream: `k8s.io/apiserver/pkg/authentication/user/user.go` and
//! `authenticator.Response`. Strings are borrowed from the configuration, the credential or
//! the caller's [`crate::Scratch`]; collections have named capacities whose overflow is
//! [`Error::LimitExceeded`].

use core::fmt;

use crate::error::{Error, Limit};

/// The anonymous user name.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// The group every anonymous request is in.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// The group appended to every authenticated, non-anonymous user.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// The extra key that identifies the credential (`X509SHA256=…`, `JTI=…`).
pub const CREDENTIAL_ID_KEY: &str = "authentication.kubernetes.io/credential-id";

/// Most groups one user carries. OIDC providers cap group claims near 200 (larger sets are
/// sent as an overage reference instead), so 256 fits every real identity in 4 KiB.
pub const MAX_GROUPS: usize = 256;
/// Most extra key/value pairs one user carries. Service accounts use six; authenticating
/// proxies rarely pass more than a handful.
pub const MAX_EXTRA_VALUES: usize = 64;
/// Most audiences in one response. kube-apiserver is normally given one or two.
pub const MAX_AUDIENCES: usize = 16;

/// The ordered groups of a user. Upstream distinguishes a nil list from an empty one only in
/// its tests; here both are empty.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Groups<'a>(heapless::Vec<&'a str, MAX_GROUPS>);

impl<'a> Groups<'a> {
    /// No groups.
    pub const fn new() -> Self {
        Groups(heapless::Vec::new())
    }

    /// Groups from a list; more than [`MAX_GROUPS`] is an error.
    pub fn from_slice(groups: &[&'a str]) -> Result<Self, Error> {
        let mut g = Groups::new();
        for s in groups {
            g.push(s)?;
        }
        Ok(g)
    }

    /// Appends a group.
    pub fn push(&mut self, group: &'a str) -> Result<(), Error> {
        self.0
            .push(group)
            .map_err(|_| Error::LimitExceeded(Limit::Groups))
    }

    /// Removes every group.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// True when `group` is present.
    pub fn contains(&self, group: &str) -> bool {
        self.0.contains(&group)
    }

    /// The groups in order.
    pub fn as_slice(&self) -> &[&'a str] {
        &self.0
    }

    /// The groups in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.0.iter().copied()
    }

    /// How many groups.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Groups<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct ExtraEntry<'a> {
    key: &'a str,
    // None records a key that is present with an empty value list.
    value: Option<&'a str>,
}

/// A user's extra attributes: keys in first-insertion order, each with its values in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extra<'a>(heapless::Vec<ExtraEntry<'a>, MAX_EXTRA_VALUES>);

impl<'a> Extra<'a> {
    /// No extra attributes.
    pub const fn new() -> Self {
        Extra(heapless::Vec::new())
    }

    /// Appends `value` to the values of `key`.
    pub fn push(&mut self, key: &'a str, value: &'a str) -> Result<(), Error> {
        // A key recorded with no values yet takes its first value in place. (Entries with a
        // value, nearly all of them, are passed over before their keys are compared.)
        if let Some(e) = self
            .0
            .iter_mut()
            .find(|e| e.value.is_none() && e.key == key)
        {
            e.value = Some(value);
            return Ok(());
        }
        self.0
            .push(ExtraEntry {
                key,
                value: Some(value),
            })
            .map_err(|_| Error::LimitExceeded(Limit::ExtraValues))
    }

    /// Records `key` with no values (upstream keeps such keys in TokenReview responses).
    pub fn push_key(&mut self, key: &'a str) -> Result<(), Error> {
        if self.contains_key(key) {
            return Ok(());
        }
        self.0
            .push(ExtraEntry { key, value: None })
            .map_err(|_| Error::LimitExceeded(Limit::ExtraValues))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|e| e.key == key)
    }

    /// The values of `key`, in order.
    pub fn get<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.0
            .iter()
            .filter(move |e| e.key == key)
            .filter_map(|e| e.value)
    }

    /// The distinct keys, in first-insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, e)| !self.0.iter().take(*i).any(|p| p.key == e.key))
            .map(|(_, e)| e.key)
    }

    /// Every key with its values, keys in first-insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, ExtraValues<'a, '_>)> + '_ {
        self.keys().map(|k| {
            (
                k,
                ExtraValues {
                    entries: &self.0,
                    key: k,
                },
            )
        })
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of distinct keys.
    pub fn len(&self) -> usize {
        self.keys().count()
    }
}

/// The values of one extra key.
#[derive(Clone, Copy)]
pub struct ExtraValues<'a, 's> {
    entries: &'s [ExtraEntry<'a>],
    key: &'a str,
}

impl<'a> ExtraValues<'a, '_> {
    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        let key = self.key;
        self.entries
            .iter()
            .filter(move |e| e.key == key)
            .filter_map(|e| e.value)
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when the key has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for ExtraValues<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Debug for Extra<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// An authenticated identity (upstream `user.DefaultInfo`).
// `repr(C)` and this field order keep a fresh user from costing a 4–6 KiB `memset`: each
// collection is a zero length followed by an uninitialised buffer, and when two zero
// lengths enclose a buffer, LLVM merges the two stores and the undefined bytes between them
// into one `memset` of the whole buffer. The empty strings between the collections store a
// non-zero (dangling) pointer, which stops that merge. (Counted with valgrind on
// `benches/examples/sa_non_signature.rs`: about 6 200 fewer instructions per token.)
#[derive(Clone, Default, PartialEq, Eq)]
#[repr(C)]
pub struct User<'a> {
    /// Groups in order.
    pub groups: Groups<'a>,
    /// The user name.
    pub name: &'a str,
    /// Extra attributes.
    pub extra: Extra<'a>,
    /// The user's unique id; may be empty.
    pub uid: &'a str,
}

impl<'a> User<'a> {
    /// A user with a name and nothing else.
    pub fn named(name: &'a str) -> Self {
        User {
            name,
            ..User::default()
        }
    }

    /// Empties every field in place (cheaper than assigning a new user: the collections
    /// only reset their lengths).
    pub fn clear(&mut self) {
        self.name = "";
        self.uid = "";
        self.groups.clear();
        self.extra.clear();
    }
}

impl fmt::Debug for User<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("uid", &self.uid)
            .field("groups", &self.groups)
            .field("extra", &self.extra)
            .finish()
    }
}

/// The audiences a response is valid for (upstream `authenticator.Audiences`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Audiences<'a>(heapless::Vec<&'a str, MAX_AUDIENCES>);

impl<'a> Audiences<'a> {
    /// No audiences.
    pub const fn new() -> Self {
        Audiences(heapless::Vec::new())
    }

    /// Audiences from a list; more than [`MAX_AUDIENCES`] is an error.
    pub fn from_slice(auds: &[&'a str]) -> Result<Self, Error> {
        let mut a = Audiences::new();
        for s in auds {
            a.push(s)?;
        }
        Ok(a)
    }

    /// Appends an audience.
    pub fn push(&mut self, aud: &'a str) -> Result<(), Error> {
        self.0
            .push(aud)
            .map_err(|_| Error::LimitExceeded(Limit::Audiences))
    }

    /// Upstream `Audiences.Intersect`: the elements of `target`, in `target`'s order and with
    /// its duplicates, that are present in `implicit`.
    pub fn intersect<S: AsRef<str>>(implicit: &[S], target: &[&'a str]) -> Result<Self, Error> {
        let mut out = Audiences::new();
        for t in target {
            if implicit.iter().any(|i| i.as_ref() == *t) {
                out.push(t)?;
            }
        }
        Ok(out)
    }

    /// Removes every audience.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// True when `aud` is present.
    pub fn contains(&self, aud: &str) -> bool {
        self.0.contains(&aud)
    }

    /// The audiences in order.
    pub fn as_slice(&self) -> &[&'a str] {
        &self.0
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many audiences.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Audiences<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

/// A successful authentication (upstream `authenticator.Response`).
// `repr(C)` and this field order: see `User`. The audiences' buffer comes last, so no zero
// store follows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Response<'a> {
    /// Who the request is from.
    pub user: User<'a>,
    /// When the credential itself stops being valid (a JWT's `exp`, a bootstrap token's
    /// `expiration`), if it says. Upstream has no such field; the token cache uses it so a
    /// cached success never outlives its credential.
    pub expires_at: Option<crate::time::UnixTime>,
    /// The audiences the credential is valid for; empty means audience-agnostic.
    pub audiences: Audiences<'a>,
}

impl<'a> Response<'a> {
    /// Empties every field in place.
    pub fn clear(&mut self) {
        self.user.clear();
        self.audiences.clear();
        self.expires_at = None;
    }

    /// A response for `user` with no audiences.
    pub fn new(user: User<'a>) -> Self {
        Response {
            user,
            audiences: Audiences::new(),
            expires_at: None,
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

    use super::{Audiences, Extra, ExtraValues, Groups, User};

    impl Serialize for Groups<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter())
        }
    }

    impl Serialize for Audiences<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.as_slice().iter())
        }
    }

    impl Serialize for ExtraValues<'_, '_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(None)?;
            for v in self.iter() {
                seq.serialize_element(v)?;
            }
            seq.end()
        }
    }

    impl Serialize for Extra<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(None)?;
            for (k, v) in self.iter() {
                map.serialize_entry(k, &v)?;
            }
            map.end()
        }
    }

    /// The `authentication.k8s.io/v1` `UserInfo` shape: empty fields are omitted.
    impl Serialize for User<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("UserInfo", 4)?;
            if self.name.is_empty() {
                st.skip_field("username")?;
            } else {
                st.serialize_field("username", self.name)?;
            }
            if self.uid.is_empty() {
                st.skip_field("uid")?;
            } else {
                st.serialize_field("uid", self.uid)?;
            }
            if self.groups.is_empty() {
                st.skip_field("groups")?;
            } else {
                st.serialize_field("groups", &self.groups)?;
            }
            if self.extra.is_empty() {
                st.skip_field("extra")?;
            } else {
                st.serialize_field("extra", &self.extra)?;
            }
            st.end()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_keeps_target_order_and_duplicates() {
        let a = Audiences::intersect(&["a", "b"], &["b", "c", "a", "b"]).unwrap();
        assert_eq!(a.as_slice(), &["b", "a", "b"]);
    }

    #[test]
    fn extra_keys_keep_first_insertion_order() {
        let mut e = Extra::new();
        e.push("k2", "v1").unwrap();
        e.push("k1", "x").unwrap();
        e.push("k2", "v2").unwrap();
        assert_eq!(
            e.keys().collect::<heapless::Vec<_, 4>>().as_slice(),
            &["k2", "k1"]
        );
        assert_eq!(
            e.get("k2").collect::<heapless::Vec<_, 4>>().as_slice(),
            &["v1", "v2"]
        );
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn too_many_groups_is_a_named_limit_error() {
        let mut g = Groups::new();
        for _ in 0..MAX_GROUPS {
            g.push("g").unwrap();
        }
        assert_eq!(g.push("g"), Err(Error::LimitExceeded(Limit::Groups)));
    }
}
