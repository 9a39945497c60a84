//! The server process's CPU use, read from `/proc` (Linux): how much it worked during a
//! phase, and how long it kept working once the attack stopped.

use std::time::Duration;

use tokio::time::{Instant, sleep};

/// The window over which the server counts as quiet.
const QUIET_WINDOW: Duration = Duration::from_millis(500);
/// Below this many cores over a window, the server has nothing left to hash: one slow
/// hash keeps a core busy, an idle server uses next to none.
const QUIET_CORES: f64 = 0.1;

/// A server process to watch; `None` watches nothing and reports nothing.
#[derive(Clone, Copy)]
pub struct ServerCpu(pub Option<u32>);

impl ServerCpu {
    /// User plus system CPU seconds the process has used so far (100 ticks a second).
    pub fn seconds(self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0?)).ok()?;
        // Fields after the command name, which may hold spaces: state is field 3,
        // utime 14 and stime 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(ticks as f64 / 100.0)
    }

    /// Waits until the process uses under [`QUIET_CORES`] over a [`QUIET_WINDOW`]:
    /// `Ok(time to the start of that window)`, or `Err(time waited)` after `limit`.
    pub async fn quiet(self, limit: Duration) -> Option<Result<Duration, Duration>> {
        let start = Instant::now();
        let mut used = self.seconds()?;
        loop {
            let window = Instant::now();
            sleep(QUIET_WINDOW).await;
            let now = self.seconds()?;
            let cores = (now - used) / window.elapsed().as_secs_f64();
            used = now;
            if cores < QUIET_CORES {
                return Some(Ok(window - start));
            }
            if start.elapsed() >= limit {
                return Some(Err(start.elapsed()));
            }
        }
    }
}

/// Average cores used between two readings `elapsed` apart.
pub fn cores(before: Option<f64>, after: Option<f64>, elapsed: Duration) -> Option<f64> {
    Some((after? - before?) / elapsed.as_secs_f64())
}
