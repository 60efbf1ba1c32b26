//! The Chat Controller's request handlers.

use runtime_support::responses::{error, json};
use super::{schema, sockets, store, ChatController};
use runtime_support::transaction::transaction;
use domain::chat::ChatView;
use domain::events::ChatEvent;
use domain::message::{MessageView, NewUserMessage, Role};
use domain::paging::{parse_after, Page};
use domain::schedule::RUN_TURNS;
use domain::turn::turn_id_for;
use domain::ApiError;
use serde::{Deserialize, Serialize};
use worker::*;

/// Most messages replayed to a connecting WebSocket; a client further behind pages the rest
/// over HTTP (its `hello` tells it the last sequence number).
const REPLAY_LIMIT: u32 = 1_000;

/// Body of `POST /init`, sent by the orchestrator when a chat is created.
#[derive(Deserialize)]
struct InitBody {
    org_id: String,
    chat_id: String,
    title: String,
    created_at: i64,
}

#[derive(Serialize)]
struct PostedMessage {
    message: MessageView,
    /// True when the client id was seen before: nothing new was stored.
    duplicate: bool,
}

#[derive(Serialize)]
struct MessagePage {
    messages: Vec<MessageView>,
    last_seq: i64,
}

impl ChatController {
    /// Creates the schema and records the chat's identity. Idempotent.
    pub(super) async fn init(&self, mut req: Request) -> Result<Response> {
        let body: InitBody = match req.json().await {
            Ok(b) => b,
            Err(e) => return error(&ApiError::MalformedJson(e.to_string())),
        };
        let sql = self.state.storage().sql();
        transaction(&self.state.storage(), move || {
            schema::migrate(&sql)?;
            if store::meta_get(&sql, "chat_id")?.is_none() {
                store::meta_set(&sql, "org_id", &body.org_id)?;
                store::meta_set(&sql, "chat_id", &body.chat_id)?;
                store::meta_set(&sql, "title", &body.title)?;
                store::meta_set(&sql, "created_at", &body.created_at.to_string())?;
            }
            Ok(())
        })?;
        self.initialised.set(true);
        self.meta()
    }

    pub(super) fn meta(&self) -> Result<Response> {
        let sql = self.state.storage().sql();
        let get = |k: &str| store::meta_get(&sql, k).map(Option::unwrap_or_default);
        let view = ChatView { id: get("chat_id")?, title: get("title")?, created_at: get("created_at")?.parse().unwrap_or(0) };
        json(200, &view)
    }

    /// Stores a user message and queues its turn, both or neither, unless the client id was
    /// seen before. The message is acknowledged only after it is stored.
    pub(super) async fn post_message(&self, mut req: Request) -> Result<Response> {
        let trace = runtime_support::trace::of(&req);
        let bytes = req.bytes().await?;
        let new = match NewUserMessage::from_body(&bytes) {
            Ok(m) => m,
            Err(e) => return error(&e),
        };
        let now = Self::now();
        let sql = self.state.storage().sql();
        // While this instance drains the queue, the running loop picks the new turn up itself;
        // otherwise the alarm is armed to start it.
        let arm = !self.draining.get();
        let post = new.clone();
        let (message, duplicate) = transaction(&self.state.storage(), move || {
            if let Some(existing) = store::message_by_client_id(&sql, new.client_id.as_str())? {
                return Ok((existing, true));
            }
            let seq = store::last_seq(&sql)? + 1;
            let turn_id = turn_id_for(seq);
            let message = store::append_message(&sql, Role::User, &new.content, Some(new.client_id.as_str()), &turn_id, now)?;
            store::insert_turn(&sql, &turn_id, seq, now, trace.as_deref())?;
            if arm {
                store::schedule_set(&sql, RUN_TURNS, now)?;
            }
            Ok((message, false))
        })?;
        if duplicate {
            // Nothing was written: a retry gets the stored message, a reused id a 409.
            return match post.check_retry_of(&message.content) {
                Ok(()) => json(200, &PostedMessage { message, duplicate }),
                Err(e) => error(&e),
            };
        }
        sockets::broadcast(&self.state, &ChatEvent::Message { message: message.clone() });
        if let Some(turn) = store::turn(&self.state.storage().sql(), &turn_id_for(message.seq))? {
            sockets::broadcast(&self.state, &ChatEvent::Turn { turn: turn.view() });
        }
        if arm {
            self.state.storage().set_alarm(super::at(now)).await?;
        }
        json(201, &PostedMessage { message, duplicate })
    }

    pub(super) fn list_messages(&self, req: &Request) -> Result<Response> {
        let page = match page(req) {
            Ok(p) => p,
            Err(e) => return error(&e),
        };
        let sql = self.state.storage().sql();
        let messages = store::messages_after(&sql, page.after, page.limit)?;
        json(200, &MessagePage { messages, last_seq: store::last_seq(&sql)? })
    }

    pub(super) fn list_turns(&self, req: &Request) -> Result<Response> {
        let page = match page(req) {
            Ok(p) => p,
            Err(e) => return error(&e),
        };
        let turns = store::turns_after(&self.state.storage().sql(), page.after, page.limit)?;
        json(200, &serde_json::json!({ "turns": turns }))
    }

    /// Accepts a WebSocket (hibernation API), replays what the client missed after `?after=N`,
    /// then says hello. All of it happens without an `await`, so no message stored in between
    /// can be missed or sent twice.
    pub(super) fn accept_socket(&self, req: &Request) -> Result<Response> {
        let is_upgrade = req.headers().get("Upgrade")?.is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if !is_upgrade {
            return error(&ApiError::UpgradeRequired);
        }
        let after = match query(req).and_then(|q| {
            q.iter().find(|(k, _)| k == "after").map(|(_, v)| parse_after(v)).transpose()
        }) {
            Ok(a) => a.unwrap_or(0),
            Err(e) => return error(&e),
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        let sql = self.state.storage().sql();
        for message in store::messages_after(&sql, after, REPLAY_LIMIT)? {
            pair.server.send_with_str(ChatEvent::Message { message }.to_json())?;
        }
        let hello = ChatEvent::Hello {
            last_seq: store::last_seq(&sql)?,
            active_turns: store::active_turns(&sql)?,
            partial: self.partial.borrow().clone(),
        };
        pair.server.send_with_str(hello.to_json())?;
        Response::from_websocket(pair.client)
    }

    /// On the first request to a new instance: if a previous instance left turns queued or
    /// running (it was evicted or the machine restarted), arm the alarm so they are recovered.
    pub(super) async fn wake(&self) -> Result<()> {
        if self.woken.replace(true) || self.draining.get() {
            return Ok(());
        }
        let sql = self.state.storage().sql();
        let now = Self::now();
        let pending = transaction(&self.state.storage(), move || {
            schema::migrate(&sql)?;
            let pending = store::has_unfinished_turns(&sql)?;
            if pending {
                store::schedule_set(&sql, RUN_TURNS, now)?;
            }
            Ok(pending)
        })?;
        if pending {
            self.state.storage().set_alarm(super::at(now)).await?;
        }
        Ok(())
    }
}

fn page(req: &Request) -> std::result::Result<Page, ApiError> {
    let pairs = query(req)?;
    Page::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn query(req: &Request) -> std::result::Result<Vec<(String, String)>, ApiError> {
    Ok(runtime_support::query::pairs(req))
}
