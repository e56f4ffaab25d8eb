//! What RVC Live's test suites share, so that the engine's tests and the host-level tests build
//! their signals, measure them and find the generated models in one way.

pub mod analysis;
pub mod models;
pub mod remote_server;
pub mod rvc_reference;
pub mod signals;
pub mod speech;
