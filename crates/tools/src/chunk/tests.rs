use super::*;
use proptest::prelude::*;

fn texts(chunks: &[Chunk]) -> Vec<&str> {
    chunks.iter().map(|c| c.text.as_str()).collect()
}

fn slices<'a>(text: &'a str, ranges: &[Range<usize>]) -> Vec<&'a str> {
    ranges.iter().map(|r| &text[r.clone()]).collect()
}

#[test]
fn blank_documents_have_no_chunks() {
    assert_eq!(chunk_document("", 100, 10), []);
    assert_eq!(chunk_document(" \n\n\t ", 100, 10), []);
}

#[test]
fn a_short_document_is_one_chunk() {
    let doc = "\n\nHello there.\n\nSecond paragraph.\n";
    assert_eq!(chunk_document(doc, 1200, 200), [Chunk { index: 0, text: doc.into(), start: 0, end: doc.len() }]);
}

#[test]
fn paragraphs_split_on_blank_lines_and_headings() {
    let doc = "\n# Title\nIntro line\nmore intro\n\n  \nSecond para\n## Sub\nbody\n#hashtag is not a heading\n####### nor is this\n#\nend";
    assert_eq!(
        slices(doc, &paragraphs(doc)),
        ["\n# Title\nIntro line\nmore intro\n\n  \n", "Second para\n", "## Sub\nbody\n#hashtag is not a heading\n####### nor is this\n", "#\nend"]
    );
}

#[test]
fn paragraphs_are_packed_up_to_the_target() {
    let doc = "aaaa\n\nbbbb\n\ncccc\n\ndddd";
    // Each paragraph with its blank line is 6 characters; two fit in 12.
    let chunks = chunk_document(doc, 12, 0);
    assert_eq!(texts(&chunks), ["aaaa\n\nbbbb\n\n", "cccc\n\ndddd"]);
    assert_eq!((chunks[1].index, chunks[1].start, chunks[1].end), (1, 12, doc.len()));
    assert_eq!(texts(&chunk_document(doc, 9, 0)), ["aaaa\n\n", "bbbb\n\n", "cccc\n\n", "dddd"]);
}

#[test]
fn sentences() {
    let doc = "One. Two! \"Three?\" Four (five.) 3.14 is pi.\nA line\n\n next";
    assert_eq!(slices(doc, &super::sentences(doc, 0..doc.len())), ["One. ", "Two! ", "\"Three?\" ", "Four (five.) ", "3.14 is pi.\n", "A line\n\n ", "next"]);
    let cjk = "これは文です。次の文！";
    assert_eq!(slices(cjk, &super::sentences(cjk, 0..cjk.len())), [cjk], "no whitespace, no cut");
}

#[test]
fn a_long_paragraph_is_cut_at_sentences_then_whitespace() {
    let doc = "Short intro.\n\nFirst sentence here. Second sentence here. A much longer third sentence that goes on and on.";
    let chunks = chunk_document(doc, 25, 0);
    assert_eq!(
        texts(&chunks),
        ["Short intro.\n\n", "First sentence here. ", "Second sentence here. ", "A much longer third ", "sentence that goes on ", "and on."]
    );
}

#[test]
fn an_unsplittable_word_stays_whole() {
    let word = "x".repeat(40);
    let doc = format!("a b {word} c d");
    let chunks = chunk_document(&doc, 10, 0);
    assert_eq!(texts(&chunks), ["a b ", word.as_str(), " c d"]);
}

#[test]
fn long_whitespace_runs_are_cut_anywhere() {
    let doc = format!("a{}b", " ".repeat(25));
    let chunks = chunk_document(&doc, 10, 0);
    assert_eq!(texts(&chunks), [format!("a{}", " ".repeat(9)), " ".repeat(10), format!("{}b", " ".repeat(6))]);
    assert_eq!(chunks.iter().map(|c| c.text.as_str()).collect::<String>(), doc);
}

#[test]
fn cuts_never_fall_inside_a_character() {
    let doc = "日本語のテキスト 🦀🦀🦀 émigré naïve ".repeat(20);
    for target in 1..30 {
        for chunk in chunk_document(&doc, target, 7) {
            assert!(doc.is_char_boundary(chunk.start) && doc.is_char_boundary(chunk.end));
            assert_eq!(doc[chunk.start..chunk.end], chunk.text);
        }
    }
}

#[test]
fn overlap_is_the_previous_tail_from_a_word_start() {
    let doc = "alpha beta gamma delta. epsilon zeta eta theta.";
    let chunks = chunk_document(doc, 24, 10);
    assert_eq!(texts(&chunks), ["alpha beta gamma delta. ", "delta. epsilon zeta eta theta."]);
    // Ten characters back from "epsilon" is inside "gamma": the overlap moves forward to the
    // next word start.
    let overlap = &doc[chunks[1].start..chunks[0].end];
    assert_eq!(overlap, "delta. ");
    // No word start within reach: no overlap.
    let doc = "abcdefghijklmnop qrstuvwxyzabcdefg";
    let chunks = chunk_document(doc, 17, 5);
    assert_eq!(texts(&chunks), ["abcdefghijklmnop ", "qrstuvwxyzabcdefg"]);
    // The tail never takes the whole previous chunk.
    let doc = "aa bb cc dd ee ff";
    let chunks = chunk_document(doc, 6, 100);
    assert_eq!(texts(&chunks), ["aa bb ", "bb cc dd ", "dd ee ff"]);
    assert_eq!(texts(&chunk_document("aa bb cc", 3, 100)), ["aa ", "bb ", "cc"]);
}

