//! Text to [`ConfigFile`] in one pass: TOML syntax, then the shape (unknown keys, wrong
//! types), then every value, stopping at the first problem with its position and key.

use std::collections::BTreeSet;
use std::ops::Range;
use std::time::Duration;

use keyward_format::KeyFormat;
use keyward_hash::BcryptHasher;
use keyward_limit::{GuardConfig, Quota, QuotaError};
use keyward_scope::{CapabilityName, Catalog, MAX_CAPABILITIES};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, SettingProblem, bounded_list, echo, invalid, one_line};
use super::raw::{Names, RawFile};
use super::{
    ConfigFile, DEFAULT_DATABASE_URL, DEMO_NAMES, HasherChoice, MAX_DURATION_DAYS,
    MAX_LIFECYCLE_DAYS, ManagementRequirements, demo,
};
use crate::error::NameProblem;

/// About this many bytes of declared names are listed in an unknown-capability error.
const DECLARED_LIST_BUDGET: usize = 256;

/// Parses and checks `text`, naming it `origin` in errors.
pub(super) fn parse(text: &str, origin: &str) -> Result<ConfigFile, ConfigError> {
    let check = Check { origin, text };
    let document = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        check.fail(
            offset,
            syntax_context(text, offset),
            SettingProblem::Syntax(one_line(e.message())),
        )
    })?;
    let raw: RawFile = serde_path_to_error::deserialize(toml::Deserializer::from(document.clone()))
        .map_err(|e| {
            let key = render_path(e.path());
            let inner = e.into_inner();
            let offset = inner.span().map_or(0, |s| s.start);
            check.fail(offset, key, shape_problem(inner.message()))
        })?;
    check.file(raw, document.get_ref())
}

