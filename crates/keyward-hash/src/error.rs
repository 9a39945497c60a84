use thiserror::Error;

/// A secret could not be hashed, a stored hash could not be read, or a hasher's
/// parameters are out of range.
///
/// No variant carries the secret or the stored hash: errors get logged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HashError {
    /// The stored string is not a hash this library understands.
    #[error("stored hash is malformed or of an unsupported algorithm")]
    MalformedHash,
    /// A bcrypt cost outside what bcrypt accepts.
    #[error("bcrypt cost must be between {min} and {max}, got {cost}")]
    BcryptCost {
        /// The cost asked for.
        cost: u32,
        /// The smallest cost accepted.
        min: u32,
        /// The largest cost accepted.
        max: u32,
    },
    /// Argon2id parameters outside what the algorithm accepts.
    #[error(
        "argon2id parameters out of range: m_cost={m_cost} KiB (at least 8 per lane), \
         t_cost={t_cost} (at least 1), p_cost={p_cost} (1 to 2^24 - 1)"
    )]
    Argon2Params {
        /// Memory cost in KiB.
        m_cost: u32,
        /// Number of passes.
        t_cost: u32,
        /// Degree of parallelism (lanes).
        p_cost: u32,
    },
    /// A secret longer than the algorithm reads: hashing it would silently truncate it.
    #[error("the algorithm reads at most {max} bytes of a secret, got {len} bytes")]
    SecretTooLong {
        /// The secret's length in bytes.
        len: usize,
        /// The longest secret the algorithm reads in full.
        max: usize,
    },
    /// The OS random generator failed to supply a salt.
    #[error("the OS random generator failed")]
    RandomUnavailable,
    /// Not enough memory for the memory cost (the hasher's, or the one a stored hash
    /// names).
    #[error("out of memory for the hash's memory cost")]
    OutOfMemory,
}
