//! Building a streaming chat-completions request body.

use domain::agent_protocol::{ContextMessage, ToolExchange, ToolSpec};
use serde_json::{json, Value};

/// The JSON body for `POST {base}/chat/completions` with streaming and usage reporting on.
/// The turn's earlier tool calls follow the context: for each model step, one assistant
/// message carrying its `tool_calls`, then one `tool` message per call with its result.
pub fn completion_body(model: &str, messages: &[ContextMessage], tools: &[ToolSpec], tool_steps: &[ToolExchange]) -> Value {
    let mut messages: Vec<Value> = messages
        .iter()
        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
        .collect();
    let mut i = 0;
    while i < tool_steps.len() {
        let step = tool_steps[i].model_step;
        let batch: Vec<&ToolExchange> = tool_steps[i..].iter().take_while(|t| t.model_step == step).collect();
        i += batch.len();
        let calls: Vec<Value> = batch
            .iter()
            .map(|t| json!({ "id": t.call_id, "type": "function", "function": { "name": t.name, "arguments": t.arguments } }))
            .collect();
        messages.push(json!({ "role": "assistant", "content": null, "tool_calls": calls }));
        for t in batch {
            messages.push(json!({ "role": "tool", "tool_call_id": t.call_id, "content": t.result }));
        }
    }
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if !tools.is_empty() {
        let tools: Vec<Value> = tools
            .iter()
            .map(|t| json!({ "type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters } }))
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::message::Role;

    #[test]
    fn streams_with_usage_and_declares_tools_only_when_given() {
        let msgs = [ContextMessage { role: Role::User, content: "hi".into() }];
        let body = completion_body("m", &msgs, &[], &[]);
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0], json!({"role": "user", "content": "hi"}));
        assert!(body.get("tools").is_none());
        let tool = ToolSpec { name: "t".into(), description: "d".into(), parameters: json!({"type": "object"}) };
        let body = completion_body("m", &msgs, &[tool], &[]);
        assert_eq!(body["tools"][0]["function"]["name"], "t");
        assert_eq!(body["tools"][0]["type"], "function");
    }

    #[test]
    fn earlier_tool_calls_replay_as_one_assistant_message_per_step_then_their_results() {
        let msgs = [ContextMessage { role: Role::User, content: "hi".into() }];
        let ex = |step, id: &str| ToolExchange { model_step: step, call_id: id.into(), name: "t".into(), arguments: "{}".into(), result: format!("r{id}") };
        let body = completion_body("m", &msgs, &[], &[ex(0, "a"), ex(0, "b"), ex(1, "c")]);
        let m = body["messages"].as_array().unwrap();
        let roles: Vec<&str> = m.iter().map(|v| v["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["user", "assistant", "tool", "tool", "assistant", "tool"]);
        assert_eq!(m[1]["tool_calls"].as_array().unwrap().len(), 2);
        assert_eq!(m[3], json!({"role": "tool", "tool_call_id": "b", "content": "rb"}));
        assert_eq!(m[4]["tool_calls"][0]["id"], "c");
    }
}
