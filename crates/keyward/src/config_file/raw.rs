//! The file as written: every key optional, every value with its span, unknown keys
//! refused. [`super::validate`] turns it into a [`super::ConfigFile`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A list of strings, each with its span.
pub(super) type Names = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) keys: Option<RawKeys>,
    pub(super) capabilities: Option<RawCapabilities>,
    pub(super) limits: Option<RawLimits>,
    pub(super) cache: Option<RawCache>,
    pub(super) database: Option<RawDatabase>,
    pub(super) management: Option<RawManagement>,
    pub(super) cli: Option<RawCli>,
    pub(super) audit: Option<RawAudit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKeys {
    pub(super) prefix: Option<Spanned<String>>,
    pub(super) hasher: Option<Spanned<String>>,
    pub(super) bcrypt_cost: Option<Spanned<i64>>,
    pub(super) max_lifetime: Option<Spanned<String>>,
    pub(super) expire_unused_after: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCapabilities {
    pub(super) names: Option<Names>,
    pub(super) defaults: Option<Names>,
    pub(super) implicit: Option<Names>,
    /// Keys as plain strings so error paths name them; their spans come from the
    /// document (see `validate::implies_key_span`).
    pub(super) implies: Option<Spanned<BTreeMap<String, Names>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) rate: Option<Spanned<String>>,
    pub(super) owner: Option<Spanned<String>>,
    pub(super) tenant: Option<Spanned<String>>,
    pub(super) lockout: Option<Spanned<RawLockout>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLockout {
    pub(super) failures: Option<Spanned<i64>>,
    pub(super) window: Option<Spanned<String>>,
    pub(super) cooldown: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCache {
    pub(super) capacity: Option<Spanned<i64>>,
    pub(super) refresh: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManagement {
    pub(super) read: Option<Spanned<String>>,
    pub(super) write: Option<Spanned<String>>,
    pub(super) tenant_admin: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCli {
    pub(super) owner: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    pub(super) retention: Option<Spanned<String>>,
}
