use crate::error::HashError;
use crate::scheme;
use crate::secret_hasher::SecretHasher;

/// bcrypt, written as modular crypt `$2b$<cost>$<salt><hash>` (60 characters).
///
/// The default cost is [`BcryptHasher::DEFAULT_COST`] (10): OWASP's minimum for bcrypt.
/// Why not more: a keyward secret is 190 random bits, so no cost makes guessing it any
/// more hopeless than it already is; the slow hash is defence in depth for a stolen
/// database. What the cost does buy is latency on every verification-cache miss and
/// CPU an attacker can burn with wrong secrets for known key ids, so we take the
/// smallest recommended value. Each step up doubles the time; a deployment that wants
/// more sets it explicitly.
///
/// bcrypt reads at most 72 bytes of its input and silently ignores the rest, so this
/// hasher refuses secrets longer than [`BcryptHasher::MAX_SECRET_LEN`] instead of
/// truncating them (keyward secrets are 32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BcryptHasher {
    cost: u32,
}

impl BcryptHasher {
    /// The default cost: 10 (2^10 rounds of the key schedule). See the type's docs.
    pub const DEFAULT_COST: u32 = 10;
    /// The smallest cost bcrypt accepts (for tests only).
    pub const MIN_COST: u32 = 4;
    /// The largest cost bcrypt accepts.
    pub const MAX_COST: u32 = 31;
    /// The longest secret hashed: bcrypt keys are 72 bytes including a terminating
    /// zero byte, so anything longer would be truncated and collide.
    pub const MAX_SECRET_LEN: usize = 71;

    /// A hasher with `cost` (4 ..= 31); below [`BcryptHasher::DEFAULT_COST`] is for tests.
    pub fn new(cost: u32) -> Result<Self, HashError> {
        if !(Self::MIN_COST..=Self::MAX_COST).contains(&cost) {
            return Err(Self::cost_error(cost));
        }
        Ok(BcryptHasher { cost })
    }

    /// The cost new hashes are made with.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    fn cost_error(cost: u32) -> HashError {
        HashError::BcryptCost {
            cost,
            min: Self::MIN_COST,
            max: Self::MAX_COST,
        }
    }
}

impl Default for BcryptHasher {
    fn default() -> Self {
        BcryptHasher {
            cost: Self::DEFAULT_COST,
        }
    }
}

impl SecretHasher for BcryptHasher {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        let too_long = HashError::SecretTooLong {
            len: secret.len(),
            max: Self::MAX_SECRET_LEN,
        };
        if secret.len() > Self::MAX_SECRET_LEN {
            return Err(too_long);
        }
        let parts = ::bcrypt::hash_with_result(secret, self.cost).map_err(|e| match e {
            ::bcrypt::BcryptError::Rand(_) => HashError::RandomUnavailable,
            ::bcrypt::BcryptError::Truncation(_) => too_long,
            // Cost and length are checked above; what remains is a cost bcrypt refused.
            _ => Self::cost_error(self.cost),
        })?;
        Ok(parts.format_for_version(::bcrypt::Version::TwoB))
    }

    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        scheme::verify_any(secret, hash)
    }

    fn needs_rehash(&self, hash: &str) -> bool {
        // Only exactly what `hash` makes is current: `$2b$` at this cost.
        !(hash.starts_with("$2b$") && parse(hash).is_some_and(|p| p.get_cost() == self.cost))
    }
}

/// A well-formed bcrypt string with a cost bcrypt accepts (any `$2?$` variant).
pub(crate) fn parse(hash: &str) -> Option<::bcrypt::HashParts> {
    hash.parse::<::bcrypt::HashParts>()
        .ok()
        .filter(|p| (BcryptHasher::MIN_COST..=BcryptHasher::MAX_COST).contains(&p.get_cost()))
}

