//! The configuration's lifecycle policies as the CLI applies and shows them:
//! `max_lifetime` on keys it creates, `expire_unused_after` in its listings.

mod common;

use common::{DAY, Env, mint_at, now};
use keyward::clock::{ManualClock, Timestamp};

#[tokio::test]
async fn a_key_unused_past_the_policy_is_listed_as_expired_unused() {
    let env = Env::new();
    std::fs::write(
        env.dir.path().join("keyward.toml"),
        "[keys]\nexpire_unused_after = \"30d\"\n",
    )
    .unwrap();
    let now = now();
    let clock = ManualClock::new(now);
    let keyward = env.library(&clock).await;
    let idle = mint_at(&keyward, &clock, now.saturating_sub(DAY * 40), "idle", None).await;
    let fresh = mint_at(&keyward, &clock, now.saturating_sub(DAY), "fresh", None).await;

    let listed = env.json(&["keys", "list"]);
    let by_id = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&idle)["state"], "expired");
    assert_eq!(by_id(&idle)["expired_reason"], "unused");
    assert_eq!(by_id(&fresh)["state"], "active");
    assert!(by_id(&fresh)["expired_reason"].is_null());

    let table = env.text(&["keys", "list"]);
    let row = |name: &str| table.lines().find(|l| l.contains(name)).unwrap().to_owned();
    assert!(row("idle").contains("expired (unused)"), "{table}");
    assert!(row("fresh").contains("active"), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
    let wide = env.text(&["keys", "list", "--wide"]);
    assert!(wide.contains("expired (unused)"), "{wide}");
    let shown = env.text(&["keys", "show", &idle]);
    assert!(shown.contains("state:        expired (unused)"), "{shown}");
}

#[test]
fn keys_created_by_the_cli_follow_max_lifetime() {
    let env = Env::new();
    std::fs::write(
        env.dir.path().join("keyward.toml"),
        "[keys]\nmax_lifetime = \"30d\"\n",
    )
    .unwrap();
    let before = now();
    let created = env.json(&["keys", "create", "--owner", "u_1", "--name", "bounded"]);
    let after = now();
    let expires = Timestamp::parse_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    // Whole seconds: within a second of creation + 30 days.
    assert!(
        expires
            >= before
                .saturating_add(DAY * 30)
                .saturating_sub(std::time::Duration::from_secs(1))
            && expires <= after.saturating_add(DAY * 30),
        "{expires:?}"
    );

    let shorter = env.json(&[
        "keys",
        "create",
        "--owner",
        "u_1",
        "--name",
        "short",
        "--expires-in",
        "7d",
    ]);
    assert!(shorter["expires_at"].is_string());

    let out = env
        .cmd()
        .args([
            "keys",
            "create",
            "--owner",
            "u_1",
            "--name",
            "long",
            "--expires-in",
            "60d",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert_eq!(env.json(&["keys", "list"]).as_array().unwrap().len(), 2);
}
