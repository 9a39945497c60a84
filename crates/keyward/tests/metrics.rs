//! Metrics: what keyward records through the `metrics` facade, with a debugging
//! recorder installed (thread-locally) while the rig is built.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Rig, auth, catalog, ip, mint, rig_with};
use keyward::limit::{GuardConfig, Quota};
use keyward::scope::Requirement;
use keyward::{AuthError, Credential, KeywardBuilder, MintRequest};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The rig, its handles registered with a fresh debugging recorder.
fn recorded(configure: impl FnOnce(KeywardBuilder) -> KeywardBuilder) -> (Rig, Snapshotter) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rig = metrics::with_local_recorder(&recorder, || rig_with(configure));
    (rig, snapshotter)
}

/// One metric: its name, its labels and its value.
type Metric = (String, Vec<(String, String)>, DebugValue);

/// What changed since the last snapshot (counters are drained by each one).
struct Seen(Vec<Metric>);

impl Seen {
    fn take(snapshotter: &Snapshotter) -> Seen {
        Seen(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| {
                    let key = key.key();
                    let labels = key
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect();
                    (key.name().to_owned(), labels, value)
                })
                .collect(),
        )
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        self.0
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, value)| value)
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.value(name, labels) {
            Some(DebugValue::Counter(n)) => *n,
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    fn gauge(&self, name: &str) -> f64 {
        match self.value(name, &[]) {
            Some(DebugValue::Gauge(n)) => n.into_inner(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn samples(&self, name: &str) -> Vec<f64> {
        match self.value(name, &[]) {
            Some(DebugValue::Histogram(samples)) => {
                samples.iter().map(|s| s.into_inner()).collect()
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    fn outcome(&self, outcome: &str) -> u64 {
        self.counter("keyward_auth_requests_total", &[("outcome", outcome)])
    }
}

#[tokio::test]
async fn every_outcome_has_its_counter() {
    let (rig, metrics) = recorded(|b| b.default_quota(Quota::per_minute(3)));
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let key = key.key.expose();
    let kb_read = catalog().all_of(["kb:read"]).unwrap();

    auth(&rig, key, &Requirement::none()).await.unwrap();
    auth(&rig, key, &Requirement::none()).await.unwrap();
    assert_eq!(
        auth(&rig, key, &kb_read).await.unwrap_err().code().as_str(),
        "insufficient_capability"
    );
    assert_eq!(
        auth(&rig, "sk_live_not-a-key", &Requirement::none())
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "invalid_key"
    );
    // Refusals before the rate limit spend none of it: the third pass uses it up.
    auth(&rig, key, &Requirement::none()).await.unwrap();
    assert!(matches!(
        auth(&rig, key, &Requirement::none()).await,
        Err(AuthError::RateLimited { .. })
    ));

    let seen = Seen::take(&metrics);
    assert_eq!(seen.outcome("ok"), 3);
    assert_eq!(seen.outcome("insufficient_capability"), 1);
    assert_eq!(seen.outcome("invalid_key"), 1);
    assert_eq!(seen.outcome("rate_limited"), 1);
    assert_eq!(seen.outcome("key_revoked"), 0);
    assert_eq!(seen.counter("keyward_rate_limited_total", &[]), 1);
    assert_eq!(seen.counter("keyward_lockouts_total", &[]), 0);
    assert!(
        seen.value("keyward_auth_requests_total", &[("outcome", "not_found")])
            .is_none(),
        "codes an authentication never answers are not registered"
    );
}

#[tokio::test]
async fn a_lockout_is_counted_once_and_its_refusals_each_time() {
    let config = GuardConfig::new(3, Duration::from_secs(60), Duration::from_secs(60)).unwrap();
    let (rig, metrics) = recorded(|b| b.lockout(config));
    for _ in 0..3 {
        let e = auth(&rig, "sk_live_not-a-key", &Requirement::none()).await;
        assert_eq!(e.unwrap_err().code().as_str(), "invalid_key");
    }
    for _ in 0..4 {
        let e = auth(&rig, "sk_live_not-a-key", &Requirement::none()).await;
        assert_eq!(e.unwrap_err().code().as_str(), "too_many_failed_attempts");
    }
    let seen = Seen::take(&metrics);
    assert_eq!(seen.outcome("invalid_key"), 3);
    assert_eq!(seen.outcome("too_many_failed_attempts"), 4);
    assert_eq!(seen.counter("keyward_lockouts_total", &[]), 1);
    assert_eq!(seen.gauge("keyward_lockout_tracked_clients"), 1.0);
}

#[tokio::test]
async fn cache_lookups_are_hits_misses_or_stale() {
    let (rig, metrics) = recorded(|b| b);
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let key = key.key.expose();
    let authn = rig.keyward.authenticator();
    let none = Requirement::none();
    let client = ip("192.0.2.1");

    auth(&rig, key, &none).await.unwrap(); // miss
    auth(&rig, key, &none).await.unwrap(); // hit
    // The synchronous path counts its hits too, and leaves a miss to `authenticate`.
    authn
        .authenticate_now(Credential::Key(key), &none, client)
        .unwrap()
        .unwrap();
    rig.clock.advance(keyward::Config::default().cache_refresh);
    assert!(
        authn
            .authenticate_now(Credential::Key(key), &none, client)
            .is_none()
    );
    auth(&rig, key, &none).await.unwrap(); // stale: a store read

    let seen = Seen::take(&metrics);
    let lookups = |result| seen.counter("keyward_cache_lookups_total", &[("result", result)]);
    assert_eq!(
        (lookups("hit"), lookups("miss"), lookups("stale")),
        (2, 1, 1)
    );
    assert_eq!(seen.outcome("ok"), 4);
    assert_eq!(seen.gauge("keyward_cache_entries"), 1.0);
}

#[tokio::test]
async fn a_cold_verification_records_its_slow_hash() {
    let (rig, metrics) = recorded(|b| b);
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let minted = Seen::take(&metrics).samples("keyward_slow_hash_seconds");
    assert_eq!(minted.len(), 1, "the mint's hash");

    auth(&rig, key.key.expose(), &Requirement::none())
        .await
        .unwrap();
    auth(&rig, key.key.expose(), &Requirement::none())
        .await
        .unwrap();
    let seen = Seen::take(&metrics);
    let samples = seen.samples("keyward_slow_hash_seconds");
    assert_eq!(samples.len(), 1, "one cold verification, then a cached hit");
    assert!(samples[0] > 0.0 && samples[0] < 60.0, "{samples:?}");
    assert_eq!(seen.gauge("keyward_slow_hash_queue_depth"), 0.0);
}

#[tokio::test]
async fn store_failures_are_counted_by_method_and_answers_are_not() {
    let (rig, metrics) = recorded(|b| b);
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let keys = rig.keyward.keys();
    // Answers, not failures: a well-formed key this store does not hold, a revoke
    // of a key that is not there.
    let stranger = mint(&rig_with(|b| b), MintRequest::new("CI", "u_1")).await;
    let e = auth(&rig, stranger.key.expose(), &Requirement::none()).await;
    assert_eq!(
        e.unwrap_err(),
        AuthError::InvalidKey(keyward::InvalidKeyReason::UnknownKey)
    );
    assert!(keys.revoke(&stranger.key.id()).await.is_err());
    let seen = Seen::take(&metrics);
    for op in ["get", "revoke", "apply", "list"] {
        assert_eq!(
            seen.counter("keyward_store_errors_total", &[("op", op)]),
            0,
            "{op}"
        );
    }

    rig.store.down.store(true, Ordering::SeqCst);
    let e = auth(&rig, key.key.expose(), &Requirement::none()).await;
    assert_eq!(e.unwrap_err().code().as_str(), "auth_unavailable");
    assert!(keys.get(&key.key.id()).await.is_err());
    assert!(
        rig.keyward
            .keys()
            .list(&Default::default(), Default::default())
            .await
            .is_err()
    );
    rig.store.down.store(false, Ordering::SeqCst);

    let seen = Seen::take(&metrics);
    assert_eq!(
        seen.counter("keyward_store_errors_total", &[("op", "get")]),
        2
    );
    assert_eq!(
        seen.counter("keyward_store_errors_total", &[("op", "list")]),
        1
    );
    assert_eq!(seen.outcome("auth_unavailable"), 1);
}
