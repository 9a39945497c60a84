//! JSON shapes, with the `serde` feature: the bodies of the 400 and 403 answers.
#![cfg(feature = "serde")]

use keyward_scope::{CapabilityName, Catalog, Denied, UnknownCapabilities};

#[test]
fn denied_serializes_as_the_403_fields() {
    let catalog = Catalog::builder()
        .capabilities(["jobs:read", "jobs:write"])
        .build()
        .unwrap();
    let held = catalog.set(["jobs:read"]).unwrap();
    let denied = catalog
        .all_of(["jobs:write"])
        .unwrap()
        .check(&held)
        .unwrap_err();
    let json = serde_json::to_string(&denied).unwrap();
    assert_eq!(json, r#"{"required":["jobs:write"],"held":["jobs:read"]}"#);
    assert_eq!(serde_json::from_str::<Denied>(&json).unwrap(), denied);
}

#[test]
fn unknown_capabilities_serializes_as_the_400_field() {
    let catalog = Catalog::builder().capability("jobs:read").build().unwrap();
    let err: UnknownCapabilities = catalog.set(["kb:read", "jobs:read"]).unwrap_err();
    assert_eq!(
        serde_json::to_string(&err).unwrap(),
        r#"{"capabilities":["kb:read"],"valid":["jobs:read"]}"#
    );
    // A body without `valid` (from before it was added) still reads.
    let old: UnknownCapabilities = serde_json::from_str(r#"{"capabilities":["kb:read"]}"#).unwrap();
    assert!(old.valid.is_empty());
}

#[test]
fn capability_names_are_validated_when_deserialized() {
    let name: CapabilityName = serde_json::from_str(r#""jobs:read""#).unwrap();
    assert_eq!(name, "jobs:read");
    assert_eq!(serde_json::to_string(&name).unwrap(), r#""jobs:read""#);
    let err = serde_json::from_str::<CapabilityName>(r#""Jobs:read""#).unwrap_err();
    assert!(err.to_string().contains("lowercase"), "{err}");
}
