use std::fmt;
use std::sync::Arc;

use argon2::password_hash::Error as PhcError;
use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier,
    Version,
};

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
/// use keyward_store::{Argon2idHasher, BcryptHasher, SecretHasher};
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
/// # Ok::<(), keyward_store::HashError>(())
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
            return Err(HashError::InvalidParameters(format!(
                "bcrypt cost must be between {} and {}, got {cost}",
                Self::MIN_COST,
                Self::MAX_COST
            )));
        }
        Ok(BcryptHasher { cost })
    }

    /// The cost new hashes are made with.
    pub fn cost(&self) -> u32 {
        self.cost
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
        if secret.len() > Self::MAX_SECRET_LEN {
            return Err(HashError::Failed(format!(
                "bcrypt reads at most {} bytes of a secret, got {} bytes",
                Self::MAX_SECRET_LEN,
                secret.len()
            )));
        }
        let parts = bcrypt::hash_with_result(secret, self.cost).map_err(|e| match e {
            bcrypt::BcryptError::Rand(_) => {
                HashError::Failed("the OS random generator failed".to_owned())
            }
            other => HashError::Failed(other.to_string()),
        })?;
        Ok(parts.format_for_version(bcrypt::Version::TwoB))
    }

    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        verify_any(secret, hash)
    }

    fn needs_rehash(&self, hash: &str) -> bool {
        // Only exactly what `hash` makes is current: `$2b$` at this cost.
        !(hash.starts_with("$2b$") && parse_bcrypt(hash).is_some_and(|p| p.get_cost() == self.cost))
    }
}

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
        let params = Params::new(m_cost, t_cost, p_cost, Some(Self::OUTPUT_LEN)).map_err(|e| {
            HashError::InvalidParameters(format!(
                "argon2id m_cost={m_cost} KiB, t_cost={t_cost}, p_cost={p_cost}: {e}"
            ))
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
                PhcError::RngFailure => {
                    HashError::Failed("the OS random generator failed".to_owned())
                }
                other => HashError::Failed(other.to_string()),
            })
    }

    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        verify_any(secret, hash)
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

/// The algorithms a stored hash string may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// `$2a$`, `$2b$`, `$2y$` (not `$2x$`: the marker of crypt_blowfish's sign-extension
    /// bug, which the bcrypt crate does not reproduce).
    Bcrypt,
    /// `$argon2id$`, `$argon2i$`, `$argon2d$`.
    Argon2,
}

fn scheme_of(hash: &str) -> Option<Scheme> {
    const BCRYPT: [&str; 3] = ["$2a$", "$2b$", "$2y$"];
    const ARGON2: [&str; 3] = ["$argon2id$", "$argon2i$", "$argon2d$"];
    if BCRYPT.iter().any(|p| hash.starts_with(p)) {
        Some(Scheme::Bcrypt)
    } else if ARGON2.iter().any(|p| hash.starts_with(p)) {
        Some(Scheme::Argon2)
    } else {
        None
    }
}

/// A well-formed bcrypt string with a cost bcrypt accepts (any `$2?$` variant).
fn parse_bcrypt(hash: &str) -> Option<bcrypt::HashParts> {
    hash.parse::<bcrypt::HashParts>()
        .ok()
        .filter(|p| (BcryptHasher::MIN_COST..=BcryptHasher::MAX_COST).contains(&p.get_cost()))
}

