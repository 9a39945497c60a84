//! The cold path under attack: slow hashes are bounded per client, per key id and by
//! the queue's depth, and nothing leaks when requests are cancelled.

mod common;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::{CountingHasher, START, catalog, ip};
use keyward::clock::{ManualClock, Timestamp};
use keyward::format::{KeyFormat, KeyId};
use keyward::hash::{BcryptHasher, HashError, SecretHasher};
use keyward::scope::Requirement;
use keyward::store::MemoryStore;
use keyward::{
    AuthError, Authenticator, Config, Credential, ErrorCode, InvalidKeyReason, Keyward, MintRequest,
};

/// A fast bcrypt whose verifications wait while the gate is closed, so a test can
/// hold verifications mid-hash.
#[derive(Clone, Default)]
struct Gate(
    Arc<(Mutex<bool>, Condvar)>,
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<Vec<u8>>>>,
);

impl Gate {
    /// Verifications that have reached the hasher, done or waiting.
    fn entered(&self) -> usize {
        self.1.load(Ordering::SeqCst)
    }
    /// Closes the gate until the returned guard drops, so a failing test does not
    /// leave hashes blocked (a runtime waits for its blocking threads when dropped).
    #[must_use]
    fn close(&self) -> OpenOnDrop {
        *self.0.0.lock().unwrap() = true;
        OpenOnDrop(self.clone())
    }
    fn open(&self) {
        *self.0.0.lock().unwrap() = false;
        self.0.1.notify_all();
    }
    /// Whether a verification of `secret` has reached the hasher.
    fn has_entered(&self, secret: &[u8]) -> bool {
        self.2.lock().unwrap().iter().any(|s| s == secret)
    }
    fn wait(&self, secret: &[u8]) {
        self.2.lock().unwrap().push(secret.to_vec());
        self.1.fetch_add(1, Ordering::SeqCst);
        let mut closed = self.0.0.lock().unwrap();
        while *closed {
            closed = self.0.1.wait(closed).unwrap();
        }
    }
}

struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

struct GatedHasher {
    inner: CountingHasher,
    gate: Gate,
}

impl SecretHasher for GatedHasher {
    fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        self.inner.hash(secret)
    }
    fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, HashError> {
        self.gate.wait(secret);
        self.inner.verify(secret, hash)
    }
    fn needs_rehash(&self, hash: &str) -> bool {
        self.inner.needs_rehash(hash)
    }
}

struct Rig {
    keyward: Keyward,
    clock: ManualClock,
    verifications: Arc<AtomicUsize>,
    gate: Gate,
}

fn rig(config: Config) -> Rig {
    let clock = ManualClock::new(Timestamp::from_unix_seconds(START));
    let verifications = Arc::new(AtomicUsize::new(0));
    let gate = Gate::default();
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .store(MemoryStore::new())
        .clock(clock.clone())
        .hasher(GatedHasher {
            inner: CountingHasher {
                inner: BcryptHasher::new(4).unwrap(),
                verifications: Arc::clone(&verifications),
            },
            gate: gate.clone(),
        })
        .without_rate_limits()
        .config(config)
        .build()
        .unwrap();
    Rig {
        keyward,
        clock,
        verifications,
        gate,
    }
}

impl Rig {
    async fn mint(&self) -> String {
        let new = self
            .keyward
            .keys()
            .mint(MintRequest::new("k", "u_1"))
            .await
            .unwrap();
        new.key.expose().to_owned()
    }

    /// A well-formed key with `key`'s id and another secret.
    fn guess(&self, key: &str) -> String {
        let id = self.id_of(key);
        self.keyward
            .format()
            .mint_for(&id)
            .unwrap()
            .expose()
            .to_owned()
    }

    fn id_of(&self, key: &str) -> KeyId {
        self.keyward.format().parse(key).unwrap().id()
    }

    fn verifications(&self) -> usize {
        self.verifications.load(Ordering::SeqCst)
    }
}

async fn auth(authn: &Authenticator, key: &str, from: IpAddr) -> Result<(), AuthError> {
    authn
        .authenticate(Credential::Key(key), &Requirement::none(), from)
        .await
        .map(|_| ())
}

fn nth_ip(n: usize) -> IpAddr {
    IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n as u32))
}

