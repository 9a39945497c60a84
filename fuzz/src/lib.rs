//! Helpers the fuzz targets share: a few key formats, an independent reference for
//! the key checksum (so the fuzzer can build checksum-valid keys it would never guess),
//! and the "echoes at most 256 bytes of input" check.

use keyward_format::{CHECKSUM_LEN, ID_LEN, KeyFormat, SECRET_LEN};

/// Prefixes of different lengths; a short one makes random prefix hits likely.
pub const PREFIXES: [&str; 3] = ["a_", "sk_live_", "k2_v1_"];

/// The most input bytes any message shown to a client or a log may repeat.
pub const MAX_ECHO: usize = 256;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// One of [`PREFIXES`], chosen by `selector`.
pub fn format(selector: u8) -> KeyFormat {
    KeyFormat::new(PREFIXES[usize::from(selector) % PREFIXES.len()]).expect("valid prefix")
}

/// The checksum digits of `covered` (prefix, id and secret), computed independently of
/// the crate: CRC32 written as six base62 digits, most significant first.
pub fn checksum(covered: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut value = u64::from(crc32fast::hash(covered));
    let mut out = [0u8; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// A checksum-valid key of `format` whose id and secret are `material` mapped onto the
/// alphabet (cycled, or zeros when empty).
pub fn build_key(format: &KeyFormat, material: &[u8]) -> String {
    let mut key = format.prefix().as_bytes().to_vec();
    key.extend((0..ID_LEN + SECRET_LEN).map(|i| match material {
        [] => b'0',
        m => ALPHABET[usize::from(m[i % m.len()]) % 62],
    }));
    let sum = checksum(&key);
    key.extend_from_slice(&sum);
    String::from_utf8(key).expect("ASCII")
}

/// Whether `b` is in the key alphabet.
pub fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Panics when `shown` repeats more than [`MAX_ECHO`] consecutive bytes of `input`.
pub fn assert_bounded_echo(shown: &str, input: &[u8], what: &str) {
    assert!(
        !shares_a_run(shown.as_bytes(), input, MAX_ECHO + 1),
        "{what} repeats more than {MAX_ECHO} consecutive bytes of its input"
    );
}

/// Whether `a` and `b` have a common substring of `len` bytes: a rolling hash over every
/// window of `a`, looked up for every window of `b`, so linear in both lengths.
fn shares_a_run(a: &[u8], b: &[u8], len: usize) -> bool {
    if a.len() < len || b.len() < len {
        return false;
    }
    const BASE: u64 = 0x100_0000_01b3;
    let weight = (1..len).fold(1u64, |w, _| w.wrapping_mul(BASE));
    let windows = |bytes: &[u8]| {
        let mut hash = bytes[..len].iter().fold(0u64, |h, &x| {
            h.wrapping_mul(BASE).wrapping_add(u64::from(x))
        });
        let mut hashes = vec![(hash, 0)];
        for start in 1..=bytes.len() - len {
            hash = hash
                .wrapping_sub(u64::from(bytes[start - 1]).wrapping_mul(weight))
                .wrapping_mul(BASE)
                .wrapping_add(u64::from(bytes[start + len - 1]));
            hashes.push((hash, start));
        }
        hashes
    };
    let mut in_a: std::collections::HashMap<u64, Vec<usize>> = Default::default();
    for (hash, start) in windows(a) {
        in_a.entry(hash).or_default().push(start);
    }
    windows(b).into_iter().any(|(hash, j)| {
        in_a.get(&hash)
            .is_some_and(|starts| starts.iter().any(|&i| a[i..i + len] == b[j..j + len]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_checksum_agrees_with_minted_keys() {
        for selector in 0..3 {
            let format = format(selector);
            for _ in 0..100 {
                let minted = format.mint().unwrap();
                let key = minted.expose().as_bytes();
                let (covered, sum) = key.split_at(key.len() - CHECKSUM_LEN);
                assert_eq!(checksum(covered), sum);
            }
            assert!(format.is_key(&build_key(&format, b"anything")));
        }
    }

    #[test]
    fn echo_bound() {
        let input: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        assert!(shares_a_run(&input[500..800], &input, 300));
        assert!(!shares_a_run(&input[500..800], &input, 301));
        assert!(shares_a_run(&input, &input[1000..1257], 257));
        assert!(!shares_a_run(&[b'y'; 300], &input, 257));
        assert!(!shares_a_run(b"short", b"short", 257));
    }
}
