use std::fmt;

use zeroize::Zeroizing;

use crate::format::ID_LEN;
use crate::key_id::KeyId;
use crate::mask::MaskedKey;

/// A freshly minted key: the only copy of its plaintext.
///
/// Show it to its owner once ([`MintedKey::expose`]) and store only its hash. `Debug`
/// and `Display` print the masked preview; the plaintext is zeroized on drop.
pub struct MintedKey {
    id: KeyId,
    key: Zeroizing<String>,
    prefix_len: usize,
}

impl MintedKey {
    pub(crate) fn new(id: KeyId, key: Zeroizing<String>, prefix_len: usize) -> Self {
        MintedKey {
            id,
            key,
            prefix_len,
        }
    }

    /// The public key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The full plaintext key. The name is deliberate: every call site is a place the
    /// secret leaves the library.
    pub fn expose(&self) -> &str {
        &self.key
    }

    /// The secret part alone, as the hasher wants it.
    pub fn secret(&self) -> &[u8] {
        let start = self.prefix_len + ID_LEN;
        &self.key.as_bytes()[start..start + crate::SECRET_LEN]
    }

    /// The credential id of the pair form: `<prefix><id>`. Public.
    pub fn credential_id(&self) -> &str {
        &self.key[..self.prefix_len + ID_LEN]
    }

    /// The credential secret of the pair form: `<secret><checksum>`. Secret.
    pub fn credential_secret(&self) -> &str {
        &self.key[self.prefix_len + ID_LEN..]
    }

    /// The masked preview (`key_prefix`, `last4`).
    pub fn masked(&self) -> MaskedKey {
        MaskedKey::of(&self.key, self.prefix_len)
    }
}

impl fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedKey")
            .field("id", &self.id)
            .field("key", &self.masked().to_string())
            .finish()
    }
}

impl fmt::Display for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.masked(), f)
    }
}

#[cfg(test)]
mod tests {
    use crate::KeyFormat;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let k = KeyFormat::new("sk_live_").unwrap().mint().unwrap();
        let secret = std::str::from_utf8(k.secret()).unwrap().to_owned();
        for shown in [format!("{k:?}"), format!("{k}"), format!("{k:#?}")] {
            assert!(!shown.contains(&secret), "{shown}");
            assert!(!shown.contains(k.expose()), "{shown}");
            assert!(shown.contains(&k.masked().key_prefix), "{shown}");
        }
        let parsed = KeyFormat::new("sk_live_").unwrap();
        let p = parsed.parse(k.expose()).unwrap();
        assert!(!format!("{p:?}").contains(&secret));
    }
}
