//! The command line: what clap parses, and the parsers for values clap takes as text.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use keyward::config_file::{CONFIG_ENV_VAR, CONFIG_FILE_NAME};
use keyward::format::KeyId;
use keyward::store::Tenant;
use keyward::{ConfigFile, ConfigSource, Loaded};

use crate::CliError;

/// The `keyward` command line.
#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Manage keyward API keys and scan for leaked ones"
)]
pub struct Cli {
    /// The configuration file: catalog, key prefix, hasher, database, default owner.
    /// Without it, `./keyward.toml` when present, else the built-in demo configuration.
    #[arg(long, global = true, env = "KEYWARD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database: a file path or `sqlite:` URL (created when missing), or a
    /// `postgres://` URL. Default: the configuration's `[database] url` (`keyward.db`).
    #[arg(long, global = true, env = "KEYWARD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The PostgreSQL schema keyward's tables live in (created when missing).
    #[arg(long, global = true, env = "KEYWARD_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// The key prefix (format) to mint and scan for. Default: the configuration's
    /// `[keys] prefix` (`sk_live_`).
    #[arg(long, global = true)]
    pub prefix: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's command line, exiting on `--help`, `--version` or an error
    /// as clap does; every `--help` names the configuration file that applies.
    #[must_use]
    pub fn parse_noting_configuration() -> Cli {
        let args: Vec<OsString> = std::env::args_os().collect();
        let note = configuration_note(config_flag(&args).as_deref());
        let matches = with_after_help(Cli::command(), &note).get_matches_from(args);
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// The value of `--config PATH` or `--config=PATH` in `args`, looked for before clap
/// parses them so that `--help` can say which file applies.
fn config_flag(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            return Some(PathBuf::from(path));
        }
    }
    None
}

/// `configuration: ./keyward.toml`, `configuration: built-in demo …`, or the error that
/// the file would give, for `--help`.
pub fn configuration_note(explicit: Option<&Path>) -> String {
    match ConfigFile::resolve(explicit) {
        Ok(Loaded {
            source: ConfigSource::File(path),
            ..
        }) => format!("configuration: {}", shown_path(&path)),
        Ok(Loaded {
            source: ConfigSource::BuiltInDemo,
            ..
        }) => format!(
            "configuration: built-in demo (no {CONFIG_FILE_NAME} here; --config PATH or \
             {CONFIG_ENV_VAR} names one, `keyward config init` writes one)"
        ),
        Err(e) => format!("configuration: {e}"),
    }
}

/// A relative path as a shell would take it: `./keyward.toml` rather than `keyward.toml`.
pub(crate) fn shown_path(path: &Path) -> String {
    if path.is_relative() && !path.starts_with(".") && !path.starts_with("..") {
        format!("./{}", path.display())
    } else {
        path.display().to_string()
    }
}

/// `command` and each of its subcommands with `note` after their help.
fn with_after_help(command: clap::Command, note: &str) -> clap::Command {
    command
        .after_help(note.to_owned())
        .mut_subcommands(|sub| with_after_help(sub, note))
}

/// A top-level command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, show, revoke and roll keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Scan files, directories (or stdin) for leaked keys; exit 1 when any is found.
    Scan(ScanArgs),
    /// List the audit log: who created, rolled, revoked which key, when and from where.
    /// The last `--limit` matching entries, oldest first.
    Audit(AuditArgs),
    /// Check or write the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// A `config` subcommand.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file: `ok: PATH` (exit 0), or what is wrong and where
    /// (exit 2). Without PATH, the file the other commands would use.
    Check(CheckArgs),
    /// Write `./keyward.toml` with every setting at its default, commented out.
    Init(InitArgs),
}

/// Arguments of `config check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The file to check.
    pub path: Option<PathBuf>,
}

/// Arguments of `config init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing `./keyward.toml`.
    #[arg(long)]
    pub force: bool,
}

/// A `keys` subcommand.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Mint a key and print it once: the key alone on stdout, the rest on stderr, so
    /// `KEY=$(keyward keys create …)` captures just the key.
    Create(CreateArgs),
    /// List keys, masked: id, name, key, state, created and expiry, in 100 columns
    /// (`--wide` for every column).
    List(ListArgs),
    /// Show one key, masked.
    Show(IdArgs),
    /// Revoke a key, permanently.
    ///
    /// A running server on the same database refuses it from then on if it was built
    /// with `.database(&db)` or `.invalidations(store)` (both example servers are):
    /// on the same SQLite file within its poll interval (100 ms by default), on
    /// PostgreSQL within milliseconds. A server without either refuses it at its next
    /// cache refresh (30 s by default).
    Revoke(IdArgs),
    /// Replace a key; the old one keeps working for the grace period. The new key is
    /// printed alone on stdout, the rest on stderr.
    Roll(RollArgs),
    /// What a key was granted, which of its capabilities its requests used (as servers
    /// recorded them), since when, and the narrowest grants that cover that use.
    Usage(IdArgs),
}

