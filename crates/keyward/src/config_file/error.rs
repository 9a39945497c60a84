//! [`ConfigError`]: why a configuration file was refused, as one line that points at
//! the setting (`keyward.toml:7:13: capabilities.defaults[1]: …`).

use std::fmt;
use std::path::PathBuf;

use keyward_format::FormatError;
use keyward_limit::{GuardConfigError, QuotaError};
use keyward_scope::{CatalogError, InvalidName};

use crate::error::NameProblem;

/// Why a configuration file could not be used.
///
/// Its `Display` is one line. A file that was read but refused says where and what:
/// `<file>:<line>:<column>: <key.path>: <what is wrong>`, e.g.
/// `keyward.toml:7:13: capabilities.defaults[1]: unknown capability "jobs:raed"; declared: desktop:read, desktop:chat, jobs:read, jobs:write`.
/// Lines and columns count from 1; columns count characters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read and refused; see [`InvalidSetting`].
    #[error(transparent)]
    Invalid(Box<InvalidSetting>),
}

impl ConfigError {
    /// Where and what, when the file was read and refused.
    pub fn invalid(&self) -> Option<&InvalidSetting> {
        match self {
            ConfigError::Invalid(invalid) => Some(invalid),
            ConfigError::Read { .. } => None,
        }
    }
}

/// A refused setting: the file, the position, the key path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {}{problem}", key_prefix(key))]
pub struct InvalidSetting {
    /// The file's name as given to [`ConfigFile::parse`](super::ConfigFile::parse) or
    /// the path it was loaded from.
    pub origin: String,
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
    /// The setting, e.g. `limits.lockout.window` or `capabilities.defaults[1]`; empty
    /// when the text cannot be read as TOML outside any table.
    pub key: String,
    /// What is wrong.
    pub problem: SettingProblem,
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

/// What is wrong with a setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingProblem {
    /// The text is not TOML (toml's message).
    #[error("{0}")]
    Syntax(String),
    /// A key this file format does not have (serde's message, naming the expected ones).
    #[error("{0}")]
    UnknownKey(String),
    /// A value of the wrong type (serde's message).
    #[error("{0}")]
    WrongType(String),
    /// A capability name breaks the naming rule.
    #[error("invalid capability name {name:?}: {reason}")]
    InvalidCapabilityName {
        /// The name as written (its first 64 characters).
        name: String,
        /// What is wrong with it.
        reason: InvalidName,
    },
    /// A capability declared twice in `capabilities.names`.
    #[error("capability {0:?} is declared twice")]
    DuplicateCapability(String),
    /// More capabilities than a catalog holds.
    #[error("{count} capabilities declared, a catalog holds at most {max}")]
    TooManyCapabilities {
        /// How many were declared.
        count: usize,
        /// [`keyward_scope::MAX_CAPABILITIES`].
        max: usize,
    },
    /// A name that `capabilities.names` does not declare.
    #[error("unknown capability {name:?}; declared: {declared}")]
    UnknownCapability {
        /// The name as written (its first 64 characters).
        name: String,
        /// The declared names, comma-separated, shortened to about 256 bytes.
        declared: String,
    },
    /// A `[management]` requirement left at its default names a capability the
    /// catalog does not declare.
    #[error(
        "defaults to {default:?}, which capabilities.names does not declare; declare it or set {key}"
    )]
    UndeclaredDefault {
        /// The default capability, e.g. `keys:read`.
        default: &'static str,
        /// The setting to set instead, e.g. `management.read`.
        key: &'static str,
    },
    /// The catalog refused the declarations (an implication cycle).
    #[error("{0}")]
    Catalog(CatalogError),
    /// The key prefix is not a valid [`KeyFormat`](keyward_format::KeyFormat) prefix.
    #[error("invalid key prefix {prefix:?}: {reason}")]
    InvalidPrefix {
        /// The prefix as written (its first 64 characters).
        prefix: String,
        /// What is wrong with it.
        reason: FormatError,
    },
    /// A hasher other than `bcrypt` and `argon2id`.
    #[error("unknown hasher {0:?}; use \"bcrypt\" or \"argon2id\"")]
    UnknownHasher(String),
    /// `keys.bcrypt_cost` with `keys.hasher = "argon2id"`.
    #[error("applies only to hasher = \"bcrypt\"")]
    CostWithoutBcrypt,
    /// A number outside its range.
    #[error("{value} is out of range; use {min} to {max}")]
    OutOfRange {
        /// The number as written.
        value: i64,
        /// The smallest accepted.
        min: i64,
        /// The largest accepted.
        max: i64,
    },
    /// A duration humantime cannot read (`30s`, `5min`, `1h 30m` are durations).
    #[error("invalid duration {text:?} ({reason}); use e.g. \"30s\", \"5min\", \"1h\"")]
    InvalidDuration {
        /// The text as written (its first 64 characters).
        text: String,
        /// humantime's reason.
        reason: String,
    },
    /// A zero duration where time must pass.
    #[error("must be longer than zero")]
    ZeroDuration,
    /// A duration longer than accepted: [`MAX_DURATION_DAYS`](super::MAX_DURATION_DAYS)
    /// days, or [`MAX_LIFECYCLE_DAYS`](super::MAX_LIFECYCLE_DAYS) for a lifecycle policy.
    #[error("{text:?} is longer than the {max_days} days accepted")]
    DurationTooLong {
        /// The text as written (its first 64 characters).
        text: String,
        /// The most days accepted.
        max_days: u64,
    },
    /// A rate that is not `<limit>/<period>`.
    #[error("invalid rate: {reason}")]
    InvalidRate {
        /// The text as written (its first 64 characters).
        text: String,
        /// Why it was refused.
        reason: QuotaError,
    },
    /// Lockout settings [`GuardConfig`](keyward_limit::GuardConfig) refused.
    #[error("{0}")]
    Lockout(GuardConfigError),
    /// An empty string where a value is needed (the database URL).
    #[error("is empty")]
    Empty,
    /// An owner that could not be given to a key.
    #[error("owner {problem}")]
    InvalidOwner {
        /// What is wrong with it.
        problem: NameProblem,
    },
}

