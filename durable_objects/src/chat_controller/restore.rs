//! Restoring the chat from a backup (the orchestrator has verified it against its manifest).

use super::{schema, ChatController};
use domain::ApiError;
use runtime_support::{responses, snapshot};
use worker::{Request, Response, Result};

impl ChatController {
    /// Replaces the chat's data with a snapshot, all or nothing. Refused while this instance
    /// runs a turn (the turn would write over the restored rows). Connected clients are closed
    /// with 1012 so they reconnect and read the restored log; the next request or the alarm
    /// picks up whatever the snapshot left unfinished, as after a restart.
    pub(super) async fn restore(&self, mut req: Request) -> Result<Response> {
        if self.draining.get() {
            return responses::error(&ApiError::Conflict { code: "chat_busy", message: "a turn is running in this chat; try again when it ends".into() });
        }
        let body = req.text().await?;
        let response = snapshot::serve_import(&self.state.storage(), schema::MIGRATIONS, "chat", &body).await?;
        if response.status_code() == 200 {
            self.woken.set(false);
            self.partial.replace(None);
            for ws in self.state.get_websockets() {
                let _ = ws.close(Some(1012), Some("restored from a backup"));
            }
        }
        Ok(response)
    }
}
