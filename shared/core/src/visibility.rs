//! Who sees what of a request: the one policy every surface goes through.
//!
//! [`disclose`] takes a request and its history and returns copies holding
//! only what one [`Audience`] may see, so a page, an Open311 document or an
//! export built from them cannot show more, whatever it prints:
//!
//! | | public (and Open311 reads) | reporter (tracking token) | staff |
//! |---|---|---|---|
//! | service, status, district, dates | yes | yes | yes |
//! | department, channel, resolution | public services only (resolution redacted) | yes | yes |
//! | description | public services, redacted, unless the reporter asked for privacy | yes | yes |
//! | address | public services without a sensitive location | yes | yes |
//! | point | public services; coarsened when the location is sensitive | yes | yes |
//! | answers to the form | public services, not the private ones, redacted | yes | yes |
//! | photos | photos the server stored (location removed), public services, no privacy asked | yes | yes |
//! | status notes | public services, redacted | yes | yes |
//! | the reporter's notes and the notes to them | no | yes | yes |
//! | a department's reason for handing back or transferring, suggestions, declined departments | no | no | yes |
//! | internal notes, who in the department works it | no | no | yes |

use crate::catalogue::{Catalogue, ReportVisibility};
use crate::location::GeoPoint;
use crate::media::MediaRef;
use crate::request::{EventKind, HistoryEvent, ServiceRequest};
use crate::rules::redaction::redact;
use crate::service_form::Answer;

/// Cell size, in degrees, a sensitive location is snapped to (about 550 m
/// north-south and 350 m east-west in Poland).
pub const COARSE_CELL_DEGREES: f64 = 0.005;

/// Who is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anybody: the public status page, Open311 reads, the map, open data.
    Public,
    /// Whoever holds the request's tracking token.
    Reporter,
    /// The contact centre's and the departments' staff.
    Staff,
}

/// A request and its history as one audience may see them.
#[derive(Debug, Clone)]
pub struct Disclosed {
    pub request: ServiceRequest,
    pub history: Vec<HistoryEvent>,
    /// The service's reports are private (or it has no service yet): the
    /// public sees only service, status, district and dates.
    pub private_report: bool,
}

/// What `audience` may see of `request` and its `history`.
pub fn disclose(
    catalogue: &Catalogue,
    audience: Audience,
    request: &ServiceRequest,
    history: &[HistoryEvent],
) -> Disclosed {
    let service = request
        .service_code
        .as_ref()
        .and_then(|code| catalogue.service(code));
    // Until a request has a service nobody knows whether it is a pothole or
    // social help: it is private until classified.
    let private_report = service.is_none_or(|s| s.reports == ReportVisibility::Private);
    let sensitive_location = service.is_some_and(|s| s.sensitive_location);
    let mut shown = request.clone();
    // Never for anybody outside the system's own workings.
    shown.tracking_token_hash = String::new();
    if audience != Audience::Staff {
        shown.assignee = None;
        shown.transfer_to = None;
        shown.suggestions.clear();
        shown.declined_departments.clear();
        shown.classification_confidence = None;
        shown.open311_client = None;
    }
    if audience == Audience::Public {
        public_fields(&mut shown, catalogue, private_report, sensitive_location);
    }
    let history = history
        .iter()
        .filter_map(|event| disclose_event(audience, private_report, event))
        .collect();
    Disclosed {
        request: shown,
        history,
        private_report,
    }
}

/// One event as `audience` sees it; `None` when it is not theirs to see.
pub fn disclose_event(
    audience: Audience,
    private_report: bool,
    event: &HistoryEvent,
) -> Option<HistoryEvent> {
    let mut shown = event.clone();
    match (&mut shown.kind, audience) {
        (_, Audience::Staff) => {}
        (kind, _) if kind.is_internal() => return None,
        (EventKind::HandedBack { reason, .. }, _) => *reason = None,
        (EventKind::Transferred { reason, .. }, _) => reason.clear(),
        (EventKind::NoteToCitizen { .. }, Audience::Public) => return None,
        // That the reporter added something is public; what they said is not.
        (EventKind::CitizenUpdate { note }, Audience::Public) => note.clear(),
        (EventKind::StatusChanged { note, .. }, Audience::Public) => {
            *note = if private_report {
                None
            } else {
                note.as_deref().map(|n| redact(n, None))
            };
        }
        _ => {}
    }
    if audience == Audience::Public {
        // Staff and systems are named by role, never by person.
        shown.actor = public_actor(&shown.actor);
    }
    Some(shown)
}

