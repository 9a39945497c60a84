//! The capabilities a service declares, and everything that needs their names.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use crate::name::validate;
use crate::{
    Capability, CapabilitySet, CatalogError, Denied, Requirement, Role, UnknownCapabilities,
};

/// The most capabilities one catalog declares.
///
/// A [`CapabilitySet`] is a fixed 256-bit set so that it is `Copy`, never allocates and
/// is checked in a few instructions; 256 is far beyond the dozen or so capabilities a
/// service usually has.
pub const MAX_CAPABILITIES: usize = 256;

/// The capabilities a service knows: their names, which imply which, which every key
/// holds implicitly, and which a new key gets by default.
///
/// Declared once with [`Catalog::builder`], then immutable. Cloning is cheap (an `Arc`),
/// so handlers, requirements and key services each keep a clone.
///
/// - **Names** follow [`CapabilityName`](crate::CapabilityName): `resource:action`,
///   at most [`MAX_CAPABILITIES`] of them.
/// - **Implications** (`jobs:write` implies `jobs:read`) are transitive and precomputed
///   per capability when the catalog is built. Cycles are refused
///   ([`CatalogError::ImplicationCycle`]).
/// - **Implicit grants** are held by every key, whatever it was granted (a product whose
///   keys can always read declares `graph:read` implicit).
/// - **Defaults** are what a new key is granted when its creator asks for nothing
///   specific. They are grants, not implicit: a key minted with an explicit list does
///   not get them.
///
/// A key stores its *granted* names; [`effective`](Self::effective) adds implications
/// and implicit grants, and that is what requirements are checked against.
///
/// ```
/// use keyward_scope::Catalog;
///
/// let catalog = Catalog::builder()
///     .capabilities(["graph:read", "graph:write", "graph:admin"])
///     .implicit("graph:read")
///     .build()?;
/// let widget = catalog.effective(&catalog.set(["graph:write"])?);
/// assert_eq!(catalog.names(&widget), ["graph:read", "graph:write"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Catalog {
    inner: Arc<Inner>,
}

struct Inner {
    /// Sorted; a capability's index is its position here.
    names: Box<[Box<str>]>,
    /// Per capability: itself and everything it implies, transitively.
    closure: Box<[CapabilitySet]>,
    /// The implicit grants, closed over implications.
    implicit: CapabilitySet,
    /// The defaults as declared (grants, not closed).
    defaults: CapabilitySet,
    all: CapabilitySet,
}

impl Catalog {
    /// Starts declaring a catalog.
    pub fn builder() -> CatalogBuilder {
        CatalogBuilder::default()
    }

