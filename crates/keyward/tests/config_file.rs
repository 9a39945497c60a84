//! `keyward.toml`: defaults, partial files, one-line errors that point at the setting,
//! the demo configuration and where the file is found.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::config_text::{error, parse, problem};
use keyward::config_file::{HasherChoice, SettingProblem};
use keyward::limit::{GuardConfig, Quota};
use keyward::scope::Catalog;
use keyward::store::MemoryStore;
use keyward::{Config, ConfigError, ConfigFile, ConfigSource, Keyward, MintRequest};

fn names(catalog: &Catalog) -> Vec<&str> {
    catalog.iter().map(|(_, name)| name).collect()
}

/// Each capability with what it implies, sorted.
fn implications(catalog: &Catalog) -> Vec<(String, Vec<String>)> {
    catalog
        .iter()
        .map(|(capability, name)| {
            let implied = catalog.names(&catalog.implied(capability));
            (
                name.to_owned(),
                implied.into_iter().map(str::to_owned).collect(),
            )
        })
        .collect()
}

// --- defaults and partial files -----------------------------------------------------

#[test]
fn an_empty_file_is_the_defaults() {
    let file = parse("").unwrap();
    assert_eq!(file, ConfigFile::demo());
    assert_eq!(file, ConfigFile::default());
    assert_eq!(file.format().prefix(), "sk_live_");
    assert_eq!(file.hasher(), HasherChoice::Bcrypt { cost: 10 });
    assert_eq!(file.rate(), Quota::per_minute(60));
    assert_eq!(file.lockout(), GuardConfig::default());
    assert_eq!(file.config(), Config::default());
    assert_eq!(file.database_url(), "keyward.db");
    assert_eq!(file.cli_owner(), None);
    let management = file.management_requirements();
    assert_eq!(management.read().names(), ["keys:read"]);
    assert_eq!(management.write().names(), ["keys:write"]);
    assert!(management.tenant_admin().is_none());
}

#[test]
fn every_section_is_optional_and_may_be_empty() {
    let empty_sections =
        "[keys]\n[capabilities]\n[limits]\n[cache]\n[database]\n[management]\n[cli]\n[audit]\n";
    assert_eq!(parse(empty_sections).unwrap(), ConfigFile::demo());
    assert_eq!(parse("# only a comment\n").unwrap(), ConfigFile::demo());
}

#[test]
fn a_partial_file_changes_only_what_it_says() {
    let file = parse(
        r#"
[keys]
prefix = "ak_test_"

[limits]
rate = "10/s"
lockout = { failures = 3 }

[cache]
refresh = "5s"

[cli]
owner = "u_admin"
"#,
    )
    .unwrap();
    let demo = ConfigFile::demo();
    assert_eq!(file.format().prefix(), "ak_test_");
    assert_eq!(file.rate(), Quota::per_second(10));
    assert_eq!(file.lockout().max_failures(), 3);
    assert_eq!(file.lockout().window(), GuardConfig::DEFAULT_WINDOW);
    assert_eq!(file.lockout().lockout(), GuardConfig::DEFAULT_LOCKOUT);
    assert_eq!(file.config().cache_refresh, Duration::from_secs(5));
    assert_eq!(file.config().cache_capacity, demo.config().cache_capacity);
    assert_eq!(file.cli_owner(), Some("u_admin"));
    // Untouched: the demo's.
    assert_eq!(file.hasher(), demo.hasher());
    assert_eq!(names(file.catalog()), names(demo.catalog()));
    assert_eq!(file.database_url(), demo.database_url());
}

