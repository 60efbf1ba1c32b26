//! Parley's orchestrator-hosted Durable Objects: a Chat Controller per chat. (The Workspace
//! object lives in its own worker, `workers/workspace`.) Each is a thin shell: it reads its SQLite state, asks the pure
//! core in `domain` what to do, and carries out the effects (writes, broadcasts, calls).

pub mod chat_controller;

pub use chat_controller::ChatController;
