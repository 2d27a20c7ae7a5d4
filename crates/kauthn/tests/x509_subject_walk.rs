//! `map_subject_into` reads the subject in one walk and falls back to one walk per attribute
//! type for many O values or several UIDs; these pin the results and error precedence that
//! upstream's per-type order (CN, then UID, then O) gives, on both paths.
#![allow(clippy::std_instead_of_core)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "x509_common/mod.rs"]
mod common;

use common::*;
use kauthn::{
    CertificateRef, Error, Limit, Scratch, UidFromCertificate, User, X509Error, map_subject_into,
};

fn leaf(subject: &[Attr]) -> Vec<u8> {
    let key = TestKey::p256(3);
    CertBuilder::new(subject).build(&key, &key)
}

/// BMPString: decoded into the scratch arena, unlike the borrowed string types.
fn bmp(s: &str) -> Vec<u8> {
    let units: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
    tlv(0x1e, &units)
}

#[derive(Debug, PartialEq)]
struct Mapped {
    name: String,
    uid: String,
    groups: Vec<String>,
}

fn map_with(
    der: &[u8],
    scratch_len: usize,
    mode: UidFromCertificate,
) -> Result<Option<Mapped>, Error> {
    let cert = CertificateRef::parse(der).unwrap();
    let mut buf = vec![0u8; scratch_len];
    let mut scratch = Scratch::new(&mut buf);
    let mut user = User::default();
    let mapped = map_subject_into(&cert, &mut scratch, mode, &mut user)?;
    Ok(mapped.then(|| Mapped {
        name: user.name.into(),
        uid: user.uid.into(),
        groups: user.groups.iter().map(String::from).collect(),
    }))
}

fn map(der: &[u8]) -> Result<Option<Mapped>, Error> {
    map_with(der, 512, UidFromCertificate::Enabled)
}

fn groups(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("group-{i}")).collect()
}

#[test]
fn every_o_value_is_a_group_in_order_below_at_and_above_the_single_walk_capacity() {
    for n in [0, 1, 7, 8, 9, 20] {
        let mut attrs: Vec<Attr> = groups(n).iter().map(|g| o(g)).collect();
        // The CN between O values: groups keep DN order around it.
        attrs.insert(n / 2, cn("alice"));
        let got = map(&leaf(&attrs)).unwrap().unwrap();
        assert_eq!(got.name, "alice", "{n} groups");
        assert_eq!(got.groups, groups(n), "{n} groups");
    }
}

#[test]
fn non_string_o_values_are_skipped_on_both_paths() {
    for n in [3, 12] {
        let mut attrs: Vec<Attr> = groups(n).iter().map(|g| o(g)).collect();
        attrs.insert(1, (oids::O, seq(&[&utf8("not a string")])));
        attrs.push(cn("alice"));
        let got = map(&leaf(&attrs)).unwrap().unwrap();
        assert_eq!(got.groups, groups(n), "{n} groups");
    }
}

#[test]
fn the_last_string_cn_wins_and_a_later_non_string_cn_is_ignored() {
    let der = leaf(&[
        cn("first"),
        o("g"),
        cn("second"),
        (oids::CN, seq(&[&utf8("x")])),
    ]);
    assert_eq!(map(&der).unwrap().unwrap().name, "second");
}

#[test]
fn an_empty_cn_is_not_mine_and_leaves_the_user_and_scratch_untouched() {
    // Invalid UIDs and O values after an empty CN are never looked at, as upstream.
    let der = leaf(&[
        o("g1"),
        cn(""),
        uid(""),
        uid("u2"),
        (oids::O, bmp("needs scratch")),
    ]);
    let cert = CertificateRef::parse(&der).unwrap();
    let mut buf = [0u8; 64];
    let mut scratch = Scratch::new(&mut buf);
    let mut user = User::named("previous");
    user.groups.push("kept").unwrap();
    let mapped = map_subject_into(&cert, &mut scratch, UidFromCertificate::Enabled, &mut user);
    assert_eq!(mapped, Ok(false));
    assert_eq!(user.name, "previous");
    assert_eq!(user.groups.as_slice(), ["kept"]);
    assert_eq!(scratch.remaining(), 64);
}

#[test]
fn uid_errors_come_after_the_cn_and_before_the_groups() {
    let nul_o = o("bad\0group");
    // A NUL in the CN is reported before a UID problem.
    let der = leaf(&[cn("a\0b"), uid(""), nul_o.clone()]);
    assert_eq!(map(&der), Err(Error::X509(X509Error::NulInName)));
    // An empty UID is reported before a NUL in a group.
    let der = leaf(&[nul_o.clone(), uid(""), cn("alice")]);
    assert_eq!(map(&der), Err(Error::X509(X509Error::EmptyUid)));
    // So is a NUL in the UID.
    let der = leaf(&[nul_o.clone(), uid("u\0"), cn("alice")]);
    assert_eq!(map(&der), Err(Error::X509(X509Error::NulInName)));
    let der = leaf(&[o("g"), uid("u\0"), cn("alice")]);
    assert_eq!(map(&der), Err(Error::X509(X509Error::NulInName)));
    // With the gate off, UIDs are ignored and the group is what fails.
    let der = leaf(&[nul_o, uid(""), cn("alice")]);
    assert_eq!(
        map_with(&der, 512, UidFromCertificate::Disabled),
        Err(Error::X509(X509Error::NulInName))
    );
}

#[test]
fn several_uids_decide_their_error_in_dn_order() {
    let der = leaf(&[cn("alice"), uid("u1"), uid("u2")]);
    assert_eq!(map(&der), Err(Error::X509(X509Error::MultipleUids)));
    // A non-string UID among several is reported as such, wherever it is.
    let non_string = (oids::UID, seq(&[&utf8("x")]));
    for at in 0..3 {
        let mut attrs = vec![uid("u1"), uid("u2")];
        attrs.insert(at, non_string.clone());
        attrs.push(cn("alice"));
        let der = leaf(&attrs);
        assert_eq!(
            map(&der),
            Err(Error::X509(X509Error::NonStringUid)),
            "non-string UID at {at}"
        );
    }
    // Empty UIDs among several are still "multiple", not "empty".
    let der = leaf(&[cn("alice"), uid(""), uid("")]);
    assert_eq!(map(&der), Err(Error::X509(X509Error::MultipleUids)));
    // The gate off ignores them all.
    let der = leaf(&[cn("alice"), uid("u1"), uid("u2")]);
    let got = map_with(&der, 512, UidFromCertificate::Disabled)
        .unwrap()
        .unwrap();
    assert_eq!(got.uid, "");
}

#[test]
fn scratch_is_used_in_cn_uid_group_order() {
    // "cn" as BMPString needs 2 bytes of scratch, the UID 3, each group 5; the credential id 75.
    let der = leaf(&[
        (oids::O, bmp("group")),
        (oids::UID, bmp("uid")),
        (oids::CN, bmp("cn")),
        (oids::O, bmp("other")),
    ]);
    let full = 2 + 3 + 5 + 5 + 75;
    let got = map_with(&der, full, UidFromCertificate::Enabled)
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Mapped {
            name: "cn".into(),
            uid: "uid".into(),
            groups: vec!["group".into(), "other".into()],
        }
    );
    for short in [1, 2, 5, 10, 15] {
        assert_eq!(
            map_with(&der, short, UidFromCertificate::Enabled),
            Err(Error::LimitExceeded(Limit::Scratch)),
            "{short} bytes"
        );
    }
    assert!(map_with(&der, full - 1, UidFromCertificate::Enabled).is_err());
}
