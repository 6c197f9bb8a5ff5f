//! The sinks: each writes what a person or the runner reads from the finished
//! [`crate::report::Report`] alone, to the `impl Write` it is given.

pub mod annotations;
pub mod json;
pub mod log;
pub mod outputs;
pub mod summary;
