//! `keys create --honeytoken`: a decoy key, marked in the JSON and the table, that the
//! library refuses as an unknown key.

mod common;

use common::Env;
use keyward::clock::ManualClock;
use keyward::scope::Requirement;
use keyward::{AuthError, Credential, InvalidKeyReason};

#[tokio::test]
async fn create_honeytoken_mints_a_marked_decoy() {
    let env = Env::new();
    let created = env.json(&[
        "keys",
        "create",
        "--name",
        "decoy: deploy repo",
        "--owner",
        "security",
        "--capability",
        "jobs:read",
        "--honeytoken",
    ]);
    assert_eq!(created["honeytoken"], true, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    env.json(&[
        "keys",
        "create",
        "--name",
        "real",
        "--owner",
        "security",
        "--capability",
        "jobs:read",
    ]);

    let listed = env.json(&["keys", "list"]);
    let flags: Vec<(String, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_owned(),
                k["honeytoken"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        flags.contains(&("decoy: deploy repo".to_owned(), true)),
        "{flags:?}"
    );
    assert!(flags.contains(&("real".to_owned(), false)), "{flags:?}");

    let table = env.text(&["keys", "list"]);
    let decoy_line = table.lines().find(|l| l.contains(&id)).unwrap();
    assert!(decoy_line.contains("active (honeytoken)"), "{table}");
    let real_line = table.lines().find(|l| l.contains("real")).unwrap();
    assert!(!real_line.contains("honeytoken"), "{table}");

    // A server over the same database answers it as an unknown key.
    let clock = ManualClock::new(common::now());
    let keyward = env.library(&clock).await;
    let answer = keyward
        .authenticator()
        .authenticate(
            Credential::Key(&key),
            &Requirement::none(),
            "192.0.2.1".parse().unwrap(),
        )
        .await;
    assert_eq!(
        answer.unwrap_err(),
        AuthError::InvalidKey(InvalidKeyReason::UnknownKey)
    );
}
