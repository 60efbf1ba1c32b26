//! The packer's examples and its property tests (budget, order, what is always kept).

use super::*;
use crate::context::assemble;
use crate::summary::PinnedFact;
use proptest::prelude::*;

fn total(ctx: &[ContextMessage]) -> usize {
    ctx.iter().map(|m| approx_tokens(&m.content)).sum()
}

fn msg(seq: i64, content: &str) -> MessageView {
    MessageView { seq, role: if seq % 2 == 1 { Role::User } else { Role::Assistant }, content: content.into(), client_id: None, turn_id: None, created_at: 0 }
}

fn snippet(i: usize, text: &str) -> KnowledgeSnippet {
    KnowledgeSnippet { document_id: format!("d{i}"), chunk_id: format!("c{i}"), title: format!("Title {i}"), text: text.into() }
}

fn step(content: &str) -> ContextMessage {
    ContextMessage { role: Role::Assistant, content: content.into() }
}

struct Fixture {
    summary: Summary,
    recent: Vec<MessageView>,
    knowledge: Vec<KnowledgeSnippet>,
    tools: Vec<ContextMessage>,
    strategy: String,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            summary: Summary {
                version: 3,
                message_cursor: 4,
                text: "The contact asked about annual pricing. ".repeat(10),
                pinned: vec![PinnedFact::ContactName("Ana".into()), PinnedFact::OptOut { seq: 2 }],
            },
            recent: (1..=10).map(|i| msg(i, &format!("message {i} {}", "x".repeat(80)))).collect(),
            knowledge: (1..=3).map(|i| snippet(i, &format!("snippet {i} {}", "k".repeat(200)))).collect(),
            tools: vec![step("tool result: 42")],
            strategy: "Push annual plans; never discount more than 10 %. ".repeat(4),
        }
    }

    fn inputs(&self) -> ContextInputs<'_> {
        ContextInputs {
            system_prompt: SYSTEM_PROMPT,
            org_strategy: Some(&self.strategy),
            summary: Some(&self.summary),
            recent: &self.recent,
            knowledge: &self.knowledge,
            tool_steps: &self.tools,
        }
    }
}

fn unlimited() -> ContextBudget {
    ContextBudget { max_messages: 100, max_tokens: 1_000_000 }
}

fn pinned_text(f: &Fixture) -> String {
    pinned_block(&f.summary.pinned).unwrap()
}

fn budget(max_tokens: usize) -> ContextBudget {
    ContextBudget { max_messages: 100, max_tokens }
}

#[test]
fn everything_in_order_when_it_fits() {
    let f = Fixture::new();
    let ctx = pack(&f.inputs(), unlimited());
    assert_eq!(ctx[0].role, Role::System);
    assert!(ctx[0].content.starts_with(SYSTEM_PROMPT));
    assert!(ctx[0].content.ends_with(f.strategy.trim()));
    assert!(ctx[1].content.starts_with("Conversation so far (summary v3):\n"));
    assert!(ctx[1].content.ends_with(f.summary.text.trim()));
    assert_eq!(ctx[2].content, pinned_text(&f));
    assert!(ctx[2].content.contains("Ana"));
    assert!(ctx[3].content.starts_with(KNOWLEDGE_HEADING));
    assert!(ctx[..4].iter().all(|m| m.role == Role::System));
    // Messages the summary covers (seq <= 4) are left out.
    let recent: Vec<_> = ctx[4..10].iter().map(|m| m.content.split(' ').nth(1).unwrap()).collect();
    assert_eq!(recent, ["5", "6", "7", "8", "9", "10"]);
    assert_eq!(ctx[4].role, Role::User);
    assert_eq!(ctx[10], f.tools[0]);
    assert_eq!(ctx.len(), 11);
}

#[test]
fn knowledge_is_tagged_for_citation() {
    let f = Fixture::new();
    let ctx = pack(&f.inputs(), unlimited());
    let knowledge = &ctx[3].content;
    for (i, s) in f.knowledge.iter().enumerate() {
        let entry = format!("[doc:d{}#c{}] Title {}\n{}", i + 1, i + 1, i + 1, s.text);
        assert!(knowledge.contains(&entry), "{entry}");
    }
    assert_eq!(f.knowledge[0].citation_tag(), "[doc:d1#c1]");
    let first = knowledge.find("[doc:d1#").unwrap();
    let third = knowledge.find("[doc:d3#").unwrap();
    assert!(first < third, "ranked order is kept");
}

