//! What a route requires of a key.

use std::fmt;

use crate::{CapabilitySet, Catalog, Denied};

/// What a route requires of a key's effective capabilities: all of a set, any of a set,
/// or nothing beyond a valid key ([`Requirement::none`]).
///
/// Build one per route, once, with [`Catalog::all_of`] or [`Catalog::any_of`]; check it
/// per request against the key's effective set ([`Catalog::effective`], computed once
/// when the key is verified, not per request). [`is_met_by`](Self::is_met_by) is a few
/// word operations and never allocates; [`check`](Self::check) only allocates once the
/// check has failed, to name what was missing.
///
/// Empty sets follow the logic rather than a convenience: `all_of` nothing is met by
/// every key (it is [`Requirement::none`]), `any_of` nothing by no key, so a route
/// whose alternatives were all left out stays closed.
///
/// ```
/// use keyward_scope::{CapabilitySet, Catalog};
///
/// let catalog = Catalog::builder()
///     .capabilities(["jobs:read", "jobs:write"])
///     .implies("jobs:write", "jobs:read")
///     .build()?;
/// let list_jobs = catalog.all_of(["jobs:read"])?;
///
/// let writer = catalog.effective(&catalog.set(["jobs:write"])?);
/// assert!(list_jobs.is_met_by(&writer));
/// assert!(list_jobs.check(&writer).is_ok());
///
/// let nobody = catalog.effective(&CapabilitySet::EMPTY);
/// let denied = list_jobs.check(&nobody).unwrap_err();
/// assert_eq!(denied.required, ["jobs:read"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Requirement {
    set: CapabilitySet,
    any: bool,
    /// Turns the set back into names on the denied path; `None` only for an empty
    /// all-of, which is never denied.
    catalog: Option<Catalog>,
}

impl Requirement {
    /// No capability: any valid key meets it. Used for routes such as `GET /v1/me`.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            set: CapabilitySet::EMPTY,
            any: false,
            catalog: None,
        }
    }

    /// Requires every capability of `set`, which comes from `catalog`.
    #[must_use]
    pub fn all_of(catalog: &Catalog, set: CapabilitySet) -> Self {
        Self {
            set: set.intersection(&catalog.all()),
            any: false,
            catalog: Some(catalog.clone()),
        }
    }

    /// Requires at least one capability of `set`, which comes from `catalog`.
    #[must_use]
    pub fn any_of(catalog: &Catalog, set: CapabilitySet) -> Self {
        Self {
            set: set.intersection(&catalog.all()),
            any: true,
            catalog: Some(catalog.clone()),
        }
    }

    /// Whether a key whose effective capabilities are `held` may pass. A few word
    /// operations, no allocation.
    #[inline]
    #[must_use]
    pub fn is_met_by(&self, held: &CapabilitySet) -> bool {
        if self.any {
            self.set.intersects(held)
        } else {
            self.set.is_subset(held)
        }
    }

    /// Like [`is_met_by`](Self::is_met_by), but a refusal names what was required and
    /// what `held` contains, for the 403 answer.
    #[inline]
    pub fn check(&self, held: &CapabilitySet) -> Result<(), Denied> {
        if self.is_met_by(held) {
            Ok(())
        } else {
            Err(self.denied(held))
        }
    }

    #[cold]
    #[inline(never)]
    fn denied(&self, held: &CapabilitySet) -> Denied {
        let catalog = self
            .catalog
            .as_ref()
            .expect("only a requirement built from a catalog can fail");
        catalog.denied(&self.set, held)
    }

    /// The required capabilities (for any-of: the alternatives).
    #[inline]
    #[must_use]
    pub fn capabilities(&self) -> &CapabilitySet {
        &self.set
    }

    /// Whether one capability of the set is enough (built with `any_of`).
    #[must_use]
    pub fn is_any_of(&self) -> bool {
        self.any
    }

    /// Whether every key meets this requirement: [`Requirement::none`] or an empty
    /// all-of.
    #[must_use]
    pub fn is_unrestricted(&self) -> bool {
        !self.any && self.set.is_empty()
    }

    /// The required names, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        match &self.catalog {
            Some(catalog) => catalog.names(&self.set),
            None => Vec::new(),
        }
    }

    /// The required names joined by spaces, for the `scope` parameter of
    /// `WWW-Authenticate` (see [`Denied::scope`]).
    #[must_use]
    pub fn scope(&self) -> String {
        self.names().join(" ")
    }
}

impl Default for Requirement {
    /// [`Requirement::none`].
    fn default() -> Self {
        Self::none()
    }
}

/// Shows the kind and the names, e.g. `AllOf(["jobs:read"])`.
impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.any { "AnyOf" } else { "AllOf" };
        f.debug_tuple(kind).field(&self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builder()
            .capabilities(["a:a", "b:b", "c:c"])
            .build()
            .unwrap()
    }

    #[test]
    fn none_is_met_by_everything() {
        let none = Requirement::none();
        assert!(none.is_met_by(&CapabilitySet::EMPTY));
        assert!(none.check(&CapabilitySet::EMPTY).is_ok());
        assert!(none.is_unrestricted());
        assert_eq!(none.scope(), "");
        assert_eq!(format!("{none:?}"), "AllOf([])");
        assert!(Requirement::default().is_unrestricted());
    }

    #[test]
    fn all_of_needs_every_one() {
        let c = catalog();
        let req = c.all_of(["a:a", "b:b"]).unwrap();
        assert!(req.is_met_by(&c.set(["a:a", "b:b", "c:c"]).unwrap()));
        assert!(req.is_met_by(&c.set(["a:a", "b:b"]).unwrap()));
        assert!(!req.is_met_by(&c.set(["a:a", "c:c"]).unwrap()));
        assert!(!req.is_met_by(&CapabilitySet::EMPTY));
        assert!(!req.is_any_of());
        assert_eq!(format!("{req:?}"), r#"AllOf(["a:a", "b:b"])"#);
    }

    #[test]
    fn any_of_needs_one() {
        let c = catalog();
        let req = c.any_of(["a:a", "b:b"]).unwrap();
        assert!(req.is_met_by(&c.set(["b:b"]).unwrap()));
        assert!(req.is_met_by(&c.set(["a:a", "c:c"]).unwrap()));
        assert!(!req.is_met_by(&c.set(["c:c"]).unwrap()));
        assert!(req.is_any_of());
        let denied = req.check(&c.set(["c:c"]).unwrap()).unwrap_err();
        assert_eq!(denied.required, ["a:a", "b:b"]);
        assert_eq!(denied.held, ["c:c"]);
    }

    #[test]
    fn empty_all_of_passes_and_empty_any_of_fails_closed() {
        let c = catalog();
        let all = c.all_of::<[&str; 0]>([]).unwrap();
        assert!(all.is_unrestricted());
        assert!(all.is_met_by(&CapabilitySet::EMPTY));
        let any = c.any_of::<[&str; 0]>([]).unwrap();
        assert!(!any.is_unrestricted());
        assert!(!any.is_met_by(&c.all()));
        let denied = any.check(&c.all()).unwrap_err();
        assert!(denied.required.is_empty());
    }

    #[test]
    fn scope_joins_sorted_names() {
        let c = catalog();
        let req = c.all_of(["c:c", "a:a"]).unwrap();
        assert_eq!(req.names(), ["a:a", "c:c"]);
        assert_eq!(req.scope(), "a:a c:c");
        assert_eq!(
            req.check(&CapabilitySet::EMPTY).unwrap_err().scope(),
            "a:a c:c"
        );
    }
}
