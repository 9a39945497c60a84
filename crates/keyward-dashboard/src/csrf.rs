//! CSRF tokens: a keyed hash of the host's session id, so a form posted from another
//! site (which cannot read the page) carries no valid token, and a token from one session
//! is worthless in another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The secret tokens and session bindings are derived from.
pub(crate) struct SessionKey {
    secret: Zeroizing<[u8; 32]>,
}

impl SessionKey {
    pub(crate) fn new(secret: [u8; 32]) -> SessionKey {
        SessionKey {
            secret: Zeroizing::new(secret),
        }
    }

    /// The token every form of `session_id`'s pages carries in its `csrf` field.
    pub(crate) fn csrf_token(&self, session_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.derive(b"csrf", session_id))
    }

    /// Whether `submitted` is `session_id`'s token, compared in constant time.
    pub(crate) fn csrf_valid(&self, session_id: &str, submitted: Option<&str>) -> bool {
        let Some(submitted) = submitted else {
            return false;
        };
        let expected = self.csrf_token(session_id);
        bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
    }

    /// What a show-once slot stores of the session it belongs to: not the session id
    /// itself, which may be the session cookie.
    pub(crate) fn session_binding(&self, session_id: &str) -> [u8; 32] {
        self.derive(b"slot", session_id)
    }

    /// A keyed hash of `session_id` for one `purpose`, so a CSRF token never equals a
    /// slot binding.
    fn derive(&self, purpose: &[u8], session_id: &str) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new_keyed(&self.secret);
        hasher.update(b"keyward-dashboard ");
        hasher.update(purpose);
        hasher.update(b"\0");
        hasher.update(session_id.as_bytes());
        *hasher.finalize().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_only_for_its_session_and_secret() {
        let key = SessionKey::new([7; 32]);
        let token = key.csrf_token("s1");
        assert!(key.csrf_valid("s1", Some(&token)));
        assert!(!key.csrf_valid("s2", Some(&token)));
        assert!(!key.csrf_valid("s1", None));
        assert!(!key.csrf_valid("s1", Some("")));
        assert!(!key.csrf_valid("s1", Some(&token[1..])));
        assert!(!SessionKey::new([8; 32]).csrf_valid("s1", Some(&token)));
        assert_ne!(
            URL_SAFE_NO_PAD.encode(key.session_binding("s1")),
            token,
            "a slot binding is not a CSRF token"
        );
    }
}
