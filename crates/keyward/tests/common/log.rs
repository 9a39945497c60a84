//! The lines `tracing` writes on this thread, captured as text.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::Level;
use tracing::subscriber::DefaultGuard;

/// Every line logged on this thread at `level` or above, from `install` until dropped.
pub struct LogCapture {
    written: Written,
    _default: DefaultGuard,
}

impl LogCapture {
    /// Makes a plain-text subscriber into this thread's default.
    pub fn install(level: Level) -> LogCapture {
        let written = Written::default();
        let writer = written.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(level)
            .with_ansi(false)
            .finish();
        LogCapture {
            written,
            _default: tracing::subscriber::set_default(subscriber),
        }
    }

    /// What has been logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.written.0.lock().unwrap().clone()).unwrap()
    }
}

/// Captures every line logged at `level` or above while `f` runs.
pub async fn captured_log<T>(level: Level, f: impl Future<Output = T>) -> (T, String) {
    let capture = LogCapture::install(level);
    let output = f.await;
    (output, capture.text())
}

/// The bytes written, shared with the subscriber's writers.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
