//! `keyward.toml` errors stay one short line whatever the file holds: a value, key or
//! capability name of any length is repeated only in part.

use keyward::ConfigFile;

/// A line a terminal or log shows whole, whatever was written in the file.
const MAX_LINE: usize = 600;

#[test]
fn errors_repeat_at_most_a_bounded_part_of_a_long_value_or_key() {
    let long = "x".repeat(100_000);
    let files = [
        format!("[limits]\nrate = \"{long}\"\n"),
        format!("[limits]\nrate = \"{long}/s\"\n"),
        format!("[limits]\nrate = \"1/{long}\"\n"),
        format!("[keys]\nprefix = \"{long}\"\n"),
        format!("[keys]\nhasher = \"{long}\"\n"),
        format!("[limits.lockout]\nwindow = \"{long}\"\n"),
        format!("[limits.lockout]\ncooldown = \"1{long}\"\n"),
        format!("[cache]\nrefresh = \"{long}\"\n"),
        format!("[capabilities]\ndefaults = [\"{long}\"]\n"),
        format!("[capabilities]\nnames = [\"{long}\"]\n"),
        format!("[capabilities]\nnames = [\"a:{long}\", \"a:{long}\"]\n"),
        format!("[capabilities.implies]\n\"{long}\" = []\n"),
        format!("[management]\nread = \"{long}\"\n"),
        format!("[{long}]\n"),
        format!("{long} = 1\n"),
        format!("[keys]\n{long} = 1\n"),
        format!("[keys]\nprefix = {long}\n"),
    ];
    for file in &files {
        let message = ConfigFile::parse(file, "keyward.toml")
            .expect_err("refused")
            .to_string();
        assert!(
            message.len() <= MAX_LINE && !message.contains('\n'),
            "{} bytes for {}…: {}…",
            message.len(),
            &file[..40],
            &message[..message.len().min(300)]
        );
        assert!(message.starts_with("keyward.toml:"), "{message}");
    }
}

#[test]
fn a_long_value_is_repeated_in_part_with_a_mark_where_it_was_cut() {
    let message = ConfigFile::parse(
        &format!("[keys]\nhasher = \"{}\"\n", "é".repeat(1000)),
        "keyward.toml",
    )
    .expect_err("refused")
    .to_string();
    assert_eq!(
        message,
        format!(
            "keyward.toml:2:10: keys.hasher: unknown hasher \"{}…\"; use \"bcrypt\" or \"argon2id\"",
            "é".repeat(64)
        )
    );
}
