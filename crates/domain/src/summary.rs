//! Rolling summaries: older messages are folded into a model-written summary so the context
//! stays small, while a few facts that must never be lost (who the contact is, that they opted
//! out, what we promised) are pinned by deterministic rules and carried forward for good.

use crate::agent_protocol::ContextMessage;
use crate::message::{MessageView, Role};
use serde::{Deserialize, Serialize};

/// The system prompt of a summary turn.
pub const SUMMARY_PROMPT: &str = "You maintain the rolling summary of a conversation between a \
contact (user) and Parley, a sales assistant (assistant). Fold the messages below into the \
previous summary, if there is one, and reply with only the updated summary: who the contact is, \
what they want, what was offered, agreed or promised, open questions and next steps. Keep \
names, numbers, dates and commitments exactly. Stay under 300 words. Do not answer, continue \
or comment on the conversation.";

/// Longest promised follow-up kept as a pinned fact, in characters.
pub const MAX_FOLLOW_UP_CHARS: usize = 200;
/// Most words taken as a contact's name.
const MAX_NAME_WORDS: usize = 3;

/// The summary of a chat's log up to and including `message_cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// 1 for the first summary, one more for each that replaced it.
    pub version: u32,
    /// The last sequence number the summary covers.
    pub message_cursor: i64,
    pub text: String,
    /// Facts carried forward verbatim, whatever the summary text says.
    pub pinned: Vec<PinnedFact>,
}

/// A fact that stays in every context once found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PinnedFact {
    /// The name the contact gave.
    ContactName(String),
    /// The contact asked not to be contacted, in message `seq`.
    OptOut { seq: i64 },
    /// The assistant promised to come back, in message `seq`; `text` is the promising sentence.
    PromisedFollowUp { seq: i64, text: String },
}

impl PinnedFact {
    /// The fact as one line for the model.
    pub fn describe(&self) -> String {
        match self {
            PinnedFact::ContactName(name) => format!("The contact's name is {name}."),
            PinnedFact::OptOut { seq } => format!(
                "The contact opted out (message #{seq}): send nothing proactive or promotional; only answer what they ask."
            ),
            PinnedFact::PromisedFollowUp { seq, text } => format!("We promised a follow-up (message #{seq}): \"{text}\""),
        }
    }
}

/// The pinned facts as one system message body, or `None` when there are none.
pub fn pinned_block(pinned: &[PinnedFact]) -> Option<String> {
    if pinned.is_empty() {
        return None;
    }
    let mut block = String::from("Pinned facts (always true for this conversation):");
    for fact in pinned {
        block.push_str("\n- ");
        block.push_str(&fact.describe());
    }
    Some(block)
}

/// Whether enough messages are unsummarised to fold: strictly more than `threshold` messages
/// after `summary_cursor` (0 when there is no summary yet).
pub fn needs_summary(last_seq: i64, summary_cursor: i64, threshold: usize) -> bool {
    let unsummarised = i128::from(last_seq) - i128::from(summary_cursor);
    unsummarised > threshold as i128
}

/// The input of a summary turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRequest {
    /// The last sequence number the new summary will cover.
    pub covers_through: i64,
    /// The prompt: [`SUMMARY_PROMPT`], the previous summary if any, then the messages to fold.
    pub messages: Vec<ContextMessage>,
}

/// What a summary turn should fold: the messages of `log` (in sequence order) after the
/// previous summary's cursor, except the most recent `keep_recent`, which stay verbatim in the
/// context. `None` when there is nothing to fold.
pub fn summary_request(log: &[MessageView], previous: Option<&Summary>, keep_recent: usize) -> Option<SummaryRequest> {
    let cursor = previous.map_or(0, |s| s.message_cursor);
    let foldable = &log[..log.len().saturating_sub(keep_recent)];
    let fold: Vec<&MessageView> = foldable.iter().filter(|m| m.seq > cursor).collect();
    let covers_through = fold.iter().map(|m| m.seq).max()?;
    let mut messages = Vec::with_capacity(fold.len() + 2);
    messages.push(ContextMessage { role: Role::System, content: SUMMARY_PROMPT.to_owned() });
    if let Some(prev) = previous.filter(|s| !s.text.trim().is_empty()) {
        messages.push(ContextMessage {
            role: Role::System,
            content: format!("Previous summary (v{}, through message #{}):\n{}", prev.version, prev.message_cursor, prev.text),
        });
    }
    messages.extend(fold.into_iter().map(|m| ContextMessage { role: m.role, content: m.content.clone() }));
    Some(SummaryRequest { covers_through, messages })
}

