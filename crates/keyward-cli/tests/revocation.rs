//! Two real processes on one SQLite file: a key revoked or rolled by the `keyward` CLI
//! is refused by a running `Keyward` built with `.database(&db)` (this test process)
//! within 1 s, though it had the key cached as valid. Prints the observed p50 and p99.

use std::process::Output;
use std::time::{Duration, Instant};

use keyward::format::{KeyFormat, KeyId};
use keyward::hash::BcryptHasher;
use keyward::scope::Requirement;
use keyward::{Authenticator, Credential, Database, Keyward, MintRequest};
use keyward_cli::demo_catalog;

/// How long another process's change may take to be refused here.
const DEADLINE: Duration = Duration::from_secs(1);

/// How often the test asks while waiting.
const ASK_EVERY: Duration = Duration::from_millis(10);

/// A wait of 0–99 ms before round `round`'s change, spread over the rounds: each round
/// starts just after the server's poll found the previous change, so without it every
/// change would land at the same point of the 100 ms poll cycle and the figures would
/// describe that one point rather than a change made at any time.
fn stagger(round: u64) -> Duration {
    Duration::from_millis(round * 37 % 100)
}

/// A running "server": keyward on the file, its feed wired by `.database`.
struct Server {
    _dir: tempfile::TempDir,
    db: String,
    keyward: Keyward,
    route: Requirement,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("keys.db").to_str().unwrap().to_owned();
        let database = Database::open(&db, None).await.unwrap();
        let keyward = Keyward::builder(KeyFormat::new("sk_live_").unwrap(), demo_catalog())
            .database(&database)
            .hasher(BcryptHasher::new(4).unwrap())
            .without_rate_limits()
            .without_lockout()
            .build()
            .unwrap();
        let route = demo_catalog().all_of(["desktop:read"]).unwrap();
        Server {
            _dir: dir,
            db,
            keyward,
            route,
        }
    }

    fn auth(&self) -> Authenticator {
        self.keyward.authenticator()
    }

    /// Mints a key and authenticates it twice, so it is cached as valid.
    async fn cached_key(&self) -> (KeyId, String) {
        let minted = self
            .keyward
            .keys()
            .mint(MintRequest::new("CI", "u_ci"))
            .await
            .unwrap();
        let key = minted.key.expose().to_owned();
        for _ in 0..2 {
            self.auth()
                .authenticate(Credential::Key(&key), &self.route, ip())
                .await
                .unwrap();
        }
        (minted.summary.id, key)
    }

    /// Runs the `keyward` binary on the same file, in its own process.
    async fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"));
        cmd.args(args)
            .args(["--database-url", &self.db])
            .env_remove("KEYWARD_DATABASE_URL")
            .env_remove("KEYWARD_DATABASE_SCHEMA")
            .env_remove("KEYWARD_OWNER")
            .env_remove("KEYWARD_CONFIG");
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// How long after now `key` is first refused with `code`, asking every 10 ms;
    /// `None` when it is still accepted after the deadline.
    async fn time_to_refusal(&self, key: &str, code: &str) -> Option<Duration> {
        let start = Instant::now();
        loop {
            match self
                .auth()
                .authenticate(Credential::Key(key), &self.route, ip())
                .await
            {
                Err(e) => {
                    assert_eq!(e.code().as_str(), code, "{e}");
                    return Some(start.elapsed());
                }
                Ok(_) if start.elapsed() > DEADLINE => return None,
                Ok(_) => tokio::time::sleep(ASK_EVERY).await,
            }
        }
    }
}

fn ip() -> std::net::IpAddr {
    "203.0.113.7".parse().unwrap()
}

/// The `q` quantile (nearest rank) of sorted `times`.
fn quantile(times: &[Duration], q: f64) -> Duration {
    let rank = (q * times.len() as f64).ceil() as usize;
    times[rank.clamp(1, times.len()) - 1]
}

/// Asserts every round was refused within the deadline; prints p50 and p99.
fn report(what: &str, times: Vec<Option<Duration>>) {
    let rounds = times.len();
    let late = times.iter().filter(|t| t.is_none()).count();
    assert_eq!(
        late, 0,
        "{what}: {late} of {rounds} keys changed by the CLI were still accepted after {DEADLINE:?}"
    );
    let mut times: Vec<Duration> = times.into_iter().flatten().collect();
    times.sort();
    let (p50, p99) = (quantile(&times, 0.50), quantile(&times, 0.99));
    println!(
        "{what}: {rounds} rounds, refused after p50 {p50:?}, p99 {p99:?}, max {:?}",
        times[rounds - 1]
    );
    assert!(p99 <= DEADLINE, "{what}: p99 {p99:?}");
}

#[tokio::test]
async fn a_key_revoked_by_the_cli_is_refused_within_a_second() {
    let server = Server::start().await;
    let mut times = Vec::new();
    for round in 0..30 {
        let (id, key) = server.cached_key().await;
        tokio::time::sleep(stagger(round)).await;
        server.cli(&["keys", "revoke", id.as_str()]).await;
        // The CLI has exited: the revoke is committed.
        times.push(server.time_to_refusal(&key, "key_revoked").await);
    }
    report("keys revoke", times);
}

#[tokio::test]
async fn a_key_rolled_by_the_cli_without_grace_is_refused_within_a_second() {
    let server = Server::start().await;
    let mut times = Vec::new();
    for round in 0..20 {
        let (id, key) = server.cached_key().await;
        tokio::time::sleep(stagger(round)).await;
        server
            .cli(&["keys", "roll", id.as_str(), "--grace", "0s"])
            .await;
        times.push(server.time_to_refusal(&key, "key_expired").await);
    }
    report("keys roll --grace 0s", times);
}
