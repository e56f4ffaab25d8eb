//! What a remote stream tells the editor, the log and tests about its server.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;

/// Written by the link's thread and the inference thread, read by anyone; never touched by the
/// audio thread.
#[derive(Default)]
pub struct RemoteStats {
    /// A stream is open on the server now. Written by the link.
    pub connected: AtomicBool,
    /// Streams opened since the start, reconnections included. Written by the link.
    pub connections: AtomicU64,
    /// Blocks that played the dry input because the server's conversion was not back in time
    /// (or no server was connected). Written by the inference thread.
    pub missed_blocks: AtomicU64,
    /// Converted blocks that came after their slot had passed, dropped. Written by the inference
    /// thread.
    pub late_blocks: AtomicU64,
    /// Blocks converted by the server and played. Written by the inference thread.
    pub converted_blocks: AtomicU64,
    /// The slowest ping round trip at the last connect, µs. Written by the link.
    pub round_trip_us: AtomicU32,
    /// The server's compute time for the last block it converted (played or late), µs. Written
    /// by the inference thread.
    pub compute_us: AtomicU32,
    /// Why the stream is not converting, when it is not: the server's refusal, the error it
    /// sent, why the connection broke. Cleared on connect. Written by the link.
    problem: Mutex<Option<String>>,
    /// The server's name and version at the last connect. Written by the link.
    server: Mutex<Option<String>>,
    /// Per block played: the time from handing it to the link until its conversion came back,
    /// less the server's compute — what the network, the protocol and the scheduling of both
    /// ends add. Written by the inference thread, read by the benchmark.
    pub overhead: OverheadHistogram,
}

/// Milliseconds in 0.1 ms buckets up to 100 ms (longer ones in the last).
pub struct OverheadHistogram {
    buckets: Box<[AtomicU32]>,
}

const BUCKETS: usize = 1000;
const BUCKET_MS: f64 = 0.1;

impl Default for OverheadHistogram {
    fn default() -> Self {
        Self { buckets: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect() }
    }
}

impl OverheadHistogram {
    pub fn record(&self, ms: f64) {
        let bucket = ((ms.max(0.0) / BUCKET_MS) as usize).min(BUCKETS - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| u64::from(b.load(Ordering::Relaxed))).sum()
    }

    /// The upper edge of the bucket holding quantile `q`, in ms; `None` before any block.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64 * q).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            seen += u64::from(bucket.load(Ordering::Relaxed));
            if seen >= rank {
                return Some((i + 1) as f64 * BUCKET_MS);
            }
        }
        None
    }
}

impl RemoteStats {
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub fn problem(&self) -> Option<String> {
        self.problem.lock().clone()
    }

    pub fn server(&self) -> Option<String> {
        self.server.lock().clone()
    }

    pub(super) fn set_connected(&self, server: &str, round_trip_us: u32) {
        *self.problem.lock() = None;
        *self.server.lock() = Some(server.to_owned());
        self.round_trip_us.store(round_trip_us, Ordering::Relaxed);
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.connected.store(true, Ordering::Relaxed);
    }

    pub(super) fn set_problem(&self, why: String) {
        self.connected.store(false, Ordering::Relaxed);
        *self.problem.lock() = Some(why);
    }
}
