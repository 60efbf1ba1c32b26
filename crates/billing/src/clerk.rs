//! Clerk webhook payloads (organizations, users, memberships) turned into the changes Parley
//! mirrors. Signature verification happens before this, in the `webhooks` crate.

use crate::error::EventError;
use crate::json::{parse_object, Fields};

/// One Clerk webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkEvent {
    /// Clerk's event type as sent, e.g. `organization.created`.
    pub event_type: String,
    /// The envelope's `timestamp`: when Clerk emitted the event, milliseconds since the epoch.
    pub timestamp_ms: i64,
    pub change: ClerkChange,
}

impl ClerkEvent {
    /// The version to order this event by; see [`ClerkChange::version`].
    pub fn version(&self) -> i64 {
        self.change.version(self.timestamp_ms)
    }
}

/// What a Clerk event changes in the mirror. Timestamps are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClerkChange {
    /// `organization.created` / `organization.updated`.
    OrgUpsert { id: String, name: String, slug: Option<String>, created_at: i64, updated_at: i64 },
    /// `organization.deleted`.
    OrgDeleted { id: String },
    /// `organizationMembership.created` / `organizationMembership.updated`. `role` is Clerk's
    /// role key as given (`org:admin`, `org:member`, or a custom one).
    MembershipUpsert { id: String, org_id: String, user_id: String, role: String, created_at: i64, updated_at: i64 },
    /// `organizationMembership.deleted`.
    MembershipDeleted { id: String, org_id: String, user_id: String },
    /// `user.created` / `user.updated`. `email` is the primary address (else the first one);
    /// `name` is first and last name joined, `None` when both are blank.
    UserUpsert { id: String, email: Option<String>, name: Option<String>, created_at: i64, updated_at: i64 },
    /// `user.deleted`.
    UserDeleted { id: String },
    /// A well-formed event of a type Parley does not mirror (sessions, emails, ...).
    Ignored,
}

impl ClerkChange {
    /// The version to order deliveries of the same object by: the object's `updated_at` when it
    /// carries one, else the event's timestamp (deletions carry no `updated_at`).
    pub fn version(&self, event_timestamp_ms: i64) -> i64 {
        match self {
            ClerkChange::OrgUpsert { updated_at, .. }
            | ClerkChange::MembershipUpsert { updated_at, .. }
            | ClerkChange::UserUpsert { updated_at, .. } => *updated_at,
            ClerkChange::OrgDeleted { .. }
            | ClerkChange::MembershipDeleted { .. }
            | ClerkChange::UserDeleted { .. }
            | ClerkChange::Ignored => event_timestamp_ms,
        }
    }

    /// Whether this change deletes its object (and so is final; see [`crate::decide_mirror`]).
    pub fn is_delete(&self) -> bool {
        matches!(
            self,
            ClerkChange::OrgDeleted { .. } | ClerkChange::MembershipDeleted { .. } | ClerkChange::UserDeleted { .. }
        )
    }
}

/// Parses a Clerk webhook body (`{"type", "object": "event", "timestamp", "data"}`).
///
/// Unknown event types parse to [`ClerkChange::Ignored`] so the shell can acknowledge them;
/// a known type whose `data` lacks a field Parley needs is an error.
pub fn parse_clerk_event(body: &[u8]) -> Result<ClerkEvent, EventError> {
    let root = parse_object(body)?;
    let envelope = Fields::root(&root);
    let event_type = envelope.req_str("type")?;
    let timestamp_ms = envelope.req_i64("timestamp")?;
    let data = envelope.req_obj("data")?;

    let change = match event_type.as_str() {
        "organization.created" | "organization.updated" => ClerkChange::OrgUpsert {
            id: data.req_str("id")?,
            name: data.req_str("name")?,
            slug: data.opt_nonempty_str("slug")?,
            created_at: data.req_i64("created_at")?,
            updated_at: data.req_i64("updated_at")?,
        },
        "organization.deleted" => ClerkChange::OrgDeleted { id: data.req_str("id")? },
        "organizationMembership.created" | "organizationMembership.updated" => {
            let (id, org_id, user_id) = membership_ids(&data)?;
            ClerkChange::MembershipUpsert {
                id,
                org_id,
                user_id,
                role: data.req_str("role")?,
                created_at: data.req_i64("created_at")?,
                updated_at: data.req_i64("updated_at")?,
            }
        }
        "organizationMembership.deleted" => {
            let (id, org_id, user_id) = membership_ids(&data)?;
            ClerkChange::MembershipDeleted { id, org_id, user_id }
        }
        "user.created" | "user.updated" => ClerkChange::UserUpsert {
            id: data.req_str("id")?,
            email: primary_email(&data)?,
            name: full_name(&data)?,
            created_at: data.req_i64("created_at")?,
            updated_at: data.req_i64("updated_at")?,
        },
        "user.deleted" => ClerkChange::UserDeleted { id: data.req_str("id")? },
        _ => ClerkChange::Ignored,
    };
    Ok(ClerkEvent { event_type, timestamp_ms, change })
}

