//! The time a remote block needs, which the stream's latency reserves instead of a local worker's
//! budget: the network's round trip and the server's compute, measured at connect, with room for
//! the jitter of both.

use std::time::Duration;

/// Added to every budget: the link's polling (1 ms each way), waking three threads on two
/// machines (a loaded server's scheduler alone can take several milliseconds), and the network's
/// jitter beyond the round trips timed at connect.
pub const NETWORK_SLACK: Duration = Duration::from_millis(20);
/// The server's compute varies from block to block (pitch, gate, the other streams it converts);
/// this many times the measured block is reserved.
pub const COMPUTE_HEADROOM: f64 = 2.0;

/// The budget for a block on a server that took `compute` for one and answers pings in
/// `round_trip`.
pub fn network_budget(round_trip: Duration, compute: Duration) -> Duration {
    round_trip + compute.mul_f64(COMPUTE_HEADROOM) + NETWORK_SLACK
}

/// What the inference thread polls for a block (1 ms) and what it takes to hand the block over:
/// the budget counts from when the block was complete, the wait from when it went out.
pub const HANDOVER: Duration = Duration::from_millis(2);

/// How long the inference thread waits for a block's conversion under `budget`: short enough
/// that a block that does not come back still reaches the audio thread in time, faded out of the
/// server's pending output rather than cut by the audio thread's fallback.
pub fn reply_wait(budget: Duration) -> Duration {
    budget.saturating_sub(HANDOVER).max(Duration::from_millis(1))
}

/// The budget in samples at a rate, at most a block: a stream cannot wait longer per block than
/// a block lasts, or it falls behind for good.
pub use crate::stream::worker_budget::budget_samples;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_covers_round_trip_compute_and_slack_within_a_block() {
        let budget = network_budget(Duration::from_millis(2), Duration::from_millis(20));
        assert_eq!(budget, Duration::from_millis(2 + 40) + NETWORK_SLACK);
        assert_eq!(budget_samples(budget, 48_000, 5760), (62 * 48));
        assert_eq!(budget_samples(Duration::from_secs(1), 48_000, 5760), 5760);
    }
}
