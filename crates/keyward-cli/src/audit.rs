//! `keyward audit`: the store's audit log (who created, rolled, revoked which key,
//! when and from where), as a table or JSON.

use std::collections::VecDeque;
use std::io::Write;

use keyward::clock::{Clock, SystemClock, Timestamp};
use keyward::format::KeyId;
use keyward::store::{AuditEntry, AuditQuery, KeyStore, StoreError};

use crate::args::{AuditArgs, parse_duration, parse_id};
use crate::table::{GAP, WIDTH, column_widths, cut, line};
use crate::{CliError, w};

/// What `keyward audit` lists: the last `limit` entries about `key` (when given) at
/// or after `since` (when given).
#[derive(Debug)]
pub(crate) struct AuditListing {
    key: Option<KeyId>,
    since: Option<Timestamp>,
    limit: usize,
}

impl AuditListing {
    /// From the command line, with `now` for `--since`; malformed input is a usage
    /// error (exit 2).
    pub(crate) fn from_args(args: &AuditArgs, now: Timestamp) -> Result<Self, CliError> {
        let key = args.key.as_deref().map(parse_id).transpose()?;
        let since = args
            .since
            .as_deref()
            .map(|text| parse_duration(text).map(|d| now.saturating_sub(d)))
            .transpose()?;
        Ok(AuditListing {
            key,
            since,
            limit: usize::try_from(args.limit).unwrap_or(usize::MAX),
        })
    }

    /// Pages through every matching entry (oldest first) and keeps the last `limit`,
    /// so the default shows what happened most recently.
    pub(crate) async fn read(&self, store: &dyn KeyStore) -> Result<Vec<AuditEntry>, CliError> {
        let mut kept = VecDeque::new();
        let mut query = AuditQuery {
            key: self.key,
            since: self.since,
            after_seq: None,
            limit: AuditQuery::MAX_LIMIT,
        };
        loop {
            let page = store.list_audit(&query).await.map_err(audit_error)?;
            let full = page.len() >= AuditQuery::MAX_LIMIT as usize;
            query.after_seq = page.last().map(|entry| entry.seq);
            for entry in page {
                if kept.len() == self.limit {
                    kept.pop_front();
                }
                kept.push_back(entry);
            }
            if !full || query.after_seq.is_none() {
                break;
            }
        }
        Ok(kept.into())
    }
}

/// Runs `keyward audit` against `store`.
pub(crate) async fn run(
    store: &dyn KeyStore,
    args: &AuditArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let listing = AuditListing::from_args(args, SystemClock.now())?;
    let entries = listing.read(store).await?;
    if args.json {
        let values: Vec<serde_json::Value> = entries.iter().map(to_json).collect();
        let text = serde_json::to_string_pretty(&serde_json::Value::Array(values))
            .map_err(|e| CliError::runtime(format!("json: {e}")))?;
        return w(out, format_args!("{text}\n"));
    }
    let lines = if args.wide {
        wide(&entries)
    } else {
        narrow(&entries)
    };
    for line in lines {
        w(out, format_args!("{line}\n"))?;
    }
    Ok(())
}

/// A store without an audit log says so plainly; other failures as the store words them.
fn audit_error(e: StoreError) -> CliError {
    match e {
        StoreError::Unsupported(_) => CliError::runtime(
            "this key store keeps no audit log; the SQLite and PostgreSQL stores keep one",
        ),
        StoreError::InvalidRequest(message) => CliError::usage(message),
        e => CliError::runtime(e.to_string()),
    }
}

/// One entry as JSON: `{seq, at, action, key_id, actor: {kind, id}, client_ip,
/// capabilities, replacement, note}`.
pub(crate) fn to_json(entry: &AuditEntry) -> serde_json::Value {
    serde_json::json!({
        "seq": entry.seq,
        "at": entry.at.to_string(),
        "action": entry.action.as_str(),
        "key_id": entry.key.to_string(),
        "actor": { "kind": entry.actor.kind(), "id": entry.actor.id() },
        "client_ip": entry.client_ip.map(|ip| ip.to_string()),
        "capabilities": entry.capabilities,
        "replacement": entry.replacement.map(|id| id.to_string()),
        "note": entry.note,
    })
}

/// The narrowest the capabilities column gets, however wide the others are.
const MIN_CAPABILITIES: usize = 12;

/// The widest the actor column gets in the default table (a user id can be long);
/// `key:<id>` fits.
const MAX_ACTOR: usize = 17;

/// The widest the address column gets in the default table: an IPv4 address fits, a
/// long IPv6 one is cut (`--wide` and `--json` show it whole).
const MAX_IP: usize = 16;

