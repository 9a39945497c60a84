#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use keyward::format::{KeyFormat, KeyId, Scanner};
use keyward::hash::BcryptHasher;
use keyward::scope::Catalog;
use keyward::store::KeyStore;
use keyward::store::{ListFilter, PageRequest, Tenant};
use keyward::{KeyService, KeySummary, Keyward, MintRequest, NewKey, ServiceError};

mod database;

pub use database::{Database, DatabaseError};

/// The capability catalog the CLI mints against: keyward's demo catalog (DESIGN.md,
/// "Surfaces"), shared with the example servers so keys made here work there.
///
/// `desktop:read`, `desktop:chat`, `desktop:lifecycle`, `desktop:control`, `jobs:read`,
/// `jobs:write` (implies `jobs:read`), `kb:read`, `keys:read`, `keys:write` (implies
/// `keys:read`); new keys default to `desktop:read` + `desktop:chat`.
///
/// ```
/// let catalog = keyward_cli::demo_catalog();
/// assert_eq!(catalog.names(&catalog.default_set()), ["desktop:chat", "desktop:read"]);
/// ```
pub fn demo_catalog() -> Catalog {
    Catalog::demo()
}

/// The `keyward` command line.
#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Manage keyward API keys and scan for leaked ones"
)]
pub struct Cli {
    /// Database: a file path or `sqlite:` URL (created when missing), or a
    /// `postgres://` URL.
    #[arg(
        long,
        global = true,
        env = "KEYWARD_DATABASE_URL",
        default_value = "keyward.db"
    )]
    pub database_url: String,
    /// The PostgreSQL schema keyward's tables live in (created when missing).
    #[arg(long, global = true, env = "KEYWARD_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// The key prefix (format) to mint and scan for.
    #[arg(long, global = true, default_value = "sk_live_")]
    pub prefix: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A top-level command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, show, revoke and roll keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Scan files, directories (or stdin) for leaked keys; exit 1 when any is found.
    Scan(ScanArgs),
}

/// A `keys` subcommand.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Mint a key and print it once.
    Create(CreateArgs),
    /// List keys, masked.
    List(JsonFlag),
    /// Show one key, masked.
    Show(IdArgs),
    /// Revoke a key, permanently and at once.
    Revoke(IdArgs),
    /// Replace a key; the old one keeps working for the grace period.
    Roll(RollArgs),
}

/// `--json`.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
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
    /// Who the key acts for.
    #[arg(long, default_value = "cli")]
    pub owner: String,
    /// Bind the key to a tenant: `TEAM/PROJECT`.
    #[arg(long)]
    pub tenant: Option<String>,
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
    /// JSON output.
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Arguments of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; stdin when none.
    pub paths: Vec<PathBuf>,
}

/// A failure, printed as one `error: …` line.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// Bad input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
        }
    }

    /// A runtime failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
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

fn parse_id(s: &str) -> Result<KeyId, CliError> {
    KeyId::parse(s).map_err(|_| CliError::usage(format!("malformed key id `{s}`")))
}

fn service_error(e: ServiceError, id: Option<&str>) -> CliError {
    match (e, id) {
        (ServiceError::NotFound, Some(id)) => CliError::runtime(format!("no key with id `{id}`")),
        (
            e @ (ServiceError::UnknownCapabilities(_)
            | ServiceError::InvalidRequest(_)
            | ServiceError::InvalidName { .. }),
            _,
        ) => CliError::usage(e.to_string()),
        (e, _) => CliError::runtime(e.to_string()),
    }
}

