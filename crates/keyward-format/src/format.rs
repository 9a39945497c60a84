use std::fmt;
use std::sync::Arc;

use crate::error::{FormatError, MintError, ParseError};
use crate::key_id::KeyId;
use crate::minted::MintedKey;
use crate::presented::PresentedKey;
use crate::{base62, checksum};

/// Length of the public key id, in base62 characters (~71 bits).
pub const ID_LEN: usize = 12;
/// Length of the secret, in base62 characters (~190 bits, above the 160 required).
pub const SECRET_LEN: usize = 32;
/// Length of the checksum: CRC32 as fixed-width base62.
pub const CHECKSUM_LEN: usize = 6;

const BODY_LEN: usize = ID_LEN + SECRET_LEN + CHECKSUM_LEN;

/// One deployment's key shape: `<prefix><id><secret><checksum>`.
///
/// Lengths and the alphabet are fixed, so parsing is positional and allocation-free.
/// Cloning is cheap.
///
/// ```
/// use keyward_format::{KeyFormat, ParseError};
///
/// let live = KeyFormat::new("sk_live_")?;
/// let test = KeyFormat::new("sk_test_")?;
/// let minted = test.mint()?;
/// assert_eq!(live.parse(minted.expose()).unwrap_err(), ParseError::WrongPrefix);
/// assert_eq!(test.parse(minted.expose())?.id(), minted.id());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFormat {
    prefix: Arc<str>,
}

impl KeyFormat {
    /// The longest prefix accepted.
    pub const MAX_PREFIX_LEN: usize = 32;

    /// A format for keys starting with `prefix`, which must match
    /// `[a-z][a-z0-9]*(_[a-z0-9]+)*_` (`sk_live_`, `lb_k_`, `ck_live_`).
    pub fn new(prefix: &str) -> Result<Self, FormatError> {
        if prefix.len() > Self::MAX_PREFIX_LEN {
            return Err(FormatError::PrefixTooLong {
                len: prefix.len(),
                max: Self::MAX_PREFIX_LEN,
            });
        }
        if !valid_prefix(prefix) {
            return Err(FormatError::InvalidPrefix);
        }
        Ok(KeyFormat {
            prefix: Arc::from(prefix),
        })
    }

    /// The prefix, e.g. `sk_live_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Length in bytes of every key of this format.
    pub fn key_len(&self) -> usize {
        self.prefix.len() + BODY_LEN
    }

    /// Mints a new key: a random public id and a secret from the OS CSPRNG.
    ///
    /// The result holds the only copy of the plaintext; show it once, store its hash.
    pub fn mint(&self) -> Result<MintedKey, MintError> {
        let mut id = [0u8; ID_LEN];
        base62::fill_random(&mut id).map_err(MintError)?;
        self.mint_for(&KeyId::from_validated(id))
    }

    /// A well-formed key with an existing public `id` and a fresh random secret: what a
    /// guesser who knows the id would present. For tests and load tools that exercise
    /// the wrong-secret path; never a way to recover a key.
    ///
    /// ```
    /// use keyward_format::KeyFormat;
    ///
    /// let format = KeyFormat::new("sk_live_")?;
    /// let key = format.mint()?;
    /// let guess = format.mint_for(&key.id())?;
    /// assert_eq!(format.parse(guess.expose())?.id(), key.id());
    /// assert_ne!(guess.expose(), key.expose());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mint_for(&self, id: &KeyId) -> Result<MintedKey, MintError> {
        let id = *id.as_bytes();
        let mut secret = zeroize::Zeroizing::new([0u8; SECRET_LEN]);
        base62::fill_random(secret.as_mut()).map_err(MintError)?;
        let sum = checksum::digits(&[self.prefix.as_bytes(), &id, secret.as_ref()]);

