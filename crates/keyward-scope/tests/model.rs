//! Property tests: set operations and effective sets against a plain `HashSet` model.

use std::collections::{BTreeSet, HashSet};

use keyward_scope::{CapabilitySet, Catalog, MAX_CAPABILITIES};
use proptest::prelude::*;

fn full_catalog() -> Catalog {
    Catalog::builder()
        .capabilities((0..MAX_CAPABILITIES).map(|i| format!("r{i:03}:a")))
        .build()
        .unwrap()
}

fn set_of(catalog: &Catalog, model: &HashSet<usize>) -> CapabilitySet {
    catalog
        .set(model.iter().map(|i| format!("r{i:03}:a")))
        .unwrap()
}

fn model_of(set: &CapabilitySet) -> HashSet<usize> {
    set.iter().map(|c| c.index()).collect()
}

fn indices() -> impl Strategy<Value = HashSet<usize>> {
    prop::collection::hash_set(0..MAX_CAPABILITIES, 0..40)
}

proptest! {
    #[test]
    fn set_operations_agree_with_hash_set(a in indices(), b in indices(), probe in 0..MAX_CAPABILITIES) {
        let catalog = full_catalog();
        let (sa, sb) = (set_of(&catalog, &a), set_of(&catalog, &b));
        prop_assert_eq!(model_of(&sa), a.clone());
        prop_assert_eq!(model_of(&sa.union(&sb)), &a | &b);
        prop_assert_eq!(model_of(&sa.intersection(&sb)), &a & &b);
        prop_assert_eq!(model_of(&sa.difference(&sb)), &a - &b);
        prop_assert_eq!(sa.is_subset(&sb), a.is_subset(&b));
        prop_assert_eq!(sa.is_superset(&sb), a.is_superset(&b));
        prop_assert_eq!(sa.intersects(&sb), !a.is_disjoint(&b));
        prop_assert_eq!(sa.is_empty(), a.is_empty());
        prop_assert_eq!(sa.len(), a.len());
        prop_assert_eq!(sa.iter().len(), a.len());
        let name = format!("r{probe:03}:a");
        let capability = catalog.capability(&name).unwrap();
        prop_assert_eq!(sa.contains(capability), a.contains(&probe));

        // Iteration is sorted by name, and names() agrees.
        let sorted: Vec<String> = a.iter().map(|i| format!("r{i:03}:a")).collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(catalog.names(&sa), sorted);

        // Requirements agree with the model too.
        prop_assert_eq!(catalog.all_of(catalog.names(&sa)).unwrap().is_met_by(&sb), a.is_subset(&b));
        prop_assert_eq!(catalog.any_of(catalog.names(&sa)).unwrap().is_met_by(&sb), !a.is_disjoint(&b));
    }

    #[test]
    fn effective_is_reachability(
        edges in prop::collection::vec((0usize..24, 0usize..24), 0..40),
        implicit in prop::collection::hash_set(0usize..24, 0..3),
        granted in prop::collection::hash_set(0usize..24, 0..6),
    ) {
        // Only edges from a lower to a higher number: never a cycle.
        let edges: Vec<(usize, usize)> = edges.into_iter().filter(|(a, b)| a < b).collect();
        let name = |i: usize| format!("c{i:02}:x");
        let mut builder = Catalog::builder().capabilities((0..24).map(name));
        for &(a, b) in &edges {
            builder = builder.implies(name(a), name(b));
        }
        for &i in &implicit {
            builder = builder.implicit(name(i));
        }
        let catalog = builder.build().unwrap();

        // The model: breadth-first reachability from granted ∪ implicit.
        let mut reached: HashSet<usize> = &granted | &implicit;
        let mut frontier: Vec<usize> = reached.iter().copied().collect();
        while let Some(from) = frontier.pop() {
            for &(a, b) in &edges {
                if a == from && reached.insert(b) {
                    frontier.push(b);
                }
            }
        }
        let expected: BTreeSet<String> = reached.into_iter().map(name).collect();

        let set = catalog.set(granted.iter().map(|&i| name(i))).unwrap();
        let effective = catalog.effective(&set);
        let got: BTreeSet<String> = catalog.names(&effective).into_iter().map(str::to_owned).collect();
        prop_assert_eq!(got, expected);
        // Closed: applying it again changes nothing.
        prop_assert_eq!(catalog.effective(&effective), effective);
    }

    #[test]
    fn cycles_are_always_found(len in 1usize..12, offset in 0usize..12) {
        let name = |i: usize| format!("c{i:02}:x");
        let mut builder = Catalog::builder().capabilities((0..24).map(name));
        for i in 0..len {
            builder = builder.implies(name(offset + i), name(offset + (i + 1) % len));
        }
        let is_cycle = matches!(
            builder.build(),
            Err(keyward_scope::CatalogError::ImplicationCycle { names }) if names.len() == len
        );
        prop_assert!(is_cycle);
    }
}

proptest! {
    #[test]
    fn names_validate_like_the_documented_pattern(name in "[a-zA-Z0-9_:*. -]{0,12}|\\PC{0,8}") {
        let part = |p: &str| {
            let mut chars = p.chars();
            matches!(chars.next(), Some('a'..='z'))
                && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
        };
        let expected = name.len() <= 64
            && name.split(':').count() == 2
            && name.split(':').all(part);
        prop_assert_eq!(keyward_scope::CapabilityName::parse(&name).is_ok(), expected);
    }
}
