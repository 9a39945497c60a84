//! `keys usage` reports what a server recorded of a key's use, and
//! `keys roll --capabilities` narrows the key to it (or to a list within its grants).

mod common;

use common::{Env, mint_at, now, usage_error};
use keyward::clock::{Clock, ManualClock};
use keyward::{Credential, Keyward, MintRequest};

/// Mints `capabilities` for `u_1` through `keyward`; returns the key and its id.
async fn mint(keyward: &Keyward, capabilities: &[&str]) -> (String, String) {
    let minted = keyward
        .keys()
        .mint(MintRequest::new("worker", "u_1").capabilities(capabilities.to_vec()))
        .await
        .unwrap();
    (
        minted.key.expose().to_owned(),
        minted.summary.id.to_string(),
    )
}

/// What a server does: authenticates `key` for routes requiring each of `routes`, then
/// flushes the recorded use to the database.
async fn serve(keyward: &Keyward, key: &str, routes: &[&str]) {
    let authn = keyward.authenticator();
    for route in routes {
        let requirement = keyward.catalog().all_of([route]).unwrap();
        authn
            .authenticate(
                Credential::Key(key),
                &requirement,
                "192.0.2.1".parse().unwrap(),
            )
            .await
            .unwrap();
    }
    assert_eq!(authn.flush_usage().await.unwrap(), 1);
}

#[tokio::test]
async fn usage_reports_what_a_server_recorded_and_roll_narrows_to_it() {
    let env = Env::new();
    let clock = ManualClock::new(now());
    let keyward = env.library(&clock).await;
    let (key, id) = mint(&keyward, &["jobs:write", "kb:read", "desktop:read"]).await;
    serve(&keyward, &key, &["jobs:read", "jobs:write"]).await;

    let usage = env.json(&["keys", "usage", &id]);
    assert_eq!(
        usage["granted"],
        serde_json::json!(["desktop:read", "jobs:write", "kb:read"])
    );
    assert_eq!(
        usage["used"],
        serde_json::json!(["jobs:read", "jobs:write"])
    );
    assert_eq!(usage["since"], serde_json::json!(clock.now().to_string()));
    assert_eq!(usage["suggested"], serde_json::json!(["jobs:write"]));

    let text = env.text(&["keys", "usage", &id]);
    assert!(text.contains("suggested: jobs:write\n"), "{text}");
    assert!(
        text.contains(&format!("keyward keys roll {id} --capabilities used")),
        "{text}"
    );

    let rolled = env.json(&[
        "keys",
        "roll",
        &id,
        "--capabilities",
        "used",
        "--grace",
        "1h",
    ]);
    assert_eq!(
        rolled["new"]["capabilities"],
        serde_json::json!(["jobs:write"])
    );
    assert_eq!(rolled["old"]["replaced_by"], rolled["new"]["id"]);
    assert!(
        rolled["new"]["key"]
            .as_str()
            .unwrap()
            .starts_with("sk_live_")
    );
}

#[tokio::test]
async fn a_roll_to_used_with_nothing_recorded_or_beyond_the_grants_is_refused() {
    let env = Env::new();
    let clock = ManualClock::new(now());
    let keyward = env.library(&clock).await;
    let id = mint_at(&keyward, &clock, now(), "idle", None).await;

    let text = env.text(&["keys", "usage", &id]);
    assert!(text.contains("used:      -\n"), "{text}");
    assert!(text.contains("suggested: -\n"), "{text}");
    assert!(text.contains("no capability use recorded yet"), "{text}");

    let out = env
        .cmd()
        .args(["keys", "roll", &id, "--capabilities", "used"])
        .output()
        .unwrap();
    usage_error(&out, "no capability use is recorded");
    assert!(out.stdout.is_empty(), "no key is printed");

    // `idle` holds the defaults, desktop:read and desktop:chat.
    let out = env
        .cmd()
        .args([
            "keys",
            "roll",
            &id,
            "--capabilities",
            "desktop:read,keys:write",
        ])
        .output()
        .unwrap();
    usage_error(&out, "does not hold keys:write");
    let out = env
        .cmd()
        .args(["keys", "roll", &id, "--capabilities", "desktop:read,,x"])
        .output()
        .unwrap();
    usage_error(&out, "malformed --capabilities");

    // An explicit list within the grants rolls.
    let rolled = env.json(&["keys", "roll", &id, "--capabilities", "desktop:read"]);
    assert_eq!(
        rolled["new"]["capabilities"],
        serde_json::json!(["desktop:read"])
    );
}
