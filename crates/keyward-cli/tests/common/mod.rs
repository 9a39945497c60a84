//! The `keyward` binary on a temporary SQLite file, shared by the CLI tests.

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;
use std::time::Duration;

use keyward::clock::{Clock, ManualClock, SystemClock, Timestamp};
use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::store::KeyStore;
use keyward::{Keyward, MintRequest};
use serde_json::Value;

pub const DAY: Duration = Duration::from_secs(86_400);

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn db(&self) -> String {
        self.dir.path().join("keys.db").to_str().unwrap().to_owned()
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("keyward");
        cmd.env("KEYWARD_DATABASE_URL", self.db());
        // The owner and the configuration come from each test, never from the caller's
        // shell.
        cmd.env_remove("KEYWARD_OWNER");
        cmd.env_remove("KEYWARD_CONFIG");
        cmd.current_dir(self.dir.path());
        cmd
    }

    /// The command's JSON output; it must succeed.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).arg("--json").output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// A new key for u_1 made through `keys create`: (the key, its id).
    pub fn mint(&self, name: &str) -> (String, String) {
        let created = self.json(&["keys", "create", "--owner", "u_1", "--name", name]);
        (
            created["key"].as_str().unwrap().to_owned(),
            created["id"].as_str().unwrap().to_owned(),
        )
    }

    /// The state `keys show` gives key `id`.
    pub fn state(&self, id: &str) -> String {
        self.json(&["keys", "show", id])["state"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The command's table output; it must succeed.
    pub fn text(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The store the CLI uses, opened as a server would.
    pub async fn store(&self) -> Arc<dyn KeyStore> {
        keyward_cli::Database::open(&self.db(), None)
            .await
            .unwrap()
            .store()
    }

    /// The library on the CLI's file, on a clock the test sets.
    pub async fn library(&self, clock: &ManualClock) -> Keyward {
        Keyward::builder(
            KeyFormat::new("sk_live_").unwrap(),
            keyward_cli::demo_catalog(),
        )
        .shared_store(self.store().await)
        .clock(clock.clone())
        .hasher(BcryptHasher::new(BcryptHasher::MIN_COST).unwrap())
        .build()
        .unwrap()
    }
}

/// Now, as the CLI reads it.
pub fn now() -> Timestamp {
    SystemClock.now()
}

/// Mints `name` through `keyward` at `at`, expiring `expires_in` later when given;
/// returns its id.
pub async fn mint_at(
    keyward: &Keyward,
    clock: &ManualClock,
    at: Timestamp,
    name: &str,
    expires_in: Option<Duration>,
) -> String {
    clock.set(at);
    let mut request = MintRequest::new(name, "u_1");
    if let Some(after) = expires_in {
        request = request.expires_in(after);
    }
    keyward
        .keys()
        .mint(request)
        .await
        .unwrap()
        .summary
        .id
        .to_string()
}

/// Asserts a usage error (exit 2): one `error: …` line naming `needle`, no panic.
pub fn usage_error(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