/// `--json`.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `keys list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Every column (owner, tenant, capabilities, last use, full times), however wide.
    #[arg(long, conflicts_with = "json")]
    pub wide: bool,
    /// Only keys not used for this long (`30d`): last used, or created when never
    /// used, at least this long ago. Revoked keys are left out.
    #[arg(long, value_name = "DURATION")]
    pub unused_for: Option<String>,
    /// Only keys that expire within this long (`7d`) and have not expired yet.
    /// Revoked keys are left out.
    #[arg(long, value_name = "DURATION")]
    pub expiring_within: Option<String>,
    /// JSON output.
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Arguments of `keys create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A human name for the key.
    #[arg(long)]
    pub name: String,
    /// A capability to grant (repeatable); the catalog's defaults when none.
    #[arg(long = "capability", value_name = "CAPABILITY")]
    pub capabilities: Vec<String>,
    /// Expire after this long: `30d`, `24h`, `15m`, `90s`.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// Who the key acts for: the user or service id your application knows it by.
    /// Default: the configuration's `[cli] owner`; one of them is required.
    #[arg(long, env = "KEYWARD_OWNER")]
    pub owner: Option<String>,
    /// Bind the key to a tenant: `TEAM/PROJECT`.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Mint a honeytoken: a decoy to plant where only a leak would find it. It
    /// authenticates nothing; presenting it locks the client out and raises an alert.
    #[arg(long)]
    pub honeytoken: bool,
    /// JSON output.
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Arguments naming one key.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The key id.
    pub id: String,
    /// JSON output.
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Arguments of `keys roll`.
#[derive(Debug, Args)]
pub struct RollArgs {
    /// The key id.
    pub id: String,
    /// How long the old key keeps working: `24h`, `15m` (default: it stops now).
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    pub grace: String,
    /// The replacement's capabilities, within the old key's: `used` for those
    /// `keys usage` suggests (refused when no use is recorded), or a comma list.
    /// Default: the old key's.
    #[arg(long, value_name = "used|CAP,CAP")]
    pub capabilities: Option<String>,
    /// JSON output.
    #[command(flatten)]
    pub json: JsonFlag,
}

/// What `keys roll --capabilities` asks the replacement to carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Narrowing {
    /// The capabilities the key's recorded use suggests.
    Used,
    /// These capability names.
    Names(Vec<String>),
}

/// Parses `used` or `CAP,CAP`: names trimmed, empty items refused.
///
/// ```
/// use keyward_cli::{Narrowing, parse_narrowing};
/// assert_eq!(parse_narrowing("used").unwrap(), Narrowing::Used);
/// assert_eq!(
///     parse_narrowing("jobs:read, kb:read").unwrap(),
///     Narrowing::Names(vec!["jobs:read".into(), "kb:read".into()])
/// );
/// assert!(parse_narrowing("jobs:read,,kb:read").is_err());
/// ```
pub fn parse_narrowing(s: &str) -> Result<Narrowing, CliError> {
    if s.trim() == "used" {
        return Ok(Narrowing::Used);
    }
    let names: Vec<String> = s.split(',').map(|n| n.trim().to_owned()).collect();
    if names.iter().any(String::is_empty) {
        return Err(CliError::usage(format!(
            "malformed --capabilities `{s}`; use `used` or a comma list such as jobs:read,kb:read"
        )));
    }
    Ok(Narrowing::Names(names))
}

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries about this key id (as the key acted on, or as a roll's replacement).
    #[arg(long, value_name = "ID")]
    pub key: Option<String>,
    /// Only entries from this long ago until now: `30d`, `24h`, `15m`.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Show at most this many entries: the most recent ones.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Every field (sequence number, replacement, note), however wide.
    #[arg(long, conflicts_with = "json")]
    pub wide: bool,
    /// Print JSON (one array) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; stdin when none.
    pub paths: Vec<PathBuf>,
    /// Also revoke every key found that is a live key of the database (its secret
    /// verified), audited as leaked with where it was found. Without it, nothing
    /// changes.
    #[arg(long)]
    pub revoke: bool,
}

/// Parses `30d`, `24h`, `15m`, `90s` (anything humantime accepts).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(keyward_cli::parse_duration("24h").unwrap(), Duration::from_secs(86_400));
/// assert!(keyward_cli::parse_duration("soon").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, CliError> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        CliError::usage(format!(
            "malformed duration `{s}` ({e}); use e.g. 30d, 24h, 15m, 90s"
        ))
    })
}

/// Parses `TEAM/PROJECT`.
pub fn parse_tenant(s: &str) -> Result<Tenant, CliError> {
    match s.split_once('/') {
        Some((team, project))
            if !team.trim().is_empty() && !project.trim().is_empty() && !project.contains('/') =>
        {
            Ok(Tenant::new(team, project))
        }
        _ => Err(CliError::usage(format!(
            "malformed tenant `{s}`; use TEAM/PROJECT"
        ))),
    }
}

/// Parses a bare key id.
pub(crate) fn parse_id(s: &str) -> Result<KeyId, CliError> {
    KeyId::parse(s).map_err(|_| CliError::usage(format!("malformed key id `{s}`")))
}
