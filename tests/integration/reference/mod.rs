//! Clean-room reference evaluators, written from the consumers' public documentation only
//! (see `README.md` here), for the differential test in `differential.rs`.

pub mod aws;
pub mod azure;
