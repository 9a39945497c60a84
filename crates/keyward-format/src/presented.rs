use std::fmt;

use crate::key_id::KeyId;

/// A key as presented by a client, parsed and checksum-valid.
///
/// Borrows the request's bytes (no copy of the secret is made); `Debug` shows only the
/// id. Whether the secret is *right* is the authenticator's question, not the format's.
#[derive(Clone, Copy)]
pub struct PresentedKey<'a> {
    id: KeyId,
    secret: &'a [u8],
}

impl<'a> PresentedKey<'a> {
    pub(crate) fn new(id: &[u8], secret: &'a [u8]) -> Self {
        let mut id_bytes = [0u8; crate::ID_LEN];
        id_bytes.copy_from_slice(id);
        PresentedKey {
            id: KeyId::from_validated(id_bytes),
            secret,
        }
    }

    /// The public key id: what the store is searched by.
    #[inline]
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The secret part (base62 ASCII, [`crate::SECRET_LEN`] bytes): what is hashed.
    #[inline]
    pub fn secret(&self) -> &'a [u8] {
        self.secret
    }
}

impl fmt::Debug for PresentedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Equal when id and secret are equal; the secrets are compared in constant time.
impl PartialEq for PresentedKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.id == other.id && bool::from(self.secret.ct_eq(other.secret))
    }
}

impl Eq for PresentedKey<'_> {}
