//! Budgets a request spends: its key's, and, when configured, its owner's and its
//! tenant's, decided together and all or nothing.

use std::fmt::{self, Write as _};

use crate::rate::decision::Decision;
use crate::rate::quota::Quota;

/// Whose budget a rate-limit decision is about: what a 429 names (`"limit": "owner"`)
/// and what the `RateLimit-Policy` header calls the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitScope {
    /// The key's own budget.
    Key,
    /// The budget every key of one owner shares.
    Owner,
    /// The budget every key of one tenant (team and project) shares.
    Tenant,
}

impl LimitScope {
    /// Every scope, in the order a request's budgets are checked.
    pub const ALL: [LimitScope; 3] = [LimitScope::Key, LimitScope::Owner, LimitScope::Tenant];

    /// `key`, `owner` or `tenant`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitScope::Key => "key",
            LimitScope::Owner => "owner",
            LimitScope::Tenant => "tenant",
        }
    }
}

impl fmt::Display for LimitScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose budget: a key id, an owner, or a tenant.
///
/// Its [`Display`](fmt::Display) form is the limiter key the budget is kept under, in
/// three namespaces that cannot collide: a key id as it is (key ids contain no `:`),
/// `owner:<owner>`, and `tenant:<team length>:<team>/<project>` (the length keeps
/// `a/b` + `c` apart from `a` + `b/c`).
///
/// ```
/// use keyward_limit::Subject;
///
/// assert_eq!(Subject::Key("k1").to_string(), "k1");
/// assert_eq!(Subject::Owner("alice").to_string(), "owner:alice");
/// assert_eq!(Subject::Tenant { team: "acme", project: "search" }.to_string(), "tenant:4:acme/search");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject<'a> {
    /// A key, by its public id.
    Key(&'a str),
    /// An owner (user or service account).
    Owner(&'a str),
    /// A tenant.
    Tenant {
        /// The team.
        team: &'a str,
        /// The project within the team.
        project: &'a str,
    },
}

impl Subject<'_> {
    /// Which kind of budget this is.
    pub const fn scope(&self) -> LimitScope {
        match self {
            Subject::Key(_) => LimitScope::Key,
            Subject::Owner(_) => LimitScope::Owner,
            Subject::Tenant { .. } => LimitScope::Tenant,
        }
    }
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Key(id) => f.write_str(id),
            Subject::Owner(owner) => write!(f, "owner:{owner}"),
            Subject::Tenant { team, project } => {
                write!(f, "tenant:{}:{team}/{project}", team.len())
            }
        }
    }
}

/// One budget: whose, and its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Budget<'a> {
    /// Whose budget.
    pub subject: Subject<'a>,
    /// Its quota.
    pub quota: Quota,
}

/// The budgets one request must fit in: its key's, then its owner's and its tenant's
/// when those are limited. Never empty, and no allocation: at most three.
///
/// ```
/// use keyward_limit::{Budgets, LimitScope, Quota};
///
/// let budgets = Budgets::key("k1", Quota::per_minute(60))
///     .with_owner("alice", Quota::per_minute(600));
/// let scopes: Vec<_> = budgets.iter().map(|b| b.subject.scope()).collect();
/// assert_eq!(scopes, [LimitScope::Key, LimitScope::Owner]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Budgets<'a> {
    key: Budget<'a>,
    owner: Option<Budget<'a>>,
    tenant: Option<Budget<'a>>,
}

impl<'a> Budgets<'a> {
    /// The key's budget alone.
    pub const fn key(id: &'a str, quota: Quota) -> Self {
        Budgets {
            key: Budget {
                subject: Subject::Key(id),
                quota,
            },
            owner: None,
            tenant: None,
        }
    }

    /// Adds (or replaces) the owner's budget.
    #[must_use]
    pub const fn with_owner(mut self, owner: &'a str, quota: Quota) -> Self {
        self.owner = Some(Budget {
            subject: Subject::Owner(owner),
            quota,
        });
        self
    }

    /// Adds (or replaces) the tenant's budget.
    #[must_use]
    pub const fn with_tenant(mut self, team: &'a str, project: &'a str, quota: Quota) -> Self {
        self.tenant = Some(Budget {
            subject: Subject::Tenant { team, project },
            quota,
        });
        self
    }

    /// The key's budget.
    pub const fn key_budget(&self) -> Budget<'a> {
        self.key
    }

    /// The budgets in the order they are checked: key, owner, tenant.
    pub fn iter(&self) -> impl Iterator<Item = Budget<'a>> + use<'a> {
        [Some(self.key), self.owner, self.tenant]
            .into_iter()
            .flatten()
    }

    /// How many budgets (1 to 3).
    pub fn len(&self) -> usize {
        1 + usize::from(self.owner.is_some()) + usize::from(self.tenant.is_some())
    }

    /// Always `false`: the key's budget is always there.
    pub const fn is_empty(&self) -> bool {
        false
    }
}