/// The text being checked, for positions in errors.
struct Check<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Check<'_> {
    fn fail(&self, offset: usize, key: impl Into<String>, problem: SettingProblem) -> ConfigError {
        invalid(self.origin, self.text, offset, key, problem)
    }

    fn at<T>(
        &self,
        value: &Spanned<T>,
        key: impl Into<String>,
        problem: SettingProblem,
    ) -> ConfigError {
        self.fail(value.span().start, key, problem)
    }

    fn file(&self, raw: RawFile, document: &DeTable<'_>) -> Result<ConfigFile, ConfigError> {
        let defaults = demo();
        let keys = raw.keys.unwrap_or_default();

        let format = match &keys.prefix {
            None => defaults.format.clone(),
            Some(prefix) => KeyFormat::new(prefix.get_ref()).map_err(|reason| {
                self.at(
                    prefix,
                    "keys.prefix",
                    SettingProblem::InvalidPrefix {
                        prefix: echo(prefix.get_ref()),
                        reason,
                    },
                )
            })?,
        };

        let bcrypt = match &keys.hasher {
            None => true,
            Some(name) => match name.get_ref().as_str() {
                "bcrypt" => true,
                "argon2id" => false,
                other => {
                    return Err(self.at(
                        name,
                        "keys.hasher",
                        SettingProblem::UnknownHasher(echo(other)),
                    ));
                }
            },
        };
        let hasher = match (&keys.bcrypt_cost, bcrypt) {
            (Some(cost), false) => {
                return Err(self.at(cost, "keys.bcrypt_cost", SettingProblem::CostWithoutBcrypt));
            }
            (None, false) => HasherChoice::Argon2id,
            (None, true) => HasherChoice::Bcrypt {
                cost: BcryptHasher::DEFAULT_COST,
            },
            (Some(cost), true) => HasherChoice::Bcrypt {
                cost: self.number(
                    cost,
                    "keys.bcrypt_cost",
                    BcryptHasher::MIN_COST.into(),
                    BcryptHasher::MAX_COST.into(),
                )?,
            },
        };

        let max_lifetime = self.lifecycle(keys.max_lifetime.as_ref(), "keys.max_lifetime")?;
        let expire_unused_after = self.lifecycle(
            keys.expire_unused_after.as_ref(),
            "keys.expire_unused_after",
        )?;
        let audit_retention = self.lifecycle(
            raw.audit.and_then(|a| a.retention).as_ref(),
            "audit.retention",
        )?;

        let (catalog, declared) = self.catalog(raw.capabilities.unwrap_or_default(), document)?;
        let management = self.management(
            raw.management.unwrap_or_default(),
            &catalog,
            &declared,
            document,
        )?;

        let limits = raw.limits.unwrap_or_default();
        let quota = |text: &Spanned<String>, setting: &'static str| {
            text.get_ref().parse::<Quota>().map_err(|reason| {
                self.at(
                    text,
                    setting,
                    SettingProblem::InvalidRate {
                        text: echo(text.get_ref()),
                        reason: bounded_quota_error(reason),
                    },
                )
            })
        };
        let rate = match &limits.rate {
            None => defaults.rate,
            Some(text) => quota(text, "limits.rate")?,
        };
        let owner_rate = match &limits.owner {
            None => defaults.owner_rate,
            Some(text) => Some(quota(text, "limits.owner")?),
        };
        let tenant_rate = match &limits.tenant {
            None => defaults.tenant_rate,
            Some(text) => Some(quota(text, "limits.tenant")?),
        };
        let lockout = match &limits.lockout {
            None => defaults.lockout,
            Some(lockout) => {
                let failures = match &lockout.get_ref().failures {
                    None => GuardConfig::DEFAULT_MAX_FAILURES,
                    Some(n) => self.number(n, "limits.lockout.failures", 1, u32::MAX.into())?,
                };
                let window = self.duration(
                    lockout.get_ref().window.as_ref(),
                    "limits.lockout.window",
                    GuardConfig::DEFAULT_WINDOW,
                )?;
                let cooldown = self.duration(
                    lockout.get_ref().cooldown.as_ref(),
                    "limits.lockout.cooldown",
                    GuardConfig::DEFAULT_LOCKOUT,
                )?;
                GuardConfig::new(failures, window, cooldown)
                    .map_err(|e| self.at(lockout, "limits.lockout", SettingProblem::Lockout(e)))?
            }
        };

        let cache = raw.cache.unwrap_or_default();
        let cache_capacity = match &cache.capacity {
            None => defaults.cache_capacity,
            Some(n) => self.number(
                n,
                "cache.capacity",
                1,
                i64::try_from(usize::MAX).unwrap_or(i64::MAX),
            )?,
        };
        let cache_refresh = self.duration(
            cache.refresh.as_ref(),
            "cache.refresh",
            defaults.cache_refresh,
        )?;

        let database_url = match raw.database.and_then(|d| d.url) {
            None => DEFAULT_DATABASE_URL.to_owned(),
            Some(url) if url.get_ref().trim().is_empty() => {
                return Err(self.at(&url, "database.url", SettingProblem::Empty));
            }
            Some(url) => url.into_inner(),
        };

        let cli_owner = match raw.cli.and_then(|c| c.owner) {
            None => None,
            Some(owner) => match owner_problem(owner.get_ref()) {
                Some(problem) => {
                    return Err(self.at(
                        &owner,
                        "cli.owner",
                        SettingProblem::InvalidOwner { problem },
                    ));
                }
                None => Some(owner.into_inner()),
            },
        };

        Ok(ConfigFile {
            format,
            hasher,
            catalog,
            rate,
            owner_rate,
            tenant_rate,
            lockout,
            cache_capacity,
            cache_refresh,
            database_url,
            management,
            cli_owner,
            max_lifetime,
            expire_unused_after,
            audit_retention,
        })
    }

    /// The catalog, and the names it declares in the order written.
    fn catalog(
        &self,
        raw: super::raw::RawCapabilities,
        document: &DeTable<'_>,
    ) -> Result<(Catalog, Vec<String>), ConfigError> {
        let demo = demo();
        let declared: Vec<String> = match &raw.names {
            None => DEMO_NAMES.iter().map(|&name| name.to_owned()).collect(),
            Some(names) => {
                let mut seen = BTreeSet::new();
                for (index, name) in names.get_ref().iter().enumerate() {
                    let key = format!("capabilities.names[{index}]");
                    if let Err(reason) = CapabilityName::parse(name.get_ref()) {
                        return Err(self.at(
                            name,
                            key,
                            SettingProblem::InvalidCapabilityName {
                                name: echo(name.get_ref()),
                                reason,
                            },
                        ));
                    }
                    if !seen.insert(name.get_ref().as_str()) {
                        return Err(self.at(
                            name,
                            key,
                            SettingProblem::DuplicateCapability(echo(name.get_ref())),
                        ));
                    }
                }
                if seen.len() > MAX_CAPABILITIES {
                    return Err(self.at(
                        names,
                        "capabilities.names",
                        SettingProblem::TooManyCapabilities {
                            count: seen.len(),
                            max: MAX_CAPABILITIES,
                        },
                    ));
                }
                names
                    .get_ref()
                    .iter()
                    .map(|n| n.get_ref().clone())
                    .collect()
            }
        };
        let names_given = raw.names.is_some();
        let known = |name: &Spanned<String>, key: String| -> Result<(), ConfigError> {
            if declared.iter().any(|d| d == name.get_ref()) {
                Ok(())
            } else {
                Err(self.at(name, key, self.unknown(name.get_ref(), &declared)))
            }
        };
        let listed =
            |names: &Option<Names>, key: &str| -> Result<Option<Vec<String>>, ConfigError> {
                let Some(names) = names else { return Ok(None) };
                for (index, name) in names.get_ref().iter().enumerate() {
                    known(name, format!("{key}[{index}]"))?;
                }
                Ok(Some(
                    names
                        .get_ref()
                        .iter()
                        .map(|n| n.get_ref().clone())
                        .collect(),
                ))
            };

        let defaults = listed(&raw.defaults, "capabilities.defaults")?.unwrap_or_else(|| {
            if names_given {
                Vec::new()
            } else {
                demo.catalog
                    .names(&demo.catalog.default_set())
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            }
        });
        let implicit = listed(&raw.implicit, "capabilities.implicit")?.unwrap_or_default();
        let implications: Vec<(String, String)> = match &raw.implies {
            None if names_given => Vec::new(),
            None => demo_implications(&demo.catalog),
            Some(table) => {
                let mut pairs = Vec::new();
                for (capability, implied) in table.get_ref() {
                    let key = format!("capabilities.implies.{}", toml_key(&echo(capability)));
                    if !declared.contains(capability) {
                        let offset = implies_key_span(document, capability)
                            .map_or(implied.span().start, |s| s.start);
                        return Err(self.fail(offset, key, self.unknown(capability, &declared)));
                    }
                    for (index, name) in implied.get_ref().iter().enumerate() {
                        known(name, format!("{key}[{index}]"))?;
                        pairs.push((capability.clone(), name.get_ref().clone()));
                    }
                }
                pairs
            }
        };

        let mut builder = Catalog::builder()
            .capabilities(declared.iter().cloned())
            .default_grants(defaults);
        for name in implicit {
            builder = builder.implicit(name);
        }
        for (capability, implied) in implications {
            builder = builder.implies(capability, implied);
        }
        let catalog = builder.build().map_err(|e| {
            // Names were checked above, so what is left is a cycle among implications.
            let (offset, key) = match (&raw.implies, &raw.names) {
                (Some(implies), _) => (implies.span().start, "capabilities.implies"),
                (None, Some(names)) => (names.span().start, "capabilities.names"),
                (None, None) => (0, "capabilities"),
            };
            self.fail(offset, key, SettingProblem::Catalog(e))
        })?;
        Ok((catalog, declared))
    }

    fn management(
        &self,
        raw: super::raw::RawManagement,
        catalog: &Catalog,
        declared: &[String],
        document: &DeTable<'_>,
    ) -> Result<ManagementRequirements, ConfigError> {
        let requirement = |setting: &Option<Spanned<String>>,
                           key: &'static str,
                           default: &'static str|
         -> Result<String, ConfigError> {
            match setting {
                Some(name) if declared.iter().any(|d| d == name.get_ref()) => {
                    Ok(name.get_ref().clone())
                }
                Some(name) => Err(self.at(name, key, self.unknown(name.get_ref(), declared))),
                None if catalog.capability(default).is_some() => Ok(default.to_owned()),
                // Only a file that lists its own names can leave out a default.
                None => Err(self.fail(
                    names_offset(document),
                    key,
                    SettingProblem::UndeclaredDefault { default, key },
                )),
            }
        };
        let read = requirement(&raw.read, "management.read", "keys:read")?;
        let write = requirement(&raw.write, "management.write", "keys:write")?;
        let tenant_admin = match &raw.tenant_admin {
            None => None,
            Some(name) if declared.iter().any(|d| d == name.get_ref()) => {
                Some(name.get_ref().clone())
            }
            Some(name) => {
                return Err(self.at(
                    name,
                    "management.tenant_admin",
                    self.unknown(name.get_ref(), declared),
                ));
            }
        };
        ManagementRequirements::new(catalog, &read, &write, tenant_admin.as_deref()).map_err(|e| {
            // Unreachable: every name was checked against the catalog above.
            self.fail(
                0,
                "management",
                SettingProblem::UnknownCapability {
                    name: e.capabilities.join(", "),
                    declared: bounded_list(
                        declared.iter().map(String::as_str),
                        DECLARED_LIST_BUDGET,
                    ),
                },
            )
        })
    }

    fn unknown(&self, name: &str, declared: &[String]) -> SettingProblem {
        SettingProblem::UnknownCapability {
            name: echo(name),
            declared: bounded_list(declared.iter().map(String::as_str), DECLARED_LIST_BUDGET),
        }
    }

    fn number<T: TryFrom<i64>>(
        &self,
        value: &Spanned<i64>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Result<T, ConfigError> {
        let n = *value.get_ref();
        let out_of_range = || {
            self.at(
                value,
                key,
                SettingProblem::OutOfRange { value: n, min, max },
            )
        };
        if !(min..=max).contains(&n) {
            return Err(out_of_range());
        }
        T::try_from(n).map_err(|_| out_of_range())
    }

    /// A duration of at most [`MAX_DURATION_DAYS`], `default` when unset.
    fn duration(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match value {
            None => Ok(default),
            Some(value) => self.bounded_duration(value, key, MAX_DURATION_DAYS),
        }
    }

    /// A lifecycle policy's duration, of at most [`MAX_LIFECYCLE_DAYS`]; unset is no
    /// policy.
    fn lifecycle(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
    ) -> Result<Option<Duration>, ConfigError> {
        value
            .map(|value| self.bounded_duration(value, key, MAX_LIFECYCLE_DAYS))
            .transpose()
    }

    fn bounded_duration(
        &self,
        value: &Spanned<String>,
        key: &str,
        max_days: u64,
    ) -> Result<Duration, ConfigError> {
        let text = value.get_ref();
        let duration = humantime::parse_duration(text.trim()).map_err(|e| {
            self.at(
                value,
                key,
                SettingProblem::InvalidDuration {
                    text: echo(text),
                    reason: one_line(&e.to_string()),
                },
            )
        })?;
        if duration.is_zero() {
            return Err(self.at(value, key, SettingProblem::ZeroDuration));
        }
        if duration > Duration::from_secs(max_days * 86_400) {
            return Err(self.at(
                value,
                key,
                SettingProblem::DurationTooLong {
                    text: echo(text),
                    max_days,
                },
            ));
        }
        Ok(duration)
    }
}

