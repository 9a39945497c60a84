//! [`RefusalLog`]: refusals are logged, but a flood of them is not a flood of lines.
//!
//! The first refusal of each reason from a client group is logged at once. After that
//! the group and reason get at most one line per interval, carrying how many refusals
//! it stands for. Memory is capped: past `max_tracked` pairs, refusals from new pairs
//! share one overflow line per interval.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use dashmap::DashMap;
use keyward_clock::Timestamp;
use keyward_limit::IpGroup;

#[derive(Debug, Clone, Copy)]
struct Seen {
    logged_at: Timestamp,
    suppressed: u64,
}

impl Seen {
    /// `Some(suppressed)` when a line is due now; otherwise counts this one.
    fn admit(&mut self, now: Timestamp, interval: Duration) -> Option<u64> {
        if now.saturating_duration_since(self.logged_at) >= interval {
            let suppressed = self.suppressed;
            *self = Seen {
                logged_at: now,
                suppressed: 0,
            };
            Some(suppressed)
        } else {
            self.suppressed += 1;
            None
        }
    }
}

/// Which refusal lines to write.
pub(crate) struct RefusalLog {
    interval: Duration,
    max_tracked: usize,
    seen: DashMap<(IpGroup, &'static str), Seen>,
    overflow: Mutex<Overflow>,
}

/// Refusals from pairs the full table could not take, and when it was last swept.
#[derive(Debug, Default)]
struct Overflow {
    seen: Option<Seen>,
    swept_at: Option<Timestamp>,
}

/// A refusal line that is due: what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineDue {
    /// Refusals of the same kind not logged since the last line.
    pub(crate) suppressed: u64,
    /// The line stands for clients past the table's cap, not one client group.
    pub(crate) overflow: bool,
}

impl RefusalLog {
    pub(crate) fn new(interval: Duration, max_tracked: usize) -> Self {
        RefusalLog {
            interval,
            max_tracked,
            seen: DashMap::new(),
            overflow: Mutex::new(Overflow::default()),
        }
    }

    /// Whether to log this refusal of `reason` from `group` now.
    pub(crate) fn admit(
        &self,
        group: IpGroup,
        reason: &'static str,
        now: Timestamp,
    ) -> Option<LineDue> {
        if let Some(mut seen) = self.seen.get_mut(&(group, reason)) {
            return seen.admit(now, self.interval).map(|suppressed| LineDue {
                suppressed,
                overflow: false,
            });
        }
        if self.seen.len() < self.max_tracked || self.sweep(now) {
            self.seen.entry((group, reason)).or_insert(Seen {
                logged_at: now,
                suppressed: 0,
            });
            return Some(LineDue {
                suppressed: 0,
                overflow: false,
            });
        }
        let mut overflow = self.overflow.lock().unwrap_or_else(PoisonError::into_inner);
        let due = match overflow.seen.as_mut() {
            Some(seen) => seen.admit(now, self.interval),
            None => {
                overflow.seen = Some(Seen {
                    logged_at: now,
                    suppressed: 0,
                });
                Some(0)
            }
        };
        due.map(|suppressed| LineDue {
            suppressed,
            overflow: true,
        })
    }

    /// Drops pairs whose interval has passed, at most once per interval so a flood of
    /// new clients does not rescan the table for each refusal; whether there is room.
    fn sweep(&self, now: Timestamp) -> bool {
        let mut overflow = self.overflow.lock().unwrap_or_else(PoisonError::into_inner);
        let due = overflow
            .swept_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.interval);
        if due {
            overflow.swept_at = Some(now);
            let interval = self.interval;
            self.seen
                .retain(|_, seen| now.saturating_duration_since(seen.logged_at) < interval);
        }
        self.seen.len() < self.max_tracked
    }

    /// Client group and reason pairs tracked right now.
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn group(n: u32) -> IpGroup {
        IpGroup::of(IpAddr::V4(Ipv4Addr::from(n)))
    }

    const T0: u64 = 1_800_000_000;
    const TEN_S: Duration = Duration::from_secs(10);

    #[test]
    fn first_refusal_is_logged_then_one_line_per_interval_with_a_count() {
        let log = RefusalLog::new(TEN_S, 100);
        let t0 = Timestamp::from_unix_seconds(T0);
        let first = LineDue {
            suppressed: 0,
            overflow: false,
        };
        assert_eq!(log.admit(group(1), "invalid_key", t0), Some(first));
        for _ in 0..500 {
            assert_eq!(log.admit(group(1), "invalid_key", t0), None);
        }
        // Another reason, or another client, is its own first refusal.
        assert_eq!(log.admit(group(1), "key_revoked", t0), Some(first));
        assert_eq!(log.admit(group(2), "invalid_key", t0), Some(first));
        let t9 = t0.saturating_add(Duration::from_secs(9));
        assert_eq!(log.admit(group(1), "invalid_key", t9), None);
        let t10 = t0.saturating_add(TEN_S);
        assert_eq!(
            log.admit(group(1), "invalid_key", t10),
            Some(LineDue {
                suppressed: 501,
                overflow: false
            })
        );
    }

    #[test]
    fn past_the_cap_new_clients_share_one_overflow_line() {
        let log = RefusalLog::new(TEN_S, 3);
        let t0 = Timestamp::from_unix_seconds(T0);
        let mut lines = 0;
        for n in 0..10_000 {
            if log.admit(group(n), "invalid_key", t0).is_some() {
                lines += 1;
            }
        }
        assert_eq!(lines, 4, "three tracked clients and one overflow line");
        assert!(log.tracked() <= 3);
        let t10 = t0.saturating_add(TEN_S);
        assert_eq!(
            log.admit(group(50_000), "invalid_key", t10),
            Some(LineDue {
                suppressed: 0,
                overflow: false
            }),
            "stale pairs make room once their interval has passed"
        );
    }
}
