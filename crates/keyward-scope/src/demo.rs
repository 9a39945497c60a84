//! The demo catalog the example servers, the CLI, the benchmarks and the tests share.

use crate::Catalog;

impl Catalog {
    /// The demo catalog of keyward's example servers (modelled on the seed products):
    /// `desktop:read`, `desktop:chat`, `desktop:lifecycle`, `desktop:control`,
    /// `jobs:read`, `jobs:write` (implies `jobs:read`), `kb:read`, `keys:read`,
    /// `keys:write` (implies `keys:read`); new keys default to `desktop:read` +
    /// `desktop:chat`.
    ///
    /// A real service declares its own catalog with [`Catalog::builder`]; this one
    /// exists so examples and tests agree on one.
    ///
    /// ```
    /// use keyward_scope::Catalog;
    ///
    /// let demo = Catalog::demo();
    /// assert_eq!(demo.names(&demo.default_set()), ["desktop:chat", "desktop:read"]);
    /// ```
    #[must_use]
    pub fn demo() -> Catalog {
        Catalog::builder()
            .capabilities([
                "desktop:read",
                "desktop:chat",
                "desktop:lifecycle",
                "desktop:control",
                "jobs:read",
                "jobs:write",
                "kb:read",
                "keys:read",
                "keys:write",
            ])
            .implies("jobs:write", "jobs:read")
            .implies("keys:write", "keys:read")
            .default_grants(["desktop:read", "desktop:chat"])
            .build()
            .unwrap_or_else(|e| unreachable!("the demo catalog is valid: {e}"))
    }
}
