//! Serving a turn from the offline deterministic model.

use domain::agent_protocol::{AgentEvent, TurnRequest};
use futures::channel::mpsc::UnboundedSender;

/// Queues every event of the offline reply; the channel closes when `tx` is dropped.
pub fn run(request: &TurnRequest, tx: &UnboundedSender<AgentEvent>) {
    for event in provider::offline::events(&request.messages) {
        let _ = tx.unbounded_send(event);
    }
    tx.close_channel();
}
