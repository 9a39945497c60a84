//! Checking an alert's signature: ECDSA P-256 with SHA-256 over the raw body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier;
use thiserror::Error;

use crate::PublicKeys;

/// The header naming the key an alert was signed with (HTTP header names are
/// case-insensitive; GitHub's documentation spells it `Github-Public-Key-Identifier`).
pub const KEY_IDENTIFIER_HEADER: &str = "github-public-key-identifier";

/// The header holding the signature: base64 of an ASN.1 DER ECDSA signature.
pub const SIGNATURE_HEADER: &str = "github-public-key-signature";

/// Why an alert's signature was refused. Every case is answered 401 alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `Github-Public-Key-Identifier` header.
    #[error("no Github-Public-Key-Identifier header")]
    MissingIdentifier,
    /// No `Github-Public-Key-Signature` header.
    #[error("no Github-Public-Key-Signature header")]
    MissingSignature,
    /// The identifier names none of the configured public keys.
    #[error("the key identifier names no configured public key")]
    UnknownIdentifier,
    /// The signature is not base64 of a DER ECDSA signature.
    #[error("the signature is not base64 of a DER ECDSA signature")]
    Malformed,
    /// The signature does not match the body under the named key.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks that `signature` (the header's value) signs `body` under the key `identifier`
/// names among `keys`. The body is taken as received, never re-serialized: GitHub signs
/// the bytes it sent.
///
/// # Errors
///
/// [`SignatureError`] naming what is missing or wrong.
pub fn verify_signature(
    keys: &PublicKeys,
    identifier: Option<&[u8]>,
    signature: Option<&[u8]>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let identifier = identifier.ok_or(SignatureError::MissingIdentifier)?;
    let signature = signature.ok_or(SignatureError::MissingSignature)?;
    let key = std::str::from_utf8(identifier)
        .ok()
        .and_then(|id| keys.get(id.trim()))
        .ok_or(SignatureError::UnknownIdentifier)?;
    let der = STANDARD
        .decode(signature.trim_ascii())
        .map_err(|_| SignatureError::Malformed)?;
    let signature = Signature::from_der(&der).map_err(|_| SignatureError::Malformed)?;
    key.verify(body, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signed example of GitHub's partner program documentation.
    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsz9ugWDj5jK5ELBK42ynytbo38gP\nHzZFI03Exwz8Lh/tCfL3YxwMdLjB+bMznsanlhK0RwcGP3IDb34kQDIo3Q==\n-----END PUBLIC KEY-----\n";
    const ID: &[u8] = b"f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d";
    const SIGNATURE: &[u8] =
        b"MEUCIFLZzeK++IhS+y276SRk2Pe5LfDrfvTXu6iwKKcFGCrvAiEAhHN2kDOhy2I6eGkOFmxNkOJ+L2y8oQ9A2T9GGJo6WJY=";
    const BODY: &[u8] =
        br#"[{"token":"some_token","type":"some_type","url":"some_url","source":"some_source"}]"#;

    #[test]
    fn githubs_documented_example_verifies() {
        let keys = PublicKeys::parse(PEM).unwrap();
        assert_eq!(
            verify_signature(&keys, Some(ID), Some(SIGNATURE), BODY),
            Ok(())
        );
    }

    #[test]
    fn every_flaw_is_refused() {
        let keys = PublicKeys::parse(PEM).unwrap();
        let check = |id: Option<&[u8]>, sig: Option<&[u8]>, body: &[u8]| {
            verify_signature(&keys, id, sig, body).unwrap_err()
        };
        assert_eq!(
            check(None, Some(SIGNATURE), BODY),
            SignatureError::MissingIdentifier
        );
        assert_eq!(
            check(Some(ID), None, BODY),
            SignatureError::MissingSignature
        );
        assert_eq!(
            check(Some(b"f9525bf0"), Some(SIGNATURE), BODY),
            SignatureError::UnknownIdentifier
        );
        assert_eq!(
            check(Some(ID), Some(b"not base64!"), BODY),
            SignatureError::Malformed
        );
        assert_eq!(
            check(Some(ID), Some(b"AAAA"), BODY),
            SignatureError::Malformed
        );
        // One byte of the body changed, or a space added: not what GitHub signed.
        let tampered = String::from_utf8_lossy(BODY).replace("some_token", "some_tokeN");
        assert_eq!(
            check(Some(ID), Some(SIGNATURE), tampered.as_bytes()),
            SignatureError::Mismatch
        );
        // The raw r‖s form of the same signature: GitHub sends DER, and only DER is
        // read.
        let der = STANDARD.decode(SIGNATURE).unwrap();
        let raw = STANDARD.encode(Signature::from_der(&der).unwrap().to_bytes());
        assert_eq!(
            check(Some(ID), Some(raw.as_bytes()), BODY),
            SignatureError::Malformed
        );
        let spaced = String::from_utf8_lossy(BODY).replace(',', ", ");
        assert_eq!(
            check(Some(ID), Some(SIGNATURE), spaced.as_bytes()),
            SignatureError::Mismatch
        );
    }
}
