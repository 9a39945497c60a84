//! The JSON the management routes read and write. Each type derives its OpenAPI schema,
//! so the document in [`super::openapi`] describes exactly what is serialized.

use keyward_store::{AuditAction, AuditEntry, KeyState};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::error::ErrorCode;
use crate::{ExpiredReason, KeySummary, KeyUsage, NewKey, RolledKey};

/// A key as the management routes show it: masked, never its secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiKey {
    /// The public key id: the `{id}` of the routes.
    #[schema(example = "AbCd12345678")]
    pub id: String,
    /// A human name.
    pub name: String,
    /// The key's prefix and the first 4 characters of its id, to recognise it by.
    #[schema(example = "sk_live_AbCd")]
    pub key_prefix: String,
    /// The last 4 characters of the key.
    pub last4: String,
    /// Who the key acts for.
    pub owner: String,
    /// The team and project the key is bound to, `null` for none.
    #[schema(required = true)]
    pub tenant: Option<ApiKeyTenant>,
    /// The capabilities granted, sorted.
    pub capabilities: Vec<String>,
    /// When it was minted (RFC 3339, UTC, whole seconds).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was last used; recorded in batches, so up to a flush interval late.
    #[schema(format = DateTime, required = true)]
    pub last_used_at: Option<String>,
    /// When it expires.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
    /// When it was revoked.
    #[schema(format = DateTime, required = true)]
    pub revoked_at: Option<String>,
    /// When it was disabled.
    #[schema(format = DateTime, required = true)]
    pub disabled_at: Option<String>,
    /// The id of the key that replaced it in a roll.
    #[schema(required = true)]
    pub replaced_by: Option<String>,
    /// Whether it works now, and if not, why.
    pub state: ApiKeyState,
    /// When `state` is `expired`: `expires_at` passed, or the key went `unused` for the
    /// server's configured time; `null` otherwise.
    #[schema(required = true)]
    pub expired_reason: Option<ApiKeyExpiredReason>,
    /// A decoy key: it authenticates nothing, and presenting it raises an alert.
    pub honeytoken: bool,
}

impl From<&KeySummary> for ApiKey {
    fn from(key: &KeySummary) -> Self {
        ApiKey {
            id: key.id.as_str().to_owned(),
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            last4: key.last4.clone(),
            owner: key.owner.clone(),
            tenant: key.tenant.as_ref().map(|t| ApiKeyTenant {
                team: t.team.clone(),
                project: t.project.clone(),
            }),
            capabilities: key.capabilities.clone(),
            created_at: key.created_at.to_string(),
            last_used_at: key.last_used_at.map(|t| t.to_string()),
            expires_at: key.expires_at.map(|t| t.to_string()),
            revoked_at: key.revoked_at.map(|t| t.to_string()),
            disabled_at: key.disabled_at.map(|t| t.to_string()),
            replaced_by: key.replaced_by.map(|id| id.as_str().to_owned()),
            state: key.state.into(),
            expired_reason: key.expired_reason.map(Into::into),
            honeytoken: key.honeytoken,
        }
    }
}

/// Why a key is expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyExpiredReason {
    /// Its `expires_at` passed (for a rolled key: its grace ended).
    ExpiresAt,
    /// It was not used for the server's configured time.
    Unused,
}

impl From<ExpiredReason> for ApiKeyExpiredReason {
    fn from(reason: ExpiredReason) -> Self {
        match reason {
            ExpiredReason::ExpiresAt => ApiKeyExpiredReason::ExpiresAt,
            ExpiredReason::Unused => ApiKeyExpiredReason::Unused,
        }
    }
}

/// What a key was granted beside what its requests used, and the grants that use
/// suggests: `GET /api_keys/{id}/usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiKeyUsage {
    /// The capabilities granted, sorted.
    pub granted: Vec<String>,
    /// The capabilities its requests used, sorted: recorded in the store, and what the
    /// answering server saw and has not flushed yet.
    pub used: Vec<String>,
    /// Since when use is recorded (RFC 3339, UTC, whole seconds); `null` before any.
    #[schema(required = true, format = DateTime)]
    pub since: Option<String>,
    /// The fewest capabilities whose implications cover every used one: what a key
    /// doing the same work needs. Empty when nothing was used.
    pub suggested: Vec<String>,
}

impl From<&KeyUsage> for ApiKeyUsage {
    fn from(usage: &KeyUsage) -> Self {
        ApiKeyUsage {
            granted: usage.granted.clone(),
            used: usage.used.clone(),
            since: usage.since.map(|at| at.to_string()),
            suggested: usage.suggested.clone(),
        }
    }
}

