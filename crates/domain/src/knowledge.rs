//! Knowledge-base search as FTS5 sees it: a user's query becomes a safe FTS5 expression.

/// Most terms a query keeps.
const MAX_TERMS: usize = 12;

/// The FTS5 `MATCH` expression for a free-text query: its words (letters and digits),
/// lowercased, each quoted (so no FTS5 syntax in the query can be injected or make the
/// statement fail), joined with `OR` and ranked by BM25. `None` when the query has no words.
pub fn fts_query(query: &str) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let w = word.to_lowercase();
        if !terms.contains(&w) {
            terms.push(w);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    (!terms.is_empty()).then(|| terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_terms_and_syntax_cannot_leak_through() {
        assert_eq!(fts_query("Pricing for Enterprise?").as_deref(), Some(r#""pricing" OR "for" OR "enterprise""#));
        assert_eq!(fts_query(r#"a" OR 1=1 NEAR(x) -- *"#).as_deref(), Some(r#""a" OR "or" OR "1" OR "near" OR "x""#));
        assert_eq!(fts_query("  ¿?  "), None);
        assert_eq!(fts_query("Größe größe").as_deref(), Some(r#""größe""#));
        assert_eq!(fts_query(&"w ".repeat(40)).as_deref(), Some(r#""w""#));
        let many: String = (0..30).map(|i| format!("t{i} ")).collect();
        assert_eq!(fts_query(&many).unwrap().matches(" OR ").count(), MAX_TERMS - 1);
    }
}