/// Runs `count` authentications at once and returns their results.
async fn burst(
    authn: &Authenticator,
    keys: impl Fn(usize) -> String,
    from: impl Fn(usize) -> IpAddr,
    count: usize,
) -> Vec<Result<(), AuthError>> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let authn = authn.clone();
            let key = keys(i);
            let from = from(i);
            tokio::spawn(async move { auth(&authn, &key, from).await })
        })
        .collect();
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn codes(results: &[Result<(), AuthError>]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for r in results {
        let code = match r {
            Ok(()) => "ok",
            Err(e) => e.code().as_str(),
        };
        *counts.entry(code).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_from_one_client_run_at_most_its_failure_budget() {
    let rig = rig(Config::default());
    let key = rig.mint().await;
    let authn = rig.keyward.authenticator();
    let guesses: Vec<String> = (0..150).map(|_| rig.guess(&key)).collect();
    let client = ip("198.51.100.7");
    let results = burst(&authn, |i| guesses[i].clone(), |_| client, 150).await;
    let counts = codes(&results);
    assert_eq!(counts.get("invalid_key"), Some(&10), "{counts:?}");
    assert_eq!(
        counts.get("too_many_failed_attempts"),
        Some(&140),
        "{counts:?}"
    );
    assert_eq!(rig.verifications(), 10, "one slow hash per counted failure");
    assert_eq!(authn.verifications_in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_presenting_many_valid_cold_keys_is_never_refused() {
    let rig = rig(Config::default());
    let mut keys = Vec::new();
    for _ in 0..40 {
        keys.push(rig.mint().await);
    }
    let authn = rig.keyward.authenticator();
    let gateway = ip("198.51.100.8");
    let results = burst(&authn, |i| keys[i].clone(), |_| gateway, 40).await;
    assert_eq!(
        codes(&results).get("ok"),
        Some(&40),
        "{:?}",
        codes(&results)
    );
    assert_eq!(rig.verifications(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_with_one_secret_share_one_slow_hash() {
    let rig = rig(Config::default());
    let key = rig.mint().await;
    let authn = rig.keyward.authenticator();
    let results = burst(&authn, |_| key.clone(), nth_ip, 50).await;
    assert_eq!(codes(&results).get("ok"), Some(&50));
    assert_eq!(rig.verifications(), 1);
}

#[tokio::test]
async fn guesses_at_one_id_from_many_addresses_are_bounded_per_id() {
    let rig = rig(Config::default());
    let key = rig.mint().await;
    let authn = rig.keyward.authenticator();
    for n in 0..30 {
        let refused = auth(&authn, &rig.guess(&key), nth_ip(n)).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InvalidKey);
        if n >= 10 {
            assert_eq!(
                refused,
                AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown)
            );
        }
    }
    assert_eq!(
        rig.verifications(),
        10,
        "the 11th guess on is refused unhashed"
    );

    // The holder's first request during the cool-down is refused too, unhashed ...
    let holder = ip("203.0.113.50");
    assert_eq!(
        auth(&authn, &key, holder).await,
        Err(AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown))
    );
    assert_eq!(rig.verifications(), 10);
    // ... and works once it ends.
    rig.clock.advance(Duration::from_secs(60));
    auth(&authn, &key, holder).await.unwrap();
    assert_eq!(rig.verifications(), 11);
}

#[tokio::test]
async fn a_cached_key_is_never_affected_by_guesses_at_its_id() {
    let rig = rig(Config::default());
    let key = rig.mint().await;
    let authn = rig.keyward.authenticator();
    let holder = ip("203.0.113.50");
    auth(&authn, &key, holder).await.unwrap();
    for n in 0..50 {
        assert!(auth(&authn, &rig.guess(&key), nth_ip(n)).await.is_err());
    }
    assert_eq!(
        rig.verifications(),
        1,
        "guesses at a cached id are decided unhashed"
    );
    auth(&authn, &key, holder).await.unwrap();
    // Past the cache's refresh the holder re-reads the record, still without a hash.
    rig.clock.advance(Duration::from_secs(31));
    auth(&authn, &key, holder).await.unwrap();
    assert_eq!(rig.verifications(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hash_queue_answers_503_at_once_while_cached_keys_pass() {
    let rig = rig(Config {
        max_concurrent_hashes: 1,
        max_queued_verifications: 1,
        ..Config::default()
    });
    let cached = rig.mint().await;
    let cold: Vec<String> = [rig.mint().await, rig.mint().await, rig.mint().await].into();
    let authn = rig.keyward.authenticator();
    auth(&authn, &cached, ip("192.0.2.1")).await.unwrap();

    let closed = rig.gate.close();
    let running = tokio::spawn({
        let (authn, key) = (authn.clone(), cold[0].clone());
        async move { auth(&authn, &key, ip("192.0.2.10")).await }
    });
    wait_until(|| rig.gate.entered() == 2).await;
    let queued = tokio::spawn({
        let (authn, key) = (authn.clone(), cold[1].clone());
        async move { auth(&authn, &key, ip("192.0.2.11")).await }
    });
    wait_until(|| authn.queued_verifications() == 1).await;

    let refused = auth(&authn, &cold[2], ip("192.0.2.12")).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AuthUnavailable);
    assert!(matches!(refused, AuthError::Unavailable { retry_after: 1 }));
    auth(&authn, &cached, ip("192.0.2.1")).await.unwrap();

    drop(closed);
    running.await.unwrap().unwrap();
    queued.await.unwrap().unwrap();
    // The refused key was not counted against anyone: it works now.
    auth(&authn, &cold[2], ip("192.0.2.12")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_never_failed_does_not_queue_behind_guesses() {
    let rig = rig(Config {
        max_concurrent_hashes: 2,
        ..Config::default()
    });
    let (a, b) = (rig.mint().await, rig.mint().await);
    let clean = rig
        .keyward
        .keys()
        .mint(MintRequest::new("clean", "u_1"))
        .await
        .unwrap();
    let authn = rig.keyward.authenticator();
    // One failure each makes the ids of `a` and `b` suspect.
    for key in [&a, &b] {
        assert!(auth(&authn, &rig.guess(key), nth_ip(1)).await.is_err());
    }
    let closed = rig.gate.close();
    let entered = rig.gate.entered();
    let guesses: Vec<_> = [&a, &b]
        .into_iter()
        .enumerate()
        .map(|(n, key)| {
            let (authn, guess) = (authn.clone(), rig.guess(key));
            tokio::spawn(async move { auth(&authn, &guess, nth_ip(10 + n)).await })
        })
        .collect();
    // One guess hashes, the other waits: suspects may not take the last slot.
    wait_until(|| rig.gate.entered() == entered + 1 && authn.queued_verifications() == 1).await;
    let holder = tokio::spawn({
        let (authn, key) = (authn.clone(), clean.key.expose().to_owned());
        async move { auth(&authn, &key, ip("203.0.113.9")).await }
    });
    wait_until(|| rig.gate.has_entered(clean.key.secret())).await;
    assert_eq!(
        authn.queued_verifications(),
        1,
        "the second guess still waits"
    );
    drop(closed);
    holder.await.unwrap().unwrap();
    for guess in guesses {
        assert!(guess.await.unwrap().is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_verifications_leave_nothing_behind() {
    let rig = rig(Config {
        max_queued_verifications: 10_000,
        ..Config::default()
    });
    let mut keys = Vec::new();
    for _ in 0..50 {
        keys.push(rig.mint().await);
    }
    let authn = rig.keyward.authenticator();
    let closed = rig.gate.close();
    let tasks: Vec<_> = (0..5_000)
        .map(|i| {
            let authn = authn.clone();
            let key = if i % 2 == 0 {
                keys[i % 50].clone()
            } else {
                rig.guess(&keys[i % 50])
            };
            tokio::spawn(async move { auth(&authn, &key, nth_ip(i % 100)).await })
        })
        .collect();
    wait_until(|| authn.verifications_in_flight() == 50).await;
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        assert!(task.await.unwrap_err().is_cancelled());
    }
    assert_eq!(
        authn.verifications_in_flight(),
        0,
        "inflight entries leaked"
    );
    drop(closed);
    // Nothing holds a slot: the client budget and the hash queue are whole again.
    wait_until(|| authn.queued_verifications() == 0).await;
    auth(&authn, &keys[0], nth_ip(0)).await.unwrap();
}

/// Polls `done` (state reached by other tasks) for at most 10 s.
async fn wait_until(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn the_store_sees_no_reads_for_a_cooling_id() {
    // The cool-down is checked before the store: a flood at one id costs memory only.
    let store = common::SwitchableStore::default();
    let clock = ManualClock::new(Timestamp::from_unix_seconds(START));
    let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), catalog())
        .store(store.clone())
        .clock(clock)
        .hasher(BcryptHasher::new(4).unwrap())
        .build()
        .unwrap();
    let key = keyward
        .keys()
        .mint(MintRequest::new("k", "u_1"))
        .await
        .unwrap();
    let authn = keyward.authenticator();
    let id = key.key.id();
    for n in 0..10 {
        let guess = keyward.format().mint_for(&id).unwrap();
        assert!(auth(&authn, guess.expose(), nth_ip(n)).await.is_err());
    }
    let reads = store.gets.load(Ordering::SeqCst);
    let guess = keyward.format().mint_for(&id).unwrap();
    assert_eq!(
        auth(&authn, guess.expose(), nth_ip(99)).await,
        Err(AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown)),
    );
    assert_eq!(store.gets.load(Ordering::SeqCst), reads, "no store read");
}

#[tokio::test]
async fn cooling_an_id_down_never_locks_its_holder_out() {
    // Ids are public: anyone can cool one down. Its holder, uncached, is refused
    // during the cool-down, but those refusals do not count toward the holder's
    // lockout, so the holder's other (cached) key keeps working.
    let rig = rig(Config::default());
    let (victim, other) = (rig.mint().await, rig.mint().await);
    let authn = rig.keyward.authenticator();
    let holder = ip("203.0.113.77");
    auth(&authn, &other, holder).await.unwrap();
    for n in 0..10 {
        assert!(auth(&authn, &rig.guess(&victim), nth_ip(n)).await.is_err());
    }
    for _ in 0..15 {
        assert_eq!(
            auth(&authn, &victim, holder).await,
            Err(AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown))
        );
    }
    auth(&authn, &other, holder).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_mid_hash_is_no_free_guess() {
    // A client that cancels each guess while its hash runs still has every failure
    // counted: at most 10 hashes, then it is locked out and the id cools down.
    let rig = rig(Config::default());
    let key = rig.mint().await;
    let authn = rig.keyward.authenticator();
    let client = ip("198.51.100.66");
    let mut locked = false;
    for _ in 0..30 {
        let closed = rig.gate.close();
        let entered = rig.gate.entered();
        let attempt = tokio::spawn({
            let (authn, guess) = (authn.clone(), rig.guess(&key));
            async move { auth(&authn, &guess, client).await }
        });
        wait_until(|| rig.gate.entered() > entered || attempt.is_finished()).await;
        if attempt.is_finished() {
            drop(closed);
            let refused = attempt.await.unwrap().unwrap_err();
            assert_eq!(refused.code(), ErrorCode::TooManyFailedAttempts);
            locked = true;
            break;
        }
        attempt.abort();
        assert!(attempt.await.unwrap_err().is_cancelled());
        drop(closed);
        // Let the orphaned hash pass the gate before the next round closes it again.
        wait_until(|| rig.verifications() == rig.gate.entered()).await;
    }
    assert!(locked, "the client was never locked out");
    assert!(rig.verifications() <= 10, "{} hashes", rig.verifications());
    assert_eq!(
        auth(&authn, &rig.guess(&key), nth_ip(500)).await,
        Err(AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown)),
        "the id cooled down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_filling_their_queue_never_turn_a_clean_key_away() {
    let rig = rig(Config {
        max_concurrent_hashes: 2,
        max_queued_verifications: 1,
        ..Config::default()
    });
    let (a, b, c) = (rig.mint().await, rig.mint().await, rig.mint().await);
    let (d, e) = (rig.mint().await, rig.mint().await);
    let authn = rig.keyward.authenticator();
    for (n, key) in [&a, &b, &c].into_iter().enumerate() {
        assert!(auth(&authn, &rig.guess(key), nth_ip(n)).await.is_err());
    }
    let closed = rig.gate.close();
    let spawn = |key: String, from: IpAddr| {
        let authn = authn.clone();
        tokio::spawn(async move { auth(&authn, &key, from).await })
    };
    let entered = rig.gate.entered();
    let guess_a = spawn(rig.guess(&a), nth_ip(10));
    wait_until(|| rig.gate.entered() == entered + 1).await;
    let guess_b = spawn(rig.guess(&b), nth_ip(11));
    wait_until(|| authn.queued_verifications() == 1).await;
    // The guesses' queue is full: the next guess is refused at once ...
    let refused = auth(&authn, &rig.guess(&c), nth_ip(12)).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AuthUnavailable);
    // ... but a clean key, finding both slots taken, queues in its own line.
    let holder_e = spawn(e.clone(), ip("203.0.113.20"));
    wait_until(|| rig.gate.entered() == entered + 2).await;
    let holder_d = spawn(d.clone(), ip("203.0.113.21"));
    wait_until(|| authn.queued_verifications() == 2).await;
    assert!(
        !holder_d.is_finished(),
        "the clean key waits, it is not refused"
    );
    drop(closed);
    holder_d.await.unwrap().unwrap();
    holder_e.await.unwrap().unwrap();
    assert!(guess_a.await.unwrap().is_err() && guess_b.await.unwrap().is_err());
}
