//! `KeyFormat::parse` on arbitrary text, and on checksum-valid keys with one byte edited.
//!
//! Input: a selector byte (format, mode), then the text or the key material.
//! Invariants: the error class matches the input (prefix, length, first non-base62 byte,
//! checksum); a parsed key is exactly `<prefix><id><secret><checksum>`; a built key
//! parses back to its own id and secret; any one-byte edit of a valid key is rejected;
//! `Debug` of a parsed key never shows its secret; error messages carry no input.
#![no_main]

use keyward_format::{CHECKSUM_LEN, ID_LEN, KeyFormat, ParseError, SECRET_LEN, Scanner};
use keyward_fuzz::{MAX_ECHO, build_key, format, is_base62};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = format(selector);
    if selector & 0x80 == 0 {
        let text = String::from_utf8_lossy(rest);
        check(&format, &text);
    } else {
        // A valid key, then the same key with byte `at` replaced by `with`.
        let (edit, material) = rest.split_at(rest.len().min(2));
        let key = build_key(&format, material);
        let parsed = format.parse(&key).expect("a built key parses");
        let body = &key.as_bytes()[format.prefix().len()..];
        assert_eq!(parsed.id().as_bytes(), &body[..ID_LEN]);
        assert_eq!(parsed.secret(), &body[ID_LEN..ID_LEN + SECRET_LEN]);
        check(&format, &key);
        if let [at, with] = *edit {
            let at = usize::from(at) % key.len();
            let mut typo = key.clone().into_bytes();
            typo[at] = with;
            if let Ok(typo) = String::from_utf8(typo) {
                if typo != key {
                    assert!(format.parse(&typo).is_err(), "a one-byte edit was accepted");
                }
                check(&format, &typo);
            }
        }
    }
});

fn check(format: &KeyFormat, text: &str) {
    let bytes = text.as_bytes();
    let prefix = format.prefix().as_bytes();
    let result = format.parse(text);
    assert_eq!(format.is_key(text), result.is_ok());
    match result {
        Ok(key) => {
            assert!(bytes.starts_with(prefix));
            assert_eq!(bytes.len(), format.key_len());
            let body = &bytes[prefix.len()..];
            assert!(body.iter().copied().all(is_base62));
            assert_eq!(key.id().as_bytes(), &body[..ID_LEN]);
            assert_eq!(key.secret(), &body[ID_LEN..ID_LEN + SECRET_LEN]);
            assert_eq!(body.len() - ID_LEN - SECRET_LEN, CHECKSUM_LEN);
            let secret = std::str::from_utf8(key.secret()).expect("base62 is ASCII");
            for shown in [
                format!("{key:?}"),
                format!("{key:#?}"),
                key.id().to_string(),
            ] {
                assert!(!shown.contains(secret), "{shown}");
            }
            // The scanner finds the key it is made of.
            let found: Vec<_> = Scanner::new(format.clone()).scan(bytes).collect();
            assert_eq!(found.len(), 1);
            assert_eq!((found[0].offset, found[0].id), (0, key.id()));
        }
        Err(e) => {
            match e {
                ParseError::WrongPrefix => assert!(!bytes.starts_with(prefix)),
                ParseError::WrongLength { expected, found } => {
                    assert!(bytes.starts_with(prefix));
                    assert_eq!((expected, found), (format.key_len(), bytes.len()));
                    assert_ne!(found, expected);
                }
                ParseError::InvalidCharacter { position } => {
                    assert_eq!(bytes.len(), format.key_len());
                    let first_bad = bytes[prefix.len()..]
                        .iter()
                        .position(|&b| !is_base62(b))
                        .map(|i| i + prefix.len());
                    assert_eq!(Some(position), first_bad);
                }
                ParseError::ChecksumMismatch => {
                    assert_eq!(bytes.len(), format.key_len());
                    assert!(bytes[prefix.len()..].iter().copied().all(is_base62));
                }
            }
            // Messages carry no input: bounded whatever the text.
            let message = e.to_string();
            assert!(message.len() < 100 && message.len() < MAX_ECHO, "{message}");
        }
    }
}