/// One entry of a key's audit trail: who changed it, when and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditEvent {
    /// The entry's sequence number, increasing in the order entries were written: the
    /// `after` of the next page.
    pub seq: u64,
    /// When it happened (RFC 3339, UTC, whole seconds).
    #[schema(format = DateTime)]
    pub at: String,
    /// What was done: `minted`, `rolled`, `revoked`, `deleted`, `disabled`, `enabled`,
    /// `expiry_set`, `honeytoken` or `leaked`.
    #[schema(schema_with = action_schema)]
    pub action: String,
    /// The key it was done to (for `rolled`, the key rolled).
    #[schema(example = "AbCd12345678")]
    pub key_id: String,
    /// Who did it.
    pub actor: AuditActor,
    /// The client address the change came from, when known.
    #[schema(required = true)]
    pub client_ip: Option<String>,
    /// For `minted` and `rolled`, the capabilities the new key was granted; empty
    /// otherwise.
    pub capabilities: Vec<String>,
    /// For `rolled`, the replacement key's id.
    #[schema(required = true)]
    pub replacement: Option<String>,
    /// A short note (where a leaked key was found, the new expiry).
    #[schema(required = true)]
    pub note: Option<String>,
}

impl From<&AuditEntry> for AuditEvent {
    fn from(entry: &AuditEntry) -> Self {
        AuditEvent {
            seq: entry.seq,
            at: entry.at.to_string(),
            action: entry.action.as_str().to_owned(),
            key_id: entry.key.as_str().to_owned(),
            actor: AuditActor {
                kind: entry.actor.kind().to_owned(),
                id: entry.actor.id(),
            },
            client_ip: entry.client_ip.map(|ip| ip.to_string()),
            capabilities: entry.capabilities.clone(),
            replacement: entry.replacement.map(|id| id.as_str().to_owned()),
            note: entry.stored_note().map(String::from),
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditActor {
    /// `key` (an API key, through this API), `user` (a signed-in user, through a
    /// settings page), `cli`, `service` (the host service's own code) or `automatic`
    /// (keyward applying a policy).
    #[schema(schema_with = actor_kind_schema)]
    pub kind: String,
    /// The key id or user id, for `key` and `user`; `null` otherwise.
    #[schema(required = true)]
    pub id: Option<String>,
}

fn action_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(AuditAction::ALL.map(AuditAction::as_str)))
        .build()
}

fn actor_kind_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["key", "user", "cli", "service", "automatic"]))
        .build()
}

/// The tenant a key is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiKeyTenant {
    /// The team (organisation, workspace, account).
    pub team: String,
    /// The project within the team.
    pub project: String,
}

/// A key's state: revoked wins over disabled, which wins over expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyState {
    /// The key authenticates.
    Active,
    /// Revoked, for good.
    Revoked,
    /// Disabled until enabled.
    Disabled,
    /// Past its expiry.
    Expired,
}

impl From<KeyState> for ApiKeyState {
    fn from(state: KeyState) -> Self {
        match state {
            KeyState::Active => ApiKeyState::Active,
            KeyState::Revoked => ApiKeyState::Revoked,
            KeyState::Disabled => ApiKeyState::Disabled,
            KeyState::Expired => ApiKeyState::Expired,
        }
    }
}

/// A key just minted: the one answer that carries the plaintext key.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The public key id.
    #[schema(example = "AbCd12345678")]
    pub id: String,
    /// The plaintext key. Shown this once: it cannot be recovered.
    pub key: String,
    /// The key's name.
    pub name: String,
    /// The capabilities granted, sorted.
    pub capabilities: Vec<String>,
    /// When it expires.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for CreatedApiKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

impl From<&NewKey> for CreatedApiKey {
    fn from(new: &NewKey) -> Self {
        CreatedApiKey {
            id: new.summary.id.as_str().to_owned(),
            key: new.key.expose().to_owned(),
            name: new.summary.name.clone(),
            capabilities: new.summary.capabilities.clone(),
            expires_at: new.summary.expires_at.map(|t| t.to_string()),
        }
    }
}

/// A replacement key, shown once, and the key it replaces.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolledApiKey {
    /// The replacement.
    #[serde(flatten)]
    pub key: CreatedApiKey,
    /// The key rolled: it works until `expires_at`, the end of its grace.
    pub rolled_from: RolledFrom,
}

impl From<&RolledKey> for RolledApiKey {
    fn from(rolled: &RolledKey) -> Self {
        RolledApiKey {
            key: CreatedApiKey::from(&rolled.new),
            rolled_from: RolledFrom {
                id: rolled.old.id.as_str().to_owned(),
                expires_at: rolled.old.expires_at.map(|t| t.to_string()),
            },
        }
    }
}

/// The key a roll replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RolledFrom {
    /// Its id.
    pub id: String,
    /// When it stops working: the end of the grace period, or its own expiry if that
    /// comes first.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
}

