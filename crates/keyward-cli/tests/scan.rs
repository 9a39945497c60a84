//! `keyward scan --revoke` on a temporary SQLite store: every live key found is revoked
//! and audited as leaked where it was found; without `--revoke` nothing changes.

mod common;

use common::Env;
use keyward::Database;
use keyward::format::KeyId;
use keyward::store::{Actor, AuditAction, AuditQuery};

fn masked(key: &str) -> String {
    format!("{}…{}", &key[..12], &key[key.len() - 4..])
}

#[test]
fn without_revoke_nothing_changes() {
    let env = Env::new();
    let (key, id) = env.mint("leak");
    let file = env.dir.path().join("app.env");
    std::fs::write(&file, format!("API_KEY={key}\n")).unwrap();
    let out = env.cmd().arg("scan").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).is_empty(), "{out:?}");
    assert_eq!(env.state(&id), "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_revokes_every_live_key_found_and_audits_where() {
    let env = Env::new();
    let (leaked, leaked_id) = env.mint("leaked");
    let (kept, kept_id) = env.mint("kept");
    let (twice, twice_id) = env.mint("twice");
    // A real id with another secret, and a key of another store: found, left alone.
    let forged = {
        let format = keyward::format::KeyFormat::new("sk_live_").unwrap();
        let id = KeyId::parse(&kept_id).unwrap();
        format.mint_for(&id).unwrap().expose().to_owned()
    };
    let stranger = keyward::format::KeyFormat::new("sk_live_")
        .unwrap()
        .mint()
        .unwrap()
        .expose()
        .to_owned();
    let tree = env.dir.path().join("tree");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(
        tree.join("src/config.env"),
        format!("# settings\n  API_KEY={leaked}\nOTHER={forged} {stranger}\n"),
    )
    .unwrap();
    std::fs::write(tree.join("twice.txt"), format!("{twice}\n{twice}\n")).unwrap();

    let out = env
        .cmd()
        .args(["scan", "--revoke"])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let config = tree.join("src/config.env").display().to_string();
    let twice_file = tree.join("twice.txt").display().to_string();
    // The found lines, as without --revoke.
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    assert!(stdout.starts_with(&format!("{config}:2:11: {}\n", masked(&leaked))));
    // What became of each, masked, with the id of each key revoked.
    let expected = [
        format!(
            "{config}:2:11: {}: revoked key {leaked_id}",
            masked(&leaked)
        ),
        format!(
            "{config}:3:7: {}: names no key of this store; left alone",
            masked(&forged)
        ),
        format!(
            "{config}:3:{}: {}: names no key of this store; left alone",
            "OTHER= ".len() + forged.len() + 1,
            masked(&stranger)
        ),
        format!(
            "{twice_file}:1:1: {}: revoked key {twice_id}",
            masked(&twice)
        ),
        format!(
            "{twice_file}:2:1: {}: key {twice_id} was already revoked",
            masked(&twice)
        ),
        "revoked 2 keys".to_owned(),
    ];
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected, "{stderr}");
    for secret in [&leaked, &kept, &twice, &forged, &stranger] {
        assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    }
    assert_eq!(env.state(&leaked_id), "revoked");
    assert_eq!(env.state(&twice_id), "revoked");
    assert_eq!(env.state(&kept_id), "active");

    let store = Database::open(&env.db(), None).await.unwrap().store();
    let id = KeyId::parse(&leaked_id).unwrap();
    let audit = store.list_audit(&AuditQuery::key(id, 10)).await.unwrap();
    let leaks: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::Leaked)
        .collect();
    assert_eq!(leaks.len(), 1, "{audit:?}");
    assert_eq!(leaks[0].actor, Actor::Cli);
    assert_eq!(
        leaks[0].note.as_deref(),
        Some(format!("{config}:2:11").as_str())
    );
}

#[test]
fn revoke_reads_stdin_and_a_clean_input_revokes_nothing() {
    let env = Env::new();
    let (key, id) = env.mint("leak");
    let out = env
        .cmd()
        .args(["scan", "--revoke"])
        .write_stdin(format!("token: {key}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "<stdin>:1:8: {}: revoked key {id}\nrevoked 1 key\n",
            masked(&key)
        )
    );
    assert_eq!(env.state(&id), "revoked");

    let out = env
        .cmd()
        .args(["scan", "--revoke"])
        .write_stdin("nothing here")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}
