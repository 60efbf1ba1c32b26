//! The knowledge-base chunker: splits a document into overlapping chunks for retrieval.
//!
//! 1. The document is cut into paragraphs. A paragraph starts at a non-blank line after a blank
//!    line, or at a markdown heading (`#` to `######` then a space), so a heading always opens
//!    a paragraph and stays with the text under it. Blank lines belong to the paragraph before
//!    them, so the paragraphs cover the document without gaps.
//! 2. A paragraph longer than the target is cut into sentences (after `.`, `!`, `?` and their
//!    CJK forms, plus any closing quotes or brackets, before whitespace; line breaks also end
//!    a sentence). A sentence still too long is cut at whitespace as a last resort. A single
//!    word longer than the target is never cut, so its chunk exceeds the target: cutting it
//!    would make neither half findable. A run of whitespace longer than the target is cut
//!    between any two of its characters. No cut ever falls inside a UTF-8 character.
//! 3. Pieces are packed greedily, in order, into chunks of at most `target_chars` characters.
//!    A paragraph or sentence that had to be cut starts a new chunk, so its parts stay
//!    together.
//! 4. Every chunk after the first is prefixed with the tail of the previous chunk: at most
//!    `overlap_chars` characters, starting at a word boundary (if no word starts within
//!    reach, there is no overlap). The tail never reaches back to the start of the previous
//!    chunk's own text, so chunk starts strictly increase.
//!
//! A chunk's `text` is exactly `document[start..end]`, whitespace included, so the chunks
//! together cover every byte of the document, and no chunk is longer than
//! `target_chars + overlap_chars` characters except around an over-long word. The result
//! depends only on the inputs.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Largest document accepted into the knowledge base, in bytes of UTF-8.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Longest document title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// A piece of a document, ready to embed and index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position in the document's chunk list, from 0.
    pub index: u32,
    /// `document[start..end]`.
    pub text: String,
    /// Byte offset of the first byte, overlap included.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
}

/// Why a document cannot be added to the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The title is empty or all whitespace.
    #[error("the document title must not be empty")]
    EmptyTitle,
    /// The title has more than [`MAX_TITLE_CHARS`] characters (the count is given).
    #[error("the document title must be at most {MAX_TITLE_CHARS} characters (got {0})")]
    TitleTooLong(usize),
    /// The text is empty or all whitespace.
    #[error("the document has no text")]
    EmptyDocument,
    /// The text is over [`MAX_DOCUMENT_BYTES`] (its size in bytes is given).
    #[error("the document is {0} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes (256 KiB)")]
    TooLarge(usize),
}

impl DocumentError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DocumentError::EmptyTitle => "empty_title",
            DocumentError::TitleTooLong(_) => "title_too_long",
            DocumentError::EmptyDocument => "empty_document",
            DocumentError::TooLarge(_) => "document_too_large",
        }
    }
}

/// Checks a document before it is chunked: a title of 1–200 characters that is not all
/// whitespace, and text that is not all whitespace and at most [`MAX_DOCUMENT_BYTES`].
pub fn validate_document(title: &str, text: &str) -> Result<(), DocumentError> {
    if title.trim().is_empty() {
        return Err(DocumentError::EmptyTitle);
    }
    let title_chars = title.chars().count();
    if title_chars > MAX_TITLE_CHARS {
        return Err(DocumentError::TitleTooLong(title_chars));
    }
    if text.trim().is_empty() {
        return Err(DocumentError::EmptyDocument);
    }
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge(text.len()));
    }
    Ok(())
}

/// Splits `text` into chunks of about `target_chars` characters (1200 is a good size) that
/// overlap by up to `overlap_chars` (e.g. 200). See the module documentation for the rules.
/// A document with no non-whitespace text has no chunks; a `target_chars` of 0 counts as 1.
pub fn chunk_document(text: &str, target_chars: usize, overlap_chars: usize) -> Vec<Chunk> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let target = target_chars.max(1);
    let cores = pack(&pieces(text, target), target);
    let mut chunks = Vec::with_capacity(cores.len());
    for (i, core) in cores.iter().enumerate() {
        let start = match i.checked_sub(1) {
            Some(prev) => overlap_start(text, cores[prev].start, core.start, overlap_chars),
            None => core.start,
        };
        chunks.push(Chunk { index: u32::try_from(i).unwrap_or(u32::MAX), text: text[start..core.end].to_owned(), start, end: core.end });
    }
    chunks
}

/// A span to pack. `fresh` pieces open a new chunk.
#[derive(Debug)]
struct Piece {
    range: Range<usize>,
    chars: usize,
    fresh: bool,
}

fn chars_in(text: &str, range: &Range<usize>) -> usize {
    text[range.clone()].chars().count()
}

