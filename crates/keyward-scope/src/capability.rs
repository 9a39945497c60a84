//! One capability of one catalog.

/// A capability declared in a [`Catalog`](crate::Catalog): a small `Copy` handle
/// (the capability's position in its catalog) obtained with
/// [`Catalog::capability`](crate::Catalog::capability) and turned back into its name with
/// [`Catalog::name`](crate::Catalog::name).
///
/// A handle only means something to the catalog that issued it. Positions follow the
/// names' sorted order, so adding a name to a catalog renumbers the others: persist
/// names, never handles or [`CapabilitySet`](crate::CapabilitySet)s.
///
/// ```
/// use keyward_scope::Catalog;
///
/// let catalog = Catalog::builder().capabilities(["jobs:read", "jobs:write"]).build()?;
/// let read = catalog.capability("jobs:read").expect("declared");
/// assert_eq!(catalog.name(read), Some("jobs:read"));
/// assert!(catalog.set(["jobs:read"])?.contains(read));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability(u8);

impl Capability {
    /// The handle at `index`; callers keep `index` below the catalog's length.
    #[inline]
    pub(crate) const fn from_index(index: u8) -> Self {
        Self(index)
    }

    /// The capability's position in its catalog: `0..catalog.len()`, in name order.
    #[inline]
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}
