//! The worker budget a stream reserves when it is measured ([`StreamSettings::measured_budget`]):
//! enough for the slowest voice this instance has timed with the stream's settings, at most the
//! settings' fraction of a block.
//!
//! Each voice is timed the first time it loads with these settings (`RvcProcessor::time_block`)
//! and keeps that time: a reactivation reserves exactly what the last one did, so the host is
//! never asked twice for the same voices. A voice timed in the background while another converts
//! shares the cores with it; its time stands until an activation loads it alone and times it
//! again, once. `activate` reserves for the slowest timed so far. A
//! voice loaded while the stream runs never changes the running stream's latency: a host may
//! re-read the latency without restarting the plugin (Ardour does, for VST3's `kLatencyChanged`),
//! and the audio would then be placed by one latency and delayed by another. Instead the latency
//! the next activation would report is kept for the editor, which offers to ask the host for it:
//! when a slower voice needs more than the stream reserves, or a stream that started with no voice
//! to time (and so reserved the whole cap) could report less. New settings or a new rate start
//! afresh.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::worker_budget::{SCHEDULING_SLACK, budget_samples, measured_budget};
use rvc_live_engine::stream::{StreamGeometry, StreamSettings};

/// What the running stream reserves, as `activate` decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reserved {
    /// The running stream's latency, and the worker budget it holds, in samples.
    latency: usize,
    budget: usize,
    /// Whether the budget came from a timed voice (otherwise it is the cap).
    measured: bool,
}

/// One voice's block as timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub compute: Duration,
    /// Timed while a stream converted another voice on the same cores: probably longer than
    /// the voice needs, so the next activation that loads it times it again, alone.
    pub provisional: bool,
}

/// The voices timed with one set of stream settings at one rate.
struct Timings {
    settings: StreamSettings,
    rate: u32,
    voices: Vec<(VoiceSelection, Timing)>,
}

impl Timings {
    fn are_for(&self, settings: &StreamSettings, rate: u32) -> bool {
        self.settings == *settings && self.rate == rate
    }

    fn slowest(&self) -> Option<Duration> {
        self.voices.iter().map(|(_, timing)| timing.compute).max()
    }
}

#[derive(Default)]
pub struct MeasuredBudgets {
    /// Written and read by the host's main thread (`activate`) and the voice loader thread.
    timings: Mutex<Option<Timings>>,
    /// What the running stream reserves; `None` when it follows no loads (a fixed budget, a
    /// remote engine, an offline render, which waits for each block). Written by `activate`, read
    /// by the voice loader.
    reserved: Mutex<Option<Reserved>>,
    /// The latency the next activation would report for the voices loaded since `activate`, in
    /// samples, where the running stream should change it; 0 for none. Written by the voice
    /// loader, read by the editor.
    pending_latency: AtomicU32,
}

impl MeasuredBudgets {
    /// How `voice`'s block was timed with `settings` at `geometry`'s rate, if it was.
    pub fn timed(
        &self,
        settings: &StreamSettings,
        geometry: &StreamGeometry,
        voice: &VoiceSelection,
    ) -> Option<Timing> {
        let settings = settings.clamped();
        let timings = self.timings.lock();
        let timings = timings.as_ref().filter(|t| t.are_for(&settings, geometry.sample_rate))?;
        timings.voices.iter().find(|(v, _)| v == voice).map(|(_, timing)| *timing)
    }

    /// `voice`'s block was timed as `timing` with `settings` at `geometry`'s rate (`geometry`'s
    /// worker budget being the cap). If the running stream follows loads and the slowest voice's
    /// block no longer fits its budget (or the budget is the cap for want of a voice to time), the
    /// latency the next activation would report is left for the editor.
    pub fn record(&self, settings: &StreamSettings, geometry: &StreamGeometry, voice: &VoiceSelection, timing: Timing) {
        let settings = settings.clamped();
        let slowest = {
            let mut timings = self.timings.lock();
            let rate = geometry.sample_rate;
            let timings = match &mut *timings {
                Some(t) if t.are_for(&settings, rate) => t,
                other => other.insert(Timings { settings, rate, voices: Vec::new() }),
            };
            match timings.voices.iter_mut().find(|(v, _)| v == voice) {
                Some((_, timed)) => *timed = timing,
                None => timings.voices.push((voice.clone(), timing)),
            }
            timings.slowest().unwrap_or(timing.compute)
        };
        let Some(reserved) = *self.reserved.lock() else { return };
        let budget = Self::budget(geometry, slowest);
        // Offered only when the slowest block itself would not fit: the headroom over a timing
        // absorbs a voice a little slower than the one reserved for (or the same one timed on a
        // busier moment), so voices switched back and forth do not keep offering a restart.
        let overflows = budget_samples(slowest + SCHEDULING_SLACK, geometry.sample_rate, usize::MAX) > reserved.budget;
        if overflows || (!reserved.measured && budget < reserved.budget) {
            let latency = reserved.latency - reserved.budget + budget;
            self.pending_latency.store(latency.min(u32::MAX as usize) as u32, Ordering::Relaxed);
        }
    }

