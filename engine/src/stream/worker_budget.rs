//! The worker budget taken from what a voice's block costs on this machine, instead of a fixed
//! fraction of the block: the reported latency then holds only the time the inference thread
//! needs, with room for the block-to-block variation of its compute and the scheduler.
//!
//! The compute is timed when the voice loads (see `RvcProcessor::time_block`), on the thread and
//! with the threads the stream will use; the budget never exceeds the settings' fraction of a
//! block, which stays the cap (a stream that needs more than a block per block cannot keep up at
//! any latency).

use std::time::Duration;

/// Reserved per measured block: the compute of a block varies with what else the machine runs
/// (the host, other plugins, a voice loading in the background). The bench's p99 sits at 1.3–1.4 ×
/// the median on two cores; this leaves room beyond it.
pub const COMPUTE_HEADROOM: f64 = 1.5;

/// Added to every measured budget: waking the inference thread (it polls every millisecond), the
/// scheduler handing it a core while the host's threads run, and a block that crosses a timer
/// tick. Small voices compute in a few milliseconds; this keeps their budget out of the noise.
pub const SCHEDULING_SLACK: Duration = Duration::from_millis(15);

/// The time a block that took `compute` when timed should be given.
pub fn measured_budget(compute: Duration) -> Duration {
    compute.mul_f64(COMPUTE_HEADROOM) + SCHEDULING_SLACK
}

/// `budget` in samples at `sample_rate`, between one sample and `cap`.
pub fn budget_samples(budget: Duration, sample_rate: u32, cap: usize) -> usize {
    ((budget.as_secs_f64() * f64::from(sample_rate)).ceil() as usize).clamp(1, cap.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_the_headroom_over_the_compute_plus_the_slack_within_the_cap() {
        let budget = measured_budget(Duration::from_millis(20));
        assert_eq!(budget, Duration::from_millis(30) + SCHEDULING_SLACK);
        assert_eq!(budget_samples(budget, 48_000, 5760), 45 * 48);
        assert_eq!(budget_samples(Duration::from_secs(1), 48_000, 5760), 5760, "never more than the cap");
        assert_eq!(budget_samples(Duration::ZERO, 48_000, 5760), 1);
    }
}
