use std::fmt;

use base64::Engine;
use zeroize::Zeroizing;

use crate::credential::Credential;
use crate::error::AuthError;

/// Longest credential header value decoded, in bytes. A key is ~60 bytes, so a longer
/// Bearer, Basic or `x-api-key` value is no key of any format: it is answered like any
/// malformed key (401 `invalid_key`, counted toward the client's lockout) without its
/// bytes being read.
pub const MAX_CREDENTIAL_HEADER_LEN: usize = 1024;

/// Why a request's credential headers are a 400: the message of its `invalid_request`.
/// Each says what was wrong and never quotes the header.
mod reason {
    pub const TWO_CREDENTIALS: &str =
        "the request carries two different credentials; send one key, in one header";
    pub const EMPTY_BEARER: &str = "the Authorization: Bearer header has no key after the scheme";
    pub const EMPTY_BASIC: &str =
        "the Authorization: Basic header has no credentials after the scheme";
    pub const EMPTY_X_API_KEY: &str = "the x-api-key header is empty";
    pub const SPACE_IN_TOKEN: &str =
        "the credential header holds more than one word; a key has no spaces";
    pub const NOT_VISIBLE_ASCII: &str =
        "the credential header holds bytes other than visible ASCII";
    pub const BASIC_NOT_BASE64: &str = "the Basic credentials are not valid base64";
    pub const BASIC_NOT_TEXT: &str =
        "the Basic credentials decode to bytes that are not printable UTF-8 text";
    pub const BASIC_NO_COLON: &str =
        "the Basic credentials have no colon; send <key>: or <key id>:<secret>";
}

/// Which places a credential is read from. All three by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialSources {
    /// `Authorization: Bearer <key>`.
    pub bearer: bool,
    /// `x-api-key: <key>`.
    pub x_api_key: bool,
    /// `Authorization: Basic base64(<credential id>:<credential secret>)`, or the whole
    /// key as the user name with an empty password (Stripe's form).
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

impl CredentialSources {
    /// The `message` of a 401 `missing_credential`: the forms these sources accept, and
    /// which headers of the request were ignored (an `Authorization` scheme that is not
    /// accepted, an `x-api-key` header when that source is off). Quotes nothing the
    /// client sent.
    ///
    /// ```
    /// use keyward::http::CredentialSources;
    ///
    /// let all = CredentialSources::default();
    /// assert!(all.missing_credential_message(false, false).contains("x-api-key"));
    /// assert!(all.missing_credential_message(true, false).contains("ignored"));
    /// ```
    pub fn missing_credential_message(
        &self,
        ignored_authorization: bool,
        ignored_x_api_key: bool,
    ) -> String {
        let forms: Vec<&str> = [
            (self.bearer, "Authorization: Bearer <key>"),
            (self.x_api_key, "x-api-key: <key>"),
            (
                self.basic,
                "Authorization: Basic with <key>: or <key id>:<secret>",
            ),
        ]
        .into_iter()
        .filter_map(|(on, form)| on.then_some(form))
        .collect();
        let mut message = match forms.as_slice() {
            [] => "an API key is required, and this route reads none".to_owned(),
            [one] => format!("an API key is required: send {one}"),
            [init @ .., last] => {
                format!("an API key is required: send {} or {last}", init.join(", "))
            }
        };
        if ignored_authorization {
            message.push_str(
                "; the Authorization header was ignored: its scheme is not one accepted here",
            );
        }
        if ignored_x_api_key {
            message.push_str("; the x-api-key header was ignored: it is not accepted here");
        }
        message
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
    /// A Bearer, Basic or `x-api-key` value longer than [`MAX_CREDENTIAL_HEADER_LEN`]:
    /// unread, and no key.
    Oversized,
}

impl ExtractedCredential<'_> {
    /// The credential to pass to [`crate::Authenticator::authenticate`].
    ///
    /// An [`Oversized`](ExtractedCredential::Oversized) value is presented as an empty
    /// key, which no format parses: the authenticator answers it like any malformed key,
    /// after the lockout check and counting toward it.
    pub fn credential(&self) -> Credential<'_> {
        match self {
            ExtractedCredential::Key(key) => Credential::Key(key),
            ExtractedCredential::Basic { decoded, colon } => Credential::Pair {
                id: &decoded[..*colon],
                secret: &decoded[*colon + 1..],
            },
            ExtractedCredential::Oversized => Credential::Key(""),
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
///   other than the enabled ones is ignored, whatever its bytes.
/// - `Ok(Some(ExtractedCredential::Oversized))`: a value longer than
///   [`MAX_CREDENTIAL_HEADER_LEN`] (401 `invalid_key`), not read past its scheme.
/// - `Err(AuthError::InvalidRequest(why))` (400): two different credentials, an empty
///   value, a space inside the token, bytes that are not visible ASCII, Basic that is
///   not base64 of printable UTF-8 with a colon. `why` says which, quoting nothing.
///
/// Schemes are case-insensitive (RFC 7235) and any run of spaces may separate scheme
/// and token. The same key sent twice (say as Bearer and as `x-api-key`) is one
/// credential; so are two oversized values.
///
/// ```
/// use keyward::http::{CredentialSources, ExtractedCredential, extract};
/// use keyward::Credential;
///
/// let sources = CredentialSources::default();
/// let found = extract(sources, [&b"bearer  sk_live_abc"[..]], [])?.unwrap();
/// assert_eq!(found.credential(), Credential::Key("sk_live_abc"));
/// assert!(extract(sources, [&b"Bearer a"[..]], [&b"b"[..]]).is_err());
/// let long = vec![b'k'; 8192];
/// let found = extract(sources, [], [long.as_slice()])?.unwrap();
/// assert!(matches!(found, ExtractedCredential::Oversized));
/// # Ok::<(), keyward::AuthError>(())
/// ```
pub fn extract<'a>(
    sources: CredentialSources,
    authorization: impl IntoIterator<Item = &'a [u8]>,
    x_api_key: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<ExtractedCredential<'a>>, AuthError> {
    let mut found: Option<ExtractedCredential<'a>> = None;
    for value in authorization {
        let (scheme, rest) = split_scheme(value);
        let candidate = if scheme.eq_ignore_ascii_case(b"bearer") && sources.bearer {
            bounded(value, |_| {
                Ok(ExtractedCredential::Key(token(rest, reason::EMPTY_BEARER)?))
            })?
        } else if scheme.eq_ignore_ascii_case(b"basic") && sources.basic {
            bounded(value, |_| decode_basic(token(rest, reason::EMPTY_BASIC)?))?
        } else {
            continue;
        };
        merge(&mut found, candidate)?;
    }
    if sources.x_api_key {
        for value in x_api_key {
            let candidate = bounded(value, |value| {
                Ok(ExtractedCredential::Key(token(
                    value,
                    reason::EMPTY_X_API_KEY,
                )?))
            })?;
            merge(&mut found, candidate)?;
        }
    }
    Ok(found)
}

/// `read(value)`, or [`ExtractedCredential::Oversized`] without reading a value longer
/// than [`MAX_CREDENTIAL_HEADER_LEN`].
fn bounded<'a>(
    value: &'a [u8],
    read: impl FnOnce(&'a [u8]) -> Result<ExtractedCredential<'a>, AuthError>,
) -> Result<ExtractedCredential<'a>, AuthError> {
    if value.len() > MAX_CREDENTIAL_HEADER_LEN {
        Ok(ExtractedCredential::Oversized)
    } else {
        read(value)
    }
}

