#![doc = include_str!("../README.md")]
//!
//! Time for keyward.
//!
//! Every decision that depends on time (expiry, roll grace periods, rate limits,
//! lockouts) reads it through [`Clock`], so tests move time by hand with
//! [`ManualClock::advance`] instead of sleeping.
//!
//! ```
//! use std::time::Duration;
//! use keyward_clock::{Clock, ManualClock, Timestamp};
//!
//! let clock = ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000));
//! let start = clock.now();
//! clock.advance(Duration::from_secs(61));
//! assert_eq!(clock.now().saturating_duration_since(start), Duration::from_secs(61));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clock;
mod timestamp;

pub use clock::{Clock, ManualClock, SystemClock};
pub use timestamp::{Timestamp, TimestampParseError};
