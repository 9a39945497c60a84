use std::fmt;

use base64::Engine;
use zeroize::Zeroizing;

use crate::credential::Credential;
use crate::error::AuthError;

/// Longest credential header value read, in bytes. A key is ~60 bytes; anything far
/// longer is a malformed request (400), not something to decode.
pub const MAX_CREDENTIAL_HEADER_LEN: usize = 1024;

/// Which places a credential is read from. All three by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialSources {
    /// `Authorization: Bearer <key>` (seeds 000, 002, 003).
    pub bearer: bool,
    /// `x-api-key: <key>` (seed 001).
    pub x_api_key: bool,
    /// `Authorization: Basic base64(<credential id>:<credential secret>)` (seed 004), or
    /// the whole key as the user name with an empty password (Stripe's form).
    pub basic: bool,
}

impl Default for CredentialSources {
    fn default() -> Self {
        CredentialSources {
            bearer: true,
            x_api_key: true,
            basic: true,
        }
    }
}

/// A credential read from a request: borrowed from the headers, or decoded from Basic
/// (then owned and zeroized on drop). `Debug` never shows it.
pub enum ExtractedCredential<'a> {
    /// A whole key, borrowed from a header.
    Key(&'a str),
    /// A decoded Basic `id:secret`; `colon` is where the secret starts minus one.
    Basic {
        /// The decoded `id:secret` text.
        decoded: Zeroizing<String>,
        /// Byte index of the first `:`.
        colon: usize,
    },
}

impl ExtractedCredential<'_> {
    /// The credential to pass to [`crate::Authenticator::authenticate`].
    pub fn credential(&self) -> Credential<'_> {
        match self {
            ExtractedCredential::Key(key) => Credential::Key(key),
            ExtractedCredential::Basic { decoded, colon } => Credential::Pair {
                id: &decoded[..*colon],
                secret: &decoded[*colon + 1..],
            },
        }
    }
}

impl fmt::Debug for ExtractedCredential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExtractedCredential([redacted])")
    }
}

/// Reads the credential from the values of every `Authorization` and `x-api-key`
/// header of a request.
///
/// - `Ok(None)`: no credential (401 `missing_credential`). An `Authorization` scheme
///   other than the enabled ones counts as no credential.
/// - `Err(AuthError::InvalidRequest)` (400): two different credentials, an empty or
///   oversized value, bytes that are not visible ASCII, Basic that is not base64 of
///   UTF-8 with a colon.
///
/// Schemes are case-insensitive (RFC 7235) and any run of spaces may separate scheme
/// and token. The same key sent twice (say as Bearer and as `x-api-key`) is one
/// credential.
///
/// ```
/// use keyward::http::{CredentialSources, extract};
/// use keyward::Credential;
///
/// let sources = CredentialSources::default();
/// let found = extract(sources, [&b"bearer  sk_live_abc"[..]], [])?.unwrap();
/// assert_eq!(found.credential(), Credential::Key("sk_live_abc"));
/// assert!(extract(sources, [&b"Bearer a"[..]], [&b"b"[..]]).is_err());
/// # Ok::<(), keyward::AuthError>(())
/// ```
pub fn extract<'a>(
    sources: CredentialSources,
    authorization: impl IntoIterator<Item = &'a [u8]>,
    x_api_key: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<ExtractedCredential<'a>>, AuthError> {
    let mut found: Option<ExtractedCredential<'a>> = None;
    for value in authorization {
        let value = header_text(value)?;
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let token = rest.trim_start_matches(' ');
        let candidate = if scheme.eq_ignore_ascii_case("bearer") && sources.bearer {
            ExtractedCredential::Key(non_empty(token)?)
        } else if scheme.eq_ignore_ascii_case("basic") && sources.basic {
            decode_basic(non_empty(token)?)?
        } else {
            continue;
        };
        merge(&mut found, candidate)?;
    }
    if sources.x_api_key {
        for value in x_api_key {
            let key = non_empty(header_text(value)?)?;
            merge(&mut found, ExtractedCredential::Key(key))?;
        }
    }
    Ok(found)
}

const BAD: AuthError = AuthError::InvalidRequest("malformed credential header");

/// A header value as text: visible ASCII and spaces only, trimmed, bounded.
fn header_text(value: &[u8]) -> Result<&str, AuthError> {
    if value.len() > MAX_CREDENTIAL_HEADER_LEN {
        return Err(AuthError::InvalidRequest("credential header too long"));
    }
    if !value
        .iter()
        .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
    {
        return Err(BAD);
    }
    let text = std::str::from_utf8(value).map_err(|_| BAD)?;
    Ok(text.trim_matches(|c| c == ' ' || c == '\t'))
}

