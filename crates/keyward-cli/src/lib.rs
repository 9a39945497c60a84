#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::Write;
use std::process::ExitCode;

use keyward::format::{KeyFormat, Scanner};
use keyward::scope::Catalog;

mod args;
mod error;
mod keys;
mod scan;
mod table;

pub use args::{
    Cli, Command, CreateArgs, IdArgs, JsonFlag, KeysCommand, ListArgs, RollArgs, ScanArgs,
    parse_duration, parse_tenant,
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
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, CliError> {
    let format = KeyFormat::new(&cli.prefix)
        .map_err(|e| CliError::usage(format!("invalid --prefix `{}`: {e}", cli.prefix)))?;
    match cli.command {
        Command::Scan(args) => scan::run(Scanner::new(format), &args.paths, out),
        Command::Keys(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
            runtime.block_on(keys::run(
                &cli.database_url,
                cli.database_schema.as_deref(),
                format,
                command,
                out,
                err,
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes to the command's output; a failed write (a closed pipe) is a runtime error.
fn w(out: &mut dyn Write, args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    out.write_fmt(args)
        .map_err(|e| CliError::runtime(format!("cannot write output: {e}")))
}