/// The pinned facts after reading `log`: every fact in `previous` (facts are never dropped),
/// then the new ones in log order, without duplicates.
///
/// The rules are deliberately simple and deterministic:
/// - a user message "my name is X", "I'm X" or "this is X" names the contact, where X is the
///   run of up to three capitalised words that follows;
/// - a user message with the whole word(s) "stop", "unsubscribe", "do not contact" or
///   "opt out" (any case; "opt-out" counts) is an opt-out;
/// - an assistant sentence with "I'll follow up", "I will follow up", "follow up on" or
///   "get back to you" is a promised follow-up (the sentence, at most 200 characters).
pub fn extract_pinned(log: &[MessageView], previous: &[PinnedFact]) -> Vec<PinnedFact> {
    let mut facts: Vec<PinnedFact> = Vec::with_capacity(previous.len());
    for fact in previous {
        push_unique(&mut facts, fact.clone());
    }
    for m in log {
        match m.role {
            Role::User => {
                for name in contact_names(&m.content) {
                    push_unique(&mut facts, PinnedFact::ContactName(name));
                }
                let words = words(&m.content);
                if OPT_OUT_PHRASES.iter().any(|p| contains_phrase(&words, p)) {
                    push_unique(&mut facts, PinnedFact::OptOut { seq: m.seq });
                }
            }
            Role::Assistant => {
                for sentence in sentences(&m.content) {
                    let words = words(sentence);
                    if FOLLOW_UP_PHRASES.iter().any(|p| contains_phrase(&words, p)) {
                        let text: String = sentence.chars().take(MAX_FOLLOW_UP_CHARS).collect();
                        push_unique(&mut facts, PinnedFact::PromisedFollowUp { seq: m.seq, text });
                    }
                }
            }
            Role::System => {}
        }
    }
    facts
}

/// The summary that replaces `previous`: one version newer, covering through `covers_through`,
/// keeping every previously pinned fact. A cursor that would move backwards is refused and
/// `previous` comes back unchanged.
pub fn apply_summary(previous: Option<&Summary>, covers_through: i64, text: String, pinned: Vec<PinnedFact>) -> Summary {
    let Some(prev) = previous else {
        let mut facts = Vec::with_capacity(pinned.len());
        for fact in pinned {
            push_unique(&mut facts, fact);
        }
        return Summary { version: 1, message_cursor: covers_through, text, pinned: facts };
    };
    if covers_through < prev.message_cursor {
        return prev.clone();
    }
    let mut facts = Vec::with_capacity(prev.pinned.len() + pinned.len());
    for fact in prev.pinned.iter().cloned().chain(pinned) {
        push_unique(&mut facts, fact);
    }
    Summary { version: prev.version.saturating_add(1), message_cursor: covers_through, text, pinned: facts }
}

fn push_unique(facts: &mut Vec<PinnedFact>, fact: PinnedFact) {
    if !facts.contains(&fact) {
        facts.push(fact);
    }
}

const OPT_OUT_PHRASES: &[&[&str]] = &[&["stop"], &["unsubscribe"], &["do", "not", "contact"], &["opt", "out"]];

// Apostrophes split words, so "I'll" is ["i", "ll"] and "follow-up" is ["follow", "up"].
const FOLLOW_UP_PHRASES: &[&[&str]] =
    &[&["i", "ll", "follow", "up"], &["i", "will", "follow", "up"], &["follow", "up", "on"], &["get", "back", "to", "you"]];