#[test]
fn oldest_recent_messages_go_first() {
    let f = Fixture::new();
    let full = pack(&f.inputs(), unlimited());
    let ctx = pack(&f.inputs(), budget(total(&full) - 1));
    assert!(total(&ctx) < total(&full));
    assert_eq!(ctx.len(), full.len() - 1);
    assert_eq!(ctx[3], full[3], "knowledge untouched");
    assert!(ctx[4].content.starts_with("message 6 "));
    // Without room for any older message, the newest still comes through whole.
    let older: usize = full[4..9].iter().map(|m| approx_tokens(&m.content)).sum();
    let ctx = pack(&f.inputs(), budget(total(&full) - older));
    assert_eq!(ctx.len(), 6);
    assert_eq!(ctx[3], full[3]);
    assert_eq!(ctx[4], full[9]);
    assert_eq!(ctx[5], full[10]);
    // A window of messages is also a limit.
    let ctx = pack(&f.inputs(), ContextBudget { max_messages: 2, max_tokens: 1_000_000 });
    assert_eq!(&ctx[4..], &full[8..]);
}

#[test]
fn then_knowledge_from_the_lowest_ranked() {
    let f = Fixture::new();
    let full = pack(&f.inputs(), unlimited());
    let older: usize = full[4..9].iter().map(|m| approx_tokens(&m.content)).sum();
    let ctx = pack(&f.inputs(), budget(total(&full) - older - 1));
    assert_eq!(ctx.len(), 6);
    assert!(ctx[3].content.contains("[doc:d2#c2]"));
    assert!(!ctx[3].content.contains("[doc:d3#c3]"));
    assert_eq!(ctx[4], full[9], "no older message comes back");
    let knowledge = approx_tokens(&full[3].content);
    let ctx = pack(&f.inputs(), budget(total(&full) - older - knowledge));
    assert_eq!(ctx.len(), 5);
    assert_eq!(ctx[1], full[1], "the summary is whole");
    assert_eq!(ctx[2], full[2]);
    assert!(ctx.iter().all(|m| !m.content.contains("[doc:")));
}

#[test]
fn then_the_summary_is_truncated() {
    let f = Fixture::new();
    let full = pack(&f.inputs(), unlimited());
    let older: usize = full[4..9].iter().map(|m| approx_tokens(&m.content)).sum();
    let knowledge = approx_tokens(&full[3].content);
    let limit = total(&full) - older - knowledge - 30;
    let ctx = pack(&f.inputs(), budget(limit));
    assert!(total(&ctx) <= limit);
    assert_eq!(ctx.len(), 5);
    assert_eq!(ctx[0], full[0], "the strategy is whole");
    assert!(ctx[1].content.len() < full[1].content.len());
    assert!(full[1].content.starts_with(&ctx[1].content));
    assert!(ctx[1].content.len() > "Conversation so far (summary v3):\n".len());
    assert_eq!(ctx[2].content, pinned_text(&f));
    // With no room for any of its text, it is left out.
    let summary = approx_tokens(&full[1].content);
    let ctx = pack(&f.inputs(), budget(total(&full) - older - knowledge - summary));
    assert_eq!(ctx.len(), 4);
    assert_eq!(ctx[0], full[0]);
    assert_eq!(ctx[1].content, pinned_text(&f));
}

