//! `KeyFormat::parse_pair` (the HTTP Basic `id:secret` form) against `parse` of the
//! joined key.
//!
//! Input: a selector byte (format, mode), then `id` and `secret` split at the first `:`,
//! or key material for a checksum-valid key split at a fuzzer-chosen point.
//! Invariants: a pair parses exactly when the joined key parses and the split is right
//! after the id, to the same id and secret; a wrong length reports the joined length;
//! `Debug` never shows the secret; messages carry no input.
#![no_main]

use keyward_format::{ID_LEN, KeyFormat, ParseError};
use keyward_fuzz::{MAX_ECHO, build_key, format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = format(selector);
    if selector & 0x80 == 0 {
        let text = String::from_utf8_lossy(rest);
        let (id, secret) = text.split_once(':').unwrap_or((&text, ""));
        check(&format, id, secret);
    } else {
        let (split, material) = rest.split_first().unwrap_or((&0, &[]));
        let key = build_key(&format, material);
        let right = format.prefix().len() + ID_LEN;
        let (id, secret) = key.split_at(right);
        let pair = format
            .parse_pair(id, secret)
            .expect("a built key's pair parses");
        assert_eq!(Ok(pair), format.parse(&key));
        let at = usize::from(*split) % (key.len() + 1);
        let (id, secret) = key.split_at(at);
        assert_eq!(format.parse_pair(id, secret).is_ok(), at == right);
        check(&format, id, secret);
    }
});

fn check(format: &KeyFormat, id: &str, secret: &str) {
    let joined = format!("{id}{secret}");
    let whole = format.parse(&joined);
    let split_right = id.len() == format.prefix().len() + ID_LEN;
    match format.parse_pair(id, secret) {
        Ok(pair) => {
            assert!(split_right);
            assert_eq!(Ok(pair), whole, "the pair and the joined key agree");
            let shown = std::str::from_utf8(pair.secret()).expect("base62 is ASCII");
            assert!(!format!("{pair:?}").contains(shown));
        }
        Err(e) => {
            assert!(
                whole.is_err() || !split_right,
                "the joined key parses but the pair does not: {e:?}"
            );
            match e {
                ParseError::WrongPrefix => assert!(!id.starts_with(format.prefix())),
                ParseError::WrongLength { expected, found } => {
                    assert_eq!((expected, found), (format.key_len(), joined.len()));
                }
                ParseError::InvalidCharacter { position } => {
                    assert!(split_right);
                    let p = format.prefix().len();
                    let bad = |b: &u8| !b.is_ascii_alphanumeric();
                    let expected = match id.as_bytes()[p..].iter().position(bad) {
                        Some(i) => p + i,
                        None => secret.as_bytes().iter().position(bad).expect("a bad byte"),
                    };
                    assert_eq!(position, expected);
                }
                ParseError::ChecksumMismatch => {
                    assert_eq!(whole, Err(ParseError::ChecksumMismatch));
                }
            }
            let message = e.to_string();
            assert!(message.len() < 100 && message.len() < MAX_ECHO, "{message}");
        }
    }
}