fn non_empty(token: &str) -> Result<&str, AuthError> {
    if token.is_empty() || token.contains([' ', '\t']) {
        return Err(BAD);
    }
    Ok(token)
}

fn decode_basic(token: &str) -> Result<ExtractedCredential<'static>, AuthError> {
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| BAD)?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|_| BAD)?;
    let colon = text.find(':').ok_or(BAD)?;
    if text.chars().any(char::is_control) {
        return Err(BAD);
    }
    Ok(ExtractedCredential::Basic {
        decoded: Zeroizing::new(text.to_owned()),
        colon,
    })
}

/// Keeps one credential; a second, different one is a 400.
fn merge<'a>(
    found: &mut Option<ExtractedCredential<'a>>,
    candidate: ExtractedCredential<'a>,
) -> Result<(), AuthError> {
    match found {
        None => {
            *found = Some(candidate);
            Ok(())
        }
        Some(existing) if same(existing, &candidate) => Ok(()),
        Some(_) => Err(AuthError::InvalidRequest("more than one credential")),
    }
}

fn same(a: &ExtractedCredential<'_>, b: &ExtractedCredential<'_>) -> bool {
    use subtle::ConstantTimeEq;
    let joined = |c: &ExtractedCredential<'_>| match c.credential() {
        Credential::Key(k) => Zeroizing::new(k.to_owned()),
        Credential::Pair { id, secret: "" } => Zeroizing::new(id.to_owned()),
        Credential::Pair { id, secret } => Zeroizing::new(format!("{id}{secret}")),
    };
    bool::from(joined(a).as_bytes().ct_eq(joined(b).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
        .into_bytes()
    }

    fn one(auth: &[&[u8]], api: &[&[u8]]) -> Result<Option<String>, AuthError> {
        extract(
            CredentialSources::default(),
            auth.iter().copied(),
            api.iter().copied(),
        )
        .map(|c| {
            c.map(|c| match c.credential() {
                Credential::Key(k) => k.to_owned(),
                Credential::Pair { id, secret } => format!("{id}|{secret}"),
            })
        })
    }

    #[test]
    fn reads_every_source_and_scheme_spelling() {
        assert_eq!(one(&[b"Bearer k1"], &[]), Ok(Some("k1".into())));
        assert_eq!(one(&[b"bearer k1"], &[]), Ok(Some("k1".into())));
        assert_eq!(one(&[b"BEARER    k1  "], &[]), Ok(Some("k1".into())));
        assert_eq!(one(&[], &[b"k1"]), Ok(Some("k1".into())));
        assert_eq!(
            one(&[&basic("id:secret")], &[]),
            Ok(Some("id|secret".into()))
        );
        assert_eq!(
            one(&[&basic("sk_live_x:")], &[]),
            Ok(Some("sk_live_x|".into()))
        );
        assert_eq!(
            one(&[b"Bearer k1"], &[b"k1"]),
            Ok(Some("k1".into())),
            "same key twice"
        );
        assert_eq!(
            one(&[&basic("ab:cd")], &[b"abcd"]),
            Ok(Some("ab|cd".into()))
        );
    }

    #[test]
    fn no_credential() {
        assert_eq!(one(&[], &[]), Ok(None));
        assert_eq!(one(&[b"Digest abc"], &[]), Ok(None));
        let only_bearer = CredentialSources {
            x_api_key: false,
            basic: false,
            ..Default::default()
        };
        assert!(extract(only_bearer, [], [&b"k1"[..]]).unwrap().is_none());
        assert!(
            extract(only_bearer, [basic("a:b").as_slice()], [])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_headers_are_400() {
        let long = format!("Bearer {}", "a".repeat(8192));
        for (auth, api) in [
            (&b"Bearer"[..], &b""[..]),
            (b"Bearer ", b""),
            (b"Bearer a b", b""),
            (b"Bearer k\x01", b""),
            (b"Bearer k\xc3\xa9", b""),
            (long.as_bytes(), b""),
            (b"Basic !!!", b""),
            (b"Basic", b""),
        ] {
            let e = one(&[auth], &[]).unwrap_err();
            assert_eq!(e.code().as_str(), "invalid_request", "{auth:?} {api:?}");
        }
        assert!(one(&[&basic("no-colon")], &[]).is_err());
        assert!(one(&[], &[b""]).is_err());
        assert!(one(&[], &[b"   "]).is_err());
        assert!(
            one(&[b"Bearer k1"], &[b"k2"]).is_err(),
            "two different credentials"
        );
        assert!(one(&[b"Bearer k1", b"Bearer k2"], &[]).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let c = extract(
            CredentialSources::default(),
            [&b"Bearer sk_live_secret"[..]],
            [],
        )
        .unwrap()
        .unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }
}