fn public_fields(
    shown: &mut ServiceRequest,
    catalogue: &Catalogue,
    private_report: bool,
    sensitive_location: bool,
) {
    if private_report {
        shown.description = String::new();
        shown.public_description = None;
        shown.location.address = None;
        shown.location.point = None;
        shown.attributes.clear();
        shown.media.clear();
        shown.resolution = None;
        shown.department = None;
        shown.followers.clear();
        shown.duplicate_of = None;
        shown.follows = None;
        return;
    }
    shown.description = match (shown.privacy_requested, shown.public_description.take()) {
        (true, _) => String::new(),
        (false, Some(redacted)) => redacted,
        // Stored before descriptions were redacted on arrival.
        (false, None) => redact(&shown.description, None),
    };
    shown.resolution = shown.resolution.as_deref().map(|r| redact(r, None));
    if sensitive_location {
        shown.location.address = None;
        shown.location.point = shown.location.point.map(coarsen);
    }
    let form = shown
        .service_code
        .as_ref()
        .and_then(|code| catalogue.service(code))
        .map(|s| &s.attributes[..])
        .unwrap_or_default();
    shown.attributes = std::mem::take(&mut shown.attributes)
        .into_iter()
        .filter(|(code, _)| {
            // An answer the form does not know is not known to be harmless.
            form.iter().any(|a| &a.code == code && !a.private)
        })
        .map(|(code, answer)| {
            let answer = match answer {
                Answer::One(v) => Answer::One(redact(&v, None)),
                Answer::Many(vs) => Answer::Many(vs.iter().map(|v| redact(v, None)).collect()),
            };
            (code, answer)
        })
        .collect();
    if shown.privacy_requested {
        shown.media.clear();
    } else {
        // A link a client gave may carry anything; only photos the server
        // stored (and stripped of their location) are shown, never a fax's
        // document as it came (names, addresses, signatures).
        shown.media.retain(|m| {
            matches!(m, MediaRef::Stored { content_type, .. }
                if content_type.starts_with("image/") && content_type != "image/tiff")
        });
    }
}

/// The centre of the cell of [`COARSE_CELL_DEGREES`] the point falls in.
pub fn coarsen(point: GeoPoint) -> GeoPoint {
    let snap = |degrees: f64| {
        (degrees / COARSE_CELL_DEGREES).floor() * COARSE_CELL_DEGREES + COARSE_CELL_DEGREES / 2.0
    };
    GeoPoint {
        lat: snap(point.lat),
        long: snap(point.long),
    }
}

/// `department:roads` and `system:route` stay; a person becomes their role.
fn public_actor(actor: &str) -> String {
    match actor.split_once(':') {
        Some(("department" | "system", _)) => actor.to_owned(),
        Some((role, _)) => role.to_owned(),
        None => actor.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_sensitive_point_is_snapped_to_its_cell_centre() {
        let coarse = coarsen(GeoPoint {
            lat: 50.061_43,
            long: 19.936_58,
        });
        assert!((coarse.lat - 50.0625).abs() < 1e-9, "{coarse:?}");
        assert!((coarse.long - 19.9375).abs() < 1e-9, "{coarse:?}");
        let neighbour = coarsen(GeoPoint {
            lat: 50.0601,
            long: 19.9351,
        });
        assert_eq!(coarse, neighbour, "two houses in one cell look alike");
    }

    #[test]
    fn people_are_shown_by_role() {
        assert_eq!(public_actor("department:roads"), "department:roads");
        assert_eq!(public_actor("operator:anna.nowak"), "operator");
        assert_eq!(public_actor("citizen"), "citizen");
    }
}
