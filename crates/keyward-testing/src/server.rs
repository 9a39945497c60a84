//! [`ServerProcess`]: an example server binary run as a child process on a loopback port,
//! for end-to-end tests over real sockets.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a server may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running example server; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The `bootstrap key: …` it printed, if it printed one.
    pub bootstrap_key: Option<String>,
    /// Every stdout line before `listening on` (to prove nothing secret is printed).
    pub startup_output: Vec<String>,
}

/// Every environment variable the example servers read a flag from: a developer's shell
/// setting one must not change what a test starts.
const SERVER_ENV: [&str; 12] = [
    "KEYWARD_BIND",
    "KEYWARD_CONFIG",
    "KEYWARD_DATABASE_URL",
    "KEYWARD_DATABASE_SCHEMA",
    "KEYWARD_REDIS_URL",
    "KEYWARD_REDIS_NAMESPACE",
    "KEYWARD_FAIL_OPEN_ON_LIMIT_ERRORS",
    "KEYWARD_RATE_LIMIT",
    "KEYWARD_MAX_LIVE_KEYS_PER_OWNER",
    "KEYWARD_TRUSTED_PROXIES",
    "KEYWARD_SECRET_SCANNING_KEYS",
    "KEYWARD_METRICS_BIND",
];

/// `binary --bind 127.0.0.1:0 args…` with none of [`SERVER_ENV`] inherited.
fn server_command(binary: &str, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command.args(["--bind", "127.0.0.1:0"]).args(args);
    for name in SERVER_ENV {
        command.env_remove(name);
    }
    command
}

impl ServerProcess {
    /// Starts `binary --bind 127.0.0.1:0 args…` and waits for its `listening on` line.
    /// Its log (stderr) is shown when `KEYWARD_TEST_SERVER_LOGS` is set.
    ///
    /// # Panics
    ///
    /// When the binary cannot start, exits, or does not listen within 30 s.
    pub async fn start(binary: &str, args: &[&str]) -> ServerProcess {
        let logs = std::env::var_os("KEYWARD_TEST_SERVER_LOGS").is_some();
        let mut child = server_command(binary, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if logs {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut startup_output = Vec::new();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .expect("read server stdout")
                    .unwrap_or_else(|| {
                        panic!("{binary} exited before listening: {startup_output:?}")
                    });
                if let Some(url) = line.strip_prefix("listening on http://") {
                    break url.parse::<SocketAddr>().expect("listening address");
                }
                startup_output.push(line);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{binary} did not listen within {START_TIMEOUT:?}"));
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let bootstrap_key = startup_output
            .iter()
            .find_map(|l| l.strip_prefix("bootstrap key: "))
            .map(str::to_owned);
        ServerProcess {
            child,
            addr,
            bootstrap_key,
            startup_output,
        }
    }

    /// Runs `binary --bind 127.0.0.1:0 args…` expecting it to refuse to start, and
    /// returns how it exited and what it printed.
    ///
    /// # Panics
    ///
    /// When the binary cannot start or is still running after 30 s.
    pub async fn refused(binary: &str, args: &[&str]) -> std::process::Output {
        let child = server_command(binary, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        tokio::time::timeout(START_TIMEOUT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{binary} still runs after {START_TIMEOUT:?}"))
            .expect("wait for the server")
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::SERVER_ENV;

    /// A flag added to the example servers with an environment fallback is cleared too.
    #[test]
    fn every_server_environment_variable_is_cleared() {
        let args = include_str!("../../../examples/demo-api/src/args.rs");
        let read: Vec<&str> = args
            .split("env = \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(read.len() >= 10, "found only {read:?}");
        for name in read {
            assert!(SERVER_ENV.contains(&name), "{name} is not cleared");
        }
    }
}
