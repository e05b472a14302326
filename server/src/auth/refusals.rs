//! Refusals of anonymous requests (forged cross-site requests, unknown API tokens, bad sign-in callbacks) are
//! cheap to send by the thousand, and every audit write takes the audit chain's head lock. So each one is counted
//! (`certdesk_refusals_total`) and logged, but written to the audit chain at most once per source, action and
//! reason per minute; the next row written for that source says how many went unaudited in between.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One audit row per source, action and reason per this window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Sources remembered at most; beyond that, windows that have ended are forgotten first.
const MAX_SOURCES: usize = 10_000;

#[derive(Clone)]
pub struct RefusalThrottle {
    window: Duration,
    sources: Arc<Mutex<HashMap<Source, Window>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Source {
    client_addr: String,
    action: String,
    reason: String,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    /// Refusals inside the window that were not audited.
    unaudited: u64,
}

impl RefusalThrottle {
    pub fn new(window: Duration) -> Self {
        Self { window, sources: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// `Some(n)`: audit this refusal, noting the `n` refusals from this source that were not audited since the
    /// last row. `None`: one was audited within the window; this one is only counted.
    pub fn admit(&self, client_addr: &str, action: &str, reason: &str) -> Option<u64> {
        let now = Instant::now();
        let Ok(mut sources) = self.sources.lock() else { return Some(0) };
        let source =
            Source { client_addr: client_addr.to_owned(), action: action.to_owned(), reason: reason.to_owned() };
        if let Some(window) = sources.get_mut(&source) {
            if now.duration_since(window.started) < self.window {
                window.unaudited += 1;
                return None;
            }
            let unaudited = window.unaudited;
            *window = Window { started: now, unaudited: 0 };
            return Some(unaudited);
        }
        if sources.len() >= MAX_SOURCES {
            let window = self.window;
            sources.retain(|_, open| now.duration_since(open.started) < window);
        }
        sources.insert(source, Window { started: now, unaudited: 0 });
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_window_and_the_next_row_carries_the_count() {
        let throttle = RefusalThrottle::new(Duration::from_millis(200));
        assert_eq!(throttle.admit("192.0.2.1", "api.auth", "unknown token"), Some(0));
        for _ in 0..49 {
            assert_eq!(throttle.admit("192.0.2.1", "api.auth", "unknown token"), None);
        }
        assert_eq!(throttle.admit("192.0.2.2", "api.auth", "unknown token"), Some(0), "another source");
        assert_eq!(throttle.admit("192.0.2.1", "request.csrf", "foreign Origin"), Some(0), "another refusal");
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(throttle.admit("192.0.2.1", "api.auth", "unknown token"), Some(49));
        assert_eq!(throttle.admit("192.0.2.1", "api.auth", "unknown token"), None);
    }
}