#[test]
fn the_example_file_reads_as_written() {
    let file = parse(
        r#"
[keys]
prefix = "sk_live_"
hasher = "bcrypt"
bcrypt_cost = 12

[capabilities]
names = ["desktop:read", "desktop:chat", "jobs:read", "jobs:write", "keys:read", "keys:write"]
defaults = ["desktop:read", "desktop:chat"]
implicit = ["desktop:read"]

[capabilities.implies]
"jobs:write" = ["jobs:read"]

[limits]
rate = "600/hour"
lockout = { failures = 5, window = "5min", cooldown = "15min" }

[cache]
capacity = 5000
refresh = "1m"

[database]
url = "postgres://keyward@db.internal/keyward"

[management]
read = "keys:read"
write = "keys:write"
tenant_admin = "keys:write"
"#,
    )
    .unwrap();
    assert_eq!(file.hasher(), HasherChoice::Bcrypt { cost: 12 });
    let catalog = file.catalog();
    assert_eq!(
        names(catalog),
        [
            "desktop:chat",
            "desktop:read",
            "jobs:read",
            "jobs:write",
            "keys:read",
            "keys:write"
        ]
    );
    assert_eq!(
        catalog.names(&catalog.default_set()),
        ["desktop:chat", "desktop:read"]
    );
    assert_eq!(catalog.names(&catalog.implicit()), ["desktop:read"]);
    let write = catalog.capability("jobs:write").unwrap();
    assert_eq!(catalog.names(&catalog.implied(write)), ["jobs:read"]);
    // Implications are only those written: keys:write no longer implies keys:read.
    let keys_write = catalog.capability("keys:write").unwrap();
    assert!(catalog.implied(keys_write).is_empty());
    assert_eq!(file.rate(), Quota::per_hour(600));
    assert_eq!(
        file.lockout(),
        GuardConfig::new(5, Duration::from_secs(300), Duration::from_secs(900)).unwrap()
    );
    assert_eq!(file.config().cache_capacity, 5000);
    assert_eq!(file.config().cache_refresh, Duration::from_secs(60));
    assert_eq!(
        file.database_url(),
        "postgres://keyward@db.internal/keyward"
    );
    let tenant_admin = file.management_requirements().tenant_admin().unwrap();
    assert_eq!(tenant_admin.names(), ["keys:write"]);
}

#[test]
fn names_alone_leave_defaults_and_implications_empty() {
    let file = parse(
        "[capabilities]\nnames = [\"jobs:read\", \"jobs:write\", \"keys:read\", \"keys:write\"]\n",
    )
    .unwrap();
    let catalog = file.catalog();
    assert!(catalog.default_set().is_empty());
    let write = catalog.capability("jobs:write").unwrap();
    assert!(catalog.implied(write).is_empty());
}

#[test]
fn demo_names_keep_their_implications_when_only_defaults_change() {
    let file = parse("[capabilities]\ndefaults = [\"jobs:write\"]\n").unwrap();
    let catalog = file.catalog();
    assert_eq!(catalog.names(&catalog.default_set()), ["jobs:write"]);
    assert_eq!(
        implications(catalog),
        implications(ConfigFile::demo().catalog())
    );
}

