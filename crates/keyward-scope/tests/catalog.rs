//! Building catalogs: every class of bad declaration, and what a good one answers.

use keyward_scope::{
    Capability, CapabilitySet, Catalog, CatalogError, InvalidName, MAX_CAPABILITIES, Role,
};

const DEMO: [&str; 9] = [
    "desktop:read",
    "desktop:chat",
    "desktop:lifecycle",
    "desktop:control",
    "jobs:read",
    "jobs:write",
    "kb:read",
    "keys:read",
    "keys:write",
];

fn demo() -> Catalog {
    Catalog::builder()
        .capabilities(DEMO)
        .implies("jobs:write", "jobs:read")
        .implies("keys:write", "keys:read")
        .default_grants(["desktop:read", "desktop:chat"])
        .build()
        .expect("the demo catalog builds")
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i}:a")).collect()
}

#[test]
fn invalid_names_are_refused_with_their_reason() {
    for (name, reason) in [
        ("", InvalidName::Empty),
        ("read", InvalidName::MissingColon),
        ("jobs:read:all", InvalidName::ExtraColon { index: 9 }),
        (":read", InvalidName::EmptyResource),
        ("jobs:", InvalidName::EmptyAction),
        (
            "Jobs:read",
            InvalidName::Uppercase {
                index: 0,
                found: 'J',
            },
        ),
        (
            "jobs: read",
            InvalidName::Whitespace {
                index: 5,
                found: ' ',
            },
        ),
        (
            "jobs:lé",
            InvalidName::NonAscii {
                index: 6,
                found: 'é',
            },
        ),
        (
            "jobs:*",
            InvalidName::InvalidChar {
                index: 5,
                found: '*',
            },
        ),
        (
            "2fa:enable",
            InvalidName::NotALetter {
                index: 0,
                found: '2',
            },
        ),
    ] {
        let err = Catalog::builder()
            .capabilities(["jobs:read", name])
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            CatalogError::InvalidName {
                name: name.into(),
                reason
            },
            "{name:?}"
        );
    }
    let long = format!("jobs:{}", "x".repeat(60));
    assert_eq!(
        Catalog::builder()
            .capability(long.as_str())
            .build()
            .unwrap_err(),
        CatalogError::InvalidName {
            name: long,
            reason: InvalidName::TooLong { len: 65 }
        }
    );
}

#[test]
fn duplicate_names_are_refused() {
    let err = Catalog::builder()
        .capabilities(["jobs:read", "jobs:write"])
        .capability("jobs:read")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        CatalogError::DuplicateName {
            name: "jobs:read".into()
        }
    );
}

#[test]
fn at_most_256_names() {
    let full = Catalog::builder()
        .capabilities(names(MAX_CAPABILITIES))
        .build()
        .expect("256 names fit");
    assert_eq!(full.len(), 256);
    assert_eq!(full.all().len(), 256);

    let err = Catalog::builder()
        .capabilities(names(MAX_CAPABILITIES + 1))
        .build()
        .unwrap_err();
    assert_eq!(err, CatalogError::TooMany { count: 257 });
}

#[test]
fn unknown_names_in_declarations_are_refused() {
    let base = || Catalog::builder().capabilities(["jobs:read", "jobs:write"]);
    let cases = [
        (
            base().implies("jobs:admin", "jobs:write"),
            "jobs:admin",
            Role::Implying,
        ),
        (
            base().implies("jobs:write", "jobs:raed"),
            "jobs:raed",
            Role::Implied,
        ),
        (base().implicit("graph:read"), "graph:read", Role::Implicit),
        (
            base().default_grant("desktop:read"),
            "desktop:read",
            Role::Default,
        ),
        // Declarations are checked as names: an invalid one is merely unknown here.
        (
            base().default_grant("Jobs:Read"),
            "Jobs:Read",
            Role::Default,
        ),
    ];
    for (builder, name, role) in cases {
        assert_eq!(
            builder.build().unwrap_err(),
            CatalogError::UnknownName {
                name: name.into(),
                role
            }
        );
    }
}

#[test]
fn implication_cycles_are_refused() {
    let two = Catalog::builder()
        .capabilities(["jobs:read", "jobs:write"])
        .implies("jobs:write", "jobs:read")
        .implies("jobs:read", "jobs:write")
        .build()
        .unwrap_err();
    assert_eq!(
        two,
        CatalogError::ImplicationCycle {
            names: vec!["jobs:read".into(), "jobs:write".into()]
        }
    );

    let own = Catalog::builder()
        .capabilities(["jobs:read"])
        .implies("jobs:read", "jobs:read")
        .build()
        .unwrap_err();
    assert_eq!(
        own,
        CatalogError::ImplicationCycle {
            names: vec!["jobs:read".into()]
        }
    );

    let long = Catalog::builder()
        .capabilities(["a:a", "b:b", "c:c"])
        .implies("a:a", "b:b")
        .implies("b:b", "c:c")
        .implies("c:c", "a:a")
        .build()
        .unwrap_err();
    assert_eq!(
        long,
        CatalogError::ImplicationCycle {
            names: vec!["a:a".into(), "b:b".into(), "c:c".into()]
        }
    );
}

