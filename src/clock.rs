//! The clock, injected: deadlines and expiries are computed from a [`Clock`], never from the system time directly.

use chrono::NaiveDate;

pub trait Clock: Send + Sync {
    /// Today's date (UTC).
    fn today(&self) -> NaiveDate;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> NaiveDate {
        chrono::Utc::now().date_naive()
    }
}

/// A clock stopped at a date: `evaluate --as-of`, and tests.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub NaiveDate);

impl Clock for FixedClock {
    fn today(&self) -> NaiveDate {
        self.0
    }
}