/// Verifies `secret` against a hash of any supported scheme, with the parameters the
/// hash string carries (not the calling hasher's). Shared by every hasher so that
/// switching algorithm never strands existing keys.
fn verify_any(secret: &[u8], hash: &str) -> Result<bool, HashError> {
    match scheme_of(hash) {
        Some(Scheme::Bcrypt) => {
            // No hash we make covers a longer secret (see `BcryptHasher::hash`), and
            // bcrypt would compare only its first 72 bytes: such a secret is wrong.
            if secret.len() > BcryptHasher::MAX_SECRET_LEN {
                // Still reject a string that is not a hash at all.
                return parse_bcrypt(hash)
                    .map(|_| false)
                    .ok_or(HashError::MalformedHash);
            }
            bcrypt::verify(secret, hash).map_err(|e| match e {
                bcrypt::BcryptError::Rand(_) => {
                    HashError::Failed("the OS random generator failed".to_owned())
                }
                // A bad layout, base64 or out-of-range cost: not a hash we can read.
                _ => HashError::MalformedHash,
            })
        }
        Some(Scheme::Argon2) => {
            let parsed = PasswordHash::new(hash).map_err(|_| HashError::MalformedHash)?;
            // A PHC string may legally stop before its salt or output, but then there
            // is nothing to compare with: the verifier would answer "wrong password",
            // and a truncated column must not look like a wrong secret.
            if parsed.salt.is_none() || parsed.hash.is_none() {
                return Err(HashError::MalformedHash);
            }
            // `Argon2::default()` only supplies the (absent) pepper: algorithm, version
            // and parameters come from the PHC string. The output comparison is
            // constant-time (`phc::Output`'s `PartialEq`).
            match Argon2::default().verify_password(secret, &parsed) {
                Ok(()) => Ok(true),
                Err(PhcError::PasswordInvalid) => Ok(false),
                Err(PhcError::OutOfMemory) => Err(HashError::Failed(
                    "out of memory for the stored hash's memory cost".to_owned(),
                )),
                Err(PhcError::RngFailure) => Err(HashError::Failed(
                    "the OS random generator failed".to_owned(),
                )),
                // Unknown algorithm or version, parameters out of range, bad salt or
                // output length.
                Err(_) => Err(HashError::MalformedHash),
            }
        }
        None => Err(HashError::MalformedHash),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret shaped like keyward's: 32 base62 bytes.
    const SECRET: &[u8] = b"Vq3xK9LmZ2pR7tY1wE5uI8oA4sD6fG0h";

    fn bcrypt_low() -> BcryptHasher {
        BcryptHasher::new(4).unwrap()
    }

    fn argon_low() -> Argon2idHasher {
        Argon2idHasher::new(256, 1, 1).unwrap()
    }

    fn hashers() -> [Box<dyn SecretHasher>; 2] {
        [Box::new(bcrypt_low()), Box::new(argon_low())]
    }

    #[test]
    fn round_trips_both_algorithms() {
        for hasher in hashers() {
            let hash = hasher.hash(SECRET).unwrap();
            assert!(hasher.verify(SECRET, &hash).unwrap(), "{hash}");
            assert!(!hasher.needs_rehash(&hash), "{hash}");
            // Fresh salt each time.
            assert_ne!(hasher.hash(SECRET).unwrap(), hash);
        }
    }

    #[test]
    fn hash_strings_name_algorithm_and_parameters() {
        let b = bcrypt_low().hash(SECRET).unwrap();
        assert!(b.starts_with("$2b$04$"), "{b}");
        assert_eq!(b.len(), 60);
        let a = argon_low().hash(SECRET).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{a}");
        // 16-byte salt, 32-byte output, unpadded base64.
        let fields: Vec<&str> = a.split('$').collect();
        assert_eq!((fields[4].len(), fields[5].len()), (22, 43), "{a}");
    }

    #[test]
    fn wrong_secret_is_false_not_an_error() {
        for hasher in hashers() {
            let hash = hasher.hash(SECRET).unwrap();
            assert_eq!(
                hasher.verify(b"Vq3xK9LmZ2pR7tY1wE5uI8oA4sD6fG0i", &hash),
                Ok(false)
            );
            assert_eq!(hasher.verify(b"", &hash), Ok(false));
        }
    }

    #[test]
    fn cross_algorithm_verify() {
        let b = bcrypt_low();
        let a = argon_low();
        let from_bcrypt = b.hash(SECRET).unwrap();
        let from_argon = a.hash(SECRET).unwrap();
        assert_eq!(a.verify(SECRET, &from_bcrypt), Ok(true));
        assert_eq!(b.verify(SECRET, &from_argon), Ok(true));
        assert_eq!(a.verify(b"nope", &from_bcrypt), Ok(false));
        assert_eq!(b.verify(b"nope", &from_argon), Ok(false));
    }

    #[test]
    fn verifies_with_the_parameters_in_the_string() {
        // A hash made with other parameters verifies under any configured hasher.
        let strong = Argon2idHasher::new(512, 2, 2)
            .unwrap()
            .hash(SECRET)
            .unwrap();
        assert_eq!(argon_low().verify(SECRET, &strong), Ok(true));
        let costlier = BcryptHasher::new(5).unwrap().hash(SECRET).unwrap();
        assert_eq!(bcrypt_low().verify(SECRET, &costlier), Ok(true));
    }

    #[test]
    fn verifies_other_variants_of_both_algorithms() {
        // $2a$ / $2y$ differ from $2b$ only in edge cases our secrets never reach.
        let parts: bcrypt::HashParts = bcrypt_low().hash(SECRET).unwrap().parse().unwrap();
        for version in [bcrypt::Version::TwoA, bcrypt::Version::TwoY] {
            let legacy = parts.format_for_version(version);
            assert_eq!(bcrypt_low().verify(SECRET, &legacy), Ok(true), "{legacy}");
            assert!(bcrypt_low().needs_rehash(&legacy), "{legacy}");
        }
        // $2x$ is the crypt_blowfish bug marker: not ours to read.
        let buggy = parts.format_for_version(bcrypt::Version::TwoX);
        assert_eq!(
            bcrypt_low().verify(SECRET, &buggy),
            Err(HashError::MalformedHash)
        );

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
    fn malformed_hashes_are_typed_errors() {
        let good_argon = argon_low().hash(SECRET).unwrap();
        let good_bcrypt = bcrypt_low().hash(SECRET).unwrap();
        let cut_before_output = good_argon.rsplit_once('$').unwrap().0.to_owned();
        let (cut_before_salt, salt) = cut_before_output.rsplit_once('$').unwrap();
        let cut_before_salt = cut_before_salt.to_owned();
        let malformed = [
            String::new(),
            "$2b$".to_owned(),
            "$2b$04$".to_owned(),
            good_bcrypt[..59].to_owned(),
            format!("{good_bcrypt}x"),
            // Cost out of bcrypt's range.
            good_bcrypt.replacen("$04$", "$99$", 1),
            good_bcrypt.replacen("$04$", "$03$", 1),
            "garbage".to_owned(),
            "$".to_owned(),
            "$$$$".to_owned(),
            "$argon2id$".to_owned(),
            "$argon2id$v=19$m=256,t=1".to_owned(),
            cut_before_salt,
            cut_before_output.clone(),
            format!("{cut_before_output}$"),
            format!("{good_argon}$extra"),
            // Unknown argon2 version, parameter out of range, unknown parameter.
            good_argon.replacen("v=19", "v=99", 1),
            good_argon.replacen("t=1", "t=0", 1),
            good_argon.replacen("p=1", "p=1,q=2", 1),
            // Non-ASCII where base64 belongs.
            good_argon.replacen(salt, &format!("é{}", &salt[2..]), 1),
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E".to_owned(),
            "$pbkdf2-sha256$29000$N2ZMKeTc2xsjxJgT4vwf4w$3W7wFbT.Dz.EltJ8f3c9l3Ia1dsGTl1H3Ssq5ZSpWvE".to_owned(),
            "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/".to_owned(),
            "$2x$".to_owned(),
        ];
        for hash in &malformed {
            for hasher in hashers() {
                assert_eq!(
                    hasher.verify(SECRET, hash),
                    Err(HashError::MalformedHash),
                    "{hash:?}"
                );
                assert!(hasher.needs_rehash(hash), "{hash:?}");
            }
        }
    }

    #[test]
    fn needs_rehash_on_parameter_change() {
        let b4 = bcrypt_low().hash(SECRET).unwrap();
        assert!(!bcrypt_low().needs_rehash(&b4));
        assert!(BcryptHasher::new(5).unwrap().needs_rehash(&b4));

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
    fn needs_rehash_on_algorithm_change() {
        let b = bcrypt_low().hash(SECRET).unwrap();
        let a = argon_low().hash(SECRET).unwrap();
        assert!(argon_low().needs_rehash(&b));
        assert!(bcrypt_low().needs_rehash(&a));
    }

    #[test]
    fn bcrypt_truncates_at_72_bytes_so_we_refuse_longer_secrets() {
        // The bcrypt algorithm itself ignores everything after byte 72: two inputs that
        // share their first 72 bytes have the same hash. This test exists so nobody
        // feeds it longer inputs blindly.
        let long_a = [b'a'; 80];
        let mut long_b = long_a;
        long_b[75] = b'b';
        let raw = bcrypt::hash(long_a, 4).unwrap();
        assert!(
            bcrypt::verify(long_b, &raw).unwrap(),
            "bcrypt no longer truncates?"
        );

        // Keyward secrets are far below the limit...
        const { assert!(keyward_format::SECRET_LEN <= BcryptHasher::MAX_SECRET_LEN) };
        // ...and the hasher refuses anything that would be truncated.
        let hasher = bcrypt_low();
        assert!(hasher.hash(&[b'a'; 71]).is_ok());
        assert!(matches!(
            hasher.hash(&[b'a'; 72]),
            Err(HashError::Failed(_))
        ));
        assert!(matches!(hasher.hash(&long_a), Err(HashError::Failed(_))));
        // A longer presented secret never matches, even where bcrypt would say yes.
        assert_eq!(hasher.verify(&long_b, &raw), Ok(false));
        assert_eq!(argon_low().verify(&long_b, &raw), Ok(false));
        for bad in ["$2b$04$garbage", &raw.replacen("$04$", "$99$", 1)] {
            assert_eq!(
                hasher.verify(&long_b, bad),
                Err(HashError::MalformedHash),
                "{bad}"
            );
        }
        // argon2 has no such limit.
        let a = argon_low().hash(&long_a).unwrap();
        assert_eq!(argon_low().verify(&long_b, &a), Ok(false));
    }

    #[test]
    fn parameters_are_validated() {
        for cost in [0, 3, 32, u32::MAX] {
            assert!(
                matches!(
                    BcryptHasher::new(cost),
                    Err(HashError::InvalidParameters(_))
                ),
                "{cost}"
            );
        }
        assert_eq!(BcryptHasher::new(4).unwrap().cost(), 4);
        assert_eq!(BcryptHasher::new(31).unwrap().cost(), 31);

        for (m, t, p) in [
            (7, 1, 1),
            (8, 0, 1),
            (8, 1, 0),
            (15, 1, 2),
            (1 << 24, 1, 1 << 24),
        ] {
            let e = Argon2idHasher::new(m, t, p).unwrap_err();
            assert!(matches!(e, HashError::InvalidParameters(_)), "{m} {t} {p}");
        }
        let min = Argon2idHasher::new(8, 1, 1).unwrap();
        assert_eq!((min.m_cost(), min.t_cost(), min.p_cost()), (8, 1, 1));
    }

    #[test]
    fn bcrypt_default_is_cost_10() {
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

    #[test]
    fn argon2id_default_is_owasp() {
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

    #[test]
    fn nothing_prints_the_secret() {
        let secret = std::str::from_utf8(SECRET).unwrap();
        let mut shown = vec![
            format!("{:?}", bcrypt_low()),
            format!("{:?}", argon_low()),
            format!("{:?}", BcryptHasher::default()),
            format!("{:#?}", Argon2idHasher::default()),
        ];
        for hasher in hashers() {
            let hash = hasher.hash(SECRET).unwrap();
            shown.push(hash.clone());
            for bad in ["", "$2b$", "$argon2id$v=19$m=256,t=1,p=1", "$scrypt$x"] {
                let e = hasher.verify(SECRET, bad).unwrap_err();
                shown.push(format!("{e} {e:?}"));
            }
            let e = hasher.hash(&[b'x'; 100]);
            shown.push(format!("{e:?}"));
        }
        let e = BcryptHasher::new(2).unwrap_err();
        shown.push(format!("{e} {e:?}"));
        for s in shown {
            assert!(!s.contains(secret), "{s}");
            assert!(!s.contains("xxxxxxxx"), "{s}");
        }
    }

    #[test]
    fn works_behind_an_arc_dyn() {
        let hasher: Arc<dyn SecretHasher> = Arc::new(bcrypt_low());
        let hash = hasher.hash(SECRET).unwrap();
        assert_eq!(hasher.verify(SECRET, &hash), Ok(true));
        assert!(!hasher.needs_rehash(&hash));
    }
}
