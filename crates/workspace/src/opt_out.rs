//! Recognising an opt-out in a contact's reply. A false positive costs a lead; a false
//! negative breaks the law and a promise, so the list errs on the side of opting out.

/// Phrases that, anywhere in a reply, opt the contact out (lowercase).
const PHRASES: &[&str] = &[
    // English
    "unsubscribe", "opt out", "opt-out", "optout", "remove me", "take me off", "do not contact", "don't contact", "dont contact", "stop emailing", "stop messaging", "stop contacting", "no more emails", "leave me alone",
    // German, French, Spanish, Italian, Dutch, Portuguese, Swedish/Norwegian/Danish
    "abmelden", "austragen", "désabonner", "desabonner", "désinscrire", "ne plus recevoir", "darse de baja", "dar de baja", "cancelar suscripción", "no me contacte", "disiscrivi", "cancellami", "afmelden", "uitschrijven", "descadastrar", "cancelar inscrição", "avregistrera", "avslutt", "afmeld",
];

/// Words that opt out when they are the whole reply (after trimming punctuation), as in SMS.
const ALONE: &[&str] = &["stop", "stopp", "arrêt", "arret", "alto", "basta", "parar", "end", "quit", "cancel"];

/// Whether the reply asks never to be contacted again.
pub fn is_opt_out(reply: &str) -> bool {
    let lower = reply.to_lowercase();
    let alone = lower.trim().trim_matches(|c: char| !c.is_alphanumeric());
    ALONE.contains(&alone) || PHRASES.iter().any(|p| lower.contains(p)) || lower.split(|c: char| !c.is_alphanumeric()).next() == Some("stop")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_outs_in_several_languages() {
        for r in ["STOP", "stop.", "Stop emailing me", "Please unsubscribe me", "remove me from your list", "Bitte abmelden", "Me désabonner svp", "Quiero darme de baja... darse de baja", "afmelden aub", "Por favor cancelar inscrição", "Stopp"] {
            assert!(is_opt_out(r), "{r}");
        }
    }

    #[test]
    fn ordinary_replies_are_not_opt_outs() {
        for r in ["Sounds good, Tuesday works", "Can you send the deck?", "We stopped using that vendor last year", "Non-stop meetings this week, try Friday"] {
            assert!(!is_opt_out(r), "{r}");
        }
    }
}
