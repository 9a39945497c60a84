//! An event sink that keeps every event it receives.

use std::sync::{Arc, Mutex};

use keyward::KeyEvent;

/// Every event received, until taken.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<KeyEvent>>>);

impl Received {
    /// A sink for `KeywardBuilder::event_sink` that keeps each event here.
    pub fn sink(&self) -> impl Fn(&KeyEvent) + Send + Sync + 'static {
        let received = Arc::clone(&self.0);
        move |event: &KeyEvent| received.lock().unwrap().push(event.clone())
    }

    /// Takes every event received so far and returns those `keep` accepts.
    pub fn take_where(&self, keep: impl Fn(&KeyEvent) -> bool) -> Vec<KeyEvent> {
        let taken = std::mem::take(&mut *self.0.lock().unwrap());
        taken.into_iter().filter(|e| keep(e)).collect()
    }
}
