//! The stylesheet and script, served from the mount (the CSP allows no inline ones).

use std::sync::OnceLock;

/// The stylesheet.
pub(crate) const CSS: &str = include_str!("../assets/dashboard.css");

/// Copy-to-clipboard and a confirmation before a revoke: everything works without it.
pub(crate) const JS: &str = include_str!("../assets/dashboard.js");

/// A short hash of both assets, put in their URLs (`?v=`) so a new version is fetched
/// although the old one may be cached for good.
pub(crate) fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = blake3::Hasher::new();
        hasher.update(CSS.as_bytes());
        hasher.update(JS.as_bytes());
        hasher.finalize().to_hex()[..12].to_string()
    })
}
