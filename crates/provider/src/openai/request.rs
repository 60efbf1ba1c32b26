//! Building a streaming chat-completions request body.

use domain::agent_protocol::{ContextMessage, ToolSpec};
use serde_json::{json, Value};

/// The JSON body for `POST {base}/chat/completions` with streaming and usage reporting on.
pub fn completion_body(model: &str, messages: &[ContextMessage], tools: &[ToolSpec]) -> Value {
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
        .collect();
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
        let body = completion_body("m", &msgs, &[]);
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0], json!({"role": "user", "content": "hi"}));
        assert!(body.get("tools").is_none());
        let tool = ToolSpec { name: "t".into(), description: "d".into(), parameters: json!({"type": "object"}) };
        let body = completion_body("m", &msgs, &[tool]);
        assert_eq!(body["tools"][0]["function"]["name"], "t");
        assert_eq!(body["tools"][0]["type"], "function");
    }
}
