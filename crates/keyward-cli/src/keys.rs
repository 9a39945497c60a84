//! The `keys` subcommands: mint, list, show, revoke, roll and usage against a database.

use std::io::Write;
use std::sync::Arc;

use keyward::clock::{Clock, SystemClock, Timestamp};
use keyward::format::KeyFormat;
use keyward::store::{Actor, KeyState, KeyStore, ListFilter, PageRequest};
use keyward::{ConfigFile, KeyService, KeySummary, KeyUsage, Keyward, MintRequest, NewKey};

use crate::args::{
    CreateArgs, IdArgs, KeysCommand, ListArgs, Narrowing, RollArgs, parse_duration, parse_id,
    parse_narrowing, parse_tenant,
};
use crate::error::service_error;
use crate::table::{self, time};
use crate::{CliError, Database, DatabaseError, w};

/// Opens the database the command line names as a key store.
pub(crate) async fn open_store(
    url: &str,
    schema: Option<&str>,
) -> Result<Arc<dyn KeyStore>, CliError> {
    match Database::open(url, schema).await {
        Ok(database) => Ok(database.store()),
        Err(DatabaseError::SchemaWithoutPostgres) => Err(CliError::usage(
            "--database-schema applies to postgres:// urls only",
        )),
        Err(e @ (DatabaseError::UnsupportedScheme(_) | DatabaseError::FeatureDisabled { .. })) => {
            Err(CliError::usage(e.to_string()))
        }
        Err(e) => Err(CliError::runtime(e.to_string())),
    }
}

/// Where the keys are: `--database-url` (or the configuration's) and `--database-schema`.
pub(crate) struct DatabaseArgs<'a> {
    /// The store URL.
    pub(crate) url: &'a str,
    /// The PostgreSQL schema.
    pub(crate) schema: Option<&'a str>,
}

/// Runs a `keys` subcommand against `database`, with the catalog and hasher of `file`
/// and keys of `format`.
pub(crate) async fn run(
    file: &ConfigFile,
    database: DatabaseArgs<'_>,
    format: KeyFormat,
    mut command: KeysCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    if let KeysCommand::Create(args) = &mut command {
        // Refused before the database is opened (and maybe created).
        args.owner = Some(owner_of(args, file)?);
    }
    let store = open_store(database.url, database.schema).await?;
    let keyward = Keyward::builder(format, file.catalog().clone())
        .shared_store(store)
        .hasher(file.hasher().hasher())
        // The file's lifecycle policies: a key minted here obeys `max_lifetime`.
        .config(file.config())
        .without_rate_limits()
        .without_lockout()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    // Every change made here is audited as the command line's.
    let service = keyward.keys().acting(Actor::Cli, None);
    match command {
        KeysCommand::Create(args) => create(&service, args, out, err).await,
        KeysCommand::List(args) => list(&service, &args, out).await,
        KeysCommand::Show(args) => {
            let summary = service
                .get(&parse_id(&args.id)?)
                .await
                .map_err(|e| service_error(e, Some(&args.id)))?;
            print_summary(&summary, args.json.json, out)
        }
        KeysCommand::Revoke(args) => {
            let summary = service
                .revoke(&parse_id(&args.id)?)
                .await
                .map_err(|e| service_error(e, Some(&args.id)))?;
            print_summary(&summary, args.json.json, out)
        }
        KeysCommand::Roll(args) => roll(&service, args, out, err).await,
        KeysCommand::Usage(args) => usage(&service, &args, out).await,
    }
}

/// `keys usage`: granted, used, since when, and the suggested grants.
async fn usage(service: &KeyService, args: &IdArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let usage = service
        .usage(&parse_id(&args.id)?)
        .await
        .map_err(|e| service_error(e, Some(&args.id)))?;
    if args.json.json {
        let value =
            serde_json::to_value(&usage).map_err(|e| CliError::runtime(format!("json: {e}")))?;
        return write_json(&value, out);
    }
    let list = |names: &[String]| match names {
        [] => "-".to_owned(),
        names => names.join(","),
    };
    w(
        out,
        format_args!(
            "granted:   {}\nused:      {}\nsince:     {}\nsuggested: {}\n",
            list(&usage.granted),
            list(&usage.used),
            time(usage.since),
            list(&usage.suggested),
        ),
    )?;
    if let Some(hint) = usage_hint(&usage, &args.id) {
        w(out, format_args!("{hint}\n"))?;
    }
    Ok(())
}

/// What to do about a report: roll to the suggestion when it is narrower.
fn usage_hint(usage: &KeyUsage, id: &str) -> Option<String> {
    if usage.suggested.is_empty() {
        return Some("no capability use recorded yet: nothing to narrow it to".to_owned());
    }
    (!usage.suggested.is_empty() && usage.suggested != usage.granted).then(|| {
        format!(
            "narrow it: keyward keys roll {id} --capabilities used (add --grace for a handover)"
        )
    })
}

/// `keys roll`: prints the replacement once, alone on stdout; on stderr, its id and when
/// the old key stops working.
async fn roll(
    service: &KeyService,
    args: RollArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    let id = parse_id(&args.id)?;
    let grace = parse_duration(&args.grace)?;
    let narrowing = args
        .capabilities
        .as_deref()
        .map(parse_narrowing)
        .transpose()?;
    let rolled = match narrowing {
        None => service.roll(&id, grace).await,
        Some(Narrowing::Used) => service.roll_to_used(&id, grace).await,
        Some(Narrowing::Names(names)) => service.roll_narrowed(&id, grace, &names).await,
    }
    .map_err(|e| service_error(e, Some(&args.id)))?;
    if args.json.json {
        let value = serde_json::json!({
            "new": new_key_json(&rolled.new)?,
            "old": to_json(&rolled.old)?,
        });
        write_json(&value, out)?;
        return warn_once(err);
    }
    w(out, format_args!("{}\n", rolled.new.key.expose()))?;
    w(
        err,
        format_args!(
            "new key id: {}  capabilities: {}\nold key {} expires {}\n",
            rolled.new.summary.id,
            rolled.new.summary.capabilities.join(","),
            rolled.old.id,
            time(rolled.old.expires_at)
        ),
    )?;
    warn_once(err)
}

