//! Personal and confidential data that must never go out in a draft: email addresses, phone
//! numbers, card numbers (Luhn-checked) and money amounts.

/// One finding.
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    pub fix: &'static str,
}

pub fn scan(text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(email) = text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric())).find(|w| is_email(w)) {
        out.push(Finding { code: "email_address", message: format!("contains an email address ({})", mask(email)), fix: "Remove it; the reply goes to the right address already." });
    }
    for run in digit_runs(text) {
        let digits: String = run.chars().filter(char::is_ascii_digit).collect();
        if (13..=19).contains(&digits.len()) && luhn(&digits) {
            out.push(Finding { code: "card_number", message: "contains what looks like a card number".into(), fix: "Remove it. Never send payment details." });
        } else if digits.len() >= 7 && run.chars().any(|c| matches!(c, ' ' | '-' | '(' | ')' | '+' | '.')) || digits.len() >= 9 {
            out.push(Finding { code: "phone_number", message: format!("contains a phone number ({})", mask(&digits)), fix: "Remove it, or offer to share contact details on a call." });
        }
    }
    if has_amount(text) {
        out.push(Finding { code: "amount", message: "mentions a money amount".into(), fix: "Leave prices and figures for a conversation with a person." });
    }
    out.dedup_by(|a, b| a.code == b.code);
    out
}

fn is_email(w: &str) -> bool {
    let Some((local, domain)) = w.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

fn mask(s: &str) -> String {
    let shown: String = s.chars().take(2).collect();
    format!("{shown}…")
}

/// Runs of digits joined by the separators phone and card numbers use.
fn digit_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let joins = matches!(c, ' ' | '-' | '(' | ')' | '+' | '.') && !current.is_empty();
        if c.is_ascii_digit() || (c == '+' && current.is_empty()) || joins {
            current.push(c);
        } else {
            if current.chars().any(|c| c.is_ascii_digit()) {
                runs.push(current.trim_end_matches([' ', '-', '(', ')', '.']).to_owned());
            }
            current.clear();
        }
    }
    if current.chars().any(|c| c.is_ascii_digit()) {
        runs.push(current.trim_end_matches([' ', '-', '(', ')', '.']).to_owned());
    }
    runs
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 1 { let x = d * 2; if x > 9 { x - 9 } else { x } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// `$1,200`, `€ 500`, `£3k`, `1200 USD`, `40 dollars`, `10k euros`.
fn has_amount(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if matches!(c, '$' | '€' | '£' | '¥') {
            let next = chars[i + 1..].iter().find(|c| **c != ' ');
            if next.is_some_and(|c| c.is_ascii_digit()) {
                return true;
            }
        }
    }
    let words: Vec<String> = text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
    words.windows(2).any(|w| {
        let number = w[0].trim_end_matches('k').trim_end_matches('m');
        !number.is_empty() && number.chars().all(|c| c.is_ascii_digit() || c == ',') && matches!(w[1].as_str(), "usd" | "eur" | "gbp" | "dollars" | "euros" | "pounds" | "bucks")
    })
}
