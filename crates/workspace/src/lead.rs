//! Leads: the contacts a workspace prospects.

use domain::json_fields::{optional_str, parse_object, required_str};
use domain::message::MAX_BODY_BYTES;
use domain::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const MAX_TEXT: usize = 200;

/// A validated `POST /v1/leads` body. The time zone's existence is checked by the shell, which
/// holds the zone database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLead {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub time_zone: Option<String>,
    pub industry: Option<String>,
    pub company_stage: Option<String>,
    pub employees: Option<u32>,
}

impl NewLead {
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        let obj = parse_object(body)?;
        let text = |field: &'static str, value: Option<&str>| -> Result<Option<String>, ApiError> {
            match value.map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.chars().count() > MAX_TEXT => Err(ApiError::InvalidField { field, reason: format!("must be at most {MAX_TEXT} characters") }),
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let name = text("name", Some(required_str(&obj, "name")?))?.ok_or(ApiError::InvalidField { field: "name", reason: "must not be empty".into() })?;
        let email = text("email", optional_str(&obj, "email")?)?;
        if let Some(e) = &email {
            let valid = e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.') && !e.contains(char::is_whitespace));
            if !valid {
                return Err(ApiError::InvalidField { field: "email", reason: "must be an email address".into() });
            }
        }
        let employees = match obj.get("employees") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or(ApiError::InvalidField { field: "employees", reason: "must be a non-negative integer".into() })?),
        };
        Ok(NewLead {
            name,
            email,
            phone: text("phone", optional_str(&obj, "phone")?)?,
            time_zone: text("time_zone", optional_str(&obj, "time_zone")?)?,
            industry: text("industry", optional_str(&obj, "industry")?)?,
            company_stage: text("company_stage", optional_str(&obj, "company_stage")?)?,
            employees,
        })
    }
}

/// A lead as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadView {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub time_zone: Option<String>,
    pub industry: Option<String>,
    pub company_stage: Option<String>,
    pub employees: Option<u32>,
    pub stage: String,
    pub opted_out: bool,
    pub human_takeover: bool,
    /// Set when the send policy sent a message to strategy review (low confidence or high
    /// risk); cleared when a person's send to the lead is allowed.
    #[serde(default)]
    pub strategy_review: bool,
    /// Set while the lead is on the suppression list for a reason other than an opt-out.
    pub suppressed_until: Option<i64>,
    pub created_at: i64,
    /// When the next automatic follow-up is due (`None`: none is scheduled).
    #[serde(default)]
    pub next_followup_at: Option<i64>,
    /// The next follow-up step (0-based; also how many were drafted or sent).
    #[serde(default)]
    pub followup_step: u32,
    /// The org's follow-up preset (`gentle`, `standard` or `aggressive`).
    #[serde(default)]
    pub followup_preset: String,
    /// The lead's tags: `human_takeover`, `suppressed`, `strategy_review_required`, `opted_out`.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl LeadView {
    /// Fills `tags` from the flags (`suppressed` while `suppressed_until` is after `now`).
    pub fn with_tags(mut self, now: i64) -> LeadView {
        let mut tags = Vec::new();
        if self.human_takeover {
            tags.push("human_takeover".to_owned());
        }
        if self.suppressed_until.is_some_and(|u| u > now) {
            tags.push("suppressed".to_owned());
        }
        if self.strategy_review {
            tags.push(STRATEGY_REVIEW_TAG.to_owned());
        }
        if self.opted_out {
            tags.push("opted_out".to_owned());
        }
        self.tags = tags;
        self
    }
}

/// The tag of a lead whose send went to strategy review.
pub const STRATEGY_REVIEW_TAG: &str = "strategy_review_required";

