//! `SingleFlight`: a value computed at most once per interval and shared by every caller in between. Callers that
//! arrive while it is being computed wait for that computation instead of starting their own, so a burst of
//! requests costs one computation (the readiness probe of `/readyz`, which calls the issuers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

#[derive(Clone)]
pub struct SingleFlight<T> {
    fresh_for: Duration,
    last: Arc<Mutex<Option<(Instant, T)>>>,
}

impl<T: Clone> SingleFlight<T> {
    pub fn new(fresh_for: Duration) -> Self {
        Self { fresh_for, last: Arc::new(Mutex::new(None)) }
    }

    /// The last value if it is younger than the interval; otherwise `compute`s a new one while holding the slot,
    /// so concurrent callers queue behind it and then find it fresh. A cancelled computation leaves the slot as
    /// it was: the next caller computes.
    pub async fn get_or_compute<F, Fut>(&self, compute: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, value)) = last.as_ref()
            && at.elapsed() < self.fresh_for
        {
            return value.clone();
        }
        let value = compute().await;
        *last = Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_burst_computes_once_and_a_stale_value_is_recomputed() {
        let flight = SingleFlight::new(Duration::from_millis(300));
        let computed = Arc::new(AtomicUsize::new(0));
        let compute = || {
            let computed = computed.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                computed.fetch_add(1, Ordering::SeqCst) + 1
            }
        };
        let values = futures_util::future::join_all((0..10).map(|_| flight.get_or_compute(compute))).await;
        assert_eq!(values, vec![1; 10]);
        assert_eq!(flight.get_or_compute(compute).await, 1, "still fresh");
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(flight.get_or_compute(compute).await, 2, "stale: computed again");
    }
}
