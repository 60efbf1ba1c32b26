//! Lead stages and their explicit transition table.
//!
//! Stages move forward through the funnel; any open stage can be lost; a lost lead can be
//! reopened. Nothing moves a lead past negotiation automatically: won and lost from
//! negotiation are a person's call.

use serde::{Deserialize, Serialize};

/// Where a lead is in the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStage {
    New,
    Contacted,
    Engaged,
    Qualified,
    MeetingBooked,
    Negotiation,
    Won,
    Lost,
}

/// Who is moving the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Human,
    /// The agent or a loop.
    Automation,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageError {
    NotAllowed { from: LeadStage, to: LeadStage },
    NeedsHuman { from: LeadStage, to: LeadStage },
}

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StageError::NotAllowed { from, to } => write!(f, "a lead cannot move from {} to {}", from.as_str(), to.as_str()),
            StageError::NeedsHuman { from, to } => write!(f, "only a person can move a lead from {} to {}", from.as_str(), to.as_str()),
        }
    }
}

pub const ALL: [LeadStage; 8] = [LeadStage::New, LeadStage::Contacted, LeadStage::Engaged, LeadStage::Qualified, LeadStage::MeetingBooked, LeadStage::Negotiation, LeadStage::Won, LeadStage::Lost];

impl LeadStage {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStage::New => "new",
            LeadStage::Contacted => "contacted",
            LeadStage::Engaged => "engaged",
            LeadStage::Qualified => "qualified",
            LeadStage::MeetingBooked => "meeting_booked",
            LeadStage::Negotiation => "negotiation",
            LeadStage::Won => "won",
            LeadStage::Lost => "lost",
        }
    }

    pub fn parse(raw: &str) -> Option<LeadStage> {
        ALL.into_iter().find(|s| s.as_str() == raw)
    }

    fn rank(self) -> u8 {
        ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }

    /// Checks a transition. Forward moves may skip stages up to negotiation; past negotiation
    /// (won, or lost from negotiation) only a person may move the lead; lost may reopen to
    /// contacted; won is final.
    pub fn transition(self, to: LeadStage, actor: Actor) -> Result<LeadStage, StageError> {
        use LeadStage::*;
        let allowed = match (self, to) {
            (a, b) if a == b => false,
            (Won, _) => false,
            (Lost, Contacted) => true,
            (Lost, _) => false,
            (_, Lost) => true,
            (_, Won) => self == Negotiation,
            (a, b) => b.rank() > a.rank(),
        };
        if !allowed {
            return Err(StageError::NotAllowed { from: self, to });
        }
        let past_negotiation = to == Won || (self == Negotiation && to == Lost);
        if past_negotiation && actor == Actor::Automation {
            return Err(StageError::NeedsHuman { from: self, to });
        }
        Ok(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transition_table() {
        use LeadStage::*;
        let human_ok = |a: LeadStage, b: LeadStage| a.transition(b, Actor::Human).is_ok();
        assert!(human_ok(New, Contacted));
        assert!(human_ok(New, Qualified), "forward skips are fine");
        assert!(!human_ok(Qualified, Engaged), "no moving backwards");
        assert!(human_ok(Negotiation, Won));
        assert!(!human_ok(Qualified, Won), "won only from negotiation");
        assert!(human_ok(Engaged, Lost));
        assert!(human_ok(Lost, Contacted));
        assert!(!human_ok(Won, Lost), "won is final");
        assert!(!human_ok(New, New));
    }

    #[test]
    fn automation_never_moves_a_lead_past_negotiation() {
        for from in ALL {
            for to in ALL {
                let auto = from.transition(to, Actor::Automation);
                let human = from.transition(to, Actor::Human);
                if auto.is_ok() {
                    assert!(human.is_ok(), "automation can do nothing a person cannot");
                    assert!(to != LeadStage::Won && !(from == LeadStage::Negotiation && to == LeadStage::Lost));
                }
            }
        }
        assert_eq!(LeadStage::Negotiation.transition(LeadStage::Won, Actor::Automation), Err(StageError::NeedsHuman { from: LeadStage::Negotiation, to: LeadStage::Won }));
    }

    #[test]
    fn names_round_trip() {
        for s in ALL {
            assert_eq!(LeadStage::parse(s.as_str()), Some(s));
        }
    }
}
