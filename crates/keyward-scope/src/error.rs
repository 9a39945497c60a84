//! Errors: a catalog that cannot be built, names a catalog does not know.

use std::fmt;

use crate::{InvalidName, MAX_CAPABILITIES};

/// Why [`CatalogBuilder::build`](crate::CatalogBuilder::build) refused a declaration.
///
/// The builder reports the first problem it finds, checking in this order: each declared
/// name (invalid, then duplicate), the number of names, the names used by implications,
/// implicit grants and defaults, then implication cycles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A declared name breaks the rule of [`CapabilityName`](crate::CapabilityName).
    #[error("invalid capability name {name:?}: {reason}")]
    InvalidName {
        /// The name as declared.
        name: String,
        /// What is wrong with it.
        #[source]
        reason: InvalidName,
    },
    /// The same name is declared twice.
    #[error("capability {name:?} is declared twice")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// More than [`MAX_CAPABILITIES`] names are declared.
    #[error("{count} capabilities declared, a catalog holds at most {MAX_CAPABILITIES}")]
    TooMany {
        /// How many names were declared.
        count: usize,
    },
    /// An implication, implicit grant or default names a capability that is not
    /// declared.
    #[error("{role} names {name:?}, which is not a declared capability")]
    UnknownName {
        /// The undeclared name.
        name: String,
        /// Where it was used.
        role: Role,
    },
    /// Implications form a cycle, so the capabilities on it would be synonyms. This is
    /// almost always a declaration written the wrong way round (`jobs:read` implies
    /// `jobs:write`), so it is refused rather than quietly merged. A capability implying
    /// itself is a cycle of one.
    #[error("implications form a cycle through {}", names.join(", "))]
    ImplicationCycle {
        /// The capabilities on the cycle, sorted.
        names: Vec<String>,
    },
}

/// Where a catalog declaration used a capability name; see [`CatalogError::UnknownName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The capability that implies another: `a` in `implies(a, b)`.
    Implying,
    /// The capability that is implied: `b` in `implies(a, b)`.
    Implied,
    /// An implicit grant, held by every key.
    Implicit,
    /// A default grant for new keys.
    Default,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Implying => "an implication",
            Self::Implied => "an implication",
            Self::Implicit => "an implicit grant",
            Self::Default => "a default grant",
        })
    }
}

/// Names that the catalog does not declare: every one of them, sorted and without
/// repeats, and the names it does declare, so the caller can see what was meant. An
/// unknown name is never silently dropped.
///
/// Fields match the HTTP 400 body
/// `{"error":"unknown_capability","capabilities":[…],"valid":[…]}`. The unknown names
/// are the caller's input echoed back; a malformed name is simply unknown.
///
/// ```
/// use keyward_scope::{Catalog, UnknownCapabilities};
///
/// let catalog = Catalog::builder().capabilities(["jobs:read", "jobs:write"]).build()?;
/// let err = catalog.set(["jobs:read", "jobs:delete", "Jobs:Read"]).unwrap_err();
/// assert_eq!(err.capabilities, ["Jobs:Read", "jobs:delete"]);
/// assert_eq!(err.valid, ["jobs:read", "jobs:write"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[error("unknown capabilities: {}", capabilities.join(", "))]
pub struct UnknownCapabilities {
    /// The unknown names, sorted, each once.
    pub capabilities: Vec<String>,
    /// Every name the catalog declares, sorted (empty when whoever built this error
    /// had no catalog at hand).
    #[cfg_attr(feature = "serde", serde(default))]
    pub valid: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            CatalogError::UnknownName {
                name: "jobs:raed".into(),
                role: Role::Implied
            }
            .to_string(),
            "an implication names \"jobs:raed\", which is not a declared capability"
        );
        assert_eq!(
            CatalogError::TooMany { count: 300 }.to_string(),
            "300 capabilities declared, a catalog holds at most 256"
        );
        assert_eq!(
            CatalogError::ImplicationCycle {
                names: vec!["a:a".into(), "b:b".into()]
            }
            .to_string(),
            "implications form a cycle through a:a, b:b"
        );
        assert_eq!(
            UnknownCapabilities {
                capabilities: vec!["x:y".into(), "z:z".into()],
                valid: vec!["a:a".into()],
            }
            .to_string(),
            "unknown capabilities: x:y, z:z"
        );
    }

    #[test]
    fn invalid_name_keeps_its_reason_as_source() {
        let err = CatalogError::InvalidName {
            name: "read".into(),
            reason: InvalidName::MissingColon,
        };
        let source = std::error::Error::source(&err).expect("a source");
        assert_eq!(source.to_string(), InvalidName::MissingColon.to_string());
    }
}