const NAME_INTRODUCERS: &[&[&str]] = &[&["my", "name", "is"], &["i", "m"], &["this", "is"]];

/// The lowercase alphanumeric words of `text`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn contains_phrase(words: &[String], phrase: &[&str]) -> bool {
    words.windows(phrase.len()).any(|w| w.iter().zip(phrase).all(|(a, b)| a == b))
}

/// Names introduced in `text`, in order of appearance.
fn contact_names(text: &str) -> Vec<String> {
    // Whitespace-separated tokens, each with its alphanumeric words, so an introducer can be
    // matched across "I'm" / "I’m" and the name read from the original capitalisation.
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut names = Vec::new();
    for start in 0..tokens.len() {
        for intro in NAME_INTRODUCERS {
            if let Some(next) = match_introducer(&tokens, start, intro) {
                if let Some(name) = read_name(&tokens[next..]) {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
    }
    names
}

/// If the words of the tokens from `start` are exactly `intro` (ignoring case and
/// punctuation), the index of the token after it. Punctuation that ends a clause inside or
/// right after the introducer ("I'm. Bob", "this, is Bob") breaks the match.
fn match_introducer(tokens: &[&str], start: usize, intro: &[&str]) -> Option<usize> {
    let mut wanted = intro.iter();
    for (index, token) in tokens.iter().enumerate().skip(start) {
        for w in words(token) {
            match wanted.next() {
                Some(expected) if w == *expected => {}
                _ => return None,
            }
        }
        if token.ends_with(['.', '!', '?', ',', ';']) {
            return None;
        }
        if wanted.len() == 0 {
            return Some(index + 1);
        }
    }
    None
}

/// Up to three capitalised words at the start of `tokens`, stopping at the first word that is
/// not a name or after punctuation.
fn read_name(tokens: &[&str]) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for token in tokens.iter().take(MAX_NAME_WORDS) {
        let word = token.trim_end_matches(|c: char| !c.is_alphanumeric());
        let ended = word.len() != token.len();
        let mut chars = word.chars();
        let capitalised = chars.next().is_some_and(char::is_uppercase);
        if !capitalised || !word.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’') {
            break;
        }
        parts.push(word);
        if ended {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The sentences of `text`: split after `.`, `!` or `?` followed by whitespace, and at line
/// breaks; trimmed, empty ones skipped.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        let end = match c {
            '\n' => Some(i),
            '.' | '!' | '?' if next_is_space => Some(i + c.len_utf8()),
            _ => None,
        };
        if let Some(end) = end {
            let sentence = text[start..end].trim();
            if !sentence.is_empty() {
                out.push(sentence);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i64, role: Role, content: &str) -> MessageView {
        MessageView { seq, role, content: content.into(), client_id: None, turn_id: None, created_at: 0 }
    }

    fn user(seq: i64, content: &str) -> MessageView {
        msg(seq, Role::User, content)
    }

    fn assistant(seq: i64, content: &str) -> MessageView {
        msg(seq, Role::Assistant, content)
    }

    #[test]
    fn needs_summary_counts_strictly_more_than_the_threshold() {
        assert!(!needs_summary(20, 0, 20));
        assert!(needs_summary(21, 0, 20));
        assert!(!needs_summary(30, 10, 20));
        assert!(needs_summary(31, 10, 20));
        assert!(!needs_summary(5, 10, 0), "a cursor ahead of the log needs nothing");
        assert!(needs_summary(1, 0, 0));
        assert!(needs_summary(i64::MAX, i64::MIN, u32::MAX as usize), "no overflow");
        assert!(!needs_summary(i64::MIN, i64::MAX, 0));
    }

    #[test]
    fn summary_request_folds_between_cursor_and_recent_window() {
        let log: Vec<_> = (1..=10).map(|i| user(i, &format!("m{i}"))).collect();
        let first = summary_request(&log, None, 4).unwrap();
        assert_eq!(first.covers_through, 6);
        assert_eq!(first.messages[0].content, SUMMARY_PROMPT);
        let folded: Vec<_> = first.messages[1..].iter().map(|m| m.content.as_str()).collect();
        assert_eq!(folded, ["m1", "m2", "m3", "m4", "m5", "m6"]);

        let prev = Summary { version: 2, message_cursor: 3, text: "earlier".into(), pinned: vec![] };
        let next = summary_request(&log, Some(&prev), 4).unwrap();
        assert_eq!(next.covers_through, 6);
        assert_eq!(next.messages[1].role, Role::System);
        assert!(next.messages[1].content.contains("v2") && next.messages[1].content.ends_with("\nearlier"));
        let folded: Vec<_> = next.messages[2..].iter().map(|m| m.content.as_str()).collect();
        assert_eq!(folded, ["m4", "m5", "m6"]);
    }

    #[test]
    fn nothing_to_fold_is_none() {
        let log: Vec<_> = (1..=5).map(|i| user(i, "x")).collect();
        assert_eq!(summary_request(&log, None, 5), None);
        assert_eq!(summary_request(&log, None, 50), None);
        assert_eq!(summary_request(&[], None, 0), None);
        let prev = Summary { version: 1, message_cursor: 3, text: "t".into(), pinned: vec![] };
        assert_eq!(summary_request(&log, Some(&prev), 2), None);
        assert_eq!(summary_request(&log, Some(&prev), 1).unwrap().covers_through, 4);
    }

    #[test]
    fn names_are_read_from_introductions() {
        let cases: [(&str, &[&str]); 10] = [
            ("Hi, my name is Ana Lima, from Acme.", &["Ana Lima"]),
            ("I'm John Ronald Reuel Tolkien", &["John Ronald Reuel"]),
            ("i’m Zoë-Anne and I'd like a quote", &["Zoë-Anne"]),
            ("this is Priya from Globex", &["Priya"]),
            ("This is great, thanks", &[]),
            ("I'm interested in pricing", &[]),
            ("Hi'm Bob", &[]),
            ("I'm. Bob", &[]),
            ("My name is Bob. This is Carol.", &["Bob", "Carol"]),
            ("my name is", &[]),
        ];
        for (text, expected) in cases {
            let found: Vec<String> = extract_pinned(&[user(1, text)], &[])
                .into_iter()
                .filter_map(|f| match f {
                    PinnedFact::ContactName(n) => Some(n),
                    _ => None,
                })
                .collect();
            assert_eq!(found, expected, "{text}");
        }
        // Only what a user says about themselves counts.
        assert!(extract_pinned(&[assistant(1, "I'm Parley")], &[]).is_empty());
    }

    #[test]
    fn opt_outs_are_whole_words_in_any_case() {
        let cases = [
            ("STOP", true),
            ("please stop messaging me", true),
            ("Unsubscribe me.", true),
            ("Do NOT contact me again", true),
            ("I want to opt-out", true),
            ("opt out", true),
            ("unstoppable deals?", false),
            ("nonstop", false),
            ("do not contacts", false),
            ("optout", false),
        ];
        for (text, expected) in cases {
            let facts = extract_pinned(&[user(7, text)], &[]);
            assert_eq!(facts.contains(&PinnedFact::OptOut { seq: 7 }), expected, "{text}");
        }
        assert!(extract_pinned(&[assistant(7, "Reply STOP to unsubscribe")], &[]).is_empty());
    }

    #[test]
    fn follow_up_promises_keep_their_sentence() {
        let log = [assistant(4, "Thanks for the details! I'll follow up with a quote on Monday. Anything else?\nWe will get back to you soon")];
        assert_eq!(
            extract_pinned(&log, &[]),
            [
                PinnedFact::PromisedFollowUp { seq: 4, text: "I'll follow up with a quote on Monday.".into() },
                PinnedFact::PromisedFollowUp { seq: 4, text: "We will get back to you soon".into() },
            ]
        );
        for text in ["I will follow up tomorrow", "I’ll follow up.", "Let me follow-up on that."] {
            assert_eq!(extract_pinned(&[assistant(1, text)], &[]).len(), 1, "{text}");
        }
        for text in ["Can you follow up?", "get back to your desk"] {
            assert!(extract_pinned(&[assistant(1, text)], &[]).is_empty(), "{text}");
        }
        let long = format!("I'll follow up {}", "é".repeat(300));
        let facts = extract_pinned(&[assistant(1, &long)], &[]);
        let PinnedFact::PromisedFollowUp { text, .. } = &facts[0] else { panic!() };
        assert_eq!(text.chars().count(), MAX_FOLLOW_UP_CHARS);
        assert!(long.starts_with(text.as_str()));
        assert!(extract_pinned(&[user(1, "I'll follow up with my boss")], &[]).is_empty());
    }

    #[test]
    fn previous_facts_are_kept_and_nothing_is_duplicated() {
        let previous = vec![PinnedFact::ContactName("Ana".into()), PinnedFact::OptOut { seq: 2 }, PinnedFact::OptOut { seq: 2 }];
        let log = [user(2, "stop"), user(3, "I'm Ana"), user(5, "This is Bea"), assistant(6, "I'll follow up.")];
        let facts = extract_pinned(&log, &previous);
        assert_eq!(
            facts,
            [
                PinnedFact::ContactName("Ana".into()),
                PinnedFact::OptOut { seq: 2 },
                PinnedFact::ContactName("Bea".into()),
                PinnedFact::PromisedFollowUp { seq: 6, text: "I'll follow up.".into() },
            ]
        );
        assert_eq!(extract_pinned(&log, &facts), facts, "idempotent");
        assert_eq!(extract_pinned(&[], &facts), facts);
    }

    #[test]
    fn apply_summary_versions_and_never_moves_back() {
        let first = apply_summary(None, 10, "one".into(), vec![PinnedFact::OptOut { seq: 3 }, PinnedFact::OptOut { seq: 3 }]);
        assert_eq!(first, Summary { version: 1, message_cursor: 10, text: "one".into(), pinned: vec![PinnedFact::OptOut { seq: 3 }] });
        let second = apply_summary(Some(&first), 20, "two".into(), vec![PinnedFact::ContactName("Ana".into())]);
        assert_eq!(second.version, 2);
        assert_eq!(second.message_cursor, 20);
        assert_eq!(second.text, "two");
        assert_eq!(second.pinned, [PinnedFact::OptOut { seq: 3 }, PinnedFact::ContactName("Ana".into())], "facts are never dropped");
        assert_eq!(apply_summary(Some(&second), 19, "back".into(), vec![]), second);
        let same = apply_summary(Some(&second), 20, "redo".into(), vec![]);
        assert_eq!((same.version, same.message_cursor, same.text.as_str()), (3, 20, "redo"));
    }

    #[test]
    fn facts_and_summaries_round_trip_as_json() {
        let summary = Summary {
            version: 3,
            message_cursor: 42,
            text: "t".into(),
            pinned: vec![
                PinnedFact::ContactName("Ana".into()),
                PinnedFact::OptOut { seq: 4 },
                PinnedFact::PromisedFollowUp { seq: 9, text: "I'll follow up.".into() },
            ],
        };
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["pinned"][0], serde_json::json!({"kind": "contact_name", "value": "Ana"}));
        assert_eq!(json["pinned"][1], serde_json::json!({"kind": "opt_out", "value": {"seq": 4}}));
        assert_eq!(serde_json::from_value::<Summary>(json).unwrap(), summary);
    }

    #[test]
    fn pinned_block_lists_every_fact() {
        assert_eq!(pinned_block(&[]), None);
        let block = pinned_block(&[PinnedFact::ContactName("Ana".into()), PinnedFact::OptOut { seq: 4 }]).unwrap();
        assert_eq!(block.lines().count(), 3);
        assert!(block.contains("Ana") && block.contains("#4"));
    }
}
