//! Broadcasting to the chat's WebSocket clients (hibernation API).

use domain::events::ChatEvent;
use worker::State;

/// Sends an event to every connected client. A client whose socket has gone away is skipped;
/// it will catch up from its last sequence number when it reconnects.
pub fn broadcast(state: &State, event: &ChatEvent) {
    let text = event.to_json();
    for ws in state.get_websockets() {
        let _ = ws.send_with_str(&text);
    }
}