/// `reason` with the text it repeats cut to what an error echoes.
fn bounded_quota_error(reason: QuotaError) -> QuotaError {
    match reason {
        QuotaError::Syntax(text) => QuotaError::Syntax(echo(&text)),
        QuotaError::InvalidLimit(text) => QuotaError::InvalidLimit(echo(&text)),
        QuotaError::UnknownUnit(text) => QuotaError::UnknownUnit(echo(&text)),
        other => other,
    }
}

/// Every implication of the demo catalog (its closure, which for the demo is what it
/// declares).
fn demo_implications(catalog: &Catalog) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (capability, name) in catalog.iter() {
        for implied in catalog.names(&catalog.implied(capability)) {
            pairs.push((name.to_owned(), implied.to_owned()));
        }
    }
    pairs
}

/// Why `owner` could not own a key (the rule of key names and owners), if it could not.
fn owner_problem(owner: &str) -> Option<NameProblem> {
    crate::service::name_problem(owner)
}

fn entry<'a, 'i>(
    table: &'a DeTable<'i>,
    key: &str,
) -> Option<(
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
)> {
    table.iter().find(|(k, _)| k.get_ref() == key)
}

fn table<'a, 'i>(parent: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    match entry(parent, key)?.1.get_ref() {
        DeValue::Table(table) => Some(table),
        _ => None,
    }
}