    /// The number of declared capabilities.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.names.len()
    }

    /// Whether no capability is declared.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.names.is_empty()
    }

    /// The capability called `name`, if declared.
    #[must_use]
    pub fn capability(&self, name: &str) -> Option<Capability> {
        self.inner
            .names
            .binary_search_by(|probe| (**probe).cmp(name))
            .ok()
            // At most MAX_CAPABILITIES names, so the index fits in a u8.
            .map(|index| Capability::from_index(index as u8))
    }

    /// The name of `capability`; `None` for a handle from a larger catalog.
    #[must_use]
    pub fn name(&self, capability: Capability) -> Option<&str> {
        self.inner.names.get(capability.index()).map(|n| &**n)
    }

    /// Every declared capability with its name, in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Capability, &str)> + '_ {
        self.inner
            .names
            .iter()
            .enumerate()
            .map(|(index, name)| (Capability::from_index(index as u8), &**name))
    }

    /// Every declared capability: what the demo admin's bootstrap key gets.
    #[must_use]
    pub fn all(&self) -> CapabilitySet {
        self.inner.all
    }

    /// The grants of a new key whose creator did not choose (in the example servers'
    /// catalog, `desktop:read` + `desktop:chat`).
    #[must_use]
    pub fn default_set(&self) -> CapabilitySet {
        self.inner.defaults
    }

    /// What every key holds whatever it was granted, including what those imply.
    #[must_use]
    pub fn implicit(&self) -> CapabilitySet {
        self.inner.implicit
    }

    /// What holding `capability` brings along through implications, transitively,
    /// not counting `capability` itself.
    #[must_use]
    pub fn implied(&self, capability: Capability) -> CapabilitySet {
        let mut set = self
            .inner
            .closure
            .get(capability.index())
            .copied()
            .unwrap_or_default();
        set.remove(capability);
        set
    }

    /// The set of the capabilities called `names`.
    ///
    /// Every name must be declared; otherwise the error lists every unknown one (sorted,
    /// each once), never dropping any silently, and every declared one. Repeated names
    /// are fine.
    pub fn set<I>(&self, names: I) -> Result<CapabilitySet, UnknownCapabilities>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut set = CapabilitySet::EMPTY;
        let mut unknown = BTreeSet::new();
        for name in names {
            let name = name.as_ref();
            match self.capability(name) {
                Some(capability) => {
                    set.insert(capability);
                }
                None => {
                    unknown.insert(name.to_owned());
                }
            }
        }
        if unknown.is_empty() {
            Ok(set)
        } else {
            Err(UnknownCapabilities {
                capabilities: unknown.into_iter().collect(),
                valid: self.inner.names.iter().map(|n| n.to_string()).collect(),
            })
        }
    }

    /// What a key granted `granted` may actually do: `granted`, everything it implies
    /// (transitively), and the implicit grants. A few `OR`s per granted capability;
    /// compute it once per key (when it is verified or cached), not per request.
    ///
    /// Capabilities outside this catalog are dropped.
    #[must_use]
    pub fn effective(&self, granted: &CapabilitySet) -> CapabilitySet {
        let inner = &*self.inner;
        let mut effective = inner.implicit;
        for capability in granted.intersection(&inner.all) {
            effective |= inner.closure[capability.index()];
        }
        effective
    }

    /// The names of `set`, sorted.
    #[must_use]
    pub fn names(&self, set: &CapabilitySet) -> Vec<&str> {
        // Indices follow name order, so iterating the bits yields sorted names.
        let names = &self.inner.names;
        set.intersection(&self.inner.all)
            .iter()
            .map(|capability| &*names[capability.index()])
            .collect()
    }

    /// A requirement met by keys holding every capability called `names`.
    /// With no names it is met by every key, like [`Requirement::none`].
    pub fn all_of<I>(&self, names: I) -> Result<Requirement, UnknownCapabilities>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Ok(Requirement::all_of(self, self.set(names)?))
    }

    /// A requirement met by keys holding at least one capability called `names`.
    /// With no names it is met by no key.
    pub fn any_of<I>(&self, names: I) -> Result<Requirement, UnknownCapabilities>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Ok(Requirement::any_of(self, self.set(names)?))
    }

    /// What of `requested` a key holding `held` does not hold itself, after implications
    /// and implicit grants (`held` may be granted or already effective).
    ///
    /// This is the no-escalation rule for a key that mints a key: the new key's grants
    /// must leave nothing missing. A capability the caller holds only through an
    /// implication (`jobs:read`, via `jobs:write`) may be handed out.
    #[must_use]
    pub fn missing(&self, requested: &CapabilitySet, held: &CapabilitySet) -> CapabilitySet {
        requested
            .intersection(&self.inner.all)
            .difference(&self.effective(held))
    }

    /// [`missing`](Self::missing) as a check: `Err` names the missing capabilities as
    /// `required` and `held`'s effective capabilities as `held`, for the 403 answer to a
    /// mint that asks for more than the minting key holds.
    ///
    /// ```
    /// use keyward_scope::Catalog;
    ///
    /// let catalog = Catalog::builder()
    ///     .capabilities(["keys:read", "keys:write", "jobs:read"])
    ///     .implies("keys:write", "keys:read")
    ///     .build()?;
    /// let caller = catalog.set(["keys:write"])?;
    /// assert!(catalog.check_grant(&catalog.set(["keys:read"])?, &caller).is_ok());
    ///
    /// let denied = catalog
    ///     .check_grant(&catalog.set(["keys:read", "jobs:read"])?, &caller)
    ///     .unwrap_err();
    /// assert_eq!(denied.required, ["jobs:read"]);
    /// assert_eq!(denied.held, ["keys:read", "keys:write"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_grant(
        &self,
        requested: &CapabilitySet,
        held: &CapabilitySet,
    ) -> Result<(), Denied> {
        let missing = self.missing(requested, held);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(self.denied(&missing, &self.effective(held)))
        }
    }

    /// A `Denied` naming `required` and `held`.
    #[cold]
    pub(crate) fn denied(&self, required: &CapabilitySet, held: &CapabilitySet) -> Denied {
        let owned = |set| self.names(set).into_iter().map(str::to_owned).collect();
        Denied {
            required: owned(required),
            held: owned(held),
        }
    }
}

