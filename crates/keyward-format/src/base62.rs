//! The base62 alphabet `0-9A-Za-z`: every key is one double-click word.

/// The alphabet, in digit order.
pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const INVALID: u8 = 0xff;

/// Digit value of every byte, `INVALID` outside the alphabet.
const DIGITS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 62 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Digit value of `b`, or `None` outside the alphabet.
#[inline]
pub(crate) fn digit(b: u8) -> Option<u8> {
    match DIGITS[b as usize] {
        INVALID => None,
        d => Some(d),
    }
}

/// Index of the first byte outside the alphabet.
#[inline]
pub(crate) fn first_invalid(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| DIGITS[b as usize] == INVALID)
}

/// Writes `value` as exactly `out.len()` digits, most significant first.
/// The caller guarantees `value < 62^out.len()`.
pub(crate) fn encode_fixed(mut value: u64, out: &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
}

/// Reads fixed-width digits; `None` when any byte is outside the alphabet.
#[inline]
pub(crate) fn decode_fixed(digits: &[u8]) -> Option<u64> {
    digits
        .iter()
        .try_fold(0u64, |acc, &b| Some(acc * 62 + u64::from(digit(b)?)))
}

/// Fills `out` with uniformly random alphabet characters from the OS CSPRNG.
///
/// Rejection sampling: a byte is used only when it is below 248 (= 4 × 62), so every
/// character is equally likely.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<(), getrandom::Error> {
    let mut pool = zeroize::Zeroizing::new([0u8; 64]);
    let mut used = pool.len();
    for slot in out.iter_mut() {
        loop {
            if used == pool.len() {
                getrandom::fill(pool.as_mut())?;
                used = 0;
            }
            let b = pool[used];
            used += 1;
            if b < 248 {
                *slot = ALPHABET[(b % 62) as usize];
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_round_trip() {
        for (i, &b) in ALPHABET.iter().enumerate() {
            assert_eq!(digit(b), Some(i as u8));
        }
        assert_eq!(digit(b'_'), None);
        assert_eq!(digit(0xff), None);
    }

    #[test]
    fn fixed_width_round_trip() {
        let mut out = [0u8; 6];
        for v in [0u64, 1, 61, 62, u64::from(u32::MAX)] {
            encode_fixed(v, &mut out);
            assert_eq!(decode_fixed(&out), Some(v));
        }
        encode_fixed(0, &mut out);
        assert_eq!(&out, b"000000");
    }

    #[test]
    fn random_fill_uses_the_whole_alphabet() {
        let mut seen = [false; 62];
        let mut buf = [0u8; 4096];
        fill_random(&mut buf).unwrap();
        for b in buf {
            seen[digit(b).unwrap() as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
