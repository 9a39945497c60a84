//! One phase of the scenario: a cached key's latency and fresh keys' first verification,
//! measured while the attack runs or not; and the drain after the attack.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use hyper::Method;
use keyward_format::KeyId;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, sleep, sleep_until, timeout};

use crate::http::{Answer, Connection, Error};
use crate::keys::{Forger, random_client_ip};

/// A cached key's requests are paced, so that measuring does not load the server.
const CACHED_EVERY: Duration = Duration::from_millis(2);
/// How long one measured request may take before it counts as a timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What the scenario attacks and measures with.
pub struct Scenario {
    /// The server.
    pub addr: SocketAddr,
    /// A valid key, verified once so it is cached.
    pub cached_key: String,
    /// Valid keys never presented yet: each one is a first verification.
    pub fresh_keys: Mutex<Vec<String>>,
    /// Known ids whose secrets the attack guesses.
    pub victims: Vec<KeyId>,
    /// Builds the wrong secrets.
    pub forger: Forger,
    /// Concurrent attack connections.
    pub connections: usize,
    /// Where the attack runs: one thread of its own, so that measured requests never
    /// queue behind attack tasks in the client.
    pub attack_runtime: tokio::runtime::Runtime,
}

/// Latencies of requests answered 200, and the count of every other answer.
#[derive(Default)]
pub struct Samples {
    /// Latencies of the 200s, sorted once the phase is finished.
    pub ok: Vec<Duration>,
    /// Other answers by status and error code (`error` and `timeout` when there was
    /// no answer).
    pub refused: BTreeMap<String, u64>,
}

impl Samples {
    fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok(latency) => self.ok.push(latency),
            Outcome::Refused(label) => *self.refused.entry(label).or_default() += 1,
        }
    }

    /// The `percent` percentile of the 200s (nearest rank).
    pub fn percentile(&self, percent: usize) -> Option<Duration> {
        let rank = (self.ok.len() * percent).div_ceil(100).max(1);
        self.ok.get(rank - 1).copied()
    }

    /// How many requests were measured.
    pub fn total(&self) -> u64 {
        self.ok.len() as u64 + self.refused.values().sum::<u64>()
    }
}

/// A phase's figures.
pub struct Phase {
    /// The cached key's requests.
    pub cached: Samples,
    /// First verifications of fresh keys started during the phase.
    pub uncached: Samples,
    /// Those started in the second half of the phase: under attack, apart from the
    /// attack's first burst.
    pub uncached_late: Samples,
    /// Attack answers by status.
    pub attack: BTreeMap<String, u64>,
    /// How long the phase ran.
    pub elapsed: Duration,
}

/// A phase whose last first verifications may still be waiting on the server.
pub struct Running {
    phase: Phase,
    probes: Vec<JoinHandle<Outcome>>,
}

impl Running {
    /// Waits for the phase's first verifications.
    pub async fn finish(mut self) -> Phase {
        let half = self.probes.len() / 2;
        for (i, probe) in self.probes.into_iter().enumerate() {
            let outcome = probe
                .await
                .unwrap_or_else(|_| Outcome::Refused("error".into()));
            if i >= half {
                self.phase.uncached_late.record(outcome.clone());
            }
            self.phase.uncached.record(outcome);
        }
        self.phase.uncached.ok.sort();
        self.phase.uncached_late.ok.sort();
        self.phase
    }
}

/// One measured request.
#[derive(Clone)]
pub enum Outcome {
    /// Answered 200 after this long.
    Ok(Duration),
    /// Answered otherwise: the status, `error` or `timeout`.
    Refused(String),
}

/// What loads the server while a phase measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Nothing: the idle server.
    None,
    /// The attack's connections and rate on the unauthenticated health route.
    Flood,
    /// Wrong secrets for the victims.
    Attack,
}

impl Scenario {
    fn fresh_key(&self) -> Option<String> {
        self.fresh_keys.lock().expect("fresh keys").pop()
    }