/// The document as pieces of at most `target` characters (bar over-long words), in order and
/// without gaps.
fn pieces(text: &str, target: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    for paragraph in paragraphs(text) {
        let chars = chars_in(text, &paragraph);
        if chars <= target {
            out.push(Piece { range: paragraph, chars, fresh: false });
            continue;
        }
        for (i, sentence) in sentences(text, paragraph).into_iter().enumerate() {
            let chars = chars_in(text, &sentence);
            if chars <= target {
                out.push(Piece { range: sentence, chars, fresh: i == 0 });
                continue;
            }
            for (j, token) in tokens(text, sentence, target).into_iter().enumerate() {
                let chars = chars_in(text, &token);
                out.push(Piece { range: token, chars, fresh: j == 0 });
            }
        }
    }
    out
}

/// Greedily packs pieces into chunk cores of at most `target` characters.
fn pack(pieces: &[Piece], target: usize) -> Vec<Range<usize>> {
    let mut cores: Vec<Range<usize>> = Vec::new();
    let mut current: Option<(Range<usize>, usize)> = None;
    for piece in pieces {
        current = match current.take() {
            Some((range, chars)) if !piece.fresh && chars + piece.chars <= target => Some((range.start..piece.range.end, chars + piece.chars)),
            Some((range, _)) => {
                cores.push(range);
                Some((piece.range.clone(), piece.chars))
            }
            None => Some((piece.range.clone(), piece.chars)),
        };
    }
    cores.extend(current.map(|(range, _)| range));
    cores
}

/// Paragraph spans covering the whole text. The first starts at 0, taking any leading blank
/// lines; each takes the blank lines after it.
fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    let (mut pos, mut after_blank, mut seen_content) = (0, true, false);
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if !blank {
            if seen_content && (after_blank || is_heading(line)) {
                starts.push(pos);
            }
            seen_content = true;
        }
        after_blank = blank;
        pos += line.len();
    }
    spans(&starts, text.len())
}

/// A markdown ATX heading: one to six `#`, then whitespace or the end of the line.
fn is_heading(line: &str) -> bool {
    let line = line.trim_start();
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    (1..=6).contains(&hashes) && line[hashes..].chars().next().is_none_or(char::is_whitespace)
}

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？')
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»' | '」' | '』')
}

/// Sentence spans covering `range`. A sentence ends after a terminator (and closers)
/// followed by whitespace, or at a line break, and takes the whitespace after it.
fn sentences(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    #[derive(PartialEq)]
    enum State {
        Text,
        Terminated,
        Gap,
    }
    let mut starts = vec![range.start];
    let mut state = State::Text;
    for (i, c) in text[range.clone()].char_indices() {
        if state == State::Gap && !c.is_whitespace() {
            starts.push(range.start + i);
            state = State::Text;
        }
        state = match state {
            _ if c == '\n' => State::Gap,
            State::Gap => State::Gap,
            _ if is_terminator(c) => State::Terminated,
            State::Terminated if is_closer(c) => State::Terminated,
            State::Terminated if c.is_whitespace() => State::Gap,
            _ => State::Text,
        };
    }
    spans(&starts, range.end)
}

/// The last resort: pieces covering `range` that each start at a word, or inside a whitespace
/// run once the piece has `target` characters, so a piece is a word with (some of) the
/// whitespace after it and has at most `target` characters, unless it is one longer word.
fn tokens(text: &str, range: Range<usize>, target: usize) -> Vec<Range<usize>> {
    let mut starts = vec![range.start];
    let (mut prev_space, mut len) = (false, 0);
    for (i, c) in text[range.clone()].char_indices() {
        let space = c.is_whitespace();
        if i > 0 && (if space { len >= target } else { prev_space }) {
            starts.push(range.start + i);
            len = 0;
        }
        prev_space = space;
        len += 1;
    }
    spans(&starts, range.end)
}

/// Consecutive spans from sorted, distinct start offsets to `end`.
fn spans(starts: &[usize], end: usize) -> Vec<Range<usize>> {
    starts.iter().enumerate().map(|(i, s)| *s..starts.get(i + 1).copied().unwrap_or(end)).collect()
}

/// Where a chunk whose own text starts at `core_start` begins, overlap included: the first
/// word start within the last `overlap_chars` characters before `core_start`, strictly after
/// `prev_core_start`; `core_start` itself when there is none.
fn overlap_start(text: &str, prev_core_start: usize, core_start: usize, overlap_chars: usize) -> usize {
    let tail = &text[prev_core_start..core_start];
    let reach = tail.char_indices().rev().take(overlap_chars).last().map_or(tail.len(), |(i, _)| i);
    let mut prev = tail[..reach].chars().next_back();
    for (i, c) in tail[reach..].char_indices() {
        let at = reach + i;
        if at > 0 && !c.is_whitespace() && prev.is_some_and(char::is_whitespace) {
            return prev_core_start + at;
        }
        prev = Some(c);
    }
    core_start
}

#[cfg(test)]
mod tests;