/// Verifies a `$2a$`, `$2b$` or `$2y$` string with the cost it carries.
pub(crate) fn verify(secret: &[u8], hash: &str) -> Result<bool, HashError> {
    // No hash we make covers a longer secret (see `BcryptHasher::hash`), and bcrypt
    // would compare only its first 72 bytes: such a secret is wrong.
    if secret.len() > BcryptHasher::MAX_SECRET_LEN {
        // Still reject a string that is not a hash at all.
        return parse(hash).map(|_| false).ok_or(HashError::MalformedHash);
    }
    ::bcrypt::verify(secret, hash).map_err(|e| match e {
        ::bcrypt::BcryptError::Rand(_) => HashError::RandomUnavailable,
        // A bad layout, base64 or out-of-range cost: not a hash we can read.
        _ => HashError::MalformedHash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Argon2idHasher;

    /// A secret shaped like keyward's: 32 base62 bytes.
    const SECRET: &[u8] = b"Vq3xK9LmZ2pR7tY1wE5uI8oA4sD6fG0h";

    fn bcrypt_low() -> BcryptHasher {
        BcryptHasher::new(4).unwrap()
    }

    #[test]
    fn verifies_other_variants() {
        // $2a$ / $2y$ differ from $2b$ only in edge cases our secrets never reach.
        let parts: ::bcrypt::HashParts = bcrypt_low().hash(SECRET).unwrap().parse().unwrap();
        for version in [::bcrypt::Version::TwoA, ::bcrypt::Version::TwoY] {
            let legacy = parts.format_for_version(version);
            assert_eq!(bcrypt_low().verify(SECRET, &legacy), Ok(true), "{legacy}");
            assert!(bcrypt_low().needs_rehash(&legacy), "{legacy}");
        }
        // $2x$ is the crypt_blowfish bug marker: not ours to read.
        let buggy = parts.format_for_version(::bcrypt::Version::TwoX);
        assert_eq!(
            bcrypt_low().verify(SECRET, &buggy),
            Err(HashError::MalformedHash)
        );
    }

    #[test]
    fn needs_rehash_on_cost_change() {
        let b4 = bcrypt_low().hash(SECRET).unwrap();
        assert!(!bcrypt_low().needs_rehash(&b4));
        assert!(BcryptHasher::new(5).unwrap().needs_rehash(&b4));
    }

    #[test]
    fn truncates_at_72_bytes_so_we_refuse_longer_secrets() {
        // The bcrypt algorithm itself ignores everything after byte 72: two inputs that
        // share their first 72 bytes have the same hash. This test exists so nobody
        // feeds it longer inputs blindly.
        let long_a = [b'a'; 80];
        let mut long_b = long_a;
        long_b[75] = b'b';
        let raw = ::bcrypt::hash(long_a, 4).unwrap();
        assert!(
            ::bcrypt::verify(long_b, &raw).unwrap(),
            "bcrypt no longer truncates?"
        );

        // Keyward secrets are far below the limit...
        const { assert!(keyward_format::SECRET_LEN <= BcryptHasher::MAX_SECRET_LEN) };
        // ...and the hasher refuses anything that would be truncated.
        let hasher = bcrypt_low();
        assert!(hasher.hash(&[b'a'; 71]).is_ok());
        assert_eq!(
            hasher.hash(&[b'a'; 72]),
            Err(HashError::SecretTooLong { len: 72, max: 71 })
        );
        assert_eq!(
            hasher.hash(&long_a),
            Err(HashError::SecretTooLong { len: 80, max: 71 })
        );
        // A longer presented secret never matches, even where bcrypt would say yes.
        assert_eq!(hasher.verify(&long_b, &raw), Ok(false));
        assert_eq!(
            Argon2idHasher::new(256, 1, 1)
                .unwrap()
                .verify(&long_b, &raw),
            Ok(false)
        );
        for bad in ["$2b$04$garbage", &raw.replacen("$04$", "$99$", 1)] {
            assert_eq!(
                hasher.verify(&long_b, bad),
                Err(HashError::MalformedHash),
                "{bad}"
            );
        }
    }

    #[test]
    fn cost_is_validated() {
        for cost in [0, 3, 32, u32::MAX] {
            assert_eq!(
                BcryptHasher::new(cost),
                Err(HashError::BcryptCost {
                    cost,
                    min: 4,
                    max: 31
                }),
                "{cost}"
            );
        }
        assert_eq!(BcryptHasher::new(4).unwrap().cost(), 4);
        assert_eq!(BcryptHasher::new(31).unwrap().cost(), 31);
        assert_eq!(
            BcryptHasher::new(3).unwrap_err().to_string(),
            "bcrypt cost must be between 4 and 31, got 3"
        );
    }

    #[test]
    fn default_is_cost_10() {
        let hasher = BcryptHasher::default();
        assert_eq!(hasher.cost(), 10);
        assert_eq!(
            hasher,
            BcryptHasher::new(BcryptHasher::DEFAULT_COST).unwrap()
        );
        let started = std::time::Instant::now();
        let hash = hasher.hash(SECRET).unwrap();
        let elapsed = started.elapsed();
        eprintln!("bcrypt cost 10: one hash took {elapsed:?}");
        assert!(hash.starts_with("$2b$10$"), "{hash}");
        assert!(!hasher.needs_rehash(&hash));
        assert!(hasher.verify(SECRET, &hash).unwrap());
    }
}