/// The default table: time, action, key, actor, client address and capabilities, in
/// 100 columns: a long actor or address is cut with `…`, and the capabilities to what
/// the row leaves.
pub(crate) fn narrow(entries: &[AuditEntry]) -> Vec<String> {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            [
                e.at.to_string(),
                e.action.to_string(),
                e.key.to_string(),
                cut(&e.actor.to_string(), MAX_ACTOR),
                cut(
                    &e.client_ip
                        .map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
                    MAX_IP,
                ),
                capabilities(e),
            ]
        })
        .collect();
    let header = ["TIME", "ACTION", "KEY", "ACTOR", "IP", "CAPABILITIES"].map(str::to_owned);
    let mut widths = column_widths(&header, &rows);
    const CAPABILITIES: usize = 5;
    let others: usize = widths[..CAPABILITIES].iter().map(|w| w + GAP.len()).sum();
    widths[CAPABILITIES] =
        widths[CAPABILITIES].min(WIDTH.saturating_sub(others).max(MIN_CAPABILITIES));
    let mut lines = vec![line(&header, &widths)];
    for mut row in rows {
        row[CAPABILITIES] = cut(&row[CAPABILITIES], widths[CAPABILITIES]);
        lines.push(line(&row, &widths));
    }
    lines
}

/// `--wide`: every field, each column as wide as its widest cell.
pub(crate) fn wide(entries: &[AuditEntry]) -> Vec<String> {
    let rows: Vec<[String; 9]> = entries
        .iter()
        .map(|e| {
            [
                e.seq.to_string(),
                e.at.to_string(),
                e.action.to_string(),
                e.key.to_string(),
                e.replacement
                    .map_or_else(|| "-".to_owned(), |id| id.to_string()),
                e.actor.to_string(),
                e.client_ip
                    .map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
                capabilities(e),
                e.note.as_deref().map_or_else(|| "-".to_owned(), printable),
            ]
        })
        .collect();
    let header = [
        "SEQ",
        "TIME",
        "ACTION",
        "KEY",
        "REPLACEMENT",
        "ACTOR",
        "IP",
        "CAPABILITIES",
        "NOTE",
    ]
    .map(str::to_owned);
    let widths = column_widths(&header, &rows);
    let mut lines = vec![line(&header, &widths)];
    lines.extend(rows.iter().map(|row| line(row, &widths)));
    lines
}

fn capabilities(entry: &AuditEntry) -> String {
    if entry.capabilities.is_empty() {
        "-".to_owned()
    } else {
        entry.capabilities.join(",")
    }
}

/// A note on one line: control characters (a newline in a user agent) escaped, so a
/// note cannot forge table rows.
fn printable(note: &str) -> String {
    note.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward::store::{Actor, AuditAction};

    fn id(s: &str) -> KeyId {
        KeyId::parse(s).unwrap()
    }

    fn entry(seq: u64, action: AuditAction) -> AuditEntry {
        let mut entry = AuditEntry::new(
            Timestamp::from_unix_seconds(1_738_324_800),
            action,
            id("AbCd12345678"),
            Actor::Cli,
        );
        entry.seq = seq;
        entry
    }

    #[test]
    fn json_has_every_field() {
        let mut rolled = entry(7, AuditAction::Rolled);
        rolled.replacement = Some(id("EfGh12345678"));
        rolled.capabilities = vec!["jobs:read".to_owned()];
        rolled.client_ip = Some("192.0.2.1".parse().unwrap());
        rolled.actor = Actor::User("u_1".to_owned());
        rolled.note = Some("rotation".to_owned());
        assert_eq!(
            to_json(&rolled),
            serde_json::json!({
                "seq": 7,
                "at": "2025-01-31T12:00:00Z",
                "action": "rolled",
                "key_id": "AbCd12345678",
                "actor": {"kind": "user", "id": "u_1"},
                "client_ip": "192.0.2.1",
                "capabilities": ["jobs:read"],
                "replacement": "EfGh12345678",
                "note": "rotation",
            })
        );
        let plain = to_json(&entry(1, AuditAction::Revoked));
        assert_eq!(
            plain["actor"],
            serde_json::json!({"kind": "cli", "id": null})
        );
        assert!(plain["client_ip"].is_null() && plain["replacement"].is_null());
    }

    #[test]
    fn the_narrow_table_fits_100_columns_and_cuts_capabilities() {
        let mut minted = entry(1, AuditAction::Minted);
        minted.capabilities = (0..20).map(|i| format!("service{i}:write")).collect();
        minted.client_ip = Some("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap());
        minted.actor = Actor::User("a-very-long-user-identifier-from-sso".to_owned());
        let lines = narrow(&[minted]);
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{lines:#?}"
        );
        assert!(lines[1].ends_with('…'), "{}", lines[1]);
        assert!(
            lines[1].contains(" user:a-very-long…  2001:db8:ffff:f…  "),
            "{}",
            lines[1]
        );
        let wide = wide(&[entry(1, AuditAction::Minted)]);
        assert!(wide[0].starts_with("SEQ"), "{}", wide[0]);
    }

    #[test]
    fn notes_cannot_break_a_row() {
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
    }

    #[test]
    fn a_store_without_an_audit_log_is_a_clear_error() {
        let e = audit_error(StoreError::Unsupported("audit log"));
        assert_eq!(
            e.message(),
            "this key store keeps no audit log; the SQLite and PostgreSQL stores keep one"
        );
        assert_eq!(e.exit_code(), std::process::ExitCode::from(1));
    }
}