#[test]
fn a_zero_target_counts_as_one() {
    let chunks = chunk_document("ab c", 0, 0);
    assert_eq!(texts(&chunks), ["ab", " ", "c"]);
}

#[test]
fn validating_documents() {
    assert_eq!(validate_document("Pricing", "Our prices."), Ok(()));
    assert_eq!(validate_document(" ", "x"), Err(DocumentError::EmptyTitle));
    assert_eq!(validate_document(&"é".repeat(200), "x"), Ok(()));
    assert_eq!(validate_document(&"é".repeat(201), "x"), Err(DocumentError::TitleTooLong(201)));
    assert_eq!(validate_document("t", "\n\t "), Err(DocumentError::EmptyDocument));
    assert_eq!(validate_document("t", &"a".repeat(MAX_DOCUMENT_BYTES)), Ok(()));
    let err = validate_document("t", &"a".repeat(MAX_DOCUMENT_BYTES + 1)).unwrap_err();
    assert_eq!(err, DocumentError::TooLarge(262_145));
    assert_eq!((err.code(), err.to_string()), ("document_too_large", "the document is 262145 bytes; the limit is 262144 bytes (256 KiB)".to_owned()));
    let codes: Vec<&str> = [DocumentError::EmptyTitle, DocumentError::TitleTooLong(1), DocumentError::EmptyDocument].iter().map(DocumentError::code).collect();
    assert_eq!(codes, ["empty_title", "title_too_long", "empty_document"]);
}

#[test]
fn a_maximum_size_document_chunks_to_the_target() {
    let paragraph = "Parley answers leads in their own time zone. It never sends at night! Does it? No.\n\n";
    let doc = paragraph.repeat(MAX_DOCUMENT_BYTES / paragraph.len());
    let chunks = chunk_document(&doc, 1200, 200);
    assert!(chunks.len() > 200);
    assert!(chunks.iter().all(|c| c.text.chars().count() <= 1400));
    // Whole paragraphs fit, so every chunk's own text ends at a paragraph boundary.
    assert!(chunks.iter().all(|c| c.text.ends_with("\n\n")));
}

fn document() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => "[a-z]{1,8}",
        1 => Just("héllo".to_owned()),
        1 => Just("日本語".to_owned()),
        1 => Just("🦀".to_owned()),
        4 => Just(" ".to_owned()),
        1 => Just(". ".to_owned()),
        1 => Just("! ".to_owned()),
        1 => Just("\n".to_owned()),
        1 => Just("\n\n".to_owned()),
        1 => Just("\n# ".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => " {1,30}",
        1 => "[a-z]{20,60}",
    ];
    prop::collection::vec(token, 0..120).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn chunks_cover_the_document_in_order_within_bounds(doc in document(), target in 1usize..80, overlap in 0usize..40) {
        let chunks = chunk_document(&doc, target, overlap);
        prop_assert_eq!(&chunks, &chunk_document(&doc, target, overlap), "deterministic");
        if doc.trim().is_empty() {
            prop_assert!(chunks.is_empty());
            return Ok(());
        }
        prop_assert_eq!(chunks[0].start, 0);
        prop_assert_eq!(chunks.last().unwrap().end, doc.len());
        for (i, c) in chunks.iter().enumerate() {
            prop_assert_eq!(c.index as usize, i);
            prop_assert!(c.start < c.end);
            prop_assert_eq!(&doc[c.start..c.end], c.text.as_str());
            // A chunk's own text (after the overlap) starts where the previous chunk ends.
            let own_start = if i == 0 { 0 } else { chunks[i - 1].end };
            let own = &doc[own_start..c.end];
            prop_assert!(own.chars().count() <= target || !own.contains(char::is_whitespace), "only a single word may exceed the target: {:?}", own);
            let within = c.text.chars().count() <= target + overlap;
            let long_word = c.text.split(char::is_whitespace).any(|w| w.chars().count() > target);
            prop_assert!(within || long_word, "{:?}", c);
            if i > 0 {
                let prev = &chunks[i - 1];
                prop_assert!(prev.start < c.start && c.start <= prev.end && prev.end < c.end, "in order, no gaps");
                let tail = &doc[c.start..prev.end];
                prop_assert!(tail.chars().count() <= overlap);
                if !tail.is_empty() {
                    prop_assert!(!tail.starts_with(char::is_whitespace) && doc[..c.start].ends_with(char::is_whitespace), "overlap starts at a word: {:?}", tail);
                }
            }
        }
    }
}