/// Lists the names and which are implicit and default.
impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("capabilities", &self.inner.names)
            .field("implicit", &self.names(&self.inner.implicit))
            .field("defaults", &self.names(&self.inner.defaults))
            .finish()
    }
}

/// Declares a [`Catalog`]; start with [`Catalog::builder`].
///
/// Declarations can come in any order (an implication may name a capability declared
/// later); everything is checked by [`build`](Self::build), which reports the first
/// problem as a [`CatalogError`].
///
/// ```
/// use keyward_scope::{Catalog, CatalogError, Role};
///
/// let err = Catalog::builder()
///     .capabilities(["jobs:read", "jobs:write"])
///     .implies("jobs:write", "jobs:raed")
///     .build()
///     .unwrap_err();
/// assert_eq!(err, CatalogError::UnknownName { name: "jobs:raed".into(), role: Role::Implied });
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CatalogBuilder {
    names: Vec<String>,
    implications: Vec<(String, String)>,
    implicit: Vec<String>,
    defaults: Vec<String>,
}

impl CatalogBuilder {
    /// Declares one capability.
    pub fn capability(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }

    /// Declares several capabilities.
    pub fn capabilities<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.names.extend(names.into_iter().map(Into::into));
        self
    }

    /// Declares that holding `capability` also gives `implied` (and, transitively,
    /// whatever `implied` implies). Repeating an implication changes nothing.
    pub fn implies(mut self, capability: impl Into<String>, implied: impl Into<String>) -> Self {
        self.implications.push((capability.into(), implied.into()));
        self
    }

    /// Declares that every key holds `capability`, whatever it was granted.
    pub fn implicit(mut self, capability: impl Into<String>) -> Self {
        self.implicit.push(capability.into());
        self
    }

    /// Adds `capability` to the grants of a new key whose creator did not choose.
    pub fn default_grant(mut self, capability: impl Into<String>) -> Self {
        self.defaults.push(capability.into());
        self
    }

    /// Adds several capabilities to the default grants.
    pub fn default_grants<I>(mut self, capabilities: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.defaults
            .extend(capabilities.into_iter().map(Into::into));
        self
    }

    /// Checks the declarations and builds the catalog.
    pub fn build(self) -> Result<Catalog, CatalogError> {
        let mut seen = BTreeSet::new();
        for name in &self.names {
            if let Err(reason) = validate(name) {
                return Err(CatalogError::InvalidName {
                    name: name.clone(),
                    reason,
                });
            }
            if !seen.insert(name.as_str()) {
                return Err(CatalogError::DuplicateName { name: name.clone() });
            }
        }
        if seen.len() > MAX_CAPABILITIES {
            return Err(CatalogError::TooMany { count: seen.len() });
        }

        // BTreeSet iterates in byte order, which for ASCII is name order.
        let names: Box<[Box<str>]> = seen.into_iter().map(Box::from).collect();
        let all = CapabilitySet::first(names.len());
        let lookup = |name: &str, role: Role| {
            names
                .binary_search_by(|probe| (**probe).cmp(name))
                .map(|index| Capability::from_index(index as u8))
                .map_err(|_| CatalogError::UnknownName {
                    name: name.to_owned(),
                    role,
                })
        };

        let mut direct = vec![CapabilitySet::EMPTY; names.len()];
        for (capability, implied) in &self.implications {
            let capability = lookup(capability, Role::Implying)?;
            let implied = lookup(implied, Role::Implied)?;
            direct[capability.index()].insert(implied);
        }
        let mut implicit = CapabilitySet::EMPTY;
        for name in &self.implicit {
            implicit.insert(lookup(name, Role::Implicit)?);
        }
        let mut defaults = CapabilitySet::EMPTY;
        for name in &self.defaults {
            defaults.insert(lookup(name, Role::Default)?);
        }

        let closure = close(&direct);
        if let Some(cycle) = find_cycle(&direct, &closure) {
            return Err(CatalogError::ImplicationCycle {
                names: cycle.iter().map(|c| names[c.index()].to_string()).collect(),
            });
        }
        let implicit = implicit
            .iter()
            .fold(implicit, |set, c| set | closure[c.index()]);

        Ok(Catalog {
            inner: Arc::new(Inner {
                closure: closure.into_boxed_slice(),
                names,
                implicit,
                defaults,
                all,
            }),
        })
    }
}

