//! What the benchmarks share: the running stack and its scratch database (`stack`), the certdesk arm (the router
//! over a state like the integration tests' one, `certdesk_arm`), the peer arm (OpenBao used directly, `peer`),
//! the binary's runtime and exit status (`harness`), and processes' CPU time (`cpu`). Each benchmark declares
//! `mod support;`.
// Each benchmark binary uses a different part of these; what one leaves unused is not dead in another.
#![allow(dead_code)]

pub mod certdesk_arm;
pub mod cpu;
pub mod harness;
pub mod peer;
pub mod stack;