/// Where `capabilities.names` is written (the start of the text when it is not).
fn names_offset(document: &DeTable<'_>) -> usize {
    table(document, "capabilities")
        .and_then(|caps| entry(caps, "names"))
        .map_or(0, |(_, value)| value.span().start)
}

/// The span of key `capability` in `[capabilities.implies]`.
fn implies_key_span(document: &DeTable<'_>, capability: &str) -> Option<Range<usize>> {
    let implies = table(table(document, "capabilities")?, "implies")?;
    entry(implies, capability).map(|(key, _)| key.span())
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// `capabilities.implies."jobs:write"[1]` from serde's path, without the segments
/// `toml::Spanned` adds.
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if key.starts_with("$__serde_spanned_private") {
                    continue;
                }
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&toml_key(&echo(key)));
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}

/// serde's message in the file's terms: keys, tables, arrays, integers.
fn shape_problem(message: &str) -> SettingProblem {
    let message = one_line(message);
    if let Some(rest) = message.strip_prefix("unknown field") {
        return SettingProblem::UnknownKey(format!("unknown key{rest}"));
    }
    let mut message = message
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table");
    // `expected struct RawKeys` names a private type: say what the file needs.
    if let Some(at) = message.find("expected struct ") {
        message.truncate(at);
        message.push_str("expected a table");
    }
    SettingProblem::WrongType(message)
}

