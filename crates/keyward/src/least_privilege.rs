//! Least privilege from observed use: what a key was granted, what its requests used,
//! and the narrowest grants that would still have served every one of them.

use keyward_clock::Timestamp;
use keyward_scope::{CapabilitySet, Catalog};
use keyward_store::KeyRecord;

/// A key's grants beside its recorded use, and the grants its use suggests
/// ([`crate::KeyService::usage`]). Capability names throughout, sorted.
///
/// `used` is what the store recorded (see [`crate::Config::record_capability_usage`])
/// plus what this process's verification cache saw and has not flushed yet; `since` is
/// when the store started recording the key's use (`None`: nothing flushed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KeyUsage {
    /// The capability names granted at mint, as stored.
    pub granted: Vec<String>,
    /// The capability names the key's requests used.
    pub used: Vec<String>,
    /// Since when use is recorded.
    pub since: Option<Timestamp>,
    /// The fewest grantable names whose implications cover every used capability: the
    /// used names less those another used name implies and the catalog's implicit
    /// grants. Empty when nothing was used.
    pub suggested: Vec<String>,
}

impl KeyUsage {
    /// The report for `record`, with `unflushed` (this process's use not yet in the
    /// store) added to its recorded use.
    pub(crate) fn of(catalog: &Catalog, record: &KeyRecord, unflushed: CapabilitySet) -> Self {
        let used = declared(catalog, &record.used_capabilities).union(&unflushed);
        // A stored name the catalog no longer declares was still used: it is shown,
        // but no grant can cover it.
        let mut used_names = names(catalog, &used);
        used_names.extend(
            record
                .used_capabilities
                .iter()
                .filter(|name| catalog.capability(name).is_none())
                .cloned(),
        );
        used_names.sort();
        used_names.dedup();
        KeyUsage {
            granted: record.capabilities.clone(),
            used: used_names,
            since: record.usage_since,
            suggested: names(catalog, &suggested(catalog, &used)),
        }
    }
}

/// The fewest of `used` that imply all of it: every used capability that no other used
/// capability implies, less the implicit grants every key holds anyway.
///
/// Implications form no cycle, so each dropped name is implied by one that stays, and
/// a key granted the result holds every capability in `used`: every requirement it met
/// while its use was recorded, it still meets (an any-of one through an alternative it
/// held then, see `docs/key-management.md`).
pub(crate) fn suggested(catalog: &Catalog, used: &CapabilitySet) -> CapabilitySet {
    let used = used
        .intersection(&catalog.all())
        .difference(&catalog.implicit());
    let mut implied_by_others = CapabilitySet::EMPTY;
    for capability in used {
        implied_by_others |= catalog.implied(capability);
    }
    used.difference(&implied_by_others)
}

/// The set of the `names` the catalog declares; the others are skipped.
pub(crate) fn declared(catalog: &Catalog, names: &[String]) -> CapabilitySet {
    names
        .iter()
        .filter_map(|name| catalog.capability(name))
        .collect()
}

/// `set`'s names, owned and sorted.
pub(crate) fn names(catalog: &Catalog, set: &CapabilitySet) -> Vec<String> {
    catalog.names(set).into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builder()
            .capabilities([
                "graph:read",
                "jobs:admin",
                "jobs:read",
                "jobs:write",
                "kb:read",
            ])
            .implies("jobs:write", "jobs:read")
            .implies("jobs:admin", "jobs:write")
            .implicit("graph:read")
            .build()
            .unwrap()
    }

    fn suggest(used: &[&str]) -> Vec<String> {
        let catalog = catalog();
        names(&catalog, &suggested(&catalog, &catalog.set(used).unwrap()))
    }

    #[test]
    fn drops_what_another_used_name_implies() {
        assert_eq!(suggest(&["jobs:read", "jobs:write"]), ["jobs:write"]);
        assert_eq!(suggest(&["jobs:read"]), ["jobs:read"]);
        // Transitively: admin implies write implies read.
        assert_eq!(
            suggest(&["jobs:admin", "jobs:read", "kb:read"]),
            ["jobs:admin", "kb:read"]
        );
    }

    #[test]
    fn drops_implicit_grants_and_covers_every_used_capability() {
        assert_eq!(suggest(&["graph:read", "kb:read"]), ["kb:read"]);
        assert!(suggest(&["graph:read"]).is_empty());
        assert!(suggest(&[]).is_empty());
        let catalog = catalog();
        for used in [
            vec!["jobs:read", "jobs:write", "graph:read"],
            vec!["jobs:admin", "kb:read", "jobs:read"],
        ] {
            let used = catalog.set(used).unwrap();
            let granted = suggested(&catalog, &used);
            assert!(used.is_subset(&catalog.effective(&granted)));
            assert!(granted.is_subset(&used));
        }
    }

    #[test]
    fn report_adds_unflushed_use_and_keeps_undeclared_names() {
        let catalog = catalog();
        use keyward_testing::store_conformance::{fresh_id, sample_record};
        let mut record = sample_record(fresh_id(), "u_1", Timestamp::from_unix_seconds(1));
        record.capabilities = vec!["jobs:admin".into(), "kb:read".into()];
        record.used_capabilities = vec!["jobs:read".into(), "old:thing".into()];
        let at = Timestamp::from_unix_seconds(1_800_000_000);
        record.usage_since = Some(at);
        let unflushed = catalog.set(["jobs:write"]).unwrap();
        let usage = KeyUsage::of(&catalog, &record, unflushed);
        assert_eq!(usage.granted, ["jobs:admin", "kb:read"]);
        assert_eq!(usage.used, ["jobs:read", "jobs:write", "old:thing"]);
        assert_eq!(usage.since, Some(at));
        assert_eq!(usage.suggested, ["jobs:write"]);
    }
}
