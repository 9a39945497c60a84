//! Capability names: `resource:action`, validated.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// The longest capability name accepted, in bytes.
///
/// Names are shown in listings, in 403 bodies and in `WWW-Authenticate` headers; 64
/// bytes is far more than any real `resource:action` needs and keeps those bounded.
pub const MAX_CAPABILITY_NAME_LEN: usize = 64;

/// A validated capability name such as `jobs:write`.
///
/// The rule is strict on purpose, so that a name means the same thing in a config file,
/// a database row, a JSON body and a header:
///
/// - two non-empty parts separated by exactly one `:` — `resource:action`;
/// - each part starts with a lowercase ASCII letter `a-z`, followed by any of `a-z`,
///   `0-9`, `_` and `-` (as a pattern: `[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*`);
/// - at most [`MAX_CAPABILITY_NAME_LEN`] (64) bytes.
///
/// There are no wildcards (`jobs:*`) and no bare names (`read`): a product whose
/// capabilities are bare words names them under one resource, e.g. `graph:read`,
/// `graph:write`, `graph:admin`. Everything else is rejected with an [`InvalidName`]
/// that says why.
///
/// ```
/// use keyward_scope::{CapabilityName, InvalidName};
///
/// let name = CapabilityName::parse("jobs:write")?;
/// assert_eq!((name.resource(), name.action()), ("jobs", "write"));
///
/// assert_eq!(CapabilityName::parse("read"), Err(InvalidName::MissingColon));
/// assert!(matches!(CapabilityName::parse("Jobs:read"), Err(InvalidName::Uppercase { .. })));
/// # Ok::<(), InvalidName>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct CapabilityName {
    name: Box<str>,
    colon: u8,
}

impl CapabilityName {
    /// Validates `name` and returns it as a `CapabilityName`.
    pub fn parse(name: &str) -> Result<Self, InvalidName> {
        let colon = validate(name)?;
        Ok(Self {
            name: name.into(),
            colon,
        })
    }

    /// The whole name, e.g. `jobs:write`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The part before the colon, e.g. `jobs`.
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.name[..usize::from(self.colon)]
    }

    /// The part after the colon, e.g. `write`.
    #[must_use]
    pub fn action(&self) -> &str {
        &self.name[usize::from(self.colon) + 1..]
    }
}

/// Checks `name` against the rule of [`CapabilityName`]; returns the colon's byte index.
pub(crate) fn validate(name: &str) -> Result<u8, InvalidName> {
    if name.is_empty() {
        return Err(InvalidName::Empty);
    }
    if name.len() > MAX_CAPABILITY_NAME_LEN {
        return Err(InvalidName::TooLong { len: name.len() });
    }
    // Characters first: "jobs read" is better explained by its space than by its
    // missing colon.
    let mut colon = None;
    for (index, found) in name.char_indices() {
        match found {
            'a'..='z' | '0'..='9' | '_' | '-' => {}
            ':' if colon.is_none() => colon = Some(index),
            ':' => return Err(InvalidName::ExtraColon { index }),
            'A'..='Z' => return Err(InvalidName::Uppercase { index, found }),
            c if c.is_whitespace() => return Err(InvalidName::Whitespace { index, found }),
            c if !c.is_ascii() => return Err(InvalidName::NonAscii { index, found }),
            _ => return Err(InvalidName::InvalidChar { index, found }),
        }
    }
    let colon = colon.ok_or(InvalidName::MissingColon)?;
    let (resource, action) = (&name[..colon], &name[colon + 1..]);
    if resource.is_empty() {
        return Err(InvalidName::EmptyResource);
    }
    if action.is_empty() {
        return Err(InvalidName::EmptyAction);
    }
    for (start, part) in [(0, resource), (colon + 1, action)] {
        // Only ASCII is left, so the first byte is the first character.
        let found = char::from(part.as_bytes()[0]);
        if !found.is_ascii_lowercase() {
            return Err(InvalidName::NotALetter {
                index: start,
                found,
            });
        }
    }
    // MAX_CAPABILITY_NAME_LEN < 256, so the index fits.
    Ok(u8::try_from(colon).expect("names are at most 64 bytes"))
}