#[test]
fn argon2id_is_a_hasher() {
    let file = parse("[keys]\nhasher = \"argon2id\"\n").unwrap();
    assert_eq!(file.hasher(), HasherChoice::Argon2id);
    let hash = file.hasher().hasher().hash(b"secret").unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

// --- one-line errors ----------------------------------------------------------------

#[test]
fn an_unknown_key_names_the_key_and_the_known_ones() {
    assert_eq!(
        error("[keys]\nprefx = \"sk_\"\n"),
        "keyward.toml:2:1: keys.prefx: unknown key `prefx`, expected one of `prefix`, `hasher`, `bcrypt_cost`, `max_lifetime`, `expire_unused_after`"
    );
    assert_eq!(
        error("[limits]\nlockout = { failures = 3, windw = \"1s\" }\n"),
        "keyward.toml:2:27: limits.lockout.windw: unknown key `windw`, expected one of `failures`, `window`, `cooldown`"
    );
    assert!(error("[cahce]\n").starts_with("keyward.toml:1:2: cahce: unknown key `cahce`"));
    assert!(matches!(problem("x = 1\n"), SettingProblem::UnknownKey(_)));
}

#[test]
fn a_wrong_type_names_what_was_expected() {
    assert_eq!(
        error("[keys]\nbcrypt_cost = \"12\"\n"),
        "keyward.toml:2:15: keys.bcrypt_cost: invalid type: string \"12\", expected an integer"
    );
    assert_eq!(
        error("[capabilities]\nnames = [\"jobs:read\", 3]\n"),
        "keyward.toml:2:23: capabilities.names[1]: invalid type: integer `3`, expected a string"
    );
    assert_eq!(
        error("keys = 3\n"),
        "keyward.toml:1:8: keys: invalid type: integer `3`, expected a table"
    );
    assert_eq!(
        error("[capabilities.implies]\n\"jobs:write\" = \"jobs:read\"\n"),
        "keyward.toml:2:16: capabilities.implies.\"jobs:write\": invalid type: string \"jobs:read\", expected an array"
    );
    assert!(matches!(
        problem("[cache]\ncapacity = 1.5\n"),
        SettingProblem::WrongType(_)
    ));
}

#[test]
fn a_syntax_error_points_at_it() {
    assert_eq!(
        error("[keys]\nprefix = \"sk_\n"),
        "keyward.toml:2:14: keys.prefix: invalid basic string, expected `\"`"
    );
    assert!(matches!(problem("[keys\n"), SettingProblem::Syntax(_)));
    let duplicate = error("[keys]\nprefix = \"a_\"\nprefix = \"b_\"\n");
    assert!(
        duplicate.starts_with("keyward.toml:3:1: keys.prefix: duplicate key"),
        "{duplicate}"
    );
}

#[test]
fn an_unknown_capability_lists_the_declared_ones() {
    let file = r#"[capabilities]
names = ["desktop:read", "desktop:chat", "jobs:read", "jobs:write", "keys:read", "keys:write"]
defaults = ["desktop:read", "jobs:raed"]
"#;
    assert_eq!(
        error(file),
        "keyward.toml:3:29: capabilities.defaults[1]: unknown capability \"jobs:raed\"; declared: desktop:read, desktop:chat, jobs:read, jobs:write, keys:read, keys:write"
    );
}

#[test]
fn unknown_capabilities_are_refused_wherever_they_are_used() {
    assert!(
        error("[capabilities]\nimplicit = [\"kb:write\"]\n")
            .starts_with("keyward.toml:2:13: capabilities.implicit[0]: unknown capability \"kb:write\"; declared: desktop:read, desktop:chat,")
    );
    assert!(
        error("[capabilities.implies]\n\"jobs:write\" = [\"jobs:raed\"]\n")
            .starts_with("keyward.toml:2:17: capabilities.implies.\"jobs:write\"[0]: unknown capability \"jobs:raed\"")
    );
    assert!(
        error("[capabilities.implies]\n\"jobs:wrte\" = [\"jobs:read\"]\n").starts_with(
            "keyward.toml:2:1: capabilities.implies.\"jobs:wrte\": unknown capability \"jobs:wrte\""
        )
    );
    assert!(
        error("[management]\nwrite = \"keys:admin\"\n")
            .starts_with("keyward.toml:2:9: management.write: unknown capability \"keys:admin\"")
    );
    assert!(
        error("[management]\ntenant_admin = \"keys:admin\"\n")
            .starts_with("keyward.toml:2:16: management.tenant_admin: unknown capability")
    );
}

#[test]
fn the_declared_list_is_bounded() {
    let names: Vec<String> = (0..200).map(|i| format!("\"cap{i}:read\"")).collect();
    let file = format!(
        "[capabilities]\nnames = [{}]\ndefaults = [\"nope:read\"]\n[management]\nread = \"cap0:read\"\nwrite = \"cap1:read\"\n",
        names.join(", ")
    );
    let message = error(&file);
    assert!(message.ends_with(", …"), "{message}");
    assert!(message.len() < 400, "{} bytes: {message}", message.len());
}

#[test]
fn management_defaults_must_be_declared_by_a_file_with_its_own_names() {
    assert_eq!(
        error("[capabilities]\nnames = [\"jobs:read\"]\n"),
        "keyward.toml:2:9: management.read: defaults to \"keys:read\", which capabilities.names does not declare; declare it or set management.read"
    );
    let file = parse(
        "[capabilities]\nnames = [\"jobs:read\", \"jobs:write\"]\n[management]\nread = \"jobs:read\"\nwrite = \"jobs:write\"\n",
    )
    .unwrap();
    assert_eq!(file.management_requirements().read().names(), ["jobs:read"]);
}

#[test]
fn bad_capability_declarations_are_refused() {
    assert!(matches!(
        problem("[capabilities]\nnames = [\"Jobs:read\"]\n"),
        SettingProblem::InvalidCapabilityName { .. }
    ));
    assert_eq!(
        error("[capabilities]\nnames = [\"keys:read\", \"keys:write\", \"keys:read\"]\n"),
        "keyward.toml:2:37: capabilities.names[2]: capability \"keys:read\" is declared twice"
    );
    assert_eq!(
        error(
            "[capabilities]\nnames = [\"keys:read\", \"keys:write\"]\nimplies = { \"keys:read\" = [\"keys:write\"], \"keys:write\" = [\"keys:read\"] }\n"
        ),
        "keyward.toml:3:11: capabilities.implies: implications form a cycle through keys:read, keys:write"
    );
}

#[test]
fn a_bad_prefix_says_why() {
    assert_eq!(
        error("[keys]\nprefix = \"SK-\"\n"),
        format!(
            "keyward.toml:2:10: keys.prefix: invalid key prefix \"SK-\": {}",
            keyward::format::KeyFormat::new("SK-").unwrap_err()
        )
    );
}

#[test]
fn a_bad_hasher_or_cost_is_refused() {
    assert_eq!(
        error("[keys]\nhasher = \"scrypt\"\n"),
        "keyward.toml:2:10: keys.hasher: unknown hasher \"scrypt\"; use \"bcrypt\" or \"argon2id\""
    );
    assert_eq!(
        error("[keys]\nbcrypt_cost = 3\n"),
        "keyward.toml:2:15: keys.bcrypt_cost: 3 is out of range; use 4 to 31"
    );
    assert_eq!(
        problem("[keys]\nbcrypt_cost = 32\n"),
        SettingProblem::OutOfRange {
            value: 32,
            min: 4,
            max: 31
        }
    );
    assert_eq!(
        error("[keys]\nhasher = \"argon2id\"\nbcrypt_cost = 12\n"),
        "keyward.toml:3:15: keys.bcrypt_cost: applies only to hasher = \"bcrypt\""
    );
}

#[test]
fn a_bad_duration_is_refused() {
    assert!(
        error("[cache]\nrefresh = \"soon\"\n")
            .starts_with("keyward.toml:2:11: cache.refresh: invalid duration \"soon\" (")
    );
    assert_eq!(
        error("[limits]\nlockout = { window = \"0s\" }\n"),
        "keyward.toml:2:22: limits.lockout.window: must be longer than zero"
    );
    assert_eq!(
        error("[limits]\nlockout = { cooldown = \"400days\" }\n"),
        "keyward.toml:2:24: limits.lockout.cooldown: \"400days\" is longer than the 366 days accepted"
    );
    assert!(matches!(
        problem("[limits]\nlockout = { failures = 0 }\n"),
        SettingProblem::OutOfRange { value: 0, .. }
    ));
    assert!(matches!(
        problem("[cache]\ncapacity = -1\n"),
        SettingProblem::OutOfRange { value: -1, .. }
    ));
}

#[test]
fn a_bad_rate_is_refused() {
    assert_eq!(
        error("[limits]\nrate = \"60/fortnight\"\n"),
        "keyward.toml:2:8: limits.rate: invalid rate: unknown period unit \"fortnight\" (expected ms, s, min, hour or day)"
    );
    assert!(matches!(
        problem("[limits]\nrate = \"0/min\"\n"),
        SettingProblem::InvalidRate { .. }
    ));
}

#[test]
fn owner_and_tenant_limits_are_off_unless_set() {
    let defaults = parse("").unwrap();
    assert_eq!(
        (defaults.owner_rate(), defaults.tenant_rate()),
        (None, None)
    );
    let file = parse("[limits]\nowner = \"600/min\"\ntenant = \"6000/hour\"\n").unwrap();
    assert_eq!(file.owner_rate(), Some(Quota::per_minute(600)));
    assert_eq!(file.tenant_rate(), Some(Quota::per_hour(6000)));
    assert_eq!(
        error("[limits]\nowner = \"lots\"\n"),
        "keyward.toml:2:9: limits.owner: invalid rate: expected a quota like `60/min`, `10/s` or `1000/hour`, got \"lots\""
    );
    assert!(matches!(
        problem("[limits]\ntenant = \"0/min\"\n"),
        SettingProblem::InvalidRate { .. }
    ));
}

#[tokio::test]
async fn from_config_applies_the_owner_limit() {
    let file = parse("[keys]\nbcrypt_cost = 4\n[limits]\nowner = \"2/min\"\n").unwrap();
    let keyward = Keyward::from_config(&file)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let ip = "192.0.2.1".parse().unwrap();
    let mut keys = Vec::new();
    for name in ["a", "b", "c"] {
        keys.push(
            keyward
                .keys()
                .mint(MintRequest::new(name, "alice"))
                .await
                .unwrap(),
        );
    }
    let auth = |key: &str| {
        let authenticator = keyward.authenticator();
        let key = key.to_owned();
        async move {
            authenticator
                .authenticate(
                    keyward::Credential::Key(&key),
                    &keyward::scope::Requirement::none(),
                    ip,
                )
                .await
        }
    };
    auth(keys[0].key.expose()).await.unwrap();
    auth(keys[1].key.expose()).await.unwrap();
    let refused = auth(keys[2].key.expose()).await.unwrap_err();
    assert!(
        matches!(
            refused,
            keyward::AuthError::RateLimited {
                scope: keyward::limit::LimitScope::Owner,
                ..
            }
        ),
        "{refused:?}"
    );
}

#[test]
fn a_bad_owner_or_database_url_is_refused() {
    assert_eq!(
        error("[cli]\nowner = \"  \"\n"),
        "keyward.toml:2:9: cli.owner: owner is empty"
    );
    assert!(matches!(
        problem("[cli]\nowner = \"u_\u{202e}1\"\n"),
        SettingProblem::InvalidOwner { .. }
    ));
    assert_eq!(
        error("[database]\nurl = \"\"\n"),
        "keyward.toml:2:7: database.url: is empty"
    );
}

#[test]
fn positions_count_characters_not_bytes() {
    assert_eq!(
        error("# café\n[keys]\nhasher = \"bcrypt\" # é\nprefix = \"é_\"\n")
            .split(": ")
            .next()
            .unwrap(),
        "keyward.toml:4:10"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    // Truncations of a real file hit every kind of syntax error.
    let text = ConfigFile::documented_defaults().replace("# ", "");
    for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
        let _ = parse(&text[..end]);
    }
    for junk in [
        "\u{0}",
        "[[keys]]",
        "keys = []",
        "[keys]\nprefix = [\"a\"]",
        "]]]",
        "\"",
        "a.b.c = 1",
    ] {
        let err = parse(junk).expect_err(junk).to_string();
        assert!(err.starts_with("keyward.toml:"), "{err}");
        assert!(!err.contains('\n'), "{err:?}");
    }
}

// --- the demo and the documented defaults ---------------------------------------------

#[test]
fn the_demo_is_the_documented_demo_catalog() {
    let demo = ConfigFile::demo();
    let catalog = demo.catalog();
    assert_eq!(
        names(catalog),
        [
            "desktop:chat",
            "desktop:control",
            "desktop:lifecycle",
            "desktop:read",
            "jobs:read",
            "jobs:write",
            "kb:read",
            "keys:read",
            "keys:write",
        ]
    );
    assert_eq!(
        catalog.names(&catalog.default_set()),
        ["desktop:chat", "desktop:read"]
    );
    assert!(catalog.implicit().is_empty());
    let implied: Vec<_> = implications(catalog)
        .into_iter()
        .filter(|(_, implied)| !implied.is_empty())
        .collect();
    assert_eq!(
        implied,
        [
            ("jobs:write".to_owned(), vec!["jobs:read".to_owned()]),
            ("keys:write".to_owned(), vec!["keys:read".to_owned()]),
        ]
    );
    assert_eq!(demo.format().prefix(), "sk_live_");
}

#[test]
fn the_documented_defaults_are_the_defaults() {
    let text = ConfigFile::documented_defaults();
    assert_eq!(parse(text).unwrap(), ConfigFile::demo());

    // Every setting uncommented gives the defaults too, so the values shown are true.
    let mut uncommented = 0;
    let text: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => {
                uncommented += 1;
                format!("{rest}\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    assert!(uncommented >= 14, "{uncommented} settings shown");
    assert_eq!(parse(&text).unwrap(), ConfigFile::demo());
}

/// `key = value` with a bare key.
fn is_setting(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    })
}

// --- building ---------------------------------------------------------------------

#[tokio::test]
async fn a_keyward_built_from_a_file_uses_its_settings() {
    let file = parse(
        r#"
[keys]
prefix = "ak_test_"
bcrypt_cost = 4
[capabilities]
names = ["jobs:read", "jobs:write", "keys:read", "keys:write"]
defaults = ["jobs:write"]
implies = { "jobs:write" = ["jobs:read"] }
[limits]
rate = "2/min"
[cache]
capacity = 7
"#,
    )
    .unwrap();
    let keyward = Keyward::from_config(&file)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    assert_eq!(keyward.config().cache_capacity, 7);
    let minted = keyward
        .keys()
        .mint(MintRequest::new("CI", "u_1"))
        .await
        .unwrap();
    assert!(minted.key.expose().starts_with("ak_test_"));

    let read = keyward.catalog().all_of(["jobs:read"]).unwrap();
    let ip = "127.0.0.1".parse().unwrap();
    let auth = keyward.authenticator();
    let key = keyward::Credential::Key(minted.key.expose());
    // The default grant jobs:write implies jobs:read; the third request breaks 2/min.
    auth.authenticate(key, &read, ip).await.unwrap();
    auth.authenticate(key, &read, ip).await.unwrap();
    let limited = auth.authenticate(key, &read, ip).await.unwrap_err();
    assert_eq!(limited.code().as_str(), "rate_limited");
}

// --- finding the file ---------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("keyward-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, prefix: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, format!("[keys]\nprefix = \"{prefix}\"\n")).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn prefix_from(explicit: Option<&Path>, env: Option<&str>, dir: &Path) -> (String, ConfigSource) {
    let loaded = ConfigFile::resolve_from(explicit, env.map(std::ffi::OsStr::new), dir).unwrap();
    (loaded.config.format().prefix().to_owned(), loaded.source)
}

