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
    let longest = longest_common_substring(shown.as_bytes(), input);
    assert!(
        longest <= MAX_ECHO,
        "{what} repeats {longest} bytes of its input (at most {MAX_ECHO} allowed)"
    );
}

/// Length of the longest common substring; quick when either side is short.
fn longest_common_substring(a: &[u8], b: &[u8]) -> usize {
    if a.len() <= MAX_ECHO || b.len() <= MAX_ECHO {
        return a.len().min(b.len()).min(MAX_ECHO);
    }
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    let mut best = 0;
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            current[j + 1] = if x == y { previous[j] + 1 } else { 0 };
            best = best.max(current[j + 1]);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    best
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
        let input = vec![b'x'; 1000];
        assert_eq!(longest_common_substring(&[b'x'; 300], &input), 300);
        assert_eq!(longest_common_substring(&[b'y'; 300], &input), 0);
    }
}
