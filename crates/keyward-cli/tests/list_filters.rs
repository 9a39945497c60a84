//! `keys list --unused-for` and `--expiring-within`: keys made at set times through the
//! library on the CLI's database, then listed by the binary.

mod common;

use common::{DAY, Env, mint_at, now, usage_error};
use keyward::clock::ManualClock;
use keyward::format::KeyId;

/// The names `keys list` prints for `args`, sorted.
fn listed(env: &Env, args: &[&str]) -> Vec<String> {
    let mut full = vec!["keys", "list"];
    full.extend_from_slice(args);
    let mut names: Vec<String> = env
        .json(&full)
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn unused_for_and_expiring_within_select_keys_and_combine() {
    let env = Env::new();
    let now = now();
    let clock = ManualClock::new(now);
    let keyward = env.library(&clock).await;
    let ago = |days: u32| now.saturating_sub(DAY * days);

    mint_at(&keyward, &clock, ago(1), "fresh, never used", None).await;
    mint_at(&keyward, &clock, ago(100), "old, never used", None).await;
    let used_long_ago = mint_at(&keyward, &clock, ago(200), "used 40 days ago", None).await;
    let used_lately = mint_at(&keyward, &clock, ago(200), "used 2 days ago", None).await;
    let revoked = mint_at(&keyward, &clock, ago(100), "old, revoked", None).await;
    mint_at(&keyward, &clock, ago(1), "expires in 2 days", Some(DAY * 3)).await;
    mint_at(
        &keyward,
        &clock,
        ago(1),
        "expires in 29 days",
        Some(DAY * 30),
    )
    .await;
    mint_at(&keyward, &clock, ago(10), "expired 9 days ago", Some(DAY)).await;
    mint_at(
        &keyward,
        &clock,
        ago(100),
        "old, expires in 3 days",
        Some(DAY * 103),
    )
    .await;

    let store = env.store().await;
    let id = |s: &str| s.parse::<KeyId>().unwrap();
    store
        .touch_last_used(&[(id(&used_long_ago), ago(40)), (id(&used_lately), ago(2))])
        .await
        .unwrap();
    clock.set(now);
    keyward.keys().revoke(&id(&revoked)).await.unwrap();

    assert_eq!(
        listed(&env, &[]).len(),
        9,
        "no filter: every key, revoked too"
    );
    assert_eq!(
        listed(&env, &["--unused-for", "30d"]),
        [
            "old, expires in 3 days",
            "old, never used",
            "used 40 days ago"
        ]
    );
    assert_eq!(
        listed(&env, &["--unused-for", "60d"]),
        ["old, expires in 3 days", "old, never used"]
    );
    assert_eq!(
        listed(&env, &["--expiring-within", "7d"]),
        ["expires in 2 days", "old, expires in 3 days"]
    );
    assert_eq!(
        listed(&env, &["--expiring-within", "30d"]),
        [
            "expires in 2 days",
            "expires in 29 days",
            "old, expires in 3 days"
        ]
    );
    assert_eq!(
        listed(&env, &["--unused-for", "30d", "--expiring-within", "7d"]),
        ["old, expires in 3 days"]
    );
    assert!(listed(&env, &["--unused-for", "1000d"]).is_empty());

    // The tables are filtered the same way.
    let table = env.text(&["keys", "list", "--expiring-within", "7d"]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("expires in 2 days"), "{table}");
    assert!(!table.contains("expires in 29 days"), "{table}");
    let wide = env.text(&["keys", "list", "--wide", "--unused-for", "60d"]);
    assert_eq!(wide.lines().count(), 3, "{wide}");
    assert!(wide.contains("old, never used"), "{wide}");
}

#[tokio::test]
async fn filters_read_every_page() {
    let env = Env::new();
    let now = now();
    let clock = ManualClock::new(now);
    let keyward = env.library(&clock).await;
    // More than one store page (1000) of idle keys, then one fresh key last.
    let store = env.store().await;
    let template = keyward
        .keys()
        .mint(keyward::MintRequest::new("template", "u_many"))
        .await
        .unwrap();
    let template = store.get(&template.summary.id).await.unwrap();
    let old = now.saturating_sub(DAY * 90);
    for i in 0..1_005u32 {
        let mut record = template.clone();
        record.id = KeyId::parse(&format!("idle{i:08}")).unwrap();
        record.name = format!("idle {i}");
        record.created_at = old;
        store.insert(&record).await.unwrap();
    }
    assert_eq!(
        env.json(&["keys", "list", "--unused-for", "30d"])
            .as_array()
            .unwrap()
            .len(),
        1_005
    );
}

#[test]
fn bad_filters_exit_2() {
    let env = Env::new();
    let run = |args: &[&str]| env.cmd().args(args).output().unwrap();
    usage_error(
        &run(&["keys", "list", "--unused-for", "a while"]),
        "malformed duration `a while`",
    );
    usage_error(
        &run(&["keys", "list", "--expiring-within=-7d"]),
        "malformed duration `-7d`",
    );
}
