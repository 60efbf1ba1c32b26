//! Parley's Durable Objects. Each is a thin shell: it reads its SQLite state, asks the pure
//! core in `domain` what to do, and carries out the effects (writes, broadcasts, calls).

pub mod chat_controller;
mod transaction;

pub use chat_controller::ChatController;