/// The answer for a request's [`Budgets`]: the decision of the budget that refused it,
/// or, when every budget allowed it, of the one closest to running out (the fewest
/// requests remaining; the first checked on a tie). That is the budget the response's
/// rate-limit headers describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BudgetDecision {
    /// Whose budget.
    pub scope: LimitScope,
    /// That budget's quota.
    pub quota: Quota,
    /// Its decision.
    pub decision: Decision,
}

impl BudgetDecision {
    /// A decision of the key's own budget.
    pub const fn key(quota: Quota, decision: Decision) -> Self {
        BudgetDecision {
            scope: LimitScope::Key,
            quota,
            decision,
        }
    }

    /// Whether the request may proceed.
    pub const fn is_allowed(&self) -> bool {
        self.decision.is_allowed()
    }

    /// Of two allowed decisions, the one with fewer requests remaining (`self` on a tie).
    pub(crate) fn tighter(self, other: BudgetDecision) -> BudgetDecision {
        if other.decision.remaining() < self.decision.remaining() {
            other
        } else {
            self
        }
    }
}

/// A [`Subject`]'s limiter key without a heap allocation when it is short: a key id is
/// borrowed, an owner or tenant key is written on the stack.
pub(crate) enum SubjectKey<'a> {
    Borrowed(&'a str),
    Stack {
        buf: [u8; STACK_KEY_LEN],
        len: usize,
    },
    Heap(String),
}

/// Longest owner or tenant limiter key written on the stack.
const STACK_KEY_LEN: usize = 120;

impl<'a> SubjectKey<'a> {
    pub(crate) fn new(subject: &Subject<'a>) -> Self {
        if let Subject::Key(id) = *subject {
            return SubjectKey::Borrowed(id);
        }
        let mut writer = StackWriter {
            buf: [0; STACK_KEY_LEN],
            len: 0,
        };
        match write!(writer, "{subject}") {
            Ok(()) => SubjectKey::Stack {
                buf: writer.buf,
                len: writer.len,
            },
            Err(_) => SubjectKey::Heap(subject.to_string()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            SubjectKey::Borrowed(key) => key,
            // Only whole `str`s are written, so the bytes are UTF-8.
            SubjectKey::Stack { buf, len } => std::str::from_utf8(&buf[..*len]).unwrap_or(""),
            SubjectKey::Heap(key) => key,
        }
    }
}

struct StackWriter {
    buf: [u8; STACK_KEY_LEN],
    len: usize,
}

impl fmt::Write for StackWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > STACK_KEY_LEN {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn namespaces_never_collide() {
        let keys = [
            Subject::Key("alice").to_string(),
            Subject::Owner("alice").to_string(),
            Subject::Tenant {
                team: "a/b",
                project: "c",
            }
            .to_string(),
            Subject::Tenant {
                team: "a",
                project: "b/c",
            }
            .to_string(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn subject_keys_match_display_short_or_long() {
        let long = "o".repeat(500);
        for subject in [
            Subject::Key("k1"),
            Subject::Owner("alice"),
            Subject::Owner(&long),
            Subject::Tenant {
                team: "acme",
                project: "search",
            },
        ] {
            assert_eq!(SubjectKey::new(&subject).as_str(), subject.to_string());
        }
        assert!(matches!(
            SubjectKey::new(&Subject::Owner(&long)),
            SubjectKey::Heap(_)
        ));
        assert!(matches!(
            SubjectKey::new(&Subject::Owner("bob")),
            SubjectKey::Stack { .. }
        ));
    }

    #[test]
    fn tighter_keeps_the_fewest_remaining_and_the_first_on_ties() {
        let allowed = |remaining| Decision::Allowed {
            limit: 60,
            remaining,
            reset: Duration::from_secs(1),
        };
        let q = Quota::per_minute(60);
        let key = BudgetDecision::key(q, allowed(5));
        let owner = BudgetDecision {
            scope: LimitScope::Owner,
            quota: q,
            decision: allowed(3),
        };
        assert_eq!(key.tighter(owner).scope, LimitScope::Owner);
        assert_eq!(owner.tighter(key).scope, LimitScope::Owner);
        let tie = BudgetDecision {
            decision: allowed(5),
            ..owner
        };
        assert_eq!(key.tighter(tie).scope, LimitScope::Key);
    }
}