/// A position in the text, from a byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    pub(super) line: usize,
    pub(super) column: usize,
}

impl Position {
    /// Line and character column (both from 1) of byte `offset` in `text`; an offset
    /// past the end or inside a character is clamped to the last boundary before it.
    pub(super) fn of(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Builds the error for `problem` at byte `offset` of `text`.
pub(super) fn invalid(
    origin: &str,
    text: &str,
    offset: usize,
    key: impl Into<String>,
    problem: SettingProblem,
) -> ConfigError {
    let at = Position::of(text, offset);
    ConfigError::Invalid(Box::new(InvalidSetting {
        origin: joined_lines(origin),
        line: at.line,
        column: at.column,
        key: cut(&key.into(), MAX_MESSAGE_CHARS),
        problem,
    }))
}

/// The most characters of a value from the file an error repeats: a whole
/// megabyte-long value would make the one line unreadable (and flood a log).
pub(super) const MAX_ECHO_CHARS: usize = 64;

/// The most characters of a key path or of a toml or serde message in an error.
const MAX_MESSAGE_CHARS: usize = 256;

/// `text` cut to `max` characters, `…` marking the cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// A value from the file as an error repeats it: at most [`MAX_ECHO_CHARS`] characters.
pub(super) fn echo(text: &str) -> String {
    cut(text, MAX_ECHO_CHARS)
}

/// Joins the lines of a (toml or serde) message, so the error stays one line, and
/// bounds it (such messages repeat keys and values from the file).
pub(super) fn one_line(message: &str) -> String {
    cut(&joined_lines(message), MAX_MESSAGE_CHARS)
}

/// `text`'s lines joined into one, whole.
fn joined_lines(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The names, comma-separated, cut at about `budget` bytes with `…`.
pub(super) fn bounded_list<'a>(names: impl IntoIterator<Item = &'a str>, budget: usize) -> String {
    let mut out = String::new();
    for name in names {
        let separator = if out.is_empty() { "" } else { ", " };
        if out.len() + separator.len() + name.len() > budget {
            out.push_str(separator);
            out.push('…');
            return out;
        }
        out.push_str(separator);
        out.push_str(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(Position::of(text, 0), Position { line: 1, column: 1 });
        assert_eq!(Position::of(text, 6), Position { line: 2, column: 1 });
        // `=` after a two-byte character is the fourth character.
        assert_eq!(Position::of(text, 10), Position { line: 2, column: 4 });
        assert_eq!(Position::of(text, 999), Position { line: 3, column: 1 });
        // Inside `é`: clamped back to its start.
        assert_eq!(Position::of(text, 8), Position { line: 2, column: 2 });
    }

    #[test]
    fn lists_are_bounded() {
        assert_eq!(bounded_list(["a:a", "b:b"], 256), "a:a, b:b");
        let long: Vec<String> = (0..100).map(|i| format!("cap{i}:read")).collect();
        let listed = bounded_list(long.iter().map(String::as_str), 256);
        assert!(listed.len() <= 256 + ", …".len(), "{listed}");
        assert!(listed.ends_with(", …"));
    }
}
