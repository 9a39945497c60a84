//! `keyward audit`: what the command line changed, read back from the store's log.

mod common;

use common::{DAY, Env, now, usage_error};
use keyward::format::KeyId;
use keyward::store::{Actor, AuditAction, AuditEntry};
use serde_json::Value;

/// Creates a key with the CLI; returns its id.
fn create(env: &Env, name: &str) -> String {
    env.json(&[
        "keys",
        "create",
        "--owner",
        "u_1",
        "--name",
        name,
        "--capability",
        "jobs:write",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn actions(entries: &Value) -> Vec<(String, String)> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["key_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn changes_made_by_the_cli_are_listed_oldest_first_as_the_cli() {
    let env = Env::new();
    let first = create(&env, "first");
    let second = create(&env, "second");
    let rolled = env.json(&["keys", "roll", &second, "--grace", "1h"]);
    let replacement = rolled["new"]["id"].as_str().unwrap().to_owned();
    env.json(&["keys", "revoke", &first]);

    let entries = env.json(&["audit"]);
    let list = entries.as_array().unwrap();
    let seen = actions(&entries);
    let position = |action: &str, key: &str| {
        seen.iter()
            .position(|(a, k)| a == action && k == key)
            .unwrap_or_else(|| panic!("{action} {key} in {seen:?}"))
    };
    assert!(position("minted", &first) < position("minted", &second));
    assert!(position("minted", &second) < position("rolled", &second));
    assert!(position("rolled", &second) < position("revoked", &first));
    let seqs: Vec<u64> = list.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seqs:?}"
    );
    for entry in list {
        assert_eq!(
            entry["actor"],
            serde_json::json!({"kind": "cli", "id": null})
        );
        assert!(
            entry["client_ip"].is_null(),
            "the CLI has no client address"
        );
    }

    // The JSON shape, on the roll.
    let roll = &list[position("rolled", &second)];
    let mut fields: Vec<&str> = roll
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "action",
            "actor",
            "at",
            "capabilities",
            "client_ip",
            "key_id",
            "note",
            "replacement",
            "seq"
        ]
    );
    assert_eq!(roll["replacement"], replacement.as_str());
    assert_eq!(roll["capabilities"], serde_json::json!(["jobs:write"]));
    let at = roll["at"].as_str().unwrap();
    assert!(
        keyward::clock::Timestamp::parse_rfc3339(at).is_ok(),
        "RFC 3339: {at}"
    );
    let minted = &list[position("minted", &first)];
    assert_eq!(minted["capabilities"], serde_json::json!(["jobs:write"]));
    assert!(!minted.to_string().contains("sk_live_"), "never a key");

    // The table: the same entries in 100 columns.
    let table = env.text(&["audit"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["TIME", "ACTION", "KEY", "ACTOR", "IP", "CAPABILITIES"]
    );
    assert_eq!(lines.count(), list.len(), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("revoked") && l.contains(&first) && l.contains(" cli ")),
        "{table}"
    );
    let wide = env.text(&["audit", "--wide"]);
    assert!(wide.starts_with("SEQ"), "{wide}");
    assert!(wide.contains(&replacement), "{wide}");
}

#[test]
fn key_filters_to_one_key_and_its_roll() {
    let env = Env::new();
    let first = create(&env, "first");
    let second = create(&env, "second");
    env.json(&["keys", "revoke", &second]);
    let rolled = env.json(&["keys", "roll", &first]);
    let replacement = rolled["new"]["id"].as_str().unwrap().to_owned();

    let about_second = actions(&env.json(&["audit", "--key", &second]));
    assert_eq!(
        about_second,
        [
            ("minted".to_owned(), second.clone()),
            ("revoked".to_owned(), second.clone())
        ]
    );
    let about_first = actions(&env.json(&["audit", "--key", &first]));
    assert!(
        about_first.iter().all(|(_, key)| key == &first),
        "{about_first:?}"
    );
    assert!(about_first.contains(&("rolled".to_owned(), first.clone())));
    // The replacement's history includes the roll that made it.
    let about_replacement = env.json(&["audit", "--key", &replacement]);
    assert!(
        about_replacement
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rolled" && e["replacement"] == replacement.as_str()),
        "{about_replacement}"
    );
    // A well-formed id no key ever had: nothing, not an error.
    assert_eq!(
        env.json(&["audit", "--key", "AbCd12345678"]),
        serde_json::json!([])
    );
}

#[tokio::test]
async fn since_and_limit() {
    let env = Env::new();
    let store = env.store().await;
    let old_key: KeyId = "OldKey123456".parse().unwrap();
    // An entry from 40 days ago, appended as a server would have.
    let mut old = AuditEntry::new(
        now().saturating_sub(DAY * 40),
        AuditAction::Revoked,
        old_key,
        Actor::Service,
    );
    old.note = Some("long ago".to_owned());
    store.append_audit(&old).await.unwrap();
    let recent = create(&env, "recent");
    env.json(&["keys", "revoke", &recent]);

    let all = env.json(&["audit"]);
    assert_eq!(
        actions(&all)[0],
        ("revoked".to_owned(), old_key.to_string())
    );
    assert_eq!(
        all[0]["actor"],
        serde_json::json!({"kind": "service", "id": null})
    );
    assert_eq!(all[0]["note"], "long ago");
    let count = all.as_array().unwrap().len();
    assert!(count >= 3, "{all}");

    let last_month = env.json(&["audit", "--since", "30d"]);
    assert_eq!(last_month.as_array().unwrap().len(), count - 1);
    assert!(
        !actions(&last_month)
            .iter()
            .any(|(_, k)| k == old_key.as_str())
    );
    assert_eq!(
        env.json(&["audit", "--since", "60d"])
            .as_array()
            .unwrap()
            .len(),
        count
    );

    // --limit keeps the most recent, still oldest first.
    let last_two = env.json(&["audit", "--limit", "2"]);
    assert_eq!(actions(&last_two), actions(&all)[count - 2..]);
    assert_eq!(
        actions(&last_two).last().unwrap(),
        &("revoked".to_owned(), recent)
    );
}

#[tokio::test]
async fn limit_defaults_to_100_and_pages_through_the_whole_log() {
    let env = Env::new();
    let store = env.store().await;
    let key: KeyId = "Many12345678".parse().unwrap();
    let start = now().saturating_sub(DAY);
    for i in 0..1_050u64 {
        let entry = AuditEntry::new(
            start.saturating_add(std::time::Duration::from_secs(i)),
            AuditAction::Disabled,
            key,
            Actor::Service,
        );
        store.append_audit(&entry).await.unwrap();
    }
    let shown = env.json(&["audit"]);
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), 100);
    let all = env.json(&["audit", "--limit", "5000"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1_050, "past one store page");
    assert_eq!(shown[..], all[950..], "the default shows the latest 100");
}

#[test]
fn bad_input_exits_2() {
    let env = Env::new();
    let run = |args: &[&str]| env.cmd().args(args).output().unwrap();
    usage_error(
        &run(&["audit", "--key", "not-an-id!"]),
        "malformed key id `not-an-id!`",
    );
    usage_error(
        &run(&["audit", "--since", "lately"]),
        "malformed duration `lately`",
    );
    usage_error(&run(&["audit", "--limit", "0"]), "--limit");
    usage_error(&run(&["audit", "--limit", "many"]), "--limit");
}
