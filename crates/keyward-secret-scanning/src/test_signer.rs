//! [`TestSigner`]: signs alert bodies as GitHub does, with a key made for the test, so
//! tests exercise the receiver without GitHub or the network.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

use crate::public_keys::hex;

/// A fresh P-256 key pair standing in for GitHub's signing key.
///
/// ```
/// use keyward_secret_scanning::PublicKeys;
/// use keyward_secret_scanning::test_signer::TestSigner;
///
/// let github = TestSigner::generate();
/// let keys = PublicKeys::parse(&github.public_keys_json())?;
/// assert_eq!(keys.identifiers().collect::<Vec<_>>(), [github.key_identifier()]);
/// # Ok::<(), keyward_secret_scanning::PublicKeysError>(())
/// ```
pub struct TestSigner {
    key: SigningKey,
    pem: String,
    identifier: String,
}

impl TestSigner {
    /// A new random key.
    ///
    /// # Panics
    ///
    /// When the system has no randomness: test support.
    pub fn generate() -> TestSigner {
        let key = loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("system randomness");
            // A scalar of zero or past the group order is refused; draw again.
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                break key;
            }
        };
        let pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a P-256 public key encodes");
        let identifier = hex(&Sha256::digest(pem.as_bytes()));
        TestSigner {
            key,
            pem,
            identifier,
        }
    }

    /// The key's identifier: the SHA-256 of its PEM, as GitHub names its keys.
    pub fn key_identifier(&self) -> &str {
        &self.identifier
    }

    /// The public key, PEM.
    pub fn public_key_pem(&self) -> &str {
        &self.pem
    }

    /// The public key in GitHub's published JSON shape.
    pub fn public_keys_json(&self) -> String {
        serde_json::json!({"public_keys": [{
            "key_identifier": self.identifier,
            "key": self.pem,
            "is_current": true,
        }]})
        .to_string()
    }

    /// The `Github-Public-Key-Signature` value for `body`: base64 of a DER signature.
    pub fn sign(&self, body: &[u8]) -> String {
        let signature: Signature = self.key.sign(body);
        STANDARD.encode(signature.to_der().as_bytes())
    }
}

impl std::fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSigner")
            .field("key_identifier", &self.identifier)
            .finish_non_exhaustive()
    }
}