/// A membership's own id, its org's id and its user's id.
fn membership_ids(data: &Fields<'_>) -> Result<(String, String, String), EventError> {
    let id = data.req_str("id")?;
    let org_id = data.req_obj("organization")?.req_str("id")?;
    let user_id = data.req_obj("public_user_data")?.req_str("user_id")?;
    Ok((id, org_id, user_id))
}

/// The address whose id is `primary_email_address_id`; the first address when there is no
/// primary (or it points nowhere), because a user with addresses should still be reachable.
fn primary_email(data: &Fields<'_>) -> Result<Option<String>, EventError> {
    let primary_id = data.opt_str("primary_email_address_id")?;
    let mut first = None;
    for (path, value) in data.opt_array("email_addresses")? {
        let entry = Fields::object_at(value, path)?;
        let Some(address) = entry.opt_nonempty_str("email_address")? else { continue };
        if primary_id.is_some() && entry.opt_str("id")? == primary_id {
            return Ok(Some(address));
        }
        first.get_or_insert(address);
    }
    Ok(first)
}

/// First and last name joined by a space, each trimmed; `None` when nothing is left.
fn full_name(data: &Fields<'_>) -> Result<Option<String>, EventError> {
    let first = data.opt_str("first_name")?.unwrap_or_default();
    let last = data.opt_str("last_name")?.unwrap_or_default();
    let parts: Vec<&str> = [first.trim(), last.trim()].into_iter().filter(|p| !p.is_empty()).collect();
    Ok((!parts.is_empty()).then(|| parts.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<ClerkEvent, EventError> {
        parse_clerk_event(v.to_string().as_bytes())
    }

    fn envelope(event_type: &str, data: serde_json::Value) -> serde_json::Value {
        json!({"type": event_type, "object": "event", "timestamp": 1_700_000_000_500i64, "data": data})
    }

    fn membership(role: &str) -> serde_json::Value {
        json!({
            "id": "orgmem_1", "object": "organization_membership", "role": role,
            "organization": {"id": "org_1", "name": "Acme", "slug": "acme"},
            "public_user_data": {"user_id": "user_1", "identifier": "a@acme.test", "first_name": "Ada", "last_name": null},
            "created_at": 100, "updated_at": 200
        })
    }

    #[test]
    fn organization_created() {
        let data = json!({"id": "org_1", "name": "Acme", "slug": "acme", "created_at": 10, "updated_at": 20, "members_count": 1});
        let event = parse(envelope("organization.created", data)).unwrap();
        assert_eq!(event.event_type, "organization.created");
        assert_eq!(event.timestamp_ms, 1_700_000_000_500);
        assert_eq!(
            event.change,
            ClerkChange::OrgUpsert { id: "org_1".into(), name: "Acme".into(), slug: Some("acme".into()), created_at: 10, updated_at: 20 }
        );
        assert_eq!(event.version(), 20);
    }

    #[test]
    fn organization_without_slug() {
        let data = json!({"id": "org_1", "name": "Acme", "slug": null, "created_at": 10, "updated_at": 20});
        let event = parse(envelope("organization.updated", data)).unwrap();
        assert!(matches!(event.change, ClerkChange::OrgUpsert { slug: None, .. }));
    }

    #[test]
    fn organization_deleted_versions_by_event_timestamp() {
        let data = json!({"id": "org_1", "object": "organization", "deleted": true});
        let event = parse(envelope("organization.deleted", data)).unwrap();
        assert_eq!(event.change, ClerkChange::OrgDeleted { id: "org_1".into() });
        assert!(event.change.is_delete());
        assert_eq!(event.version(), 1_700_000_000_500);
    }

    #[test]
    fn membership_created_and_deleted() {
        let event = parse(envelope("organizationMembership.created", membership("org:admin"))).unwrap();
        assert_eq!(
            event.change,
            ClerkChange::MembershipUpsert {
                id: "orgmem_1".into(),
                org_id: "org_1".into(),
                user_id: "user_1".into(),
                role: "org:admin".into(),
                created_at: 100,
                updated_at: 200
            }
        );
        let event = parse(envelope("organizationMembership.deleted", membership("org:member"))).unwrap();
        assert_eq!(
            event.change,
            ClerkChange::MembershipDeleted { id: "orgmem_1".into(), org_id: "org_1".into(), user_id: "user_1".into() }
        );
    }

    #[test]
    fn membership_without_user_is_an_error() {
        let mut data = membership("org:admin");
        data["public_user_data"] = json!({"identifier": "x"});
        let err = parse(envelope("organizationMembership.updated", data)).unwrap_err();
        assert_eq!(err, EventError::MissingField("data.public_user_data.user_id".into()));
        assert_eq!(err.code(), "missing_field");
    }

    fn user(primary: Option<&str>) -> serde_json::Value {
        json!({
            "id": "user_1", "object": "user",
            "email_addresses": [
                {"id": "idn_a", "email_address": "first@acme.test"},
                {"id": "idn_b", "email_address": "primary@acme.test"}
            ],
            "primary_email_address_id": primary,
            "first_name": "  Ada ", "last_name": "Lovelace",
            "created_at": 5, "updated_at": 6
        })
    }

    #[test]
    fn user_email_prefers_primary_then_first() {
        let event = parse(envelope("user.updated", user(Some("idn_b")))).unwrap();
        assert_eq!(
            event.change,
            ClerkChange::UserUpsert {
                id: "user_1".into(),
                email: Some("primary@acme.test".into()),
                name: Some("Ada Lovelace".into()),
                created_at: 5,
                updated_at: 6
            }
        );
        for primary in [None, Some("idn_missing")] {
            let event = parse(envelope("user.created", user(primary))).unwrap();
            assert!(matches!(event.change, ClerkChange::UserUpsert { email: Some(ref e), .. } if e == "first@acme.test"));
        }
    }

    #[test]
    fn user_without_names_or_addresses() {
        let data = json!({"id": "user_1", "email_addresses": [], "primary_email_address_id": null,
                          "first_name": " ", "last_name": null, "created_at": 1, "updated_at": 2});
        let event = parse(envelope("user.created", data)).unwrap();
        assert!(matches!(event.change, ClerkChange::UserUpsert { email: None, name: None, .. }));
        let data = json!({"id": "user_1", "first_name": null, "last_name": "Hopper", "created_at": 1, "updated_at": 2});
        let event = parse(envelope("user.created", data)).unwrap();
        assert!(matches!(event.change, ClerkChange::UserUpsert { name: Some(ref n), .. } if n == "Hopper"));
    }

    #[test]
    fn user_deleted() {
        let event = parse(envelope("user.deleted", json!({"id": "user_1", "object": "user", "deleted": true}))).unwrap();
        assert_eq!(event.change, ClerkChange::UserDeleted { id: "user_1".into() });
    }

    #[test]
    fn unknown_type_is_ignored() {
        let event = parse(envelope("session.created", json!({"id": "sess_1"}))).unwrap();
        assert_eq!(event.change, ClerkChange::Ignored);
        assert_eq!(event.version(), 1_700_000_000_500);
    }

    #[test]
    fn malformed_envelopes() {
        assert!(matches!(parse_clerk_event(b"{not json"), Err(EventError::MalformedJson(_))));
        assert!(matches!(parse_clerk_event(b"[1,2]"), Err(EventError::MalformedJson(_))));
        let err = parse(json!({"object": "event", "timestamp": 1, "data": {}})).unwrap_err();
        assert_eq!(err, EventError::MissingField("type".into()));
        let err = parse(json!({"type": "user.created", "timestamp": 1})).unwrap_err();
        assert_eq!(err, EventError::MissingField("data".into()));
        let err = parse(json!({"type": "user.created", "timestamp": 1, "data": []})).unwrap_err();
        assert_eq!(err.code(), "invalid_field");
        let err = parse(json!({"type": "user.created", "timestamp": "soon", "data": {}})).unwrap_err();
        assert_eq!(err, EventError::invalid("timestamp", "expected an integer"));
    }

    #[test]
    fn known_type_with_wrong_field_type() {
        let data = json!({"id": "org_1", "name": 7, "created_at": 1, "updated_at": 2});
        let err = parse(envelope("organization.created", data)).unwrap_err();
        assert_eq!(err, EventError::invalid("data.name", "expected a string"));
    }
}