    /// Runs a phase of `duration`: the cached key's requests back to back (paced), and
    /// `first_verifications` fresh keys spread over the phase; with `attack`, the attack.
    /// Returns at the end of the phase, without waiting for first verifications still
    /// queued on the server.
    pub async fn phase(
        &'static self,
        duration: Duration,
        first_verifications: usize,
        load: Load,
    ) -> Running {
        let start = Instant::now();
        let deadline = start + duration;
        let loaders = if load == Load::None {
            0
        } else {
            self.connections
        };
        let attackers: Vec<_> = (0..loaders)
            .map(|i| self.attack_runtime.spawn(self.attacker(i, deadline, load)))
            .collect();
        let launcher = tokio::spawn(self.launch_probes(deadline, duration, first_verifications));
        let cached = self.cached_requests(deadline).await;
        let probes = launcher.await.expect("the probe launcher");
        let mut by_status = BTreeMap::new();
        for attacker in attackers {
            for (status, count) in attacker.await.expect("an attacker") {
                *by_status.entry(status).or_default() += count;
            }
        }
        let mut cached = cached;
        cached.ok.sort();
        Running {
            phase: Phase {
                cached,
                uncached: Samples::default(),
                uncached_late: Samples::default(),
                attack: by_status,
                elapsed: start.elapsed(),
            },
            probes,
        }
    }

    async fn cached_requests(&self, deadline: Instant) -> Samples {
        let mut connection = Connection::new(self.addr);
        let mut samples = Samples::default();
        let mut pace = tokio::time::interval(CACHED_EVERY);
        pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while Instant::now() < deadline {
            pace.tick().await;
            samples.record(measure(&mut connection, &self.cached_key).await);
        }
        samples
    }

    async fn launch_probes(
        &'static self,
        deadline: Instant,
        duration: Duration,
        count: usize,
    ) -> Vec<JoinHandle<Outcome>> {
        let every = duration / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
        let start = Instant::now();
        let mut probes = Vec::with_capacity(count);
        for i in 0..count {
            // Open loop: a slow answer does not delay the next probe.
            sleep_until(start + every * u32::try_from(i).unwrap_or(u32::MAX)).await;
            if Instant::now() >= deadline {
                break;
            }
            let Some(key) = self.fresh_key() else { break };
            probes.push(tokio::spawn(self.first_verification(key)));
        }
        probes
    }

    /// A fresh key's first request, on its own connection so it queues behind nothing
    /// of ours.
    fn first_verification(&self, key: String) -> impl Future<Output = Outcome> + use<> {
        let addr = self.addr;
        async move { measure(&mut Connection::new(addr), &key).await }
    }

    /// One load connection until `deadline`, each request from a new random client
    /// address: wrong secrets for the victims in turn (the attack), or the
    /// unauthenticated health route (the same load without keyward). Answers by status.
    async fn attacker(
        &'static self,
        offset: usize,
        deadline: Instant,
        load: Load,
    ) -> BTreeMap<String, u64> {
        let mut connection = Connection::new(self.addr);
        let mut by_status = BTreeMap::new();
        for n in offset.. {
            let victim = &self.victims[n % self.victims.len()];
            let bearer = format!("Bearer {}", self.forger.wrong_secret(victim));
            let client = random_client_ip().to_string();
            let (path, headers) = match load {
                Load::Attack => ("/v1/me", vec![("authorization", bearer.as_str())]),
                Load::Flood | Load::None => ("/healthz", Vec::new()),
            };
            let mut headers = headers;
            headers.push(("x-forwarded-for", &client));
            let sent = connection.send(Method::GET, path, &headers, String::new());
            let answer = tokio::select! {
                answer = sent => answer,
                () = sleep_until(deadline) => break,
            };
            let failed = answer.is_err();
            *by_status.entry(label(answer)).or_default() += 1;
            if failed {
                // Do not spin on a server that refuses connections.
                sleep(Duration::from_millis(10)).await;
            }
        }
        by_status
    }
}

async fn measure(connection: &mut Connection, key: &str) -> Outcome {
    let bearer = format!("Bearer {key}");
    let headers = [("authorization", bearer.as_str())];
    let sent = Instant::now();
    let request = connection.send(Method::GET, "/v1/me", &headers, String::new());
    match timeout(REQUEST_TIMEOUT, request).await {
        Ok(Ok(Answer { status: 200, .. })) => Outcome::Ok(sent.elapsed()),
        Ok(answer) => Outcome::Refused(label(answer)),
        Err(_) => Outcome::Refused("timeout".into()),
    }
}

/// The status and, for a JSON refusal, its `error` code: `429 too_many_failed_attempts`.
fn label(answer: Result<Answer, Error>) -> String {
    let Ok(answer) = answer else {
        return "error".into();
    };
    let body: Option<Value> = serde_json::from_slice(&answer.body).ok();
    match body.as_ref().and_then(|body| body["error"].as_str()) {
        Some(code) => format!("{} {code}", answer.status),
        None => answer.status.to_string(),
    }
}