fn is_blank(b: &u8) -> bool {
    *b == b' ' || *b == b'\t'
}

/// The scheme of an `Authorization` value and what follows it. Only the scheme's bytes
/// are scanned, so an oversized value costs a few comparisons.
fn split_scheme(value: &[u8]) -> (&[u8], &[u8]) {
    const LONGEST_SCHEME: usize = "bearer".len();
    let start = value
        .iter()
        .position(|b| !is_blank(b))
        .unwrap_or(value.len());
    let value = &value[start..];
    let end = value
        .iter()
        .take(LONGEST_SCHEME + 1)
        .position(is_blank)
        .unwrap_or(value.len().min(LONGEST_SCHEME + 1));
    value.split_at(end)
}

/// The one token of a (bounded) header value: trimmed, non-empty, visible ASCII, no
/// blank inside.
fn token<'a>(value: &'a [u8], empty: &'static str) -> Result<&'a str, AuthError> {
    let start = value.iter().position(|b| !is_blank(b));
    let end = value.iter().rposition(|b| !is_blank(b));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(AuthError::InvalidRequest(empty));
    };
    let token = &value[start..=end];
    // Blanks are not visible ASCII either, so the common case is one check of every
    // byte, without early exits so that it vectorizes: this runs on every request.
    let invisible = token
        .iter()
        .fold(0u8, |any, b| any | u8::from(!b.is_ascii_graphic()));
    if invisible != 0 {
        return Err(AuthError::InvalidRequest(if token.iter().any(is_blank) {
            reason::SPACE_IN_TOKEN
        } else {
            reason::NOT_VISIBLE_ASCII
        }));
    }
    // Visible ASCII is UTF-8.
    std::str::from_utf8(token).map_err(|_| AuthError::InvalidRequest(reason::NOT_VISIBLE_ASCII))
}

fn decode_basic(token: &str) -> Result<ExtractedCredential<'static>, AuthError> {
    let bad = AuthError::InvalidRequest;
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| bad(reason::BASIC_NOT_BASE64))?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|_| bad(reason::BASIC_NOT_TEXT))?;
    if text.chars().any(char::is_control) {
        return Err(bad(reason::BASIC_NOT_TEXT));
    }
    let colon = text.find(':').ok_or(bad(reason::BASIC_NO_COLON))?;
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
        Some(_) => Err(AuthError::InvalidRequest(reason::TWO_CREDENTIALS)),
    }
}

