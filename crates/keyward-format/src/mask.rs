use std::fmt;

use crate::format::ID_LEN;

/// How many characters of the id a masked preview keeps after the prefix.
const ID_PREVIEW_LEN: usize = 4;
/// How many trailing characters a masked preview keeps.
const LAST_LEN: usize = 4;

/// A masked preview of a key, safe to list, log and print: `key_prefix` is the prefix
/// plus the first 4 characters of the id (`ck_live_VmbO`), `last4` the last four
/// characters of the key. Displays as `ck_live_VmbO…R8x2`.
///
/// The last four characters are checksum digits: they reveal nothing of the secret
/// beyond ~24 bits of its CRC.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MaskedKey {
    /// Prefix plus the first 4 characters of the id.
    pub key_prefix: String,
    /// The last 4 characters of the key.
    pub last4: String,
}

impl MaskedKey {
    /// The preview of a full key string whose prefix is `prefix_len` bytes long.
    ///
    /// Works on any string: on something shorter than a key it keeps what it can and
    /// never panics.
    pub fn of(key: &str, prefix_len: usize) -> Self {
        let head_end = (prefix_len + ID_PREVIEW_LEN.min(ID_LEN)).min(key.len());
        let key_prefix = key.get(..head_end).unwrap_or_default().to_owned();
        let tail_start = key.len().saturating_sub(LAST_LEN).max(head_end);
        let last4 = key.get(tail_start..).unwrap_or_default().to_owned();
        MaskedKey { key_prefix, last4 }
    }
}

impl fmt::Display for MaskedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…{}", self.key_prefix, self.last4)
    }
}

impl fmt::Debug for MaskedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_prefix_four_id_chars_and_last_four() {
        let m = MaskedKey::of("ck_live_VmbOxxxxxxxxsecretsecretsecretR8x2", 8);
        assert_eq!(m.key_prefix, "ck_live_VmbO");
        assert_eq!(m.last4, "R8x2");
        assert_eq!(m.to_string(), "ck_live_VmbO…R8x2");
    }

    #[test]
    fn never_overlaps_or_panics_on_short_input() {
        assert_eq!(MaskedKey::of("", 8).to_string(), "…");
        let m = MaskedKey::of("sk_live_AbC", 8);
        assert_eq!(
            (m.key_prefix.as_str(), m.last4.as_str()),
            ("sk_live_AbC", "")
        );
        // Cuts inside a multi-byte character give up on that part instead of panicking.
        let m = MaskedKey::of("éééé", 1);
        assert_eq!((m.key_prefix.as_str(), m.last4.as_str()), ("", ""));
    }
}
