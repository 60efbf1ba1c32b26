//! Server-sent events, decoded from arbitrary chunks of a response body.

use domain::ndjson::LineBuffer;

/// One dispatched event: its `event` name (if any) and its data lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Incremental SSE decoder following the HTML event-stream rules for `data`, `event` and
/// comments; `id` and `retry` are not needed by a one-shot completion stream and are ignored.
#[derive(Debug, Default)]
pub struct SseDecoder {
    lines: LineBuffer,
    event: Option<String>,
    data: Vec<String>,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for line in self.lines.push(chunk) {
            self.line(line, &mut out);
        }
        out
    }

    /// Ends the stream; a final event without its blank line is still dispatched.
    pub fn finish(mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if let Some(tail) = std::mem::take(&mut self.lines).finish() {
            self.line(tail, &mut out);
        }
        self.line(String::new(), &mut out);
        out
    }

    fn line(&mut self, line: String, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() {
                out.push(SseEvent { event: self.event.take(), data: self.data.join("\n") });
                self.data.clear();
            }
            self.event = None;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => self.data.push(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STREAM: &str = ": keep-alive\n\ndata: {\"a\":1}\n\nevent: ping\ndata: x\ndata: y\n\ndata:[DONE]\n\n";

    #[test]
    fn decodes_data_events_comments_and_multiline_data() {
        let mut d = SseDecoder::new();
        let events = d.push(STREAM.as_bytes());
        assert_eq!(events, vec![
            SseEvent { event: None, data: "{\"a\":1}".into() },
            SseEvent { event: Some("ping".into()), data: "x\ny".into() },
            SseEvent { event: None, data: "[DONE]".into() },
        ]);
        assert!(d.finish().is_empty());
    }

    #[test]
    fn unterminated_final_event_is_dispatched_at_finish() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"data: tail").is_empty());
        assert_eq!(d.finish(), vec![SseEvent { event: None, data: "tail".into() }]);
    }

    proptest! {
        #[test]
        fn chunking_does_not_matter(cut in 0usize..STREAM.len()) {
            let mut d = SseDecoder::new();
            let mut events = d.push(&STREAM.as_bytes()[..cut]);
            events.extend(d.push(&STREAM.as_bytes()[cut..]));
            let mut whole = SseDecoder::new();
            prop_assert_eq!(events, whole.push(STREAM.as_bytes()));
        }
    }
}