/// How a send decision changes the strategy-review tag: `Some(true)` to set it (the policy sent
/// the message to review), `Some(false)` to clear it (a send to the lead was allowed, so the
/// review is resolved), `None` to leave it (a denial or deferral says nothing about review).
pub fn review_tag_change(tagged: bool, verdict: policy::Verdict) -> Option<bool> {
    match verdict {
        policy::Verdict::Review if !tagged => Some(true),
        policy::Verdict::Allow if tagged => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_lead_and_trims_optional_fields() {
        let l = NewLead::from_body(br#"{"name":" Ada ","email":"ada@acme.io","time_zone":"Europe/London","employees":40,"industry":""}"#).unwrap();
        assert_eq!(l.name, "Ada");
        assert_eq!(l.employees, Some(40));
        assert_eq!(l.industry, None);
    }

    #[test]
    fn refuses_bad_leads() {
        let cases: [(&[u8], &str); 6] = [
            (b"{}", "missing_field"),
            (br#"{"name":"  "}"#, "invalid_field"),
            (br#"{"name":"A","email":"nope"}"#, "invalid_field"),
            (br#"{"name":"A","employees":-3}"#, "invalid_field"),
            (br#"{"name":"A","employees":"ten"}"#, "invalid_field"),
            (b"{", "malformed_json"),
        ];
        for (body, code) in cases {
            assert_eq!(NewLead::from_body(body).unwrap_err().code(), code, "{}", String::from_utf8_lossy(body));
        }
    }
}

/// Filters for `GET /v1/leads`: `?stage=&tag=&q=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFilter {
    pub stage: Option<String>,
    /// `human_takeover`, `opted_out` or `strategy_review_required`.
    pub tag: Option<String>,
    /// A case-insensitive substring of the name or email.
    pub q: Option<String>,
}

impl LeadFilter {
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, ApiError> {
        let mut f = LeadFilter::default();
        for (k, v) in pairs {
            match k {
                "stage" => {
                    crate::stage::LeadStage::parse(v).ok_or(ApiError::InvalidQuery { param: "stage", reason: format!("unknown stage `{v}`") })?;
                    f.stage = Some(v.to_owned());
                }
                "tag" => {
                    if !matches!(v, "human_takeover" | "opted_out" | STRATEGY_REVIEW_TAG) {
                        return Err(ApiError::InvalidQuery { param: "tag", reason: "must be human_takeover, opted_out or strategy_review_required".into() });
                    }
                    f.tag = Some(v.to_owned());
                }
                "q" => f.q = Some(v.to_lowercase()).filter(|q| !q.trim().is_empty()),
                _ => {}
            }
        }
        Ok(f)
    }

    /// The filter's meaning, for one lead. The workspace evaluates the same conditions in SQL
    /// (before its row limit); `tests/integration/workspace.test.mjs` checks the two agree.
    pub fn matches(&self, l: &LeadView) -> bool {
        self.stage.as_deref().is_none_or(|s| l.stage == s)
            && self.tag.as_deref().is_none_or(|t| match t {
                "opted_out" => l.opted_out,
                STRATEGY_REVIEW_TAG => l.strategy_review,
                _ => l.human_takeover,
            })
            && self.q.as_deref().is_none_or(|q| l.name.to_lowercase().contains(q) || l.email.as_deref().is_some_and(|e| e.to_lowercase().contains(q)))
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    fn lead(name: &str, stage: &str, opted_out: bool) -> LeadView {
        LeadView { id: "lead_x".into(), name: name.into(), email: Some(format!("{}@x.io", name.to_lowercase())), phone: None, time_zone: None, industry: None, company_stage: None, employees: None, stage: stage.into(), opted_out, human_takeover: false, strategy_review: false, suppressed_until: None, created_at: 0, next_followup_at: None, followup_step: 0, followup_preset: "standard".into(), tags: vec![] }
    }

    #[test]
    fn filters_combine_and_refuse_unknown_values() {
        let f = LeadFilter::from_query([("stage", "qualified"), ("q", "ADA")]).unwrap();
        assert!(f.matches(&lead("Ada", "qualified", false)));
        assert!(!f.matches(&lead("Ada", "new", false)));
        assert!(!f.matches(&lead("Bob", "qualified", false)));
        assert!(LeadFilter::from_query([("tag", "opted_out")]).unwrap().matches(&lead("C", "new", true)));
        assert!(LeadFilter::from_query([("stage", "sold")]).is_err());
        let review = LeadView { strategy_review: true, ..lead("D", "new", false) };
        assert!(LeadFilter::from_query([("tag", STRATEGY_REVIEW_TAG)]).unwrap().matches(&review));
        assert!(!LeadFilter::from_query([("tag", STRATEGY_REVIEW_TAG)]).unwrap().matches(&lead("E", "new", false)));
        assert_eq!(review.with_tags(0).tags, vec![STRATEGY_REVIEW_TAG.to_owned()]);
        use policy::Verdict;
        assert_eq!(review_tag_change(false, Verdict::Review), Some(true));
        assert_eq!(review_tag_change(true, Verdict::Review), None);
        assert_eq!(review_tag_change(true, Verdict::Allow), Some(false));
        assert_eq!(review_tag_change(false, Verdict::Allow), None);
        assert_eq!(review_tag_change(true, Verdict::Deny), None);
        assert_eq!(review_tag_change(true, Verdict::Defer { until: 5 }), None);
        let all = LeadView { human_takeover: true, suppressed_until: Some(10), ..lead("F", "new", true) };
        assert_eq!(all.clone().with_tags(5).tags, vec!["human_takeover", "suppressed", "opted_out"]);
        assert_eq!(all.with_tags(10).tags, vec!["human_takeover", "opted_out"], "suppression has ended");
        assert!(LeadFilter::from_query([("tag", "vip")]).is_err());
    }
}

/// A validated `PATCH /v1/leads/{id}` body: any of the contact fields; `null` clears an
/// optional one. Stage, takeover and opt-out have their own routes and are refused here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the field.
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub time_zone: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub company_stage: Option<Option<String>>,
    pub employees: Option<Option<u32>>,
}

impl LeadPatch {
    pub fn from_body(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
        }
        let obj = parse_object(body)?;
        for key in obj.keys() {
            if !["name", "email", "phone", "time_zone", "industry", "company_stage", "employees"].contains(&key.as_str()) {
                return Err(ApiError::InvalidField { field: "lead", reason: format!("`{key}` cannot be changed here") });
            }
        }
        // Validate the merged view with the creation rules, so a patch can never store what a
        // new lead could not have.
        let mut probe = obj.clone();
        probe.entry("name").or_insert(Value::from("unchanged"));
        let checked = NewLead::from_body(Value::Object(probe).to_string().as_bytes())?;
        let given = |k: &str| obj.contains_key(k);
        Ok(LeadPatch {
            name: given("name").then(|| checked.name.clone()),
            email: given("email").then(|| checked.email.clone()),
            phone: given("phone").then(|| checked.phone.clone()),
            time_zone: given("time_zone").then(|| checked.time_zone.clone()),
            industry: given("industry").then(|| checked.industry.clone()),
            company_stage: given("company_stage").then(|| checked.company_stage.clone()),
            employees: given("employees").then_some(checked.employees),
        })
    }

    /// The names of the fields this patch changes.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        for (name, set) in [("name", self.name.is_some()), ("email", self.email.is_some()), ("phone", self.phone.is_some()), ("time_zone", self.time_zone.is_some()), ("industry", self.industry.is_some()), ("company_stage", self.company_stage.is_some()), ("employees", self.employees.is_some())] {
            if set {
                f.push(name);
            }
        }
        f
    }
}

#[cfg(test)]
mod patch_tests {
    use super::*;

    #[test]
    fn patches_set_clear_and_refuse() {
        let p = LeadPatch::from_body(br#"{"email":null,"employees":12,"industry":"fintech"}"#).unwrap();
        assert_eq!(p.email, Some(None));
        assert_eq!(p.employees, Some(Some(12)));
        assert_eq!(p.name, None);
        assert_eq!(p.fields(), vec!["email", "industry", "employees"]);
        assert_eq!(LeadPatch::from_body(br#"{"opted_out":false}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(LeadPatch::from_body(br#"{"stage":"won"}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(LeadPatch::from_body(br#"{"email":"nope"}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(LeadPatch::from_body(br#"{"name":" "}"#).unwrap_err().code(), "invalid_field");
    }
}
