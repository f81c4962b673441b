//! Pacing of content-creating requests. GitHub's secondary rate limits allow about 80 content-creating requests
//! (POST, PATCH, PUT, DELETE) a minute per App; going over earns a 403 and a wait of a minute or more, so a sweep
//! that files tracking issues for hundreds of repositories paces itself instead.
//!
//! The limit is a sliding window: at most `limit` writes started in any `window`. Writers wait in arrival order.
//! Pacing needs real time (it sleeps), so it uses tokio's clock, not the injected [`crate::clock::Clock`], which
//! decides dates and deadlines.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// GitHub's documented secondary limit for content-creating requests.
pub const GITHUB_WRITES_PER_MINUTE: usize = 80;

#[derive(Debug)]
pub struct WriteThrottle {
    limit: usize,
    window: Duration,
    started: tokio::sync::Mutex<VecDeque<Instant>>,
    waits: AtomicU64,
}

impl Default for WriteThrottle {
    fn default() -> Self {
        Self::new(GITHUB_WRITES_PER_MINUTE, Duration::from_secs(60))
    }
}

impl WriteThrottle {
    /// At most `limit` writes in any `window` (a `limit` of 0 is taken as 1).
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            started: tokio::sync::Mutex::new(VecDeque::new()),
            waits: AtomicU64::new(0),
        }
    }

    /// Waits until one more write fits in the window and counts it as started. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        // Held across the sleep on purpose: writers queue in order and none can overtake a sleeping one.
        let mut started = self.started.lock().await;
        let arrived = Instant::now();
        let mut slept = false;
        loop {
            let now = Instant::now();
            while started.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                started.pop_front();
            }
            if started.len() < self.limit {
                started.push_back(now);
                if !slept {
                    return Duration::ZERO;
                }
                self.waits.fetch_add(1, Ordering::Relaxed);
                return now.duration_since(arrived);
            }
            let oldest = *started.front().expect("the window is full");
            tokio::time::sleep_until(oldest + self.window).await;
            slept = true;
        }
    }

    /// How many writes had to wait so far.
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> (usize, Duration) {
        (self.limit, self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_window_holds_more_than_the_limit() {
        let window = Duration::from_millis(200);
        let throttle = WriteThrottle::new(3, window);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..8 {
            throttle.acquire().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times.iter().filter(|u| **u >= *t && **u < *t + window).count();
            assert!(in_window <= 3, "write {i} at {t:?} shares a window with {in_window} writes: {times:?}");
        }
        // Three at once, then three per window: the eighth starts two windows in.
        assert!(times[7] >= 2 * window, "{times:?}");
        assert!(times[2] < window, "{times:?}");
        // The 4th waits for the first three to leave the window (then the 5th and 6th fit), the 7th likewise.
        assert_eq!(throttle.waits(), 2);
    }

    #[tokio::test]
    async fn writers_spread_over_time_never_wait() {
        let throttle = WriteThrottle::new(2, Duration::from_millis(100));
        for _ in 0..4 {
            assert_eq!(throttle.acquire().await, Duration::ZERO);
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        assert_eq!(throttle.waits(), 0);
    }
}
