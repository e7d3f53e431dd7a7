//! CSMS background work: the sweep (scheduled deletions, version expiries,
//! scheduled rotations in `rotate/`)
//! and event notifications (recorded in the request's transaction by `emit`,
//! delivered from the outbox by a loop).

pub mod notify;
pub mod records;
pub mod rotate;
pub mod sweep;
