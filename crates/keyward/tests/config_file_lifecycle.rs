//! `keyward.toml`'s lifecycle policies: `[keys] max_lifetime`, `[keys]
//! expire_unused_after` and `[audit] retention`, read into `Config`, refused with one
//! line that points at the setting.

mod common;

use std::time::Duration;

use common::config_text::{error, parse, problem};
use keyward::config_file::{MAX_LIFECYCLE_DAYS, SettingProblem};
use keyward::store::MemoryStore;
use keyward::{ConfigFile, Keyward};

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn policies_are_unset_by_default() {
    let file = parse("[keys]\n[audit]\n").unwrap();
    assert_eq!(file, ConfigFile::demo());
    assert_eq!(file.max_lifetime(), None);
    assert_eq!(file.expire_unused_after(), None);
    assert_eq!(file.audit_retention(), None);
    let config = file.config();
    assert_eq!(config.max_lifetime, None);
    assert_eq!(config.expire_unused_after, None);
    assert_eq!(config.audit_retention, None);
}

#[test]
fn policies_are_read_into_the_runtime_config() {
    let file = parse(
        r#"
[keys]
max_lifetime = "90d"
expire_unused_after = "365d"

[audit]
retention = "400d"
"#,
    )
    .unwrap();
    assert_eq!(file.max_lifetime(), Some(90 * DAY));
    assert_eq!(file.expire_unused_after(), Some(365 * DAY));
    assert_eq!(file.audit_retention(), Some(400 * DAY));
    assert_ne!(file, ConfigFile::demo());

    let config = file.config();
    assert_eq!(config.max_lifetime, Some(90 * DAY));
    assert_eq!(config.expire_unused_after, Some(365 * DAY));
    assert_eq!(config.audit_retention, Some(400 * DAY));

    let keyward = Keyward::from_config(&file)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    assert_eq!(keyward.config().max_lifetime, Some(90 * DAY));
    assert_eq!(keyward.config().expire_unused_after, Some(365 * DAY));
    assert_eq!(keyward.config().audit_retention, Some(400 * DAY));
}

#[test]
fn any_humantime_duration_is_accepted_up_to_a_century() {
    let file = parse("[keys]\nmax_lifetime = \"12h 30m\"\n").unwrap();
    assert_eq!(file.max_lifetime(), Some(Duration::from_secs(45_000)));
    let file = parse("[keys]\nexpire_unused_after = \"2y\"\n").unwrap();
    assert_eq!(
        file.expire_unused_after(),
        Some(humantime::parse_duration("2y").unwrap())
    );
    let longest = format!("[audit]\nretention = \"{MAX_LIFECYCLE_DAYS}d\"\n");
    assert_eq!(
        parse(&longest).unwrap().audit_retention(),
        Some(Duration::from_secs(MAX_LIFECYCLE_DAYS * 86_400))
    );
}

#[test]
fn zero_is_refused() {
    assert_eq!(
        error("[keys]\nmax_lifetime = \"0d\"\n"),
        "keyward.toml:2:16: keys.max_lifetime: must be longer than zero"
    );
    assert_eq!(
        error("[keys]\nexpire_unused_after = \"0s\"\n"),
        "keyward.toml:2:23: keys.expire_unused_after: must be longer than zero"
    );
    assert_eq!(
        error("[audit]\nretention = \"0 days\"\n"),
        "keyward.toml:2:13: audit.retention: must be longer than zero"
    );
}

#[test]
fn negative_and_garbage_durations_are_refused() {
    for (text, key) in [
        ("[keys]\nmax_lifetime = \"-5d\"\n", "keys.max_lifetime"),
        ("[keys]\nmax_lifetime = \"forever\"\n", "keys.max_lifetime"),
        (
            "[keys]\nexpire_unused_after = \"30\"\n",
            "keys.expire_unused_after",
        ),
        ("[audit]\nretention = \"a year\"\n", "audit.retention"),
    ] {
        let message = error(text);
        assert!(
            message.starts_with("keyward.toml:2:") && message.contains(key),
            "{message}"
        );
        assert!(
            matches!(problem(text), SettingProblem::InvalidDuration { .. }),
            "{message}"
        );
        assert!(message.contains("use e.g. \"30s\""), "{message}");
    }
    assert!(
        error("[keys]\nmax_lifetime = \"forever\"\n")
            .starts_with("keyward.toml:2:16: keys.max_lifetime: invalid duration \"forever\" (")
    );
}

#[test]
fn a_number_is_not_a_duration() {
    assert_eq!(
        error("[keys]\nmax_lifetime = 90\n"),
        "keyward.toml:2:16: keys.max_lifetime: invalid type: integer `90`, expected a string"
    );
    assert!(matches!(
        problem("[audit]\nretention = 400\n"),
        SettingProblem::WrongType(_)
    ));
}

#[test]
fn huge_durations_are_refused() {
    let over = format!("[keys]\nmax_lifetime = \"{}d\"\n", MAX_LIFECYCLE_DAYS + 1);
    assert_eq!(
        error(&over),
        format!(
            "keyward.toml:2:16: keys.max_lifetime: \"{}d\" is longer than the {MAX_LIFECYCLE_DAYS} days accepted",
            MAX_LIFECYCLE_DAYS + 1
        )
    );
    assert_eq!(
        problem("[audit]\nretention = \"1000y\"\n"),
        SettingProblem::DurationTooLong {
            text: "1000y".to_owned(),
            max_days: MAX_LIFECYCLE_DAYS
        }
    );
    // Past what humantime counts: its own error, still one line.
    let overflow = error("[keys]\nexpire_unused_after = \"99999999999999999999999d\"\n");
    assert!(
        overflow.starts_with("keyward.toml:2:23: keys.expire_unused_after: invalid duration"),
        "{overflow}"
    );
}

#[test]
fn unknown_keys_name_the_lifecycle_ones() {
    assert_eq!(
        error("[keys]\nmax_lifetme = \"90d\"\n"),
        "keyward.toml:2:1: keys.max_lifetme: unknown key `max_lifetme`, expected one of `prefix`, `hasher`, `bcrypt_cost`, `max_lifetime`, `expire_unused_after`"
    );
    assert_eq!(
        error("[audit]\nretain = \"400d\"\n"),
        "keyward.toml:2:1: audit.retain: unknown key `retain`, expected `retention`"
    );
    assert!(matches!(
        problem("[audit]\nretention = \"1d\"\nkeep = 1\n"),
        SettingProblem::UnknownKey(_)
    ));
    assert!(
        error("[audit]\nretention = \"1d\"\n[audits]\n")
            .starts_with("keyward.toml:3:2: audits: unknown key `audits`")
    );
}

#[test]
fn the_documented_defaults_show_every_policy() {
    let text = ConfigFile::documented_defaults();
    for example in [
        "max_lifetime = \"90d\"",
        "expire_unused_after = \"365d\"",
        "[audit]",
        "retention = \"400d\"",
    ] {
        assert!(text.contains(example), "{example} in the template");
    }
    // The examples given in the template are valid settings.
    let file = parse("[keys]\nmax_lifetime = \"90d\"\nexpire_unused_after = \"365d\"\n[audit]\nretention = \"400d\"\n")
        .unwrap();
    assert_eq!(file.audit_retention(), Some(400 * DAY));
}