#[test]
fn then_the_strategy_is_truncated() {
    let f = Fixture::new();
    let full = pack(&f.inputs(), unlimited());
    let kept = |ctx: &[ContextMessage]| total(ctx) - approx_tokens(&ctx[0].content);
    let rest = kept(&[full[0].clone(), full[2].clone(), full[9].clone(), full[10].clone()]);
    let limit = rest + approx_tokens(&full[0].content) - 10;
    let ctx = pack(&f.inputs(), budget(limit));
    assert!(total(&ctx) <= limit);
    assert_eq!(ctx.len(), 4);
    assert!(ctx[0].content.len() < full[0].content.len());
    assert!(full[0].content.starts_with(&ctx[0].content));
    assert!(ctx[0].content.contains(STRATEGY_HEADING));
    assert_eq!(ctx[1].content, pinned_text(&f));
    assert_eq!(ctx[2], full[9]);
    assert_eq!(ctx[3], full[10]);
    // Exactly the prompt's room: the strategy is gone, nothing else is cut.
    let limit = rest + approx_tokens(SYSTEM_PROMPT);
    let ctx = pack(&f.inputs(), budget(limit));
    assert_eq!(ctx[0].content, SYSTEM_PROMPT);
    assert_eq!(&ctx[1..], [full[2].clone(), full[9].clone(), full[10].clone()]);
}

#[test]
fn last_resort_truncates_the_largest_kept_message() {
    let mut f = Fixture::new();
    f.recent.push(msg(11, &"a very long question ".repeat(200)));
    let ctx = pack(&f.inputs(), budget(300));
    assert!(total(&ctx) <= 300);
    assert_eq!(ctx.len(), 4);
    assert_eq!(ctx[0].content, SYSTEM_PROMPT, "the small prompt is whole");
    assert_eq!(ctx[1].content, pinned_text(&f), "pinned facts are whole");
    assert!(f.recent[10].content.starts_with(&ctx[2].content));
    assert!(ctx[2].content.len() > 100);
    assert_eq!(ctx[3], f.tools[0]);
    // Tool steps are kept too, and cut like the rest when they are the big ones.
    f.tools.push(step(&"r".repeat(4_000)));
    let ctx = pack(&f.inputs(), budget(300));
    assert!(total(&ctx) <= 300);
    assert_eq!(ctx.len(), 5);
    assert_eq!(ctx[1].content, pinned_text(&f));
    assert_eq!(ctx[3], f.tools[0]);
    assert!(f.tools[1].content.starts_with(&ctx[4].content));
}

#[test]
fn pinned_facts_give_way_only_at_the_very_end() {
    let mut f = Fixture::new();
    f.summary.pinned = (0..20).map(|seq| PinnedFact::PromisedFollowUp { seq, text: "I'll follow up with the contract.".into() }).collect();
    let pinned = approx_tokens(&pinned_text(&f));
    let ctx = pack(&f.inputs(), budget(pinned + 3 * MIN_SHARE_TOKENS));
    assert_eq!(ctx[1].content, pinned_text(&f));
    assert!(total(&ctx) <= pinned + 3 * MIN_SHARE_TOKENS);
    let ctx = pack(&f.inputs(), budget(pinned));
    assert!(total(&ctx) <= pinned);
    assert!(pinned_text(&f).starts_with(&ctx[1].content));
    assert_eq!(ctx.len(), 4, "nothing is left out while 4 tokens per message fit");
}

#[test]
fn the_newest_message_stays_even_if_the_summary_covers_it() {
    let recent = [msg(1, "u1"), msg(3, "a1"), msg(2, "u2")];
    let summary = Summary { version: 1, message_cursor: 2, text: "s".into(), pinned: vec![] };
    let inputs = ContextInputs { summary: Some(&summary), ..ContextInputs::new(&recent) };
    let ctx = pack(&inputs, unlimited());
    let contents: Vec<_> = ctx.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, [SYSTEM_PROMPT, "Conversation so far (summary v1):\ns", "a1", "u2"]);
}

#[test]
fn plain_inputs_match_the_recent_window() {
    let log: Vec<_> = (1..=50).map(|i| msg(i, &format!("m{i}"))).collect();
    let inputs = ContextInputs::new(&log);
    assert_eq!(pack(&inputs, ContextBudget::default()), assemble(&log, ContextBudget::default()));
    assert_eq!(pack(&ContextInputs::new(&[]), ContextBudget::default()).len(), 1);
}

#[test]
fn tiny_budgets_still_hold() {
    let f = Fixture::new();
    for limit in 0..60 {
        let ctx = pack(&f.inputs(), budget(limit));
        assert!(total(&ctx) <= limit, "{limit}");
        if limit >= 4 {
            assert_eq!(ctx.last().unwrap().content, f.tools[0].content[..ctx.last().unwrap().content.len()]);
        }
    }
}

