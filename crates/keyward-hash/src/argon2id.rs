use std::fmt;

use argon2::password_hash::Error as PhcError;
use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier,
    Version,
};

use crate::error::HashError;
use crate::scheme;
use crate::secret_hasher::SecretHasher;

/// Argon2id (RFC 9106), written as a PHC string
/// `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>` with a 16-byte salt and a
/// 32-byte output.
///
/// The defaults are OWASP's recommendation for Argon2id (Password Storage Cheat Sheet):
/// m = 19456 KiB (19 MiB), t = 2, p = 1, which is also the `argon2` crate's default.
/// Memory is the cost that hurts GPU attackers; one lane keeps a verification on one
/// core of the blocking pool. Each concurrent verification holds 19 MiB while it runs:
/// bound the pool accordingly.
#[derive(Clone, PartialEq, Eq)]
pub struct Argon2idHasher {
    params: Params,
}

impl Argon2idHasher {
    /// Default memory cost in KiB (19 MiB), per OWASP.
    pub const DEFAULT_M_COST: u32 = 19_456;
    /// Default number of passes, per OWASP.
    pub const DEFAULT_T_COST: u32 = 2;
    /// Default parallelism (lanes), per OWASP.
    pub const DEFAULT_P_COST: u32 = 1;
    /// Output length in bytes.
    const OUTPUT_LEN: usize = 32;

    /// A hasher with memory `m_cost` (KiB, at least 8 per lane), `t_cost` passes (≥ 1)
    /// and `p_cost` lanes (1 ..= 2^24 - 1). Values below the defaults are for tests.
    pub fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params = Params::new(m_cost, t_cost, p_cost, Some(Self::OUTPUT_LEN)).map_err(|_| {
            HashError::Argon2Params {
                m_cost,
                t_cost,
                p_cost,
            }
        })?;
        Ok(Argon2idHasher { params })
    }

    /// Memory cost in KiB.
    pub fn m_cost(&self) -> u32 {
        self.params.m_cost()
    }

    /// Number of passes.
    pub fn t_cost(&self) -> u32 {
        self.params.t_cost()
    }

    /// Degree of parallelism (lanes).
    pub fn p_cost(&self) -> u32 {
        self.params.p_cost()
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

impl Default for Argon2idHasher {
    fn default() -> Self {
        // Checked at compile time: a default out of range fails the build.
        const DEFAULT: Params = match Params::new(
            Argon2idHasher::DEFAULT_M_COST,
            Argon2idHasher::DEFAULT_T_COST,
            Argon2idHasher::DEFAULT_P_COST,
            Some(Argon2idHasher::OUTPUT_LEN),
        ) {
            Ok(params) => params,
            Err(_) => panic!("argon2id defaults out of range"),
        };
        Argon2idHasher { params: DEFAULT }
    }
}

impl fmt::Debug for Argon2idHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2idHasher")
            .field("m_cost", &self.m_cost())
            .field("t_cost", &self.t_cost())
            .field("p_cost", &self.p_cost())
            .finish()
    }
}

impl SecretHasher for Argon2idHasher {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        // `hash_password` draws a 16-byte salt from the OS generator (getrandom).
        self.argon2()
            .hash_password(secret)
            .map(|h| h.to_string())
            .map_err(|e| match e {
                PhcError::RngFailure => HashError::RandomUnavailable,
                PhcError::OutOfMemory => HashError::OutOfMemory,
                // The parameters are checked in `new`; what remains is a parameter or
                // output length the algorithm refused.
                _ => HashError::Argon2Params {
                    m_cost: self.m_cost(),
                    t_cost: self.t_cost(),
                    p_cost: self.p_cost(),
                },
            })
    }

    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        scheme::verify_any(secret, hash)
    }

    fn needs_rehash(&self, hash: &str) -> bool {
        // Only exactly what `hash` makes is current: argon2id, v=19, these m/t/p, no
        // key id or associated data, a 32-byte output.
        let Ok(parsed) = PasswordHash::new(hash) else {
            return true;
        };
        if parsed.algorithm != ARGON2ID_IDENT
            || parsed.version != Some(u32::from(Version::V0x13))
            || parsed.salt.is_none()
            || parsed.hash.is_none()
        {
            return true;
        }
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        !(params.m_cost() == self.m_cost()
            && params.t_cost() == self.t_cost()
            && params.p_cost() == self.p_cost()
            && params.keyid().is_empty()
            && params.data().is_empty()
            && params.output_len() == Some(Self::OUTPUT_LEN))
    }
}

