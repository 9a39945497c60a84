//! `config check` and `config init`: validate a configuration file, or write one with
//! every setting at its default.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use keyward::config_file::CONFIG_FILE_NAME;
use keyward::{ConfigFile, ConfigSource};

use crate::args::{CheckArgs, ConfigCommand, InitArgs, shown_path};
use crate::{CliError, w};

/// Runs a `config` subcommand; `explicit` is `--config`.
pub(crate) fn run(
    command: ConfigCommand,
    explicit: Option<&Path>,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    match command {
        ConfigCommand::Check(args) => check(&args, explicit, out),
        ConfigCommand::Init(args) => init(&args, out),
    }
}

/// `ok: PATH`, or the file's one-line error (exit 2).
fn check(
    args: &CheckArgs,
    explicit: Option<&Path>,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let source = match &args.path {
        Some(path) => {
            ConfigFile::load(path).map_err(|e| CliError::usage(e.to_string()))?;
            ConfigSource::File(path.clone())
        }
        None => {
            ConfigFile::resolve(explicit)
                .map_err(|e| CliError::usage(e.to_string()))?
                .source
        }
    };
    match source {
        ConfigSource::File(path) => w(out, format_args!("ok: {}\n", shown_path(&path)))?,
        ConfigSource::BuiltInDemo => w(
            out,
            format_args!("ok: built-in demo configuration (no {CONFIG_FILE_NAME} here)\n"),
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `./keyward.toml`; an existing one only with `--force`.
fn init(args: &InitArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let path = Path::new(CONFIG_FILE_NAME);
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        // Refused atomically: never a check, then a write over a file made meanwhile.
        options.create_new(true);
    }
    let shown = shown_path(path);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            CliError::usage(format!("{shown} exists; pass --force to replace it"))
        }
        _ => CliError::runtime(format!("cannot write {shown}: {e}")),
    })?;
    file.write_all(ConfigFile::documented_defaults().as_bytes())
        .map_err(|e| CliError::runtime(format!("cannot write {shown}: {e}")))?;
    w(
        out,
        format_args!("wrote {shown}: every setting at its default, commented out\n"),
    )?;
    Ok(ExitCode::SUCCESS)
}