/// The body of `POST /api_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A human name: not blank, at most 200 characters, no control, invisible formatting
    /// or line-separator characters.
    #[schema(min_length = 1, example = "Production CI")]
    pub name: String,
    /// Capability names from the server's catalog; absent or `null` grants the
    /// catalog's default set. Never more than the calling key holds.
    #[serde(default)]
    pub capabilities: Option<Vec<String>>,
    /// Expire the key this many seconds after it is minted; absent or `null`: never.
    #[serde(default, deserialize_with = "optional_whole_seconds")]
    #[schema(schema_with = expires_in_schema)]
    pub expires_in_seconds: Option<u64>,
    /// Mint a honeytoken: a decoy that looks like any key, authenticates nothing, and
    /// raises an alert (and locks its client out) when presented. Default `false`.
    #[serde(default)]
    pub honeytoken: bool,
}

/// The body of `POST /api_keys/{id}/roll`, which may also be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollApiKeyRequest {
    /// How long the old key keeps working, in seconds (default 0: it stops now). At most
    /// the server's configured maximum (7 days unless configured otherwise).
    #[serde(default, deserialize_with = "whole_seconds")]
    #[schema(schema_with = grace_schema)]
    pub grace_seconds: u64,
}

/// A count of seconds as JSON Schema counts integers: `60` and `60.0` alike. Past
/// `u64::MAX` it saturates (an expiry that far out is the far future anyway; a grace
/// that long is over the maximum either way).
struct WholeSeconds(u64);

impl<'de> Deserialize<'de> for WholeSeconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WholeSeconds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number of seconds")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<WholeSeconds, E> {
                Ok(WholeSeconds(n))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<WholeSeconds, E> {
                u64::try_from(n)
                    .map(WholeSeconds)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<WholeSeconds, E> {
                if n.is_finite() && n >= 0.0 && n.fract() == 0.0 {
                    // `as` saturates at u64::MAX.
                    Ok(WholeSeconds(n as u64))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn whole_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    WholeSeconds::deserialize(d).map(|s| s.0)
}

fn optional_whole_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Option::<WholeSeconds>::deserialize(d).map(|s| s.map(|s| s.0))
}

/// A whole number of seconds, unbounded above (no `int64` format: larger numbers are
/// taken too).
fn seconds_schema(minimum: u64, nullable: bool, description: &str) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    let schema_type = if nullable {
        SchemaType::from_iter([Type::Integer, Type::Null])
    } else {
        SchemaType::new(Type::Integer)
    };
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(schema_type)
        .minimum(Some(minimum))
        .description(Some(description))
        .build()
}

fn expires_in_schema() -> utoipa::openapi::Object {
    seconds_schema(
        1,
        true,
        "Expire the key this many seconds after it is minted; absent or `null`: never.",
    )
}

fn grace_schema() -> utoipa::openapi::Object {
    seconds_schema(
        0,
        false,
        "How long the old key keeps working, in seconds (default 0: it stops now). At most \
         the server's configured maximum (7 days unless configured otherwise).",
    )
}

/// Every error body: a stable code to match on and a message for people, with the
/// fields some codes add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    #[serde(serialize_with = "code_as_str")]
    #[schema(schema_with = error_code_schema)]
    pub error: ErrorCode,
    /// What went wrong, for people; quotes nothing the client sent.
    pub message: String,
    /// `insufficient_capability`: the capabilities missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub required: Option<Vec<String>>,
    /// `insufficient_capability`: the capabilities the calling key holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub held: Option<Vec<String>>,
    /// `rate_limited`, `too_many_failed_attempts`: seconds to wait, as `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub retry_after: Option<u64>,
    /// `rate_limited`: which budget was spent: the key's, its owner's or its tenant's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub limit: Option<SpentBudget>,
    /// `unknown_capability`: the unknown names, each cut to 64 bytes and 256 bytes in
    /// all.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub capabilities: Option<Vec<String>>,
    /// `unknown_capability`: how many more unknown names were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub more: Option<u64>,
    /// `unknown_capability`: the names the catalog declares, sorted, capped as
    /// `capabilities` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub valid: Option<Vec<String>>,
    /// `unknown_capability`: how many more valid names were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub more_valid: Option<u64>,
}

/// The budget a `rate_limited` answer names in `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpentBudget {
    /// The key's own budget.
    Key,
    /// The budget all keys of its owner share.
    Owner,
    /// The budget all keys of its tenant share.
    Tenant,
}

impl ErrorBody {
    /// `{"error": code, "message": message}`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: code,
            message: message.into(),
            required: None,
            held: None,
            retry_after: None,
            limit: None,
            capabilities: None,
            more: None,
            valid: None,
            more_valid: None,
        }
    }
}

fn code_as_str<S: Serializer>(code: &ErrorCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

/// Every code of [`ErrorCode::ALL`], as the `error` field's enum.
pub(crate) fn error_code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(ErrorCode::ALL.map(ErrorCode::as_str)))
        .build()
}