#[test]
fn resolution_order_is_flag_then_env_then_working_directory_then_demo() {
    let dir = TempDir::new("order");
    let d = dir.0.as_path();
    let flag = dir.write("flag.toml", "flag_");
    let env = dir.write("env.toml", "env_");

    assert_eq!(
        prefix_from(None, None, d),
        ("sk_live_".into(), ConfigSource::BuiltInDemo)
    );
    let cwd = dir.write("keyward.toml", "cwd_");
    assert_eq!(
        prefix_from(None, None, d),
        ("cwd_".into(), ConfigSource::File(cwd.clone()))
    );
    assert_eq!(
        prefix_from(None, Some(""), d).0,
        "cwd_",
        "an empty variable is unset"
    );
    assert_eq!(
        prefix_from(None, Some(env.to_str().unwrap()), d),
        ("env_".into(), ConfigSource::File(env.clone()))
    );
    assert_eq!(
        prefix_from(Some(&flag), Some(env.to_str().unwrap()), d),
        ("flag_".into(), ConfigSource::File(flag.clone()))
    );
    // Relative names are taken in the directory given.
    assert_eq!(prefix_from(None, Some("env.toml"), d).0, "env_");
    assert_eq!(
        ConfigSource::File(PathBuf::from("keyward.toml")).to_string(),
        "keyward.toml"
    );
    assert_eq!(
        ConfigSource::BuiltInDemo.to_string(),
        "built-in demo configuration"
    );
}