    /// `geometry` (whose worker budget is the settings' fraction of a block, the cap) with the
    /// budget the slowest voice timed with `settings` needs; the cap when none was timed, which
    /// the second value says (read here, as voices loading in the background add timings). With
    /// `follow_loads`, remembers what the stream reserves, so voices loaded later can ask for more.
    pub fn reserve(
        &self,
        settings: &StreamSettings,
        geometry: StreamGeometry,
        follow_loads: bool,
    ) -> (StreamGeometry, bool) {
        let settings = settings.clamped();
        let slowest = self.slowest(&settings, geometry.sample_rate);
        let reserving = match slowest {
            Some(compute) => geometry.with_worker_budget(Self::budget(&geometry, compute)),
            None => geometry,
        };
        *self.reserved.lock() = follow_loads.then_some(Reserved {
            latency: reserving.latency(),
            budget: reserving.worker_budget,
            measured: slowest.is_some(),
        });
        self.pending_latency.store(0, Ordering::Relaxed);
        (reserving, slowest.is_some())
    }

    fn slowest(&self, clamped: &StreamSettings, sample_rate: u32) -> Option<Duration> {
        self.timings.lock().as_ref().filter(|t| t.are_for(clamped, sample_rate)).and_then(Timings::slowest)
    }

    /// The running stream's budget is not measured: nothing loaded later asks for a change.
    pub fn reserve_fixed(&self) {
        *self.reserved.lock() = None;
        self.pending_latency.store(0, Ordering::Relaxed);
    }

    /// The latency the next activation would report, where the voices loaded since this one call
    /// for a change (see the module's documentation).
    pub fn pending_latency(&self) -> Option<u32> {
        Some(self.pending_latency.load(Ordering::Relaxed)).filter(|&l| l != 0)
    }

    fn budget(geometry: &StreamGeometry, compute: Duration) -> usize {
        budget_samples(measured_budget(compute), geometry.sample_rate, geometry.worker_budget)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use rvc_live_engine::RvcProcessor;

    fn geometry(settings: &StreamSettings) -> StreamGeometry {
        RvcProcessor::stream_geometry(settings, 48_000.0, 512)
    }

    fn voice(name: &str) -> VoiceSelection {
        VoiceSelection { synthesizer: Some(PathBuf::from(name)), ..Default::default() }
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn alone(ms: u64) -> Timing {
        Timing { compute: Duration::from_millis(ms), provisional: false }
    }

    #[test]
    fn activation_reserves_the_slowest_voice_timed_and_a_slower_one_later_asks_for_more() {
        let budgets = MeasuredBudgets::default();
        let settings = StreamSettings::default();
        let cap = geometry(&settings);
        budgets.record(&settings, &cap, &voice("a"), alone(20));
        budgets.record(&settings, &cap, &voice("b"), alone(10));
        let (running, measured) = budgets.reserve(&settings, cap, true);
        assert!(measured, "reserved from a timing");
        let expected = budget_samples(measured_budget(ms(20)), 48_000, cap.worker_budget);
        assert_eq!(running.worker_budget, expected, "the slowest of the two");
        assert!(running.worker_budget < cap.worker_budget);
        assert_eq!(budgets.pending_latency(), None);
        assert_eq!(budgets.timed(&settings, &cap, &voice("b")), Some(alone(10)));
        let nan = StreamSettings { crossfade_ms: f32::NAN, ..settings };
        assert_eq!(budgets.timed(&nan, &cap, &voice("b")), Some(alone(10)), "settings are compared clamped");

        budgets.record(&settings, &cap, &voice("c"), alone(15));
        assert_eq!(budgets.pending_latency(), None, "a faster voice fits what is reserved");
        budgets.record(&settings, &cap, &voice("c2"), alone(28));
        assert_eq!(budgets.pending_latency(), None, "a slightly slower one fits in the headroom");
        budgets.record(&settings, &cap, &voice("d"), alone(40));
        let more = budget_samples(measured_budget(ms(40)), 48_000, cap.worker_budget);
        let wanted = budgets.pending_latency().expect("a slower voice asks for more");
        assert_eq!(wanted as usize, running.latency() - running.worker_budget + more);
        assert_eq!(
            budgets.reserve(&settings, cap, true).0.latency(),
            wanted as usize,
            "the next activation reserves it"
        );
    }

    #[test]
    fn a_stream_started_without_a_voice_reserves_the_cap_and_asks_once_for_less() {
        let budgets = MeasuredBudgets::default();
        let settings = StreamSettings::default();
        let cap = geometry(&settings);
        assert_eq!(budgets.reserve(&settings, cap, true), (cap, false));
        budgets.record(&settings, &cap, &voice("a"), alone(5));
        let wanted = budgets.pending_latency().expect("the first voice timed shortens the latency");
        assert!((wanted as usize) < cap.latency());
        assert_eq!(budgets.reserve(&settings, cap, true).0.latency(), wanted as usize);
        budgets.record(&settings, &cap, &voice("b"), alone(4));
        assert_eq!(budgets.pending_latency(), None, "measured now: never asks to shrink again");
    }

    #[test]
    fn new_settings_forget_what_was_timed_and_fixed_or_offline_budgets_ask_for_nothing() {
        let budgets = MeasuredBudgets::default();
        let settings = StreamSettings::default();
        budgets.record(&settings, &geometry(&settings), &voice("a"), alone(5));
        let longer = StreamSettings { block_ms: 200.0, ..settings };
        let cap = geometry(&longer);
        assert_eq!(budgets.timed(&longer, &cap, &voice("a")), None);
        assert_eq!(budgets.reserve(&longer, cap, true), (cap, false), "timed with other settings: the cap");
        budgets.reserve_fixed();
        budgets.record(&longer, &cap, &voice("a"), alone(500));
        assert_eq!(budgets.pending_latency(), None);
        budgets.reserve(&longer, cap, false);
        budgets.record(&longer, &cap, &voice("b"), alone(900));
        assert_eq!(budgets.pending_latency(), None, "offline: nothing to ask for");
    }
}
