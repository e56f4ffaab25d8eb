//! What every front end does to convert on a server: open the stream, measure the network budget,
//! size the local stream by it, and start the processor on that connection.

use std::sync::Arc;
use std::time::Duration;

use super::budget::{budget_samples, network_budget, reply_wait};
use super::connection::{ConnectError, Connection};
use super::endpoint::RemoteEndpoint;
use super::link::LinkPlan;
use super::remote_processor::RemoteProcessor;
use super::remote_stats::RemoteStats;
use crate::remote::{Hello, PROTOCOL_VERSION, Welcome};
use crate::rvc_processor::ControlSource;
use crate::stream::{StreamGeometry, StreamSettings};

/// The hello for a stream of `geometry` and `settings` converting with `voice`.
pub fn hello(voice: &str, geometry: &StreamGeometry, settings: &StreamSettings, controls: &ControlSource) -> Hello {
    Hello {
        protocol: PROTOCOL_VERSION,
        token: None,
        voice: voice.to_owned(),
        sample_rate: geometry.sample_rate,
        block: geometry.block as u32,
        settings: *settings,
        controls: controls(),
    }
}

/// A voice converting on a server, connected.
pub struct RemoteVoice {
    pub processor: RemoteProcessor,
    /// The local stream's geometry with the server's processor delay and the network budget as
    /// its worker budget: the latency to report.
    pub geometry: StreamGeometry,
    pub welcome: Welcome,
    pub round_trip: Duration,
    /// The network budget the latency reserves.
    pub budget: Duration,
}

/// How long the steps of a connect may take.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTimeouts {
    /// Each network step (TCP, upgrade, pings).
    pub step: Duration,
    /// The server loading the voice.
    pub load: Duration,
}

/// Open a stream for `endpoint`'s voice sized as `local` (the geometry converting here would
/// have) and start its processor. Each block waits for the server within the network budget
/// ([`reply_wait`]), or `patience` when given (offline conversions, which have no deadline).
pub fn connect(
    endpoint: &RemoteEndpoint,
    local: StreamGeometry,
    settings: &StreamSettings,
    controls: ControlSource,
    patience: Option<Duration>,
    timeouts: ConnectTimeouts,
    stats: Arc<RemoteStats>,
) -> Result<RemoteVoice, ConnectError> {
    let hello = hello(&endpoint.voice, &local, settings, &controls);
    let connection = Connection::open(endpoint, hello.clone(), timeouts.step, timeouts.load)?;
    let (welcome, round_trip) = (connection.welcome.clone(), connection.round_trip);
    let measured = network_budget(round_trip, Duration::from_micros(u64::from(welcome.compute_us)));
    let geometry = local.with_processor_delay(welcome.processor_delay as usize).with_worker_budget(budget_samples(
        measured,
        local.sample_rate,
        local.block,
    ));
    let budget = Duration::from_secs_f64(geometry.worker_budget as f64 / f64::from(geometry.sample_rate));
    let plan =
        LinkPlan { endpoint: endpoint.clone(), hello, controls, processor_delay: welcome.processor_delay as usize };
    let processor = RemoteProcessor::start(
        plan,
        Some(connection),
        geometry.crossfade,
        patience.unwrap_or(reply_wait(budget)),
        stats,
    )
    .map_err(|e| ConnectError::Unreachable(format!("cannot start the link's thread: {e}")))?;
    Ok(RemoteVoice { processor, geometry, welcome, round_trip, budget })
}