/// Per capability: itself and everything reachable through `direct`.
fn close(direct: &[CapabilitySet]) -> Vec<CapabilitySet> {
    let mut closure: Vec<CapabilitySet> = direct
        .iter()
        .enumerate()
        .map(|(index, set)| {
            let mut set = *set;
            set.insert(Capability::from_index(index as u8));
            set
        })
        .collect();
    // Each round at least doubles the path length covered, so this ends after
    // about log2(256) = 8 rounds.
    loop {
        let mut changed = false;
        for index in 0..closure.len() {
            let grown = closure[index]
                .iter()
                .fold(closure[index], |set, c| set | closure[c.index()]);
            if grown != closure[index] {
                closure[index] = grown;
                changed = true;
            }
        }
        if !changed {
            return closure;
        }
    }
}

/// The capabilities on a cycle through the first capability that reaches itself.
fn find_cycle(direct: &[CapabilitySet], closure: &[CapabilitySet]) -> Option<CapabilitySet> {
    // Reachable in one step or more.
    let strict: Vec<CapabilitySet> = direct
        .iter()
        .map(|set| set.iter().fold(*set, |acc, c| acc | closure[c.index()]))
        .collect();
    let start = (0..direct.len())
        .find(|&index| strict[index].contains(Capability::from_index(index as u8)))?;
    let start = Capability::from_index(start as u8);
    Some(
        strict[start.index()]
            .iter()
            .filter(|c| strict[c.index()].contains(start))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_follow_name_order() {
        let c = Catalog::builder()
            .capabilities(["keys:write", "desktop:read", "jobs:write", "jobs:read"])
            .implies("jobs:write", "jobs:read")
            .build()
            .unwrap();
        let names: Vec<&str> = c.iter().map(|(_, n)| n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(c.len(), 4);
        for (capability, name) in c.iter() {
            assert_eq!(c.capability(name), Some(capability));
            assert_eq!(c.name(capability), Some(name));
        }
        assert_eq!(c.capability("jobs:delete"), None);
        assert_eq!(c.capability(""), None);
    }

    #[test]
    fn closure_is_transitive() {
        let c = Catalog::builder()
            .capabilities(["a:a", "b:b", "c:c", "d:d"])
            .implies("a:a", "b:b")
            .implies("b:b", "c:c")
            .implies("c:c", "d:d")
            .build()
            .unwrap();
        let a = c.capability("a:a").unwrap();
        assert_eq!(c.names(&c.implied(a)), ["b:b", "c:c", "d:d"]);
        let d = c.capability("d:d").unwrap();
        assert!(c.implied(d).is_empty());
    }

    #[test]
    fn cycles_name_their_members_only() {
        let err = Catalog::builder()
            .capabilities(["a:a", "b:b", "c:c", "z:z"])
            .implies("z:z", "a:a")
            .implies("a:a", "b:b")
            .implies("b:b", "c:c")
            .implies("c:c", "b:b")
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            CatalogError::ImplicationCycle {
                names: vec!["b:b".into(), "c:c".into()]
            }
        );
    }

    #[test]
    fn debug_lists_names() {
        let c = Catalog::builder()
            .capabilities(["b:b", "a:a"])
            .implicit("a:a")
            .default_grant("b:b")
            .build()
            .unwrap();
        assert_eq!(
            format!("{c:?}"),
            r#"Catalog { capabilities: ["a:a", "b:b"], implicit: ["a:a"], defaults: ["b:b"] }"#
        );
    }

    #[test]
    fn effective_and_names_ignore_foreign_bits() {
        let small = Catalog::builder().capability("a:a").build().unwrap();
        let big = Catalog::builder()
            .capabilities(["a:a", "b:b", "c:c"])
            .build()
            .unwrap();
        let foreign = big.all();
        assert_eq!(small.names(&foreign), ["a:a"]);
        assert_eq!(small.effective(&foreign), small.all());
        let c = big.capability("c:c").unwrap();
        assert_eq!(small.name(c), None);
        assert!(small.implied(c).is_empty());
    }
}
