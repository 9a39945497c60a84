//! [`KeyColumns`]: a [`KeyRecord`] as the flat columns a SQL store keeps, and back;
//! [`AuditColumns`]: the same for an [`AuditEntry`] of the audit log.
//!
//! Every SQL store (SQLite, PostgreSQL) keeps the same columns: timestamps as unix
//! milliseconds, the tenant as two nullable columns, the rate-limit override as a limit
//! and a period in milliseconds, the IP allowlist as network strings, a roll's
//! replacement as its key id. Only the encoding
//! of the list columns and the binding to the driver differ, so the pairing rules and
//! the checks of what comes back from disk live here once.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_format::KeyId;

use crate::audit::{Actor, AuditAction, AuditEntry};
use crate::error::StoreError;
use crate::record::{KeyRecord, RateLimitOverride, Tenant};

/// One key as columns, owned: what a store binds on insert and reads back on select.
///
/// ```
/// use keyward_store::columns::KeyColumns;
/// use keyward_testing::store_conformance::{fresh_id, sample_record};
/// use keyward_clock::Timestamp;
///
/// let record = sample_record(fresh_id(), "u_1", Timestamp::from_unix_millis(1_000));
/// let columns = KeyColumns::of(&record);
/// assert_eq!(columns.created_at, 1_000);
/// assert_eq!(columns.into_record()?, record);
/// # Ok::<(), keyward_store::StoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumns {
    /// `id`: the key id.
    pub id: String,
    /// `prefix`.
    pub prefix: String,
    /// `last4`.
    pub last4: String,
    /// `name`.
    pub name: String,
    /// `owner`.
    pub owner: String,
    /// `tenant_team`: set together with `tenant_project`, or neither.
    pub tenant_team: Option<String>,
    /// `tenant_project`.
    pub tenant_project: Option<String>,
    /// `capabilities`: granted names.
    pub capabilities: Vec<String>,
    /// `created_at`, unix milliseconds.
    pub created_at: i64,
    /// `expires_at`, unix milliseconds.
    pub expires_at: Option<i64>,
    /// `last_used_at`, unix milliseconds.
    pub last_used_at: Option<i64>,
    /// `revoked_at`, unix milliseconds.
    pub revoked_at: Option<i64>,
    /// `disabled_at`, unix milliseconds.
    pub disabled_at: Option<i64>,
    /// `replaced_by`: the id of the key that replaced this one in a roll.
    pub replaced_by: Option<String>,
    /// `hash`: the self-describing slow hash.
    pub hash: String,
    /// `metadata` (stores keep it as JSON).
    pub metadata: BTreeMap<String, String>,
    /// `rate_limit`: set together with `rate_period_ms`, or neither.
    pub rate_limit: Option<i64>,
    /// `rate_period_ms`.
    pub rate_period_ms: Option<i64>,
    /// `ip_allowlist`: networks in CIDR form.
    pub ip_allowlist: Vec<String>,
    /// `honeytoken`: a decoy key.
    pub honeytoken: bool,
    /// `used_capabilities`: names observed in use (encoded as `capabilities` is).
    pub used_capabilities: Vec<String>,
    /// `usage_since`, unix milliseconds.
    pub usage_since: Option<i64>,
}

impl KeyColumns {
    /// The columns of `record`.
    pub fn of(record: &KeyRecord) -> KeyColumns {
        let (tenant_team, tenant_project) = match &record.tenant {
            Some(t) => (Some(t.team.clone()), Some(t.project.clone())),
            None => (None, None),
        };
        let (rate_limit, rate_period_ms) = match record.rate_limit {
            Some(rl) => (
                Some(i64::from(rl.limit)),
                Some(i64::try_from(rl.period.as_millis()).unwrap_or(i64::MAX)),
            ),
            None => (None, None),
        };
        KeyColumns {
            id: record.id.as_str().to_owned(),
            prefix: record.prefix.clone(),
            last4: record.last4.clone(),
            name: record.name.clone(),
            owner: record.owner.clone(),
            tenant_team,
            tenant_project,
            capabilities: record.capabilities.clone(),
            created_at: millis(record.created_at),
            expires_at: record.expires_at.map(millis),
            last_used_at: record.last_used_at.map(millis),
            revoked_at: record.revoked_at.map(millis),
            disabled_at: record.disabled_at.map(millis),
            replaced_by: record.replaced_by.map(|id| id.as_str().to_owned()),
            hash: record.hash.clone(),
            metadata: record.metadata.clone(),
            rate_limit,
            rate_period_ms,
            ip_allowlist: record
                .ip_allowlist
                .iter()
                .map(ToString::to_string)
                .collect(),
            honeytoken: record.honeytoken,
            used_capabilities: record.used_capabilities.clone(),
            usage_since: record.usage_since.map(millis),
        }
    }

