//! The leak scanner on arbitrary bytes, against a naive reference scan.
//!
//! Input: a selector byte (format; bit 7 set: give every `<prefix>` followed by 44
//! base62 bytes its correct checksum, so real keys occur), then the text.
//! Invariants: the scanner reports exactly what trying `parse` at every offset left to
//! right (skipping past each key found) reports; every finding is a checksum-valid key
//! at its offset with its own id and masked preview; nothing printed shows a secret.
#![no_main]

use keyward_format::{CHECKSUM_LEN, ID_LEN, KeyFormat, MaskedKey, SECRET_LEN, Scanner};
use keyward_fuzz::{checksum, format, is_base62};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = format(selector);
    let mut text = rest.to_vec();
    if selector & 0x80 != 0 {
        plant_checksums(&format, &mut text);
    }
    let found: Vec<_> = Scanner::new(format.clone()).scan(&text).collect();
    assert_eq!(found, reference(&format, &text));
    let prefix_len = format.prefix().len();
    for f in &found {
        let key = std::str::from_utf8(&text[f.offset..f.offset + format.key_len()]).unwrap();
        let secret = &key[prefix_len + ID_LEN..prefix_len + ID_LEN + SECRET_LEN];
        for shown in [format!("{f:?}"), f.masked.to_string()] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
});

/// Parse at every offset; after a key, continue behind it.
fn reference(format: &KeyFormat, text: &[u8]) -> Vec<keyward_format::Found> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + format.key_len() <= text.len() {
        let candidate = &text[at..at + format.key_len()];
        if let Some(key) = std::str::from_utf8(candidate)
            .ok()
            .and_then(|s| format.parse(s).ok())
        {
            out.push(keyward_format::Found {
                offset: at,
                id: key.id(),
                masked: MaskedKey::of(
                    std::str::from_utf8(candidate).unwrap(),
                    format.prefix().len(),
                ),
            });
            at += format.key_len();
        } else {
            at += 1;
        }
    }
    out
}

/// Writes the right checksum after every prefix followed by an id and secret.
fn plant_checksums(format: &KeyFormat, text: &mut [u8]) {
    let prefix = format.prefix().as_bytes();
    let covered_len = prefix.len() + ID_LEN + SECRET_LEN;
    let mut at = 0;
    while at + format.key_len() <= text.len() {
        let covered = &text[at..at + covered_len];
        if covered.starts_with(prefix) && covered[prefix.len()..].iter().copied().all(is_base62) {
            let sum = checksum(covered);
            text[at + covered_len..at + covered_len + CHECKSUM_LEN].copy_from_slice(&sum);
            at += format.key_len();
        } else {
            at += 1;
        }
    }
}