        let mut key = zeroize::Zeroizing::new(String::with_capacity(self.key_len()));
        key.push_str(&self.prefix);
        for part in [&id[..], secret.as_ref(), &sum] {
            // Alphabet bytes are ASCII.
            key.extend(part.iter().map(|&b| char::from(b)));
        }
        Ok(MintedKey::new(
            KeyId::from_validated(id),
            key,
            self.prefix.len(),
        ))
    }

    /// Parses a presented key. Allocation-free; checks, in order, the prefix, the
    /// length, the alphabet and the checksum, each with its own error.
    #[inline]
    pub fn parse<'a>(&self, presented: &'a str) -> Result<PresentedKey<'a>, ParseError> {
        let bytes = presented.as_bytes();
        let prefix = self.prefix.as_bytes();
        if !bytes.starts_with(prefix) {
            return Err(ParseError::WrongPrefix);
        }
        if bytes.len() != self.key_len() {
            return Err(ParseError::WrongLength {
                expected: self.key_len(),
                found: bytes.len(),
            });
        }
        let body = &bytes[prefix.len()..];
        if let Some(i) = base62::first_invalid(body) {
            return Err(ParseError::InvalidCharacter {
                position: prefix.len() + i,
            });
        }
        let (covered, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if !checksum::matches(&[covered], sum) {
            return Err(ParseError::ChecksumMismatch);
        }
        let (id, secret) = body[..ID_LEN + SECRET_LEN].split_at(ID_LEN);
        Ok(PresentedKey::new(id, secret))
    }

    /// Parses the credential-pair form (a credential id and a credential secret, sent as
    /// HTTP Basic `id:secret`) by the same rules as [`parse`].
    ///
    /// The credential id is `<prefix><id>` and the credential secret is
    /// `<secret><checksum>`: joined, they are the key.
    ///
    /// [`parse`]: KeyFormat::parse
    pub fn parse_pair<'a>(
        &self,
        credential_id: &'a str,
        credential_secret: &'a str,
    ) -> Result<PresentedKey<'a>, ParseError> {
        let prefix = self.prefix.as_bytes();
        let id_part = credential_id.as_bytes();
        let secret_part = credential_secret.as_bytes();
        if !id_part.starts_with(prefix) {
            return Err(ParseError::WrongPrefix);
        }
        let found = id_part.len() + secret_part.len();
        if id_part.len() != prefix.len() + ID_LEN || secret_part.len() != SECRET_LEN + CHECKSUM_LEN
        {
            return Err(ParseError::WrongLength {
                expected: self.key_len(),
                found,
            });
        }
        let id = &id_part[prefix.len()..];
        if let Some(i) = base62::first_invalid(id) {
            return Err(ParseError::InvalidCharacter {
                position: prefix.len() + i,
            });
        }
        if let Some(i) = base62::first_invalid(secret_part) {
            return Err(ParseError::InvalidCharacter { position: i });
        }
        let (secret, sum) = secret_part.split_at(SECRET_LEN);
        if !checksum::matches(&[id_part, secret], sum) {
            return Err(ParseError::ChecksumMismatch);
        }
        Ok(PresentedKey::new(id, secret))
    }

    /// Whether `s` is exactly a key of this format (prefix, length, alphabet, checksum).
    pub fn is_key(&self, s: &str) -> bool {
        self.parse(s).is_ok()
    }
}

impl fmt::Debug for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFormat")
            .field("prefix", &&*self.prefix)
            .finish()
    }
}