#[test]
fn diamonds_and_repeats_are_not_cycles() {
    let c = Catalog::builder()
        .capabilities(["a:admin", "a:write", "a:delete", "a:read"])
        .implies("a:admin", "a:write")
        .implies("a:admin", "a:delete")
        .implies("a:write", "a:read")
        .implies("a:delete", "a:read")
        .implies("a:write", "a:read")
        .build()
        .expect("a diamond is fine");
    let admin = c.effective(&c.set(["a:admin"]).unwrap());
    assert_eq!(
        c.names(&admin),
        ["a:admin", "a:delete", "a:read", "a:write"]
    );
}

#[test]
fn declarations_may_come_in_any_order() {
    let c = Catalog::builder()
        .implies("jobs:write", "jobs:read")
        .default_grant("jobs:read")
        .capabilities(["jobs:write", "jobs:read"])
        .build()
        .unwrap();
    assert_eq!(c.names(&c.default_set()), ["jobs:read"]);
}

#[test]
fn an_empty_catalog_is_allowed() {
    let c = Catalog::builder().build().unwrap();
    assert!(c.is_empty());
    assert!(c.all().is_empty());
    assert!(c.set(Vec::<String>::new()).unwrap().is_empty());
    assert!(
        c.all_of(Vec::<String>::new())
            .unwrap()
            .is_met_by(&CapabilitySet::EMPTY)
    );
}

#[test]
fn demo_catalog_answers() {
    let c = demo();
    assert_eq!(c.len(), 9);
    assert_eq!(c.names(&c.all()).len(), 9);
    assert_eq!(c.names(&c.default_set()), ["desktop:chat", "desktop:read"]);
    assert!(c.implicit().is_empty());

    // Sets from names, whatever their container.
    let owned: Vec<String> = vec!["jobs:write".into(), "kb:read".into()];
    let granted = c.set(&owned).unwrap();
    assert_eq!(
        granted,
        c.set(["kb:read", "jobs:write", "kb:read"]).unwrap()
    );
    assert_eq!(c.names(&granted), ["jobs:write", "kb:read"]);
    assert_eq!(
        c.names(&c.effective(&granted)),
        ["jobs:read", "jobs:write", "kb:read"]
    );

    let write: Capability = c.capability("keys:write").unwrap();
    assert_eq!(c.names(&c.implied(write)), ["keys:read"]);
}

#[test]
fn unknown_names_are_all_listed_sorted_once() {
    let c = demo();
    let err = c
        .set([
            "jobs:read",
            "zz:top",
            "jobs:delete",
            "",
            "zz:top",
            "JOBS:READ",
        ])
        .unwrap_err();
    assert_eq!(err.capabilities, ["", "JOBS:READ", "jobs:delete", "zz:top"]);
    assert_eq!(
        c.all_of(["nope:nope"]).unwrap_err().capabilities,
        ["nope:nope"]
    );
    assert_eq!(
        c.any_of(["jobs:read", "x:y"]).unwrap_err().capabilities,
        ["x:y"]
    );
}

#[test]
fn implicit_grants_are_held_by_every_key_with_their_implications() {
    let c = Catalog::builder()
        .capabilities(["graph:read", "graph:write", "graph:admin", "graph:search"])
        .implies("graph:read", "graph:search")
        .implicit("graph:read")
        .build()
        .unwrap();
    assert_eq!(c.names(&c.implicit()), ["graph:read", "graph:search"]);
    let nothing = c.effective(&CapabilitySet::EMPTY);
    assert_eq!(c.names(&nothing), ["graph:read", "graph:search"]);
    assert!(c.all_of(["graph:search"]).unwrap().is_met_by(&nothing));
    assert!(!c.all_of(["graph:write"]).unwrap().is_met_by(&nothing));
    // Implicit is not a default grant.
    assert!(c.default_set().is_empty());
}

#[test]
fn catalog_is_cheap_to_share() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Catalog>();
    assert_eq!(std::mem::size_of::<Catalog>(), std::mem::size_of::<usize>());
    let c = demo();
    let handle = std::thread::spawn({
        let c = c.clone();
        move || c.names(&c.default_set()).len()
    });
    assert_eq!(handle.join().unwrap(), 2);
}
