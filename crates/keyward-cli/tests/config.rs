//! The `keyward` binary and `keyward.toml`: which file applies, `config check`,
//! `config init`, and keys minted against a file's catalog, prefix and owner.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// A file with its own catalog, prefix, database and owner: nothing the demo has.
const CUSTOM: &str = r#"
[keys]
prefix = "acme_"
bcrypt_cost = 4

[capabilities]
names = ["reports:read", "reports:export"]
defaults = ["reports:read"]

[database]
url = "reports.db"

[management]
read = "reports:read"
write = "reports:export"

[cli]
owner = "svc_reports"
"#;

/// `keyward` in `dir`, with no configuration, database or owner from the caller's
/// environment.
fn keyward(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("keyward");
    cmd.current_dir(dir)
        .env_remove("KEYWARD_CONFIG")
        .env_remove("KEYWARD_DATABASE_URL")
        .env_remove("KEYWARD_DATABASE_SCHEMA")
        .env_remove("KEYWARD_OWNER");
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Exit 2 and exactly one `error: …` line on stderr containing `needle`.
fn usage_error(out: &Output, needle: &str) {
    let stderr = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", self::stdout(out));
}

#[test]
fn config_check_says_ok_or_where_the_file_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.toml"), CUSTOM).unwrap();
    let out = keyward(dir.path())
        .args(["config", "check", "good.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ok: ./good.toml\n");

    std::fs::write(
        dir.path().join("bad.toml"),
        "[keys]\nprefix = \"acme_\"\n\n[limits]\nrate = \"lots\"\n",
    )
    .unwrap();
    let out = keyward(dir.path())
        .args(["config", "check", "bad.toml"])
        .output()
        .unwrap();
    usage_error(&out, "bad.toml:5:8: limits.rate: invalid rate");

    // Without a path: the file every other command would use.
    let out = keyward(dir.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("ok: built-in demo"),
        "{}",
        stdout(&out)
    );
    let out = keyward(dir.path())
        .env("KEYWARD_CONFIG", "bad.toml")
        .args(["config", "check"])
        .output()
        .unwrap();
    usage_error(&out, "bad.toml:5:8: limits.rate");
}

#[test]
fn config_check_reads_the_lifecycle_policies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policies.toml"),
        "[keys]\nmax_lifetime = \"90d\"\nexpire_unused_after = \"365d\"\n\n[audit]\nretention = \"400d\"\n",
    )
    .unwrap();
    let out = keyward(dir.path())
        .args(["config", "check", "policies.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ok: ./policies.toml\n");

    for (text, needle) in [
        (
            "[keys]\nmax_lifetime = \"0d\"\n",
            "bad.toml:2:16: keys.max_lifetime: must be longer than zero",
        ),
        (
            "[keys]\nexpire_unused_after = \"-1d\"\n",
            "bad.toml:2:23: keys.expire_unused_after: invalid duration \"-1d\"",
        ),
        (
            "[audit]\nretention = \"400000d\"\n",
            "bad.toml:2:13: audit.retention: \"400000d\" is longer than the 36525 days accepted",
        ),
        (
            "[audit]\nkeep = \"1d\"\n",
            "bad.toml:2:1: audit.keep: unknown key `keep`, expected `retention`",
        ),
    ] {
        std::fs::write(dir.path().join("bad.toml"), text).unwrap();
        let out = keyward(dir.path())
            .args(["config", "check", "bad.toml"])
            .output()
            .unwrap();
        usage_error(&out, needle);
    }
}

#[test]
fn a_bad_configuration_stops_every_command_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keyward.toml"),
        "[capabilities]\nnames = [\"reports:read\"]\ndefaults = [\"reports:raed\"]\n",
    )
    .unwrap();
    for args in [
        &["keys", "list"][..],
        &["keys", "create", "--owner", "u_1", "--name", "x"],
        &["scan", "."],
        &["audit"],
    ] {
        let out = keyward(dir.path()).args(args).output().unwrap();
        usage_error(&out, "keyward.toml:3:13: capabilities.defaults[0]");
    }
    assert!(
        !dir.path().join("keyward.db").exists(),
        "no database opened"
    );

    let out = keyward(dir.path())
        .args(["--config", "missing.toml", "keys", "list"])
        .output()
        .unwrap();
    usage_error(&out, "missing.toml: cannot read the configuration file");
}

