use std::fmt;
use std::str::FromStr;

use crate::base62;
use crate::error::ParseError;
use crate::format::ID_LEN;

/// The public, random part of a key: the store's lookup key.
///
/// Twelve base62 characters, `Copy`, hashable without allocation. Safe to log.
///
/// ```
/// use keyward_format::KeyId;
///
/// let id: KeyId = "AbCd12345678".parse()?;
/// assert_eq!(id.as_str(), "AbCd12345678");
/// assert!("short".parse::<KeyId>().is_err());
/// # Ok::<(), keyward_format::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; ID_LEN]);

impl KeyId {
    /// Wraps bytes already known to be base62.
    pub(crate) fn from_validated(bytes: [u8; ID_LEN]) -> Self {
        KeyId(bytes)
    }

    /// Parses a bare key id (as shown in listings and used in URLs).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let bytes: [u8; ID_LEN] = s
            .as_bytes()
            .try_into()
            .map_err(|_| ParseError::WrongLength {
                expected: ID_LEN,
                found: s.len(),
            })?;
        if let Some(position) = base62::first_invalid(&bytes) {
            return Err(ParseError::InvalidCharacter { position });
        }
        Ok(KeyId(bytes))
    }

    /// The id as text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // Always ASCII by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }
}

impl FromStr for KeyId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyId::parse(s)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.as_str())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        KeyId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_ids() {
        assert!(matches!(
            KeyId::parse(""),
            Err(ParseError::WrongLength {
                expected: 12,
                found: 0
            })
        ));
        assert!(matches!(
            KeyId::parse("AbCd123456789"),
            Err(ParseError::WrongLength { .. })
        ));
        assert_eq!(
            KeyId::parse("AbCd12345_78"),
            Err(ParseError::InvalidCharacter { position: 9 })
        );
        assert!(KeyId::parse("AbCd1234567é").is_err());
    }
}