#[test]
fn a_named_file_that_is_missing_is_an_error_not_the_demo() {
    let dir = TempDir::new("missing");
    let missing = dir.0.join("nope.toml");
    for (explicit, env) in [
        (Some(missing.as_path()), None),
        (None, Some(missing.as_os_str())),
    ] {
        let err = ConfigFile::resolve_from(explicit, env, &dir.0).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: cannot read", missing.display()))
        );
    }
}

#[test]
fn errors_name_the_file_they_came_from() {
    let dir = TempDir::new("origin");
    let path = dir.0.join("keyward.toml");
    std::fs::write(&path, "[keys]\nhasher = \"md5\"\n").unwrap();
    let err = ConfigFile::resolve_from(None, None, &dir.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:10: keys.hasher: unknown hasher \"md5\"; use \"bcrypt\" or \"argon2id\"",
            path.display()
        )
    );
}

#[test]
fn the_guide_example_is_a_valid_file() {
    let guide = include_str!("../../../docs/configuration.md");
    let start = guide.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let end = start + guide[start..].find("```").unwrap();
    let file = parse(&guide[start..end]).unwrap();
    assert_eq!(file.format().prefix(), "ak_live_");
    let tenant_admin = file.management_requirements().tenant_admin().unwrap();
    assert_eq!(tenant_admin.names(), ["keys:admin"]);
}
