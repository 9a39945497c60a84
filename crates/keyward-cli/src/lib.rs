#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::Write;
use std::process::ExitCode;

use keyward::ConfigFile;
use keyward::format::KeyFormat;
use keyward::scope::Catalog;

mod args;
mod audit;
mod config;
mod error;
mod keys;
mod scan;
mod table;

pub use args::{
    AuditArgs, CheckArgs, Cli, Command, ConfigCommand, CreateArgs, IdArgs, InitArgs, JsonFlag,
    KeysCommand, ListArgs, Narrowing, RollArgs, ScanArgs, configuration_note, parse_duration,
    parse_narrowing, parse_tenant,
};
pub use error::CliError;
/// The store-from-URL function the CLI uses, re-exported for programs that depend on
/// this crate for it.
pub use keyward::{Database, DatabaseError};

/// The capability catalog the CLI mints against, and the example servers serve (they
/// take it from here), so keys made here work there.
///
/// `desktop:read`, `desktop:chat`, `desktop:lifecycle`, `desktop:control`, `jobs:read`,
/// `jobs:write` (implies `jobs:read`), `kb:read`, `keys:read`, `keys:write` (implies
/// `keys:read`); new keys default to `desktop:read` + `desktop:chat`. A real service
/// declares its own with [`Catalog::builder`].
///
/// ```
/// let catalog = keyward_cli::demo_catalog();
/// assert_eq!(catalog.names(&catalog.default_set()), ["desktop:chat", "desktop:read"]);
/// ```
#[must_use]
pub fn demo_catalog() -> Catalog {
    keyward::ConfigFile::demo().catalog().clone()
}

/// Runs a parsed command line, writing results to `out` and what a person should read
/// but a script should not capture (what a new key is, that it is shown once) to `err`.
///
/// Every command but `config` first finds the configuration ([`ConfigFile::resolve`]
/// with `--config`): a bad one is a usage error (exit 2) naming the file, line, column
/// and setting.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, CliError> {
    let command = match cli.command {
        Command::Config(command) => return config::run(command, cli.config.as_deref(), out),
        command => command,
    };
    let file = ConfigFile::resolve(cli.config.as_deref())
        .map_err(|e| CliError::usage(e.to_string()))?
        .config;
    let format = match &cli.prefix {
        Some(prefix) => KeyFormat::new(prefix)
            .map_err(|e| CliError::usage(format!("invalid --prefix `{prefix}`: {e}")))?,
        None => file.format().clone(),
    };
    match command {
        Command::Scan(args) => {
            let database = keys::DatabaseArgs {
                url: cli
                    .database_url
                    .as_deref()
                    .unwrap_or_else(|| file.database_url()),
                schema: cli.database_schema.as_deref(),
            };
            scan::run(&file, format, &args, database, out, err)
        }
        Command::Keys(command) => {
            let database = keys::DatabaseArgs {
                url: cli
                    .database_url
                    .as_deref()
                    .unwrap_or_else(|| file.database_url()),
                schema: cli.database_schema.as_deref(),
            };
            runtime()?.block_on(keys::run(&file, database, format, command, out, err))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(args) => {
            let url = cli
                .database_url
                .as_deref()
                .unwrap_or_else(|| file.database_url());
            runtime()?.block_on(async {
                let store = keys::open_store(url, cli.database_schema.as_deref()).await?;
                audit::run(store.as_ref(), &args, out).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(_) => unreachable!("answered above"),
    }
}

/// The single-threaded runtime the database commands run on.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))
}

/// Writes to the command's output; a failed write (a closed pipe) is a runtime error.
fn w(out: &mut dyn Write, args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    out.write_fmt(args)
        .map_err(|e| CliError::runtime(format!("cannot write output: {e}")))
}
