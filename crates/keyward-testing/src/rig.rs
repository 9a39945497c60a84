//! The test rig: keyward over a [`SwitchableStore`], a [`ManualClock`] at [`START`] and
//! a fast bcrypt that counts its verifications. keyward's own tests and the HTTP
//! contract suite both build on it.
//!
//! ```
//! use keyward::MintRequest;
//! use keyward_testing::rig::{Rig, START};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let rig = Rig::new();
//! let minted = rig.mint(MintRequest::new("CI", "u_1")).await;
//! assert_eq!(minted.summary.created_at.as_unix_seconds(), START);
//! # });
//! ```

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward::clock::{ManualClock, Timestamp};
use keyward::format::KeyFormat;
use keyward::hash::{BcryptHasher, HashError, SecretHasher};
use keyward::scope::Catalog;
use keyward::{Keyward, KeywardBuilder, MintRequest, NewKey};

use crate::SwitchableStore;

/// Where the rig's clock starts, in seconds since the epoch (2027-01-15).
pub const START: u64 = 1_800_000_000;

/// The prefix of the rig's keys.
pub const PREFIX: &str = "sk_live_";

/// The rig's key format ([`PREFIX`]).
pub fn format() -> KeyFormat {
    KeyFormat::new(PREFIX).expect("a valid prefix")
}

/// The rig's capability catalog: the built-in demo configuration's
/// ([`keyward::ConfigFile::demo`]), the one the CLI and the example servers use without a
/// `keyward.toml`, so what the rig's tests prove holds for the keys they mint.
pub fn catalog() -> Catalog {
    keyward::ConfigFile::demo().catalog().clone()
}

/// An IP address from a literal (panics on a typo: test input).
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address literal")
}

/// Counts slow-hash verifications, delegating to `inner`.
pub struct CountingHasher {
    /// The hasher doing the work (a low-cost bcrypt in the rig).
    pub inner: BcryptHasher,
    /// Verifications so far.
    pub verifications: Arc<AtomicUsize>,
}

impl SecretHasher for CountingHasher {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        self.inner.hash(secret)
    }
    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(secret, hash)
    }
    fn needs_rehash(&self, hash: &str) -> bool {
        self.inner.needs_rehash(hash)
    }
}

/// keyward over a switchable memory store, a manual clock and a counting fast hasher.
pub struct Rig {
    /// The configured keyward.
    pub keyward: Keyward,
    /// The store, switchable off.
    pub store: SwitchableStore,
    /// The clock the test advances.
    pub clock: ManualClock,
    /// Slow-hash verifications so far.
    pub verifications: Arc<AtomicUsize>,
}

impl Rig {
    /// The rig with keyward's default configuration.
    pub fn new() -> Rig {
        Rig::with(|b| b)
    }

    /// The rig, its builder passed through `configure` before it is built.
    pub fn with(configure: impl FnOnce(KeywardBuilder) -> KeywardBuilder) -> Rig {
        let store = SwitchableStore::default();
        let clock = ManualClock::new(Timestamp::from_unix_seconds(START));
        let verifications = Arc::new(AtomicUsize::new(0));
        let builder = Keyward::builder(format(), catalog())
            .store(store.clone())
            .clock(clock.clone())
            .hasher(CountingHasher {
                // The lowest cost: tests hash often, and the cost is not what they test.
                inner: BcryptHasher::new(BcryptHasher::MIN_COST).expect("a valid cost"),
                verifications: Arc::clone(&verifications),
            });
        Rig {
            keyward: configure(builder).build().expect("a valid configuration"),
            store,
            clock,
            verifications,
        }
    }

    /// Mints through the rig's key service (needs a tokio runtime: hashing runs on the
    /// blocking pool).
    pub async fn mint(&self, request: MintRequest) -> NewKey {
        self.keyward.keys().mint(request).await.expect("mint")
    }
}

impl Default for Rig {
    fn default() -> Self {
        Rig::new()
    }
}

/// [`Rig::new`].
pub fn rig() -> Rig {
    Rig::new()
}

/// [`Rig::with`].
pub fn rig_with(configure: impl FnOnce(KeywardBuilder) -> KeywardBuilder) -> Rig {
    Rig::with(configure)
}

/// [`Rig::mint`].
pub async fn mint(rig: &Rig, request: MintRequest) -> NewKey {
    rig.mint(request).await
}
