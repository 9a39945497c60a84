use std::fmt;

/// A credential as a client presented it, before parsing.
///
/// `Debug` prints neither part: a client may well put a whole key where the id belongs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// A whole key (`Authorization: Bearer sk_live_…` or `x-api-key: sk_live_…`).
    Key(&'a str),
    /// A credential id and secret (HTTP Basic `id:secret`).
    Pair {
        /// The public credential id (`<prefix><id>`).
        id: &'a str,
        /// The credential secret.
        secret: &'a str,
    },
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Key(_) => f.write_str("Credential::Key([redacted])"),
            Credential::Pair { .. } => f.write_str("Credential::Pair([redacted])"),
        }
    }
}
