use std::sync::Arc;

use crate::error::HashError;

/// Turns a key's secret into a slow, salted, self-describing hash and back.
///
/// The stored string names its algorithm and parameters (modular crypt `$2b$10$…` or PHC
/// `$argon2id$v=19$m=…,t=…,p=…$…`), so every implementation here verifies **both**
/// formats: a deployment that switches algorithm or raises a cost keeps verifying old
/// keys, and [`SecretHasher::needs_rehash`] tells it to store a fresh hash after the next
/// successful verification.
///
/// Hashing is deliberately slow (tens of milliseconds): call it on a blocking pool
/// (`tokio::task::spawn_blocking`), never directly on an async worker.
///
/// ```
/// use keyward_hash::{Argon2idHasher, BcryptHasher, SecretHasher};
///
/// let old = BcryptHasher::new(4)?; // low cost: a doctest, not a deployment
/// let new = Argon2idHasher::new(256, 1, 1)?;
/// let stored = old.hash(b"s3cr3t")?;
///
/// // The new hasher still verifies the old hash, and asks for a re-hash.
/// assert!(new.verify(b"s3cr3t", &stored)?);
/// assert!(!new.verify(b"wrong", &stored)?);
/// assert!(new.needs_rehash(&stored));
/// let rehashed = new.hash(b"s3cr3t")?;
/// assert!(!new.needs_rehash(&rehashed));
/// # Ok::<(), keyward_hash::HashError>(())
/// ```
pub trait SecretHasher: Send + Sync + 'static {
    /// Hashes `secret` with a fresh random salt from the OS generator.
    fn hash(&self, secret: &[u8]) -> Result<String, HashError>;

    /// Whether `secret` matches `hash`, whichever supported algorithm made it.
    ///
    /// `Ok(false)` for a wrong secret; [`HashError::MalformedHash`] for a string no
    /// supported algorithm reads.
    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError>;

    /// True when `hash` was made by another algorithm or with other parameters than
    /// this hasher's current ones (so the caller re-hashes after a successful verify).
    /// A string that cannot be read at all also answers true.
    fn needs_rehash(&self, hash: &str) -> bool;
}

impl<H: SecretHasher + ?Sized> SecretHasher for Arc<H> {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        (**self).hash(secret)
    }

    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        (**self).verify(secret, hash)
    }

    fn needs_rehash(&self, hash: &str) -> bool {
        (**self).needs_rehash(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BcryptHasher;

    #[test]
    fn works_behind_an_arc_dyn() {
        let hasher: Arc<dyn SecretHasher> = Arc::new(BcryptHasher::new(4).unwrap());
        let hash = hasher.hash(b"s3cr3t").unwrap();
        assert_eq!(hasher.verify(b"s3cr3t", &hash), Ok(true));
        assert!(!hasher.needs_rehash(&hash));
    }
}
