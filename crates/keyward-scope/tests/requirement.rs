//! Requirements, denials and the no-escalation rule, on the demo catalog.

use keyward_scope::{CapabilitySet, Catalog, Denied, Requirement};

/// The demo server's catalog, as the shared test rig declares it.
fn demo() -> Catalog {
    keyward_testing::rig::catalog()
}

#[test]
fn routes_of_the_demo_server() {
    let c = demo();
    let me = Requirement::none();
    let desktops = c.all_of(["desktop:read"]).unwrap();
    let lifecycle = c.all_of(["desktop:lifecycle"]).unwrap();
    let list_keys = c.all_of(["keys:read"]).unwrap();

    let default_key = c.effective(&c.default_set());
    assert!(me.is_met_by(&default_key));
    assert!(desktops.is_met_by(&default_key));
    assert!(!list_keys.is_met_by(&default_key));
    assert_eq!(
        lifecycle.check(&default_key),
        Err(Denied {
            required: vec!["desktop:lifecycle".into()],
            held: vec!["desktop:chat".into(), "desktop:read".into()],
        })
    );

    let key_admin = c.effective(&c.set(["keys:write"]).unwrap());
    assert!(list_keys.check(&key_admin).is_ok());

    let admin = c.effective(&c.all());
    for req in [&me, &desktops, &lifecycle, &list_keys] {
        assert!(req.check(&admin).is_ok());
    }
}

#[test]
fn denied_names_required_and_effective_held_sorted() {
    let c = demo();
    let req = c.all_of(["keys:write", "jobs:write"]).unwrap();
    let held = c.effective(&c.set(["keys:write", "desktop:read"]).unwrap());
    let denied = req.check(&held).unwrap_err();
    assert_eq!(denied.required, ["jobs:write", "keys:write"]);
    assert_eq!(denied.held, ["desktop:read", "keys:read", "keys:write"]);
    assert_eq!(denied.scope(), "jobs:write keys:write");
    assert_eq!(req.scope(), denied.scope());
}

#[test]
fn owner_losing_a_capability_narrows_the_key() {
    let c = demo();
    let key = c.effective(&c.set(["jobs:write", "kb:read"]).unwrap());
    let owner_now = c.effective(&c.set(["jobs:read", "kb:read"]).unwrap());
    let usable = key.intersection(&owner_now);
    assert!(c.all_of(["jobs:read"]).unwrap().is_met_by(&usable));
    assert!(!c.all_of(["jobs:write"]).unwrap().is_met_by(&usable));
}

#[test]
fn no_escalation_when_minting() {
    let c = demo();
    let caller = c.set(["keys:write", "jobs:read"]).unwrap();

    // Held directly, through an implication, or asking for nothing: fine.
    for asked in [
        vec!["jobs:read"],
        vec!["keys:read"],
        vec!["keys:write", "keys:read"],
        vec![],
    ] {
        let asked = c.set(asked).unwrap();
        assert!(c.missing(&asked, &caller).is_empty());
        assert!(c.check_grant(&asked, &caller).is_ok());
    }

    let asked = c.set(["jobs:write", "jobs:read", "kb:read"]).unwrap();
    assert_eq!(
        c.names(&c.missing(&asked, &caller)),
        ["jobs:write", "kb:read"]
    );
    // Same answer whether the caller's set is granted or already effective.
    assert_eq!(
        c.missing(&asked, &caller),
        c.missing(&asked, &c.effective(&caller))
    );
    assert_eq!(
        c.check_grant(&asked, &caller),
        Err(Denied {
            required: vec!["jobs:write".into(), "kb:read".into()],
            held: vec!["jobs:read".into(), "keys:read".into(), "keys:write".into()],
        })
    );
}

#[test]
fn implicit_grants_may_be_handed_out() {
    let c = Catalog::builder()
        .capabilities(["graph:read", "graph:write"])
        .implicit("graph:read")
        .build()
        .unwrap();
    let asked = c.set(["graph:read"]).unwrap();
    assert!(c.check_grant(&asked, &CapabilitySet::EMPTY).is_ok());
}

#[test]
fn requirement_is_cheap_to_clone_and_share() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Requirement>();
    let c = demo();
    let req = c.any_of(["jobs:read", "kb:read"]).unwrap();
    let copy = req.clone();
    assert_eq!(copy.names(), ["jobs:read", "kb:read"]);
    assert!(copy.is_any_of());
    assert_eq!(copy.capabilities(), req.capabilities());
}
