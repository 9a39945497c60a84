//! `keyward.toml` text, read or refused.

use keyward::config_file::SettingProblem;
use keyward::{ConfigError, ConfigFile};

/// `text` read as `keyward.toml`.
pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
    ConfigFile::parse(text, "keyward.toml")
}

/// The one-line message for `text`, which must be refused.
pub fn error(text: &str) -> String {
    let message = parse(text).expect_err("the file is refused").to_string();
    assert!(!message.contains('\n'), "one line: {message:?}");
    message
}

/// The problem with the setting that refused `text`, which must be read first.
pub fn problem(text: &str) -> SettingProblem {
    parse(text)
        .expect_err("the file is refused")
        .invalid()
        .expect("refused after reading")
        .problem
        .clone()
}
