//! The CLI's catalog is the one keyward's test rig and the HTTP contract suite use, so
//! what those tests prove holds for the keys the CLI mints.

use keyward::scope::Catalog;

/// Everything a catalog declares, by name.
#[derive(Debug, PartialEq)]
struct Declared {
    /// Each capability in order, with what it implies.
    capabilities: Vec<(String, Vec<String>)>,
    implicit: Vec<String>,
    defaults: Vec<String>,
}

fn declared(catalog: &Catalog) -> Declared {
    let owned = |names: Vec<&str>| names.into_iter().map(str::to_owned).collect::<Vec<_>>();
    Declared {
        capabilities: catalog
            .iter()
            .map(|(capability, name)| {
                let implied = owned(catalog.names(&catalog.implied(capability)));
                (name.to_owned(), implied)
            })
            .collect(),
        implicit: owned(catalog.names(&catalog.implicit())),
        defaults: owned(catalog.names(&catalog.default_set())),
    }
}

#[test]
fn the_demo_catalog_is_the_rigs() {
    let cli = declared(&keyward_cli::demo_catalog());
    assert_eq!(cli.capabilities.len(), 9);
    assert_eq!(
        cli,
        declared(&keyward_testing::rig::catalog()),
        "keyward_cli::demo_catalog and keyward_testing::rig::catalog differ"
    );
}