/// `[a-z][a-z0-9]*(_[a-z0-9]+)*_`: segments of lowercase alphanumerics, the first
/// starting with a letter, each followed by `_`.
fn valid_prefix(prefix: &str) -> bool {
    let Some(body) = prefix.strip_suffix('_') else {
        return false;
    };
    if !body.starts_with(|c: char| c.is_ascii_lowercase()) {
        return false;
    }
    body.split('_').all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_seed_prefixes() {
        for p in ["sk_live_", "sk_test_", "lb_k_", "ck_live_", "a_", "k2_v1_"] {
            assert!(KeyFormat::new(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn rejects_bad_prefixes() {
        for p in [
            "",
            "_",
            "sk",
            "sk_live",
            "Sk_live_",
            "sk__live_",
            "_sk_",
            "1sk_",
            "sk-live_",
            "sk_live__",
            "sk_é_",
            "sk live_",
            "sk_LIVE_",
        ] {
            assert_eq!(KeyFormat::new(p), Err(FormatError::InvalidPrefix), "{p:?}");
        }
        let long = format!("{}_", "a".repeat(40));
        assert_eq!(
            KeyFormat::new(&long),
            Err(FormatError::PrefixTooLong { len: 41, max: 32 })
        );
    }

    #[test]
    fn minted_keys_have_the_documented_shape() {
        let f = KeyFormat::new("sk_live_").unwrap();
        let k = f.mint().unwrap();
        let s = k.expose();
        assert_eq!(s.len(), 8 + 12 + 32 + 6);
        assert!(s.starts_with("sk_live_"));
        assert!(s[8..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(&s[8..20], k.id().as_str());
        assert_ne!(f.mint().unwrap().expose(), s, "two mints differ");
    }

    #[test]
    fn each_malformed_class_has_its_own_error() {
        let f = KeyFormat::new("sk_live_").unwrap();
        let k = f.mint().unwrap();
        let good = k.expose();
        assert!(f.parse(good).is_ok());

        let test_key = KeyFormat::new("sk_test_").unwrap().mint().unwrap();
        assert_eq!(f.parse(test_key.expose()), Err(ParseError::WrongPrefix));
        assert_eq!(f.parse(""), Err(ParseError::WrongPrefix));
        assert_eq!(f.parse("Bearer sk_live_"), Err(ParseError::WrongPrefix));

        assert_eq!(
            f.parse(&good[..good.len() - 1]),
            Err(ParseError::WrongLength {
                expected: 58,
                found: 57
            })
        );
        assert_eq!(
            f.parse(&format!("{good}0")),
            Err(ParseError::WrongLength {
                expected: 58,
                found: 59
            })
        );

        let mut bad = good.to_string();
        bad.replace_range(20..21, "-");
        assert_eq!(
            f.parse(&bad),
            Err(ParseError::InvalidCharacter { position: 20 })
        );
        let mut non_ascii = good[..good.len() - 2].to_string();
        non_ascii.push('é');
        assert_eq!(non_ascii.len(), good.len());
        assert_eq!(
            f.parse(&non_ascii),
            Err(ParseError::InvalidCharacter { position: 56 })
        );

        let mut typo = good.as_bytes().to_vec();
        typo[30] = if typo[30] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(f.parse(&typo), Err(ParseError::ChecksumMismatch));
    }

    #[test]
    fn credential_pair_is_the_key_split_in_two() {
        let f = KeyFormat::new("ck_live_").unwrap();
        let k = f.mint().unwrap();
        let (id, secret) = (k.credential_id(), k.credential_secret());
        assert_eq!(format!("{id}{secret}"), k.expose());
        let p = f.parse_pair(id, secret).unwrap();
        assert_eq!(p.id(), k.id());
        assert_eq!(p.secret(), f.parse(k.expose()).unwrap().secret());

        assert_eq!(
            f.parse_pair("sk_live_x", secret),
            Err(ParseError::WrongPrefix)
        );
        assert!(matches!(
            f.parse_pair(id, &secret[1..]),
            Err(ParseError::WrongLength { .. })
        ));
        assert!(matches!(
            f.parse_pair(&k.expose()[..21], &k.expose()[21..]),
            Err(ParseError::WrongLength { .. })
        ));
        let mut bad_secret = secret.to_string();
        bad_secret.replace_range(0..1, "*");
        assert_eq!(
            f.parse_pair(id, &bad_secret),
            Err(ParseError::InvalidCharacter { position: 0 })
        );
        let mut bad_id = id.to_string();
        bad_id.replace_range(8..9, "!");
        assert_eq!(
            f.parse_pair(&bad_id, secret),
            Err(ParseError::InvalidCharacter { position: 8 })
        );
        let other = f.mint().unwrap();
        assert_eq!(
            f.parse_pair(id, other.credential_secret()),
            Err(ParseError::ChecksumMismatch)
        );
    }
}