    /// The record these columns hold.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] naming the column: an id that does not parse, half a
    /// tenant or half a rate limit, a negative timestamp, a network that does not parse.
    pub fn into_record(self) -> Result<KeyRecord, StoreError> {
        let id = KeyId::parse(&self.id).map_err(|e| corrupt("id", e))?;
        let tenant = match (self.tenant_team, self.tenant_project) {
            (Some(team), Some(project)) => Some(Tenant { team, project }),
            (None, None) => None,
            _ => return Err(corrupt("tenant", "team and project must both be set")),
        };
        let rate_limit = match (self.rate_limit, self.rate_period_ms) {
            (Some(limit), Some(period)) => Some(RateLimitOverride {
                limit: u32::try_from(limit).map_err(|e| corrupt("rate_limit", e))?,
                period: Duration::from_millis(
                    u64::try_from(period).map_err(|e| corrupt("rate_period_ms", e))?,
                ),
            }),
            (None, None) => None,
            _ => return Err(corrupt("rate_limit", "limit and period must both be set")),
        };
        let ip_allowlist = self
            .ip_allowlist
            .iter()
            .map(|n| n.parse::<ipnet::IpNet>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt("ip_allowlist", e))?;
        let replaced_by = self
            .replaced_by
            .as_deref()
            .map(KeyId::parse)
            .transpose()
            .map_err(|e| corrupt("replaced_by", e))?;
        let optional = |column, value: Option<i64>| value.map(|v| timestamp(column, v)).transpose();
        Ok(KeyRecord {
            id,
            prefix: self.prefix,
            last4: self.last4,
            name: self.name,
            owner: self.owner,
            tenant,
            capabilities: self.capabilities,
            created_at: timestamp("created_at", self.created_at)?,
            expires_at: optional("expires_at", self.expires_at)?,
            last_used_at: optional("last_used_at", self.last_used_at)?,
            revoked_at: optional("revoked_at", self.revoked_at)?,
            disabled_at: optional("disabled_at", self.disabled_at)?,
            replaced_by,
            hash: self.hash,
            metadata: self.metadata,
            rate_limit,
            ip_allowlist,
            honeytoken: self.honeytoken,
            used_capabilities: self.used_capabilities,
            usage_since: optional("usage_since", self.usage_since)?,
        })
    }
}

/// One audit entry as columns: what a store binds on append and reads back.
///
/// Timestamps and capabilities are encoded as in [`KeyColumns`]; the action and the
/// actor's kind by their stored names ([`AuditAction::as_str`], [`Actor::kind`]); the
/// client address as text; the note cut by [`AuditEntry::stored_note`].
///
/// ```
/// use keyward_clock::Timestamp;
/// use keyward_store::columns::AuditColumns;
/// use keyward_store::{Actor, AuditAction, AuditEntry};
/// use keyward_testing::store_conformance::fresh_id;
///
/// let mut entry = AuditEntry::new(
///     Timestamp::from_unix_millis(1_000),
///     AuditAction::Revoked,
///     fresh_id(),
///     Actor::User("ada".into()),
/// );
/// let columns = AuditColumns::of(&entry);
/// assert_eq!((columns.action.as_str(), columns.actor_kind.as_str()), ("revoked", "user"));
/// entry.seq = 7;
/// assert_eq!(AuditColumns { seq: 7, ..columns }.into_entry()?, entry);
/// # Ok::<(), keyward_store::StoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditColumns {
    /// `seq`: assigned by the store on append (the value bound is ignored).
    pub seq: i64,
    /// `at`, unix milliseconds.
    pub at: i64,
    /// `action`: [`AuditAction::as_str`].
    pub action: String,
    /// `key_id`: the key acted on.
    pub key_id: String,
    /// `actor_kind`: [`Actor::kind`].
    pub actor_kind: String,
    /// `actor_id`: [`Actor::id`] of the [`stored`](Actor::stored) actor, for the kinds that
    /// have one.
    pub actor_id: Option<String>,
    /// `client_ip`: the address as text.
    pub client_ip: Option<String>,
    /// `capabilities`: granted names.
    pub capabilities: Vec<String>,
    /// `replacement`: a roll's new key id.
    pub replacement: Option<String>,
    /// `note`: at most [`AuditEntry::MAX_NOTE_LEN`] bytes.
    pub note: Option<String>,
}

impl AuditColumns {
    /// The columns of `entry`, its note cut to the stored length.
    pub fn of(entry: &AuditEntry) -> AuditColumns {
        AuditColumns {
            seq: i64::try_from(entry.seq).unwrap_or(i64::MAX),
            at: millis(entry.at),
            action: entry.action.as_str().to_owned(),
            key_id: entry.key.as_str().to_owned(),
            actor_kind: entry.actor.kind().to_owned(),
            actor_id: entry.actor.stored().id(),
            client_ip: entry.client_ip.map(|ip| ip.to_string()),
            capabilities: entry.capabilities.clone(),
            replacement: entry.replacement.map(|id| id.as_str().to_owned()),
            note: entry.stored_note().map(String::from),
        }
    }

