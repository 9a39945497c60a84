//! Properties every key format must hold, over random keys and random input.

use keyward_format::{KeyFormat, ParseError, Scanner};
use proptest::prelude::*;

fn format() -> KeyFormat {
    KeyFormat::new("sk_live_").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mint_then_parse_round_trips(_seed in any::<u8>()) {
        let f = format();
        let k = f.mint().unwrap();
        let p = f.parse(k.expose()).unwrap();
        prop_assert_eq!(p.id(), k.id());
        prop_assert_eq!(p.secret(), k.secret());
        let pair = f.parse_pair(k.credential_id(), k.credential_secret()).unwrap();
        prop_assert_eq!(pair, p);
    }

    /// CRC32 catches every single-byte change, and the alphabet check every
    /// out-of-alphabet byte, so no one-character typo is accepted.
    #[test]
    fn every_single_character_change_is_rejected(pos in 0usize..58, replacement in any::<char>()) {
        let f = format();
        let k = f.mint().unwrap();
        let original = k.expose();
        let old = original.as_bytes()[pos] as char;
        prop_assume!(replacement != old);
        let mut changed = String::with_capacity(original.len() + 4);
        changed.push_str(&original[..pos]);
        changed.push(replacement);
        changed.push_str(&original[pos + 1..]);
        prop_assert!(f.parse(&changed).is_err(), "accepted a typo at {}", pos);
    }

    #[test]
    fn no_input_panics(input in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let f = format();
        let _ = f.parse(&input);
        let _ = f.parse_pair(&input, &input);
        let _ = keyward_format::KeyId::parse(&input);
        let _ = KeyFormat::new(&input);
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = f.parse(&lossy);
        let _ = Scanner::new(f).scan(&bytes).count();
    }

    #[test]
    fn prefixed_garbage_of_key_length_is_rejected(body in "[0-9A-Za-z]{50}") {
        let f = format();
        let candidate = format!("sk_live_{body}");
        // A random body passes the checksum with probability 2^-32.
        prop_assert_eq!(f.parse(&candidate).err(), Some(ParseError::ChecksumMismatch));
    }
}

#[test]
fn a_scanned_file_reports_each_key_once() {
    let f = format();
    let keys: Vec<_> = (0..50).map(|_| f.mint().unwrap()).collect();
    let text: String = keys
        .iter()
        .map(|k| format!("line with {} in it\n", k.expose()))
        .collect();
    let ids: Vec<_> = Scanner::new(f)
        .scan(text.as_bytes())
        .map(|x| x.id)
        .collect();
    let expected: Vec<_> = keys.iter().map(|k| k.id()).collect();
    assert_eq!(ids, expected);
}