/// Verifies an `$argon2id$`, `$argon2i$` or `$argon2d$` PHC string with the variant,
/// version and parameters it carries.
pub(crate) fn verify(secret: &[u8], hash: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(hash).map_err(|_| HashError::MalformedHash)?;
    // A PHC string may legally stop before its salt or output, but then there is
    // nothing to compare with: the verifier would answer "wrong password", and a
    // truncated column must not look like a wrong secret.
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(HashError::MalformedHash);
    }
    // `Argon2::default()` only supplies the (absent) pepper: algorithm, version and
    // parameters come from the PHC string. The output comparison is constant-time
    // (`phc::Output`'s `PartialEq`).
    match Argon2::default().verify_password(secret, &parsed) {
        Ok(()) => Ok(true),
        Err(PhcError::PasswordInvalid) => Ok(false),
        Err(PhcError::OutOfMemory) => Err(HashError::OutOfMemory),
        Err(PhcError::RngFailure) => Err(HashError::RandomUnavailable),
        // Unknown algorithm or version, parameters out of range, bad salt or output
        // length.
        Err(_) => Err(HashError::MalformedHash),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret shaped like keyward's: 32 base62 bytes.
    const SECRET: &[u8] = b"Vq3xK9LmZ2pR7tY1wE5uI8oA4sD6fG0h";

    fn argon_low() -> Argon2idHasher {
        Argon2idHasher::new(256, 1, 1).unwrap()
    }

    #[test]
    fn verifies_with_the_parameters_in_the_string() {
        // A hash made with other parameters verifies under any configured hasher.
        let strong = Argon2idHasher::new(512, 2, 2)
            .unwrap()
            .hash(SECRET)
            .unwrap();
        assert_eq!(argon_low().verify(SECRET, &strong), Ok(true));
    }

    #[test]
    fn verifies_other_variants() {
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2d] {
            let params = Params::new(256, 1, 1, None).unwrap();
            let other = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(SECRET)
                .unwrap()
                .to_string();
            assert_eq!(argon_low().verify(SECRET, &other), Ok(true), "{other}");
            assert_eq!(argon_low().verify(b"x", &other), Ok(false), "{other}");
            assert!(argon_low().needs_rehash(&other), "{other}");
        }
    }

    #[test]
    fn needs_rehash_on_parameter_change() {
        let a = argon_low().hash(SECRET).unwrap();
        assert!(!argon_low().needs_rehash(&a));
        assert!(Argon2idHasher::new(512, 1, 1).unwrap().needs_rehash(&a));
        assert!(Argon2idHasher::new(256, 2, 1).unwrap().needs_rehash(&a));
        assert!(Argon2idHasher::new(256, 1, 2).unwrap().needs_rehash(&a));

        // Another output length or no version field: not what we make.
        let short = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(256, 1, 1, Some(16)).unwrap(),
        )
        .hash_password(SECRET)
        .unwrap()
        .to_string();
        assert_eq!(argon_low().verify(SECRET, &short), Ok(true));
        assert!(argon_low().needs_rehash(&short));
        let unversioned = a.replacen("$v=19", "", 1);
        assert!(argon_low().needs_rehash(&unversioned));
    }

    #[test]
    fn no_length_limit() {
        let long_a = [b'a'; 80];
        let mut long_b = long_a;
        long_b[75] = b'b';
        let a = argon_low().hash(&long_a).unwrap();
        assert_eq!(argon_low().verify(&long_a, &a), Ok(true));
        assert_eq!(argon_low().verify(&long_b, &a), Ok(false));
    }

    #[test]
    fn parameters_are_validated() {
        for (m, t, p) in [
            (7, 1, 1),
            (8, 0, 1),
            (8, 1, 0),
            (15, 1, 2),
            (1 << 24, 1, 1 << 24),
        ] {
            assert_eq!(
                Argon2idHasher::new(m, t, p),
                Err(HashError::Argon2Params {
                    m_cost: m,
                    t_cost: t,
                    p_cost: p
                }),
                "{m} {t} {p}"
            );
        }
        let min = Argon2idHasher::new(8, 1, 1).unwrap();
        assert_eq!((min.m_cost(), min.t_cost(), min.p_cost()), (8, 1, 1));
    }

    #[test]
    fn default_is_owasp() {
        let hasher = Argon2idHasher::default();
        assert_eq!(
            (hasher.m_cost(), hasher.t_cost(), hasher.p_cost()),
            (19_456, 2, 1)
        );
        // The same as the argon2 crate's recommendation.
        assert_eq!(
            (hasher.m_cost(), hasher.t_cost(), hasher.p_cost()),
            (
                Params::DEFAULT_M_COST,
                Params::DEFAULT_T_COST,
                Params::DEFAULT_P_COST
            )
        );
        let started = std::time::Instant::now();
        let hash = hasher.hash(SECRET).unwrap();
        let elapsed = started.elapsed();
        eprintln!("argon2id m=19456,t=2,p=1: one hash took {elapsed:?}");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hasher.needs_rehash(&hash));
        assert!(hasher.verify(SECRET, &hash).unwrap());
    }
}