#[test]
fn config_init_writes_the_documented_defaults_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.toml");
    let out = keyward(dir.path())
        .args(["config", "init"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("wrote ./keyward.toml"));
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, keyward::ConfigFile::documented_defaults());
    // What it wrote is valid, and now the file every command uses.
    let out = keyward(dir.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "ok: ./keyward.toml\n");

    // An existing file is kept unless --force.
    std::fs::write(&path, CUSTOM).unwrap();
    let out = keyward(dir.path())
        .args(["config", "init"])
        .output()
        .unwrap();
    usage_error(&out, "./keyward.toml exists; pass --force");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), CUSTOM);

    let out = keyward(dir.path())
        .args(["config", "init", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
}

#[test]
fn keys_follow_the_file_catalog_prefix_database_and_owner() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keyward.toml"), CUSTOM).unwrap();

    // A capability the demo catalog lacks; no --owner: the file's [cli] owner.
    let out = keyward(dir.path())
        .args(["keys", "create", "--name", "exports"])
        .args(["--capability", "reports:export"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim_end().to_owned();
    assert!(key.starts_with("acme_"), "the file's prefix: {key}");
    assert!(
        dir.path().join("reports.db").exists(),
        "the file's [database] url"
    );
    assert!(!dir.path().join("keyward.db").exists());

    let out = keyward(dir.path())
        .args(["keys", "list", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["owner"], "svc_reports");
    assert_eq!(
        listed[0]["capabilities"],
        serde_json::json!(["reports:export"])
    );

    // The file's defaults, and its catalog's names in a refusal.
    let out = keyward(dir.path())
        .args([
            "keys", "create", "--name", "reader", "--owner", "u_7", "--json",
        ])
        .output()
        .unwrap();
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["capabilities"], serde_json::json!(["reports:read"]));
    assert_eq!(created["owner"], "u_7", "--owner wins over the file");
    let out = keyward(dir.path())
        .args([
            "keys",
            "create",
            "--name",
            "x",
            "--capability",
            "desktop:read",
        ])
        .output()
        .unwrap();
    usage_error(
        &out,
        "desktop:read; the catalog declares: reports:export, reports:read",
    );

    // `scan` looks for the file's prefix.
    let out = keyward(dir.path())
        .arg("scan")
        .write_stdin(format!("token={key}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "found: {}", stdout(&out));
    assert!(stdout(&out).starts_with("<stdin>:1:7: acme_"));

    // The same file named from elsewhere, by flag or environment.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = dir.path().join("keyward.toml");
    for named in [
        keyward(elsewhere.path())
            .arg("--config")
            .arg(&file)
            .args(["keys", "list", "--json"]),
        keyward(elsewhere.path())
            .env("KEYWARD_CONFIG", &file)
            .args(["keys", "list", "--json"]),
    ] {
        let out = named.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // Its relative database URL is taken from the working directory: a new one here.
        assert_eq!(
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            serde_json::json!([])
        );
    }
    assert!(elsewhere.path().join("reports.db").exists());
}

#[test]
fn an_owner_is_required_without_one_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = keyward(dir.path())
        .args(["keys", "create", "--name", "nobody's"])
        .output()
        .unwrap();
    usage_error(&out, "--owner");
    assert!(stderr(&out).contains("[cli] owner"), "{}", stderr(&out));
    assert!(!dir.path().join("keyward.db").exists(), "nothing opened");
}

#[test]
fn help_names_the_configuration_that_applies() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let out = keyward(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let text = help(&["--help"]);
    assert!(
        text.contains("configuration: built-in demo (no keyward.toml here"),
        "{text}"
    );
    assert!(text.contains("--config <PATH>"), "{text}");

    std::fs::write(dir.path().join("keyward.toml"), CUSTOM).unwrap();
    assert!(help(&["--help"]).contains("configuration: ./keyward.toml"));
    assert!(help(&["keys", "create", "--help"]).contains("configuration: ./keyward.toml"));
    std::fs::write(dir.path().join("other.toml"), CUSTOM).unwrap();
    assert!(help(&["--config", "other.toml", "--help"]).contains("configuration: ./other.toml"));
    assert!(
        help(&["--config=other.toml", "keys", "--help"]).contains("configuration: ./other.toml")
    );

    // A broken file does not stop --help; it says what is wrong.
    std::fs::write(dir.path().join("keyward.toml"), "[keys]\nprefix = 7\n").unwrap();
    let text = help(&["--help"]);
    assert!(
        text.contains("configuration: keyward.toml:2:10: keys.prefix"),
        "{text}"
    );
}
