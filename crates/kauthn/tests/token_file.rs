//! Upstream `tokenfile_test.go` (spec §13.1) and the confirmed extra vectors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation
)]

use kauthn::{
    Context, Outcome, OwnedTokenFile, Scratch, TokenAuthenticator, TokenFile, TokenFileErrorKind,
    UnixTime,
};

#[derive(Debug, PartialEq)]
struct Got {
    name: String,
    uid: String,
    groups: Vec<String>,
}

fn lookup(file: &OwnedTokenFile, token: &[u8]) -> Option<Got> {
    let mut buf = [0u8; 1024];
    let mut scratch = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(0));
    match file.authenticate_token(token, &ctx, &mut scratch) {
        Outcome::Authenticated(r) => {
            assert!(r.audiences.is_empty());
            assert!(r.user.extra.is_empty());
            Some(Got {
                name: r.user.name.into(),
                uid: r.user.uid.into(),
                groups: r.user.groups.iter().map(String::from).collect(),
            })
        }
        Outcome::NotMine(None) => None,
        other => panic!("unexpected outcome {other:?}"),
    }
}

fn got(name: &str, uid: &str, groups: &[&str]) -> Option<Got> {
    Some(Got {
        name: name.into(),
        uid: uid.into(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn upstream_token_file_table_authenticates_every_row() {
    let csv = "\ntoken1,user1,uid1\ntoken2,user2,uid2\ntoken3,user3,uid3,\"group1,group2\"\ntoken4,user4,uid4,\"group2\"\ntoken5,user5,uid5,group5\ntoken6,user6,uid6,group5,otherdata\ntoken7,user7,uid7,\"group1,group2\",otherdata\n";
    let f = OwnedTokenFile::parse(csv).unwrap();
    assert_eq!(f.len(), 7);
    assert_eq!(lookup(&f, b"token1"), got("user1", "uid1", &[]));
    assert_eq!(lookup(&f, b"token2"), got("user2", "uid2", &[]));
    assert_eq!(
        lookup(&f, b"token3"),
        got("user3", "uid3", &["group1", "group2"])
    );
    assert_eq!(lookup(&f, b"token4"), got("user4", "uid4", &["group2"]));
    assert_eq!(lookup(&f, b"token5"), got("user5", "uid5", &["group5"]));
    assert_eq!(lookup(&f, b"token6"), got("user6", "uid6", &["group5"]));
    assert_eq!(
        lookup(&f, b"token7"),
        got("user7", "uid7", &["group1", "group2"])
    );
    assert_eq!(lookup(&f, b"token8"), None);
}

#[test]
fn bad_token_file_with_two_column_record_fails_to_load() {
    let e = OwnedTokenFile::parse("\ntoken1,user1,uid1\ntoken2,user2,uid2\ntoken3,user3\ntoken4\n")
        .unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::TooFewColumns { found: 2 });
    assert_eq!((e.line, e.column), (4, 13));
    assert_eq!(
        e.with_path("/etc/tokens.csv").to_string(),
        "token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user uid), found 2 (line 4, column 13)"
    );
}

#[test]
fn insufficient_columns_message_matches_upstream() {
    let e = OwnedTokenFile::parse("token4\n").unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::TooFewColumns { found: 1 });
    assert!(e.with_path("p").to_string().starts_with(
        "token file 'p' must have at least 3 columns (token, user name, user uid), found 1"
    ));
}

#[test]
fn empty_token_records_are_skipped() {
    let f = OwnedTokenFile::parse(",user5,uid5\n").unwrap();
    assert_eq!((f.len(), f.empty_tokens()), (0, 1));
    assert_eq!(lookup(&f, b""), None);
}

#[test]
fn later_duplicate_wins_and_crlf_is_a_line_break() {
    let f = OwnedTokenFile::parse("a,u1,i1\r\na,u2,i2\r\n").unwrap();
    assert_eq!((f.len(), f.duplicates()), (1, 1));
    assert_eq!(lookup(&f, b"a"), got("u2", "i2", &[]));
}

#[test]
fn whitespace_only_line_is_a_one_field_record() {
    let e = OwnedTokenFile::parse("a,u,i\n   \nb,u,i\n").unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::TooFewColumns { found: 1 });
    assert_eq!(e.line, 2);
}

#[test]
fn quoted_fields_hold_newlines_commas_and_doubled_quotes() {
    let f = OwnedTokenFile::parse("\"x\ny\",u,i\n").unwrap();
    assert_eq!(lookup(&f, b"x\ny"), got("u", "i", &[]));
    let f = OwnedTokenFile::parse("a,\"u,v\",i\n").unwrap();
    assert_eq!(lookup(&f, b"a"), got("u,v", "i", &[]));
    let f = OwnedTokenFile::parse("a,\"u\"\"q\",i\n").unwrap();
    assert_eq!(lookup(&f, b"a"), got("u\"q", "i", &[]));
    let f = OwnedTokenFile::parse("\"x\r\ny\",u,i\r\n").unwrap();
    assert_eq!(lookup(&f, b"x\ny"), got("u", "i", &[]));
    assert_eq!(lookup(&f, b"x\r\ny"), None);
}

#[test]
fn csv_parse_errors_use_gos_wording_and_positions() {
    let e = OwnedTokenFile::parse("a\"b,u,i\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "parse error on line 1, column 2: bare \" in non-quoted-field"
    );
    let e = OwnedTokenFile::parse("a,\"u\"x,i\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
    );
}

#[test]
fn byte_order_mark_is_part_of_the_first_token() {
    let f = OwnedTokenFile::parse("\u{feff}a,u,i").unwrap();
    assert_eq!(lookup(&f, b"a"), None);
    assert_eq!(lookup(&f, "\u{feff}a".as_bytes()), got("u", "i", &[]));
}

#[test]
fn nothing_is_trimmed() {
    let f = OwnedTokenFile::parse("a , u , i , g1, g2\n").unwrap();
    assert_eq!(lookup(&f, b"a "), got(" u ", " i ", &[" g1"]));
    let f = OwnedTokenFile::parse("a,u,i,\" g1 , g2 \"").unwrap();
    assert_eq!(lookup(&f, b"a"), got("u", "i", &[" g1 ", " g2 "]));
}

#[test]
fn empty_fourth_column_is_one_empty_group() {
    let f = OwnedTokenFile::parse("t9,u9,id9,\n").unwrap();
    assert_eq!(lookup(&f, b"t9"), got("u9", "id9", &[""]));
    let f = OwnedTokenFile::parse("a,u,i,\"\"").unwrap();
    assert_eq!(lookup(&f, b"a"), got("u", "i", &[""]));
}

#[test]
fn hash_lines_are_records_not_comments() {
    let f = OwnedTokenFile::parse("# c,u,i").unwrap();
    assert_eq!(lookup(&f, b"# c"), got("u", "i", &[]));
}

#[test]
fn empty_file_loads_with_no_tokens() {
    let f = OwnedTokenFile::parse("").unwrap();
    assert!(f.is_empty());
    assert_eq!(lookup(&f, b"anything"), None);
}

#[test]
fn token_prefixes_and_extensions_do_not_match() {
    let f = OwnedTokenFile::parse("secret-token,u,i\n").unwrap();
    for guess in [
        &b"secret-toke"[..],
        b"secret-tokenx",
        b"Secret-token",
        b"secret-token\n",
        b"",
    ] {
        assert_eq!(lookup(&f, guess), None);
    }
}

#[test]
fn no_heap_table_gives_the_same_answers() {
    let csv = b"a,u1,i1,\"g1,g2\"\nb,u2,i2\n";
    let mut slots = vec![kauthn::Slot::default(); TokenFile::slots_needed(csv).unwrap()];
    let f = TokenFile::parse_in(csv, &mut slots).unwrap();
    assert_eq!(f.len(), 2);
    let mut buf = [0u8; 64];
    let mut scratch = Scratch::new(&mut buf);
    let ctx = Context::at(UnixTime::from_secs(0));
    let r = f
        .authenticate_token(b"a", &ctx, &mut scratch)
        .into_response()
        .unwrap();
    assert_eq!(r.user.groups.as_slice(), &["g1", "g2"]);
}

#[test]
fn too_small_slot_table_is_a_clear_error() {
    let mut slots = [kauthn::Slot::default(); 2];
    let e = TokenFile::parse_in(b"a,u,i\nb,u,i\n", &mut slots).unwrap_err();
    assert_eq!(e.kind, TokenFileErrorKind::TooFewSlots);
}

#[test]
fn many_tokens_all_resolve() {
    let mut csv = String::new();
    for i in 0..10_000 {
        csv.push_str(&format!("tok{i},user{i},uid{i},g{i}\n"));
    }
    let f = OwnedTokenFile::parse(csv).unwrap();
    assert_eq!(f.len(), 10_000);
    for i in (0..10_000).step_by(97) {
        let name = format!("user{i}");
        let g = format!("g{i}");
        let u = format!("uid{i}");
        assert_eq!(
            lookup(&f, format!("tok{i}").as_bytes()),
            got(&name, &u, &[&g])
        );
    }
}
