//! The shapes of the partner program: the tokens GitHub reports and the labels sent
//! back.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::public_keys::hex;

/// One match GitHub reports: `{"token", "type", "url", "source"}`. Fields GitHub may
/// add are ignored.
#[derive(Deserialize)]
pub struct ReportedToken {
    /// The matched text: possibly a live key, so zeroized on drop and never printed.
    pub token: Zeroizing<String>,
    /// The type name registered with GitHub for the matching pattern.
    #[serde(rename = "type")]
    pub token_type: String,
    /// Where it was found (a commit, a gist, a package).
    #[serde(default)]
    pub url: Option<String>,
    /// What kind of place that is (`commit`, `npm`, …).
    #[serde(default)]
    pub source: Option<String>,
}

impl std::fmt::Debug for ReportedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportedToken")
            .field("token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish()
    }
}

/// Whether a reported token was a real key: the partner program's two labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// One of our keys.
    TruePositive,
    /// Not one of our keys.
    FalsePositive,
}

/// The answer for one reported token: `{"token_hash", "token_type", "label"}`, the token
/// named by the hex SHA-256 of its text, never by the text itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenLabel {
    /// Lower-case hex SHA-256 of the token.
    pub token_hash: String,
    /// The `type` GitHub reported, as given.
    pub token_type: String,
    /// Ours or not.
    pub label: Label,
}

impl TokenLabel {
    /// The label for `reported`.
    pub fn new(reported: &ReportedToken, label: Label) -> TokenLabel {
        TokenLabel {
            token_hash: token_hash(&reported.token),
            token_type: reported.token_type.clone(),
            label,
        }
    }
}

/// Lower-case hex SHA-256 of `token`, as the partner program's `token_hash`.
///
/// ```
/// assert_eq!(
///     keyward_secret_scanning::token_hash("abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}
