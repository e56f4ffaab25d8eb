//! The RVC conversion pipeline's units. Each is allocation-free once built, so the inference
//! thread can run them per block.

pub mod f0;
pub mod sola;
