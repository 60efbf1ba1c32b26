//! The workspace's API core: what a client may send to create a lead, ask for a send or change
//! the org's policy settings, validated field by field; and the views it gets back.

pub mod audit;
pub mod channel;
pub mod crm;
pub mod csv_import;
pub mod draft;
pub mod flags;
pub mod followup;
pub mod lead;
pub mod opt_out;
pub mod send;
pub mod settings;
pub mod stage;
pub mod suppression;