/// `keys create`: prints the new key once, alone on stdout; on stderr, what it is.
async fn create(
    service: &KeyService,
    args: CreateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    // Set by `run`; an empty owner would be refused by the service.
    let owner = args.owner.unwrap_or_default();
    let mut request = MintRequest::new(args.name, owner);
    if !args.capabilities.is_empty() {
        request = request.capabilities(args.capabilities);
    }
    if let Some(expires_in) = &args.expires_in {
        request = request.expires_in(parse_duration(expires_in)?);
    }
    if let Some(tenant) = &args.tenant {
        request = request.tenant(parse_tenant(tenant)?);
    }
    if args.honeytoken {
        request = request.honeytoken();
    }
    let minted = service
        .mint(request)
        .await
        .map_err(|e| service_error(e, None))?;
    if args.json.json {
        write_json(&new_key_json(&minted)?, out)?;
        return warn_once(err);
    }
    w(out, format_args!("{}\n", minted.key.expose()))?;
    let summary = &minted.summary;
    w(
        err,
        format_args!(
            "id: {}  name: {}  capabilities: {}  expires: {}{}\n",
            summary.id,
            summary.name,
            summary.capabilities.join(","),
            time(summary.expires_at),
            if summary.honeytoken {
                "  (honeytoken)"
            } else {
                ""
            }
        ),
    )?;
    warn_once(err)
}

/// Who a new key acts for: `--owner` (or `KEYWARD_OWNER`), else the configuration's
/// `[cli] owner`.
fn owner_of(args: &CreateArgs, file: &ConfigFile) -> Result<String, CliError> {
    args.owner
        .clone()
        .or_else(|| file.cli_owner().map(str::to_owned))
        .ok_or_else(|| {
            CliError::usage(
                "keys create needs an owner: pass --owner ID (or set KEYWARD_OWNER), or set \
                 `owner` under [cli] in keyward.toml ([cli] owner)",
            )
        })
}

/// The plaintext is printed once: say so on stderr, where a pipe does not catch it.
fn warn_once(err: &mut dyn Write) -> Result<(), CliError> {
    w(
        err,
        format_args!("warning: this key is shown once and cannot be recovered; store it now\n"),
    )
}

/// `keys list`: every key (or those `--unused-for` / `--expiring-within` select),
/// oldest first, as JSON or a table.
async fn list(service: &KeyService, args: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let selection = Selection::from_args(args, SystemClock.now())?;
    let mut keys = all_keys(service).await?;
    keys.retain(|key| selection.keeps(key));
    if args.json.json {
        let values = keys.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
        return write_json(&serde_json::Value::Array(values), out);
    }
    let lines = if args.wide {
        table::wide(&keys)
    } else {
        table::narrow(&keys)
    };
    for line in lines {
        w(out, format_args!("{line}\n"))?;
    }
    Ok(())
}

/// Which keys `keys list` shows: all, or those its lifecycle filters select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Selection {
    /// Last used (or created, when never used) at or before this.
    idle_since: Option<Timestamp>,
    /// Expiring after `now` and at or before this.
    expiring_by: Option<Timestamp>,
    now: Timestamp,
}

impl Selection {
    fn from_args(args: &ListArgs, now: Timestamp) -> Result<Self, CliError> {
        let back = |text: &Option<String>| {
            text.as_deref()
                .map(|t| parse_duration(t).map(|d| now.saturating_sub(d)))
                .transpose()
        };
        let ahead = |text: &Option<String>| {
            text.as_deref()
                .map(|t| parse_duration(t).map(|d| now.saturating_add(d)))
                .transpose()
        };
        Ok(Selection {
            idle_since: back(&args.unused_for)?,
            expiring_by: ahead(&args.expiring_within)?,
            now,
        })
    }

    /// Whether `key` is listed. With a filter, a revoked key never is: these filters
    /// find keys to act on, and a revoked key needs nothing more.
    fn keeps(&self, key: &KeySummary) -> bool {
        if self.idle_since.is_none() && self.expiring_by.is_none() {
            return true;
        }
        if key.state == KeyState::Revoked {
            return false;
        }
        let idle = self
            .idle_since
            .is_none_or(|cutoff| key.last_used_at.unwrap_or(key.created_at) <= cutoff);
        let expiring = self.expiring_by.is_none_or(|by| {
            key.expires_at
                .is_some_and(|expires| expires > self.now && expires <= by)
        });
        idle && expiring
    }
}

/// Every key, page after page.
async fn all_keys(service: &KeyService) -> Result<Vec<KeySummary>, CliError> {
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
    Ok(keys)
}

/// `keys show` and `keys revoke`: one key, masked.
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
            time(summary.last_used_at),
            time(summary.expires_at),
            time(summary.revoked_at),
            table::state(summary),
        ),
    )
}

/// A key as JSON, masked.
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

/// Pretty JSON and a newline.
fn write_json(value: &serde_json::Value, out: &mut dyn Write) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::runtime(format!("json: {e}")))?;
    w(out, format_args!("{text}\n"))
}