/// Runs a parsed command line, writing results to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let format = KeyFormat::new(&cli.prefix)
        .map_err(|e| CliError::usage(format!("invalid --prefix `{}`: {e}", cli.prefix)))?;
    match cli.command {
        Command::Scan(args) => scan(Scanner::new(format), &args.paths, out),
        Command::Keys(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
            runtime.block_on(keys(
                &cli.database_url,
                cli.database_schema.as_deref(),
                format,
                command,
                out,
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn open_store(url: &str, schema: Option<&str>) -> Result<Arc<dyn KeyStore>, CliError> {
    match Database::open(url, schema).await {
        Ok(database) => Ok(database.store()),
        Err(e @ (DatabaseError::UnsupportedScheme(_) | DatabaseError::SchemaWithoutPostgres)) => {
            Err(CliError::usage(e.to_string()))
        }
        Err(e) => Err(CliError::runtime(e.to_string())),
    }
}

async fn keys(
    url: &str,
    schema: Option<&str>,
    format: KeyFormat,
    command: KeysCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    // Validate everything that needs no database before opening it.
    let store = open_store(url, schema).await?;
    let keyward = Keyward::builder(format, demo_catalog())
        .shared_store(store)
        .hasher(BcryptHasher::default())
        .without_rate_limits()
        .without_lockout()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let service = keyward.keys();
    match command {
        KeysCommand::Create(args) => create(&service, args, out).await,
        KeysCommand::List(flag) => list(&service, flag.json, out).await,
        KeysCommand::Show(args) => {
            let id = parse_id(&args.id)?;
            let summary = service
                .get(&id)
                .await
                .map_err(|e| service_error(e, Some(&args.id)))?;
            print_summary(&summary, args.json.json, out)
        }
        KeysCommand::Revoke(args) => {
            let id = parse_id(&args.id)?;
            let summary = service
                .revoke(&id)
                .await
                .map_err(|e| service_error(e, Some(&args.id)))?;
            print_summary(&summary, args.json.json, out)
        }
        KeysCommand::Roll(args) => {
            let id = parse_id(&args.id)?;
            let grace = parse_duration(&args.grace)?;
            let rolled = service
                .roll(&id, grace)
                .await
                .map_err(|e| service_error(e, Some(&args.id)))?;
            if args.json.json {
                let value = serde_json::json!({
                    "new": new_key_json(&rolled.new)?,
                    "old": to_json(&rolled.old)?,
                });
                write_json(&value, out)
            } else {
                warn_once();
                w(
                    out,
                    format_args!(
                        "{}\nnew key id: {}\nold key {} expires {}\n",
                        rolled.new.key.expose(),
                        rolled.new.summary.id,
                        rolled.old.id,
                        show_time(rolled.old.expires_at)
                    ),
                )
            }
        }
    }
}

async fn create(
    service: &KeyService,
    args: CreateArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut request = MintRequest::new(args.name, args.owner);
    if !args.capabilities.is_empty() {
        request = request.capabilities(args.capabilities);
    }
    if let Some(expires_in) = &args.expires_in {
        request = request.expires_in(parse_duration(expires_in)?);
    }
    if let Some(tenant) = &args.tenant {
        request = request.tenant(parse_tenant(tenant)?);
    }
    let minted = service
        .mint(request)
        .await
        .map_err(|e| service_error(e, None))?;
    warn_once();
    if args.json.json {
        write_json(&new_key_json(&minted)?, out)
    } else {
        w(
            out,
            format_args!(
                "{}\nid: {}  capabilities: {}  expires: {}\n",
                minted.key.expose(),
                minted.summary.id,
                minted.summary.capabilities.join(","),
                show_time(minted.summary.expires_at)
            ),
        )
    }
}

fn warn_once() {
    eprintln!("warning: this key is shown once and cannot be recovered; store it now");
}

async fn list(service: &KeyService, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let mut keys = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let got = service
            .list(&ListFilter::all(), page)
            .await
            .map_err(|e| service_error(e, None))?;
        keys.extend(got.keys);
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    if json {
        let values = keys.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
        return write_json(&serde_json::Value::Array(values), out);
    }
    let header = [
        "ID",
        "NAME",
        "KEY",
        "CAPABILITIES",
        "CREATED",
        "LAST USED",
        "EXPIRES",
        "STATE",
    ];
    let rows: Vec<[String; 8]> = keys
        .iter()
        .map(|k| {
            [
                k.id.to_string(),
                k.name.clone(),
                format!("{}…{}", k.key_prefix, k.last4),
                k.capabilities.join(","),
                k.created_at.to_string(),
                show_time(k.last_used_at),
                show_time(k.expires_at),
                k.state.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, width)| format!("{c:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    w(out, format_args!("{}\n", line(&header)))?;
    for row in &rows {
        w(out, format_args!("{}\n", line(row)))?;
    }
    Ok(())
}

fn print_summary(summary: &KeySummary, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    if json {
        return write_json(&to_json(summary)?, out);
    }
    let tenant = summary
        .tenant
        .as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string);
    w(
        out,
        format_args!(
            "id:           {}\nname:         {}\nkey:          {}…{}\nowner:        {}\ntenant:       {}\ncapabilities: {}\ncreated:      {}\nlast used:    {}\nexpires:      {}\nrevoked:      {}\nstate:        {}\n",
            summary.id,
            summary.name,
            summary.key_prefix,
            summary.last4,
            summary.owner,
            tenant,
            summary.capabilities.join(","),
            summary.created_at,
            show_time(summary.last_used_at),
            show_time(summary.expires_at),
            show_time(summary.revoked_at),
            summary.state,
        ),
    )
}

fn show_time(t: Option<keyward::clock::Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.to_string())
}

fn to_json(summary: &KeySummary) -> Result<serde_json::Value, CliError> {
    serde_json::to_value(summary).map_err(|e| CliError::runtime(format!("json: {e}")))
}

/// The one JSON value that carries a full key.
fn new_key_json(new: &NewKey) -> Result<serde_json::Value, CliError> {
    let mut value = to_json(&new.summary)?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("key".to_owned(), new.key.expose().into());
    }
    Ok(value)
}

fn write_json(value: &serde_json::Value, out: &mut dyn Write) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::runtime(format!("json: {e}")))?;
    w(out, format_args!("{text}\n"))
}

fn w(out: &mut dyn Write, args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    out.write_fmt(args)
        .map_err(|e| CliError::runtime(format!("cannot write output: {e}")))
}

/// How many leading bytes decide whether a file is binary (a NUL byte among them).
const BINARY_SNIFF: usize = 8 * 1024;

fn scan(scanner: Scanner, paths: &[PathBuf], out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let mut found = 0usize;
    if paths.is_empty() {
        let mut text = Vec::new();
        std::io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| CliError::runtime(format!("cannot read stdin: {e}")))?;
        found += scan_text(&scanner, "<stdin>", &text, out)?;
    } else {
        for path in paths {
            let meta = std::fs::metadata(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            if meta.is_dir() {
                found += scan_dir(&scanner, path, out)?;
            } else {
                found += scan_file(&scanner, path, out)?;
            }
        }
    }
    Ok(if found > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn scan_dir(scanner: &Scanner, dir: &Path, out: &mut dyn Write) -> Result<usize, CliError> {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).collect(),
        Err(e) => {
            eprintln!("warning: cannot read {}: {e}", dir.display());
            return Ok(0);
        }
    };
    entries.sort_by_key(|e| e.file_name());
    let mut found = 0;
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                found += scan_dir(scanner, &path, out)?;
            }
        } else if kind.is_file() {
            found += scan_file(scanner, &path, out)?;
        }
    }
    Ok(found)
}

fn scan_file(scanner: &Scanner, path: &Path, out: &mut dyn Write) -> Result<usize, CliError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("warning: cannot read {}: {e}", path.display());
            return Ok(0);
        }
    };
    if text[..text.len().min(BINARY_SNIFF)].contains(&0) {
        return Ok(0);
    }
    scan_text(scanner, &path.display().to_string(), &text, out)
}

/// Reports every key in `text` as `label:line:column: masked`; returns how many.
fn scan_text(
    scanner: &Scanner,
    label: &str,
    text: &[u8],
    out: &mut dyn Write,
) -> Result<usize, CliError> {
    let mut found = 0;
    let (mut line, mut line_start, mut counted_to) = (1usize, 0usize, 0usize);
    for hit in scanner.scan(text) {
        for (i, &b) in text[counted_to..hit.offset].iter().enumerate() {
            if b == b'\n' {
                line += 1;
                line_start = counted_to + i + 1;
            }
        }
        counted_to = hit.offset;
        let column = hit.offset - line_start + 1;
        w(
            out,
            format_args!("{label}:{line}:{column}: {}\n", hit.masked),
        )?;
        found += 1;
    }
    Ok(found)
}
