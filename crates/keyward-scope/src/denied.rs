//! A refused capability check, with the names the 403 answer shows.

/// A key lacks a capability: what was required and what the key holds, by name.
///
/// Fields match the HTTP 403 body
/// `{"error":"insufficient_capability","required":[…],"held":[…]}`. Both lists are
/// sorted. `held` is the key's *effective* set (grants, everything they imply, and the
/// catalog's implicit grants). For an any-of requirement `required` lists the
/// alternatives, one of which would do; for [`Catalog::check_grant`](crate::Catalog::check_grant)
/// it lists the capabilities the key may not hand out.
///
/// A `Denied` is only built once a check has failed: the allowed path allocates nothing.
///
/// ```
/// use keyward_scope::{Catalog, Denied};
///
/// let catalog = Catalog::builder()
///     .capabilities(["jobs:read", "jobs:write", "kb:read"])
///     .implies("jobs:write", "jobs:read")
///     .build()?;
/// let held = catalog.effective(&catalog.set(["jobs:read"])?);
/// let denied = catalog.all_of(["jobs:write"])?.check(&held).unwrap_err();
/// assert_eq!(
///     denied,
///     Denied { required: vec!["jobs:write".into()], held: vec!["jobs:read".into()] }
/// );
/// assert_eq!(denied.scope(), "jobs:write");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[error(
    "insufficient capability: required [{}], held [{}]",
    required.join(", "),
    held.join(", ")
)]
pub struct Denied {
    /// The capabilities the check asked for, sorted.
    pub required: Vec<String>,
    /// The capabilities the key holds, sorted.
    pub held: Vec<String>,
}

impl Denied {
    /// The required names joined by spaces, for the `scope` parameter of
    /// `WWW-Authenticate: Bearer …, error="insufficient_scope", scope="jobs:read jobs:write"`
    /// (RFC 6750 §3). Capability names contain no space, quote or backslash, so the
    /// result needs no escaping.
    #[must_use]
    pub fn scope(&self) -> String {
        self.required.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_scope() {
        let denied = Denied {
            required: vec!["jobs:read".into(), "jobs:write".into()],
            held: vec![],
        };
        assert_eq!(denied.scope(), "jobs:read jobs:write");
        assert_eq!(
            denied.to_string(),
            "insufficient capability: required [jobs:read, jobs:write], held []"
        );
    }
}