fn fact() -> impl Strategy<Value = PinnedFact> {
    prop_oneof![
        "[A-Z][a-z]{0,19}".prop_map(PinnedFact::ContactName),
        (0i64..1_000_000).prop_map(|seq| PinnedFact::OptOut { seq }),
        (0i64..1_000_000, "[a-zA-Z ,']{0,60}").prop_map(|(seq, text)| PinnedFact::PromisedFollowUp { seq, text }),
    ]
}

#[allow(clippy::type_complexity)]
fn inputs() -> impl Strategy<
    Value = (String, Option<String>, Option<Summary>, Vec<MessageView>, Vec<KnowledgeSnippet>, Vec<ContextMessage>),
> {
    let prompt = prop_oneof![Just(SYSTEM_PROMPT.to_owned()), ".{0,600}"];
    let summary = proptest::option::of((1u32..50, 0i64..30, ".{0,800}", proptest::collection::vec(fact(), 0..=3)))
        .prop_map(|s| s.map(|(version, message_cursor, text, pinned)| Summary { version, message_cursor, text, pinned }));
    let recent = proptest::collection::vec(".{0,400}", 1..30)
        .prop_map(|v| v.iter().enumerate().map(|(i, c)| msg(i as i64 + 1, c)).collect::<Vec<_>>());
    let knowledge = proptest::collection::vec((".{0,40}", ".{0,300}"), 0..5)
        .prop_map(|v| v.into_iter().enumerate().map(|(i, (title, text))| KnowledgeSnippet { title, ..snippet(i, &text) }).collect::<Vec<_>>());
    let tools = proptest::collection::vec(".{0,500}", 0..=4).prop_map(|v| v.iter().map(|c| step(c)).collect::<Vec<_>>());
    (prompt, proptest::option::of(".{0,600}"), summary, recent, knowledge, tools)
}

/// The packer's view of one generated case.
fn as_inputs<'a>(
    prompt: &'a str,
    strategy: &'a Option<String>,
    summary: &'a Option<Summary>,
    recent: &'a [MessageView],
    knowledge: &'a [KnowledgeSnippet],
    tools: &'a [ContextMessage],
) -> ContextInputs<'a> {
    ContextInputs { system_prompt: prompt, org_strategy: strategy.as_deref(), summary: summary.as_ref(), recent, knowledge, tool_steps: tools }
}

proptest! {
    #[test]
    fn pack_holds_its_promises(
        (prompt, strategy, summary, recent, knowledge, tools) in inputs(),
        max_tokens in 200usize..4_000,
        max_messages in 0usize..50,
    ) {
        let inputs = as_inputs(&prompt, &strategy, &summary, &recent, &knowledge, &tools);
        let budget = ContextBudget { max_messages, max_tokens };
        let ctx = pack(&inputs, budget);
        prop_assert!(total(&ctx) <= max_tokens, "{} > {}", total(&ctx), max_tokens);
        prop_assert_eq!(ctx[0].role, Role::System);
        prop_assert!(ctx[0].content.starts_with(&prompt) || prompt.starts_with(&ctx[0].content));
        if let Some(block) = summary.as_ref().and_then(|s| pinned_block(&s.pinned)) {
            prop_assert!(ctx.iter().any(|m| m.role == Role::System && m.content == block), "pinned facts kept whole");
        }
        let last = ctx.last().unwrap();
        let expected = tools.last().cloned().unwrap_or_else(|| {
            let m = recent.last().unwrap();
            ContextMessage { role: m.role, content: m.content.clone() }
        });
        prop_assert_eq!(last.role, expected.role);
        prop_assert!(expected.content.starts_with(&last.content));
        prop_assert_eq!(pack(&inputs, budget), ctx, "deterministic");
    }

    #[test]
    fn pack_never_exceeds_even_tiny_budgets(
        (prompt, strategy, summary, recent, knowledge, tools) in inputs(),
        max_tokens in 0usize..200,
    ) {
        let inputs = as_inputs(&prompt, &strategy, &summary, &recent, &knowledge, &tools);
        let ctx = pack(&inputs, ContextBudget { max_messages: 40, max_tokens });
        prop_assert!(total(&ctx) <= max_tokens);
    }
}