fn same(a: &ExtractedCredential<'_>, b: &ExtractedCredential<'_>) -> bool {
    use subtle::ConstantTimeEq;
    match (a, b) {
        (ExtractedCredential::Oversized, ExtractedCredential::Oversized) => return true,
        (ExtractedCredential::Oversized, _) | (_, ExtractedCredential::Oversized) => {
            return false;
        }
        _ => {}
    }
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
    fn malformed_headers_are_400_saying_what_is_wrong() {
        for (auth, why) in [
            (&b"Bearer"[..], reason::EMPTY_BEARER),
            (b"Bearer ", reason::EMPTY_BEARER),
            (b"bearer \t ", reason::EMPTY_BEARER),
            (b"Bearer a b", reason::SPACE_IN_TOKEN),
            (b"Bearer k\x01", reason::NOT_VISIBLE_ASCII),
            (b"Bearer k\xc3\xa9", reason::NOT_VISIBLE_ASCII),
            (b"Basic !!!", reason::BASIC_NOT_BASE64),
            (b"Basic", reason::EMPTY_BASIC),
        ] {
            let e = one(&[auth], &[]).unwrap_err();
            assert_eq!(e, AuthError::InvalidRequest(why), "{auth:?}");
        }
        let bad = |why| Err(AuthError::InvalidRequest(why));
        assert_eq!(one(&[&basic("no-colon")], &[]), bad(reason::BASIC_NO_COLON));
        assert_eq!(one(&[&basic("a:\u{7}")], &[]), bad(reason::BASIC_NOT_TEXT));
        assert_eq!(one(&[], &[b""]), bad(reason::EMPTY_X_API_KEY));
        assert_eq!(one(&[], &[b"   "]), bad(reason::EMPTY_X_API_KEY));
        assert_eq!(one(&[b"Bearer k1"], &[b"k2"]), bad(reason::TWO_CREDENTIALS));
        assert_eq!(
            one(&[b"Bearer k1", b"Bearer k2"], &[]),
            bad(reason::TWO_CREDENTIALS)
        );
    }

    #[test]
    fn an_oversized_value_is_a_malformed_key_not_a_bad_request() {
        let long = "a".repeat(8192);
        let bearer = format!("Bearer {long}");
        let basic_long = format!("Basic {long}");
        for (auth, api) in [
            (Some(bearer.as_bytes()), None),
            (Some(basic_long.as_bytes()), None),
            (None, Some(long.as_bytes())),
            (Some(bearer.as_bytes()), Some(long.as_bytes())),
        ] {
            let found = extract(CredentialSources::default(), auth, api)
                .unwrap()
                .unwrap();
            assert!(matches!(found, ExtractedCredential::Oversized));
            assert_eq!(found.credential(), Credential::Key(""));
        }
        // Just under the bound is read as usual.
        let at_bound = "k".repeat(MAX_CREDENTIAL_HEADER_LEN);
        assert_eq!(one(&[], &[at_bound.as_bytes()]), Ok(Some(at_bound.clone())));
        // Oversized with another credential is two credentials.
        assert_eq!(
            one(&[bearer.as_bytes()], &[b"k2"]),
            Err(AuthError::InvalidRequest(reason::TWO_CREDENTIALS))
        );
        // Bytes past the scheme are never looked at, even invalid ones.
        let mut garbage = b"Bearer ".to_vec();
        garbage.extend(std::iter::repeat_n(0xff, 8192));
        assert!(matches!(
            extract(CredentialSources::default(), [garbage.as_slice()], []),
            Ok(Some(ExtractedCredential::Oversized))
        ));
        // An oversized value of another scheme is ignored like a short one.
        let digest = format!("Digest {long}");
        assert_eq!(one(&[digest.as_bytes()], &[]), Ok(None));
    }

    #[test]
    fn missing_credential_message_names_the_accepted_forms() {
        let all = CredentialSources::default();
        let message = all.missing_credential_message(false, false);
        for form in ["Authorization: Bearer <key>", "x-api-key", "Basic"] {
            assert!(message.contains(form), "{message}");
        }
        assert!(!message.contains("ignored"));
        assert!(
            all.missing_credential_message(true, false)
                .contains("Authorization header was ignored")
        );
        let only_bearer = CredentialSources {
            x_api_key: false,
            basic: false,
            ..Default::default()
        };
        let message = only_bearer.missing_credential_message(false, true);
        assert!(
            message.contains("send Authorization: Bearer <key>;"),
            "{message}"
        );
        assert!(
            message.contains("x-api-key header was ignored"),
            "{message}"
        );
        assert!(!message.contains("Basic"), "{message}");
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
