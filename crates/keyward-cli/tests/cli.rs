//! The `keyward` binary end to end, on a temporary database.

mod common;

use common::Env;
use keyward_testing::services;
use predicates::prelude::*;
use serde_json::Value;

/// Asserts a failure with exactly one `error: …` line on stderr and no panic.
fn one_line_error(out: &std::process::Output, needle: &str) {
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn create_list_show_roll_revoke() {
    let env = Env::new();
    let out = env
        .cmd()
        .args([
            "keys",
            "create",
            "--owner",
            "u_ci",
            "--name",
            "CI",
            "--capability",
            "jobs:write",
        ])
        .args(["--expires-in", "30d", "--tenant", "acme/web"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.trim_end().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() > 40, "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown once"));

    let listed = env.cmd().args(["keys", "list"]).output().unwrap();
    assert!(listed.status.success());
    let table = String::from_utf8(listed.stdout).unwrap();
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("CI") && table.contains("active"), "{table}");
    assert!(!table.contains(&key), "a listing never shows a full key");
    let wide = env.cmd().args(["keys", "list", "--wide"]).output().unwrap();
    let wide = String::from_utf8(wide.stdout).unwrap();
    assert!(
        wide.contains("jobs:write") && wide.contains("acme/web"),
        "{wide}"
    );
    assert!(!wide.contains(&key), "a listing never shows a full key");

    let keys = env.json(&["keys", "list"]);
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let id = keys[0]["id"].as_str().unwrap().to_owned();
    assert!(key.contains(&id));
    assert!(keys[0].get("key").is_none());
    assert_eq!(keys[0]["capabilities"], serde_json::json!(["jobs:write"]));
    assert!(keys[0]["expires_at"].is_string());

    let shown = env.cmd().args(["keys", "show", &id]).output().unwrap();
    assert!(shown.status.success());
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(
        shown.contains("acme/web") && shown.contains("u_ci") && !shown.contains(&key),
        "{shown}"
    );

    let rolled = env.json(&["keys", "roll", &id, "--grace", "24h"]);
    let new_key = rolled["new"]["key"].as_str().unwrap();
    assert!(new_key.starts_with("sk_live_") && new_key != key);
    assert_eq!(rolled["old"]["id"], id.as_str());
    assert!(rolled["old"]["expires_at"].is_string());
    assert!(rolled["old"].get("key").is_none());

    let revoked = env.json(&["keys", "revoke", &id]);
    assert_eq!(revoked["state"], "revoked");
    let shown = env.json(&["keys", "show", &id]);
    assert_eq!(shown["state"], "revoked");
    assert_eq!(env.json(&["keys", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn create_json_includes_the_key_and_defaults() {
    let env = Env::new();
    let created = env.json(&["keys", "create", "--owner", "u_1", "--name", "default"]);
    assert!(created["key"].as_str().unwrap().starts_with("sk_live_"));
    assert_eq!(
        created["capabilities"],
        serde_json::json!(["desktop:chat", "desktop:read"])
    );
    assert_eq!(created["owner"], "u_1");
    assert_eq!(created["state"], "active");
}

#[test]
fn create_needs_an_owner() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["keys", "create", "--name", "nobody's"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--owner"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "no key minted");
    assert!(!env.dir.path().join("keys.db").exists(), "nothing opened");

    // The environment may name it instead.
    let out = env
        .cmd()
        .env("KEYWARD_OWNER", "svc_billing")
        .args(["keys", "create", "--name", "billing", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["owner"], "svc_billing");
}

#[test]
fn plain_path_and_sqlite_url_are_one_database() {
    let env = Env::new();
    env.json(&["keys", "create", "--owner", "u_1", "--name", "a"]);
    let out = env
        .cmd()
        .args(["--database-url", &format!("sqlite:{}", env.db())])
        .args(["keys", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

/// Runs `args` and asserts it succeeded.
fn ok(cmd: &mut assert_cmd::Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn create_and_roll_print_the_key_alone_on_stdout() {
    let env = Env::new();
    let out = ok(env.cmd().args([
        "keys",
        "create",
        "--owner",
        "u_1",
        "--name",
        "deploy",
        "--capability",
        "jobs:read",
    ]));
    // What `KEY=$(keyward keys create …)` captures: the key and its newline, nothing else.
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.strip_suffix('\n').expect("one line");
    assert!(!key.contains(char::is_whitespace), "{stdout:?}");
    assert!(key.starts_with("sk_live_") && key.len() > 40, "{stdout:?}");
    // Everything else is for the person at the terminal.
    let stderr = String::from_utf8(out.stderr).unwrap();
    let id = env.json(&["keys", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(stderr.contains(&format!("id: {id}")), "{stderr}");
    assert!(stderr.contains("name: deploy") && stderr.contains("jobs:read"));
    assert!(stderr.contains("shown once"), "{stderr}");
    assert!(!stderr.contains(key), "the key is printed once, on stdout");

    let out = ok(env.cmd().args(["keys", "roll", &id, "--grace", "1h"]));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let new_key = stdout.strip_suffix('\n').expect("one line");
    assert!(!new_key.contains(char::is_whitespace), "{stdout:?}");
    assert!(new_key.starts_with("sk_live_") && new_key != key);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("old key {id} expires 20")),
        "{stderr}"
    );
    assert!(stderr.contains("new key id: ") && stderr.contains("shown once"));
    assert!(!stderr.contains(new_key));

    // --json stays one JSON object on stdout.
    let out = ok(env
        .cmd()
        .args(["keys", "create", "--owner", "u_1", "--name", "j", "--json"]));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(created["key"].as_str().unwrap().starts_with("sk_live_"));
}

#[test]
fn the_default_listing_fits_100_columns_and_wide_has_every_column() {
    let env = Env::new();
    let long_name = "Production deploy pipeline for the billing service (eu-west-1 canary)";
    let mint = |name: &str, extra: &[&str]| {
        ok(env
            .cmd()
            .args([
                "keys",
                "create",
                "--owner",
                "svc_billing_pipeline",
                "--name",
                name,
            ])
            .args(extra));
    };
    mint(
        long_name,
        &[
            "--capability",
            "desktop:read",
            "--capability",
            "desktop:lifecycle",
            "--capability",
            "jobs:write",
            "--capability",
            "keys:write",
            "--expires-in",
            "90d",
            "--tenant",
            "acme-corporation/billing-platform",
        ],
    );
    mint("CI", &[]);
    mint("nightly backup job", &["--expires-in", "24h"]);
    let id = env.json(&["keys", "list"])[2]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(env.cmd().args(["keys", "revoke", &id]));

    let out = ok(env.cmd().args(["keys", "list"]));
    let table = String::from_utf8(out.stdout).unwrap();
    let longest = table.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= 100, "{longest} columns:\n{table}");
    assert_eq!(table.lines().count(), 4, "{table}");
    let header: Vec<&str> = table.lines().next().unwrap().split("  ").collect();
    let header: Vec<&str> = header
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        header,
        ["ID", "NAME", "KEY", "STATE", "CREATED", "EXPIRES (UTC)"]
    );
    assert!(!table.contains(long_name), "a long name is cut:\n{table}");
    assert!(table.contains("Production deploy"), "{table}");
    assert!(table.contains('…'), "{table}");
    assert!(
        table.contains("never") && table.contains("revoked"),
        "{table}"
    );
    assert!(table.contains("sk_live_"), "the masked key: {table}");

    let out = ok(env.cmd().args(["keys", "list", "--wide"]));
    let wide = String::from_utf8(out.stdout).unwrap();
    for column in [
        "ID",
        "NAME",
        "KEY",
        "OWNER",
        "TENANT",
        "CAPABILITIES",
        "CREATED",
        "LAST USED",
        "EXPIRES",
        "REVOKED",
        "STATE",
    ] {
        assert!(
            wide.lines().next().unwrap().contains(column),
            "{column}: {wide}"
        );
    }
    assert!(wide.contains(long_name), "{wide}");
    assert!(wide.contains("desktop:lifecycle,desktop:read,jobs:write,keys:write"));
    assert!(wide.contains("acme-corporation/billing-platform") && wide.contains("svc_billing"));
    assert!(wide.lines().map(|l| l.chars().count()).max().unwrap() > 100);
}

#[test]
fn scan_reports_line_and_column_masked() {
    let env = Env::new();
    let key = env.mint("leak").0;
    let tree = env.dir.path().join("tree");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::create_dir_all(tree.join(".git")).unwrap();
    std::fs::write(
        tree.join("src/config.env"),
        format!("# settings\nNAME=x\n  API_KEY={key}\n"),
    )
    .unwrap();
    std::fs::write(tree.join(".git/leak"), format!("{key}\n")).unwrap();
    let mut binary = vec![0u8, 1, 2];
    binary.extend_from_slice(key.as_bytes());
    std::fs::write(tree.join("blob.bin"), binary).unwrap();

    let out = env.cmd().arg("scan").arg(&tree).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "{}:3:11: {}…{}\n",
        tree.join("src/config.env").display(),
        &key[..12],
        &key[key.len() - 4..]
    );
    assert_eq!(stdout, expected);
    assert!(!stdout.contains(&key));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&key));
}

#[test]
fn scan_reads_stdin_and_clean_input_exits_zero() {
    let env = Env::new();
    let key = env.mint("leak").0;
    let out = env
        .cmd()
        .arg("scan")
        .write_stdin(format!("token: {key}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("<stdin>:1:8: "), "{stdout}");
    assert!(!stdout.contains(&key));

    let clean = env.dir.path().join("clean");
    std::fs::create_dir(&clean).unwrap();
    std::fs::write(clean.join("a.txt"), "sk_live_notakey nothing here\n").unwrap();
    env.cmd()
        .arg("scan")
        .arg(&clean)
        .assert()
        .code(0)
        .stdout(predicate::str::is_empty());
}

#[test]
fn bad_input_is_one_line_and_non_zero() {
    let env = Env::new();
    let run = |args: &[&str]| env.cmd().args(args).output().unwrap();

    one_line_error(
        &run(&[
            "keys",
            "create",
            "--owner",
            "u_1",
            "--name",
            "x",
            "--capability",
            "nope:nope",
        ]),
        "nope:nope",
    );
    // The error says what the catalog has.
    one_line_error(
        &run(&[
            "keys",
            "create",
            "--owner",
            "u_1",
            "--name",
            "x",
            "--capability",
            "jobs:raed",
        ]),
        "jobs:raed; the catalog declares: desktop:chat, desktop:control, desktop:lifecycle, \
         desktop:read, jobs:read, jobs:write, kb:read, keys:read, keys:write",
    );
    one_line_error(
        &run(&[
            "keys",
            "create",
            "--owner",
            "u_1",
            "--name",
            "x",
            "--expires-in",
            "soon",
        ]),
        "malformed duration",
    );
    one_line_error(
        &run(&[
            "keys", "create", "--owner", "u_1", "--name", "x", "--tenant", "no-slash",
        ]),
        "TEAM/PROJECT",
    );
    one_line_error(&run(&["keys", "show", "not-an-id!"]), "malformed key id");
    one_line_error(&run(&["keys", "revoke", "AbCd12345678"]), "no key with id");
    one_line_error(
        &run(&["keys", "roll", "AbCd12345678", "--grace", "1 fortnight"]),
        "malformed duration",
    );

    let mut postgres = env.cmd();
    postgres.args([
        "--database-url",
        // Nothing listens on port 1: a fast, clear refusal, the password not shown.
        "postgres://postgres:hunter2@127.0.0.1:1/keys",
        "keys",
        "list",
    ]);
    let out = postgres.output().unwrap();
    one_line_error(&out, "PostgreSQL at 127.0.0.1:1/keys is unreachable");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));

    let mut schema_on_sqlite = env.cmd();
    schema_on_sqlite.args(["--database-schema", "x", "keys", "list"]);
    let out = schema_on_sqlite.output().unwrap();
    one_line_error(&out, "--database-schema applies to postgres:// urls only");
    assert_eq!(out.status.code(), Some(2));

    let corrupt = env.dir.path().join("corrupt.db");
    std::fs::write(
        &corrupt,
        "not a database at all, definitely not. ".repeat(50),
    )
    .unwrap();
    let mut cmd = env.cmd();
    cmd.args(["--database-url", corrupt.to_str().unwrap(), "keys", "list"]);
    one_line_error(&cmd.output().unwrap(), "not a keyward SQLite database");

    let mut cmd = env.cmd();
    let unreachable = env.dir.path().join("missing/dir/keys.db");
    cmd.args([
        "--database-url",
        unreachable.to_str().unwrap(),
        "keys",
        "list",
    ]);
    one_line_error(&cmd.output().unwrap(), "cannot open");
}

#[tokio::test]
async fn the_cli_shares_the_file_with_a_running_server() {
    use keyward::format::KeyId;

    let env = Env::new();
    // The "server": a store held open for the whole test.
    let server = keyward_cli::Database::open(&env.db(), None)
        .await
        .unwrap()
        .store();
    let created = env.json(&["keys", "create", "--owner", "u_1", "--name", "shared"]);
    let id: KeyId = created["id"].as_str().unwrap().parse().unwrap();
    let record = server.get(&id).await.unwrap();
    assert_eq!(record.name, "shared");
    assert!(record.revoked_at.is_none());

    env.json(&["keys", "revoke", id.as_str()]);
    assert!(server.get(&id).await.unwrap().revoked_at.is_some());
}

/// `KEYWARD_TEST_DATABASE_URL` when PostgreSQL answers; otherwise prints `skipped: …`
/// (or fails, with `KEYWARD_REQUIRE_SERVICES=1`).
fn postgres_url() -> Option<String> {
    let url = services::database_url();
    services::reachable_or_skip("PostgreSQL", &url, services::tcp_probe(&url))?;
    Some(url)
}

#[test]
fn keys_on_postgres_with_a_schema() {
    let Some(url) = postgres_url() else {
        return;
    };
    let env = Env::new();
    let schema = format!("kw_cli_{}", std::process::id());
    let pg = |args: &[&str]| {
        let mut full = vec![
            "--database-url",
            url.as_str(),
            "--database-schema",
            schema.as_str(),
        ];
        full.extend_from_slice(args);
        env.json(&full)
    };
    let created = pg(&[
        "keys",
        "create",
        "--owner",
        "u_1",
        "--name",
        "on postgres",
        "--capability",
        "jobs:read",
    ]);
    let id = created["id"].as_str().unwrap().to_owned();
    let listed = pg(&["keys", "list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == id.as_str())
    );
    let revoked = pg(&["keys", "revoke", &id]);
    assert_eq!(revoked["state"], "revoked");
    // The SQLite file beside it was never involved.
    assert!(!env.dir.path().join("keys.db").exists());
}
