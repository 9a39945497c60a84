//! Records for this crate's unit tests. The public fixtures and the conformance suite
//! live in `keyward-testing`, which depends on this crate and so cannot serve its unit
//! tests.

use std::collections::BTreeMap;

use keyward_clock::Timestamp;
use keyward_format::{KeyFormat, KeyId};

use crate::record::KeyRecord;

/// A fresh random key id.
pub(crate) fn fresh_id() -> KeyId {
    KeyFormat::new("kw_test_").unwrap().mint().unwrap().id()
}

/// A plain active record: key `id` of `owner`, created at `created_at`.
pub(crate) fn sample_record(id: KeyId, owner: &str, created_at: Timestamp) -> KeyRecord {
    KeyRecord {
        id,
        prefix: "kw_test_".to_owned(),
        last4: "T3st".to_owned(),
        name: "sample key".to_owned(),
        owner: owner.to_owned(),
        tenant: None,
        capabilities: vec!["keys:read".to_owned()],
        created_at,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        disabled_at: None,
        replaced_by: None,
        hash: "$2b$04$xt7JG2XWq1p2zPZoxJLTb.T1v947ExQg2JJIHa53htjFyM5A91la.".to_owned(),
        metadata: BTreeMap::new(),
        rate_limit: None,
        ip_allowlist: Vec::new(),
        honeytoken: false,
        used_capabilities: Vec::new(),
        usage_since: None,
    }
}
