//! Secret rotation: on demand (RotateSecret) and on schedule (the sweep), by
//! secret type (`plan.rs`), through a configured rotation function for the
//! "-FG" types (`function.rs`), with tasks (`tasks.rs`) and the FunctionGraph
//! agency (`agency.rs`). See docs/rotation.md.

pub mod access_key;
pub mod agency;
mod function;
pub mod plan;
mod run;
mod schedule;
pub mod tasks;
pub mod upgrade;

pub use run::{rotate, Rotated, Trigger};
pub use schedule::{rotate_due, RotationSweep};

#[cfg(test)]
mod tests;