/// Why a string is not a valid [`CapabilityName`]. Indices are byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidName {
    /// The name is the empty string.
    #[error("a capability name cannot be empty")]
    Empty,
    /// The name is longer than [`MAX_CAPABILITY_NAME_LEN`] bytes.
    #[error("a capability name is at most {MAX_CAPABILITY_NAME_LEN} bytes, this one is {len}")]
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// There is no `:` between resource and action.
    #[error("a capability name is `resource:action`, the `:` is missing")]
    MissingColon,
    /// There is a second `:`.
    #[error("a capability name has exactly one `:`, found another at byte {index}")]
    ExtraColon {
        /// Where the second colon is.
        index: usize,
    },
    /// Nothing before the `:`.
    #[error("the resource before the `:` is empty")]
    EmptyResource,
    /// Nothing after the `:`.
    #[error("the action after the `:` is empty")]
    EmptyAction,
    /// A part starts with a digit, `_` or `-` instead of a letter.
    #[error("resource and action start with a letter a-z, found {found:?} at byte {index}")]
    NotALetter {
        /// Where the part starts.
        index: usize,
        /// The character found there.
        found: char,
    },
    /// An uppercase ASCII letter: names are lowercase.
    #[error("capability names are lowercase, found {found:?} at byte {index}")]
    Uppercase {
        /// Where the letter is.
        index: usize,
        /// The letter.
        found: char,
    },
    /// A space, tab, newline or other whitespace character.
    #[error("capability names contain no whitespace, found {found:?} at byte {index}")]
    Whitespace {
        /// Where the whitespace is.
        index: usize,
        /// The whitespace character.
        found: char,
    },
    /// A character outside ASCII.
    #[error("capability names are ASCII, found {found:?} at byte {index}")]
    NonAscii {
        /// Where the character starts.
        index: usize,
        /// The character.
        found: char,
    },
    /// Any other ASCII character outside `a-z`, `0-9`, `_`, `-` and `:` (such as `*`,
    /// `.` or `/`).
    #[error(
        "capability names use only a-z, 0-9, `_`, `-` and one `:`, found {found:?} at byte {index}"
    )]
    InvalidChar {
        /// Where the character is.
        index: usize,
        /// The character.
        found: char,
    },
}

impl fmt::Display for CapabilityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for CapabilityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.name, f)
    }
}

