//! `scan`: reports keys of the configured format found in files, directories or stdin.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyward::format::Scanner;

use crate::{CliError, w};

/// How many leading bytes decide whether a file is binary (a NUL byte among them).
const BINARY_SNIFF: usize = 8 * 1024;

/// Scans `paths` (stdin when empty); exit 1 when any key is found.
pub(crate) fn run(
    scanner: Scanner,
    paths: &[PathBuf],
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
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

/// Scans a directory tree in name order, skipping `.git`; unreadable entries are
/// warned about and skipped.
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

/// Scans one file unless it looks binary.
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
