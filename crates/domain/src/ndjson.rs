//! Splitting a byte stream into lines, whatever the chunk boundaries.

/// Accumulates bytes and yields complete lines (without the trailing `\n` or `\r\n`).
#[derive(Debug, Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a chunk and returns every line it completed. Lines that are not valid UTF-8 are
    /// returned lossily; the JSON parser downstream will refuse them.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.pending.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        lines
    }

    /// Whatever is left after the stream ended without a final newline.
    pub fn finish(self) -> Option<String> {
        (!self.pending.is_empty()).then(|| String::from_utf8_lossy(&self.pending).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_lines(lines in proptest::collection::vec("[a-z{}\":é ]{0,12}", 0..8), cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort();
            let mut buf = LineBuffer::new();
            let mut out = Vec::new();
            let mut start = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                out.extend(buf.push(&bytes[start..c]));
                start = c;
            }
            prop_assert_eq!(out, lines);
            prop_assert_eq!(buf.finish(), None);
        }
    }

    #[test]
    fn crlf_and_unterminated_tails() {
        let mut buf = LineBuffer::new();
        assert_eq!(buf.push(b"a\r\nb"), vec!["a".to_string()]);
        assert_eq!(buf.finish(), Some("b".to_string()));
    }
}
