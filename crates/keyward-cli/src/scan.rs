//! `scan`: reports keys of the configured format found in files, directories or stdin;
//! with `--revoke`, revokes every one that is a live key of the store.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyward::format::{KeyFormat, MaskedKey, Scanner};
use keyward::store::Actor;
use keyward::{ConfigFile, Keyward};
use keyward_secret_scanning::{LeakCheck, Verdict};
use zeroize::Zeroizing;

use crate::args::ScanArgs;
use crate::keys::{DatabaseArgs, open_store};
use crate::{CliError, w};

/// How many leading bytes decide whether a file is binary (a NUL byte among them).
const BINARY_SNIFF: usize = 8 * 1024;

/// A key found, kept only with `--revoke`: the full key, to verify its secret.
struct Hit {
    /// `label:line:column`, the audit note.
    location: String,
    masked: MaskedKey,
    key: Zeroizing<String>,
}

/// What one scan gathers: how many keys, and with `--revoke` the keys themselves.
struct Findings {
    found: usize,
    /// The length of a key of the format scanned for.
    key_len: usize,
    /// `None` unless revoking.
    hits: Option<Vec<Hit>>,
}

/// Scans `args.paths` (stdin when empty); exit 1 when any key is found. With
/// `args.revoke`, then revokes each key found whose secret verifies in `database`,
/// audited as `leaked` by the command line with its location as the note.
pub(crate) fn run(
    file: &ConfigFile,
    format: KeyFormat,
    args: &ScanArgs,
    database: DatabaseArgs<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let scanner = Scanner::new(format.clone());
    let mut findings = Findings {
        found: 0,
        key_len: format.key_len(),
        hits: args.revoke.then(Vec::new),
    };
    if args.paths.is_empty() {
        let mut text = Vec::new();
        std::io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| CliError::runtime(format!("cannot read stdin: {e}")))?;
        scan_text(&scanner, "<stdin>", &text, &mut findings, out)?;
    } else {
        for path in &args.paths {
            let meta = std::fs::metadata(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            if meta.is_dir() {
                scan_dir(&scanner, path, &mut findings, out)?;
            } else {
                scan_file(&scanner, path, &mut findings, out)?;
            }
        }
    }
    if let Some(hits) = findings.hits.take() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
        runtime.block_on(revoke(file, format, database, &hits, err))?;
    }
    Ok(if findings.found > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Revokes every hit that is a live key of the store, saying on `err` what became of
/// each: `location: masked: revoked key ID`, `already revoked`, `names no key of this
/// store`, or `not checked`.
async fn revoke(
    file: &ConfigFile,
    format: KeyFormat,
    database: DatabaseArgs<'_>,
    hits: &[Hit],
    err: &mut dyn Write,
) -> Result<(), CliError> {
    let store = open_store(database.url, database.schema).await?;
    // The CLI's own keyward: no rate limit or lockout between it and its store.
    let keyward = Keyward::builder(format, file.catalog().clone())
        .shared_store(store)
        .hasher(file.hasher().hasher())
        .without_rate_limits()
        .without_lockout()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let check = LeakCheck::new(&keyward, Actor::Cli);
    let mut revoked = 0usize;
    for hit in hits {
        let (location, masked) = (&hit.location, &hit.masked);
        match check.check(&hit.key, Some(location)).await {
            Verdict::Revoked(summary) => {
                revoked += 1;
                w(
                    err,
                    format_args!("{location}: {masked}: revoked key {}\n", summary.id),
                )?;
            }
            Verdict::AlreadyRevoked(id) => w(
                err,
                format_args!("{location}: {masked}: key {id} was already revoked\n"),
            )?,
            Verdict::NotOurs => w(
                err,
                format_args!("{location}: {masked}: names no key of this store; left alone\n"),
            )?,
            Verdict::Undecided { .. } => w(
                err,
                format_args!("{location}: {masked}: could not be checked now; nothing changed\n"),
            )?,
        }
    }
    w(
        err,
        format_args!(
            "revoked {revoked} key{}\n",
            if revoked == 1 { "" } else { "s" }
        ),
    )
}

/// Scans a directory tree in name order, skipping `.git`; unreadable entries are
/// warned about and skipped.
fn scan_dir(
    scanner: &Scanner,
    dir: &Path,
    findings: &mut Findings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).collect(),
        Err(e) => {
            eprintln!("warning: cannot read {}: {e}", dir.display());
            return Ok(());
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path: PathBuf = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                scan_dir(scanner, &path, findings, out)?;
            }
        } else if kind.is_file() {
            scan_file(scanner, &path, findings, out)?;
        }
    }
    Ok(())
}

/// Scans one file unless it looks binary.
fn scan_file(
    scanner: &Scanner,
    path: &Path,
    findings: &mut Findings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let text = match std::fs::read(path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) => {
            eprintln!("warning: cannot read {}: {e}", path.display());
            return Ok(());
        }
    };
    if text[..text.len().min(BINARY_SNIFF)].contains(&0) {
        return Ok(());
    }
    scan_text(scanner, &path.display().to_string(), &text, findings, out)
}

/// Reports every key in `text` as `label:line:column: masked`.
fn scan_text(
    scanner: &Scanner,
    label: &str,
    text: &[u8],
    findings: &mut Findings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (mut line, mut line_start, mut counted_to) = (1usize, 0usize, 0usize);
    let key_len = findings.key_len;
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
        findings.found += 1;
        if let Some(hits) = &mut findings.hits {
            // The scanner reports only checksum-valid keys, which are ASCII.
            let key = String::from_utf8_lossy(&text[hit.offset..hit.offset + key_len]);
            hits.push(Hit {
                location: format!("{label}:{line}:{column}"),
                masked: hit.masked,
                key: Zeroizing::new(key.into_owned()),
            });
        }
    }
    Ok(())
}