impl FromStr for CapabilityName {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for CapabilityName {
    type Error = InvalidName;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for CapabilityName {
    type Error = InvalidName;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let colon = validate(&value)?;
        Ok(Self {
            name: value.into_boxed_str(),
            colon,
        })
    }
}

impl From<CapabilityName> for String {
    fn from(value: CapabilityName) -> Self {
        value.name.into_string()
    }
}

impl AsRef<str> for CapabilityName {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl Borrow<str> for CapabilityName {
    fn borrow(&self) -> &str {
        &self.name
    }
}

impl PartialEq<str> for CapabilityName {
    fn eq(&self, other: &str) -> bool {
        &*self.name == other
    }
}

impl PartialEq<&str> for CapabilityName {
    fn eq(&self, other: &&str) -> bool {
        &*self.name == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(name: &str) -> InvalidName {
        CapabilityName::parse(name).expect_err(name)
    }

    #[test]
    fn accepts_the_documented_shape() {
        for ok in [
            "jobs:read",
            "desktop:lifecycle",
            "a:b",
            "kb2:read-all",
            "api_keys:write_once",
            "x-y:z9",
        ] {
            let name = CapabilityName::parse(ok).expect(ok);
            assert_eq!(name.as_str(), ok);
            assert_eq!(format!("{}:{}", name.resource(), name.action()), ok);
        }
    }

    #[test]
    fn accepts_exactly_64_bytes_and_rejects_65() {
        let at_limit = format!("r:{}", "a".repeat(MAX_CAPABILITY_NAME_LEN - 2));
        assert!(CapabilityName::parse(&at_limit).is_ok());
        let over = format!("r:{}", "a".repeat(MAX_CAPABILITY_NAME_LEN - 1));
        assert_eq!(err(&over), InvalidName::TooLong { len: 65 });
    }

    #[test]
    fn empty() {
        assert_eq!(err(""), InvalidName::Empty);
    }

    #[test]
    fn missing_colon() {
        assert_eq!(err("read"), InvalidName::MissingColon);
        assert_eq!(err("jobsread"), InvalidName::MissingColon);
    }

    #[test]
    fn two_colons() {
        assert_eq!(err("jobs:read:all"), InvalidName::ExtraColon { index: 9 });
        assert_eq!(err("jobs::read"), InvalidName::ExtraColon { index: 5 });
        assert_eq!(err("::"), InvalidName::ExtraColon { index: 1 });
    }

    #[test]
    fn empty_parts() {
        assert_eq!(err(":read"), InvalidName::EmptyResource);
        assert_eq!(err("jobs:"), InvalidName::EmptyAction);
        assert_eq!(err(":"), InvalidName::EmptyResource);
    }

    #[test]
    fn parts_start_with_a_letter() {
        for (name, index, found) in [
            ("1jobs:read", 0, '1'),
            ("_jobs:read", 0, '_'),
            ("-jobs:read", 0, '-'),
            ("jobs:9read", 5, '9'),
            ("jobs:-read", 5, '-'),
        ] {
            assert_eq!(
                err(name),
                InvalidName::NotALetter { index, found },
                "{name}"
            );
        }
    }

    #[test]
    fn whitespace() {
        for (name, index, found) in [
            (" jobs:read", 0, ' '),
            ("jobs:read ", 9, ' '),
            ("jobs: read", 5, ' '),
            ("jobs:read\n", 9, '\n'),
            ("jobs\t:read", 4, '\t'),
            ("jobs read", 4, ' '),
        ] {
            assert_eq!(
                err(name),
                InvalidName::Whitespace { index, found },
                "{name:?}"
            );
        }
        // Non-ASCII whitespace is reported as whitespace.
        assert_eq!(
            err("jobs:\u{a0}read"),
            InvalidName::Whitespace {
                index: 5,
                found: '\u{a0}'
            }
        );
    }

    #[test]
    fn uppercase() {
        assert_eq!(
            err("Jobs:read"),
            InvalidName::Uppercase {
                index: 0,
                found: 'J'
            }
        );
        assert_eq!(
            err("jobs:READ"),
            InvalidName::Uppercase {
                index: 5,
                found: 'R'
            }
        );
    }

    #[test]
    fn non_ascii() {
        assert_eq!(
            err("jobs:lïre"),
            InvalidName::NonAscii {
                index: 6,
                found: 'ï'
            }
        );
        // A Cyrillic "о" that looks like a Latin "o".
        assert_eq!(
            err("j\u{43e}bs:read"),
            InvalidName::NonAscii {
                index: 1,
                found: '\u{43e}'
            }
        );
    }

    #[test]
    fn other_punctuation() {
        for (name, index, found) in [
            ("jobs:*", 5, '*'),
            ("jobs.read", 4, '.'),
            ("jobs/read", 4, '/'),
            ("jobs:read\0", 9, '\0'),
            ("*", 0, '*'),
        ] {
            assert_eq!(
                err(name),
                InvalidName::InvalidChar { index, found },
                "{name:?}"
            );
        }
    }

    #[test]
    fn conversions_agree() {
        let parsed: CapabilityName = "kb:read".parse().unwrap();
        assert_eq!(CapabilityName::try_from("kb:read").unwrap(), parsed);
        assert_eq!(
            CapabilityName::try_from(String::from("kb:read")).unwrap(),
            parsed
        );
        assert_eq!(String::from(parsed.clone()), "kb:read");
        assert_eq!(parsed, "kb:read");
        assert_eq!(parsed.to_string(), "kb:read");
        assert_eq!(format!("{parsed:?}"), "\"kb:read\"");
        assert!(CapabilityName::try_from(String::from("KB:read")).is_err());
    }

    #[test]
    fn errors_explain_themselves() {
        assert_eq!(
            err("jobs:*").to_string(),
            "capability names use only a-z, 0-9, `_`, `-` and one `:`, found '*' at byte 5"
        );
        assert_eq!(
            err(&"a".repeat(70)).to_string(),
            "a capability name is at most 64 bytes, this one is 70"
        );
    }
}
