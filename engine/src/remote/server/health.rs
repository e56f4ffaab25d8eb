//! `GET /health`: what monitors and load balancers read. 200 while the server takes streams, 503
//! when it is full or stopping, so a balancer's health check sends new streams elsewhere.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::Server;

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// Streams converting now, and how many the server takes.
    pub streams: usize,
    pub max_streams: usize,
    /// The streams' last blocks' compute over real time, summed: 1.0 is one core's worth of
    /// real-time conversion (more than the machine's cores means streams are falling behind).
    pub load: f32,
    pub cores: usize,
    pub voices: Vec<String>,
    /// Streams per voice now.
    pub streams_by_voice: std::collections::BTreeMap<String, usize>,
    pub uptime_s: u64,
}

pub(super) async fn report(State(server): State<Arc<Server>>) -> (StatusCode, Json<Health>) {
    let (streams, load, streams_by_voice) = {
        let streams = server.streams.lock();
        let load = streams.values().map(|s| f32::from_bits(s.load.load(Ordering::Relaxed))).fold(0.0, |a, b| a + b);
        let mut by_voice = std::collections::BTreeMap::new();
        for stream in streams.values() {
            *by_voice.entry(stream.voice.clone()).or_insert(0) += 1;
        }
        (streams.len(), load, by_voice)
    };
    let max_streams = server.options.max_streams;
    let status = if server.is_stopping() {
        "stopping"
    } else if streams >= max_streams {
        "full"
    } else {
        "ok"
    };
    let code = if status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let health = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        streams,
        max_streams,
        load,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        voices: server.voices.names(),
        streams_by_voice,
        uptime_s: server.started.elapsed().as_secs(),
    };
    (code, Json(health))
}