    /// The entry these columns hold.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] naming the column: a negative `seq` or `at`, an action or
    /// actor no version of keyward writes, an id or address that does not parse.
    pub fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let seq = u64::try_from(self.seq).map_err(|e| corrupt("seq", e))?;
        let action = AuditAction::from_name(&self.action)
            .ok_or_else(|| corrupt("action", format!("unknown action {:?}", self.action)))?;
        let key = KeyId::parse(&self.key_id).map_err(|e| corrupt("key_id", e))?;
        let actor =
            Actor::from_parts(&self.actor_kind, self.actor_id.as_deref()).ok_or_else(|| {
                corrupt(
                    "actor_kind",
                    format!(
                        "unknown actor {:?} with {}",
                        self.actor_kind,
                        if self.actor_id.is_some() {
                            "an id (not a valid one for this kind)"
                        } else {
                            "no id"
                        }
                    ),
                )
            })?;
        let client_ip = self
            .client_ip
            .as_deref()
            .map(str::parse::<IpAddr>)
            .transpose()
            .map_err(|e| corrupt("client_ip", e))?;
        let replacement = self
            .replacement
            .as_deref()
            .map(KeyId::parse)
            .transpose()
            .map_err(|e| corrupt("replacement", e))?;
        Ok(AuditEntry {
            seq,
            at: timestamp("at", self.at)?,
            action,
            key,
            actor,
            client_ip,
            capabilities: self.capabilities,
            replacement,
            note: self.note,
        })
    }
}

/// A sequence number as a column compares it: `after_seq` past `i64::MAX` selects
/// nothing, as it should.
pub fn seq_bound(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// A timestamp as the unix milliseconds a column holds (saturating).
pub fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.as_unix_millis()).unwrap_or(i64::MAX)
}

/// The timestamp in `column`; a negative value is a corrupt row.
///
/// # Errors
///
/// [`StoreError::Corrupt`] for a negative value.
pub fn timestamp(column: &str, value: i64) -> Result<Timestamp, StoreError> {
    u64::try_from(value)
        .map(Timestamp::from_unix_millis)
        .map_err(|e| corrupt(column, e))
}

/// A row whose `column` does not decode.
pub fn corrupt(column: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{column}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::{fresh_id, sample_record};

    #[test]
    fn half_pairs_and_bad_values_are_corrupt_and_name_the_column() {
        let good = KeyColumns::of(&sample_record(
            fresh_id(),
            "o",
            Timestamp::from_unix_millis(5),
        ));
        type Spoil = fn(&mut KeyColumns);
        let cases: [(&str, Spoil); 7] = [
            ("id", |c| c.id = "short".into()),
            ("replaced_by", |c| c.replaced_by = Some("short".into())),
            ("tenant", |c| {
                c.tenant_team = Some("t".into());
                c.tenant_project = None;
            }),
            ("rate_limit", |c| {
                c.rate_limit = Some(5);
                c.rate_period_ms = None;
            }),
            ("created_at", |c| c.created_at = -1),
            ("usage_since", |c| c.usage_since = Some(-1)),
            ("ip_allowlist", |c| {
                c.ip_allowlist = vec!["10.0.0.0/99".into()]
            }),
        ];
        for (column, spoil) in cases {
            let mut columns = good.clone();
            spoil(&mut columns);
            match columns.into_record() {
                Err(StoreError::Corrupt(why)) => assert!(why.starts_with(column), "{why}"),
                other => panic!("{column}: {other:?}"),
            }
        }
    }

    #[test]
    fn audit_values_no_keyward_writes_are_corrupt_and_name_the_column() {
        let mut entry = AuditEntry::new(
            Timestamp::from_unix_millis(5),
            AuditAction::Rolled,
            fresh_id(),
            Actor::Key(fresh_id()),
        );
        entry.replacement = Some(fresh_id());
        let good = AuditColumns::of(&entry);
        assert_eq!(good.clone().into_entry().unwrap(), entry);
        type Spoil = fn(&mut AuditColumns);
        let cases: [(&str, Spoil); 9] = [
            ("seq", |c| c.seq = -1),
            ("at", |c| c.at = -1),
            ("action", |c| c.action = "exploded".into()),
            ("key_id", |c| c.key_id = "short".into()),
            ("actor_kind", |c| c.actor_kind = "robot".into()),
            ("actor_kind", |c| c.actor_id = None),
            ("actor_kind", |c| c.actor_id = Some("short".into())),
            ("client_ip", |c| c.client_ip = Some("10.0.0.256".into())),
            ("replacement", |c| c.replacement = Some("short".into())),
        ];
        for (column, spoil) in cases {
            let mut columns = good.clone();
            spoil(&mut columns);
            match columns.into_entry() {
                Err(StoreError::Corrupt(why)) => assert!(why.starts_with(column), "{why}"),
                other => panic!("{column}: {other:?}"),
            }
        }
    }

    #[test]
    fn audit_columns_keep_the_stored_note() {
        let mut entry = AuditEntry::new(
            Timestamp::from_unix_millis(5),
            AuditAction::Leaked,
            fresh_id(),
            Actor::Automatic,
        );
        entry.note = Some("é".repeat(AuditEntry::MAX_NOTE_LEN));
        let note = AuditColumns::of(&entry).note.unwrap();
        assert_eq!(note.len(), AuditEntry::MAX_NOTE_LEN);
        assert_eq!(Some(note.as_str()), entry.stored_note().as_deref());
    }
}