/// For a syntax error at `offset`: the table it is in and the key on its line, as far
/// as a line-by-line look can tell (`keys.prefix`).
fn syntax_context(text: &str, offset: usize) -> String {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim();
    let header_of = |line: &str| -> Option<String> {
        let inner = line.strip_prefix('[')?.trim_start_matches('[');
        let inner = inner.split(']').next().unwrap_or(inner).trim();
        Some(inner.to_owned())
    };
    if let Some(header) = header_of(line) {
        return header;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| header_of(l.trim()))
        .unwrap_or_default();
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty() && !key.starts_with('#'));
    match (table.is_empty(), key) {
        (_, None) => table,
        (true, Some(key)) => key.to_owned(),
        (false, Some(key)) => format!("{table}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_context_names_table_and_key() {
        let text = "[keys]\nprefix = \"abc\n";
        assert_eq!(syntax_context(text, 20), "keys.prefix");
        assert_eq!(syntax_context("[keys\n", 5), "keys");
        assert_eq!(syntax_context("= 3\n", 0), "");
        assert_eq!(syntax_context("a = \n", 4), "a");
    }

    #[test]
    fn keys_are_quoted_when_toml_would() {
        assert_eq!(toml_key("bcrypt_cost"), "bcrypt_cost");
        assert_eq!(toml_key("jobs:write"), "\"jobs:write\"");
        assert_eq!(toml_key(""), "\"\"");
    }

    #[test]
    fn demo_implications_are_the_direct_ones() {
        let mut pairs = demo_implications(&demo().catalog);
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("jobs:write".to_owned(), "jobs:read".to_owned()),
                ("keys:write".to_owned(), "keys:read".to_owned()),
            ]
        );
    }
}
