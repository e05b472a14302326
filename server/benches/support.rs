//! What the benchmarks share: the running stack and its scratch database (`stack`), the certdesk arm (the router
//! over a state like the integration tests' one, `certdesk_arm`), the peer arm (OpenBao used directly, `peer`),
//! the binary's runtime and exit status (`harness`), processes' and threads' CPU time (`cpu`), blocks of concurrent
//! timed operations (`blocks`), the reports' arithmetic (`stats`) and their setup and JSON file (`report`). Each benchmark declares `mod support;`.
// Each benchmark binary uses a different part of these; what one leaves unused is not dead in another.
#![allow(dead_code)]

pub mod blocks;
pub mod certdesk_arm;
pub mod cpu;
pub mod harness;
pub mod peer;
pub mod report;
pub mod stack;
pub mod stats;
