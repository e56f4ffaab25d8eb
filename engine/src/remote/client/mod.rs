//! The front ends' side of the remote engine: a [`RemoteProcessor`] converts a stream's blocks on
//! a server, its network on a thread of its own ([`link`]) that reconnects with backoff.

mod budget;
mod connection;
mod endpoint;
mod link;
mod remote_processor;
mod remote_stats;
mod remote_voice;
mod server_health;
mod tls;

pub use budget::{COMPUTE_HEADROOM, HANDOVER, NETWORK_SLACK, budget_samples, network_budget, reply_wait};
pub use connection::{ConnectError, Connection, ServerSocket};
pub use endpoint::RemoteEndpoint;
pub use link::{BACKOFF_MAX, BACKOFF_START, LOAD_TIMEOUT, LinkPlan};
pub use remote_processor::RemoteProcessor;
pub use remote_stats::{OverheadHistogram, RemoteStats};
pub use remote_voice::{ConnectTimeouts, RemoteVoice, connect, hello};
pub use server_health::{ServerHealth, server_health};
