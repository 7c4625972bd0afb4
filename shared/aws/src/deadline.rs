//! The time an invocation has left. Batch consumers stop taking records when
//! it runs short and hand the rest back, so nothing is dead-lettered because
//! a provider was slow near the end of the function's timeout.

use std::time::{Duration, Instant};

/// Stop taking records with less than this left (a slow provider call takes
/// up to the SDK's attempt timeout).
pub const SAFETY_MARGIN: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    margin: Duration,
}

impl Deadline {
    /// No limit (tests, benchmarks).
    pub fn none() -> Self {
        Self {
            at: None,
            margin: SAFETY_MARGIN,
        }
    }

    /// `left` from now, as the function's timeout gives it.
    pub fn after(left: Duration) -> Self {
        Self {
            at: Instant::now().checked_add(left),
            margin: SAFETY_MARGIN,
        }
    }

    /// From Lambda's invocation context (milliseconds since the epoch).
    pub fn from_context(context: &lambda_runtime::Context) -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self::after(Duration::from_millis(
            context.deadline.saturating_sub(now_ms),
        ))
    }

    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Whether less than the margin is left.
    pub fn is_near(&self) -> bool {
        self.at
            .is_some_and(|at| at.saturating_duration_since(Instant::now()) < self.margin)
    }
}
