//! The right to erasure (RODO art. 17): what is left of a person's request
//! once their personal data is erased. The request stays, anonymised in
//! place, so the city's statistics and the department's work survive: its
//! service, status, district, dates and department; never the words, the
//! exact place, the answers, the photos or the contact.

use crate::contact::Contact;
use crate::request::{EventKind, HistoryEvent, ServiceRequest};
use crate::rules::redaction::redact;
use crate::visibility::coarsen;

/// What an erased text reads as.
pub const ERASED: &str = "[usunięto na żądanie osoby]";

/// `request` without the person's data; `contact` (theirs, if still known)
/// is also cut from the texts staff wrote about it.
pub fn anonymised(request: &ServiceRequest, contact: Option<&Contact>) -> ServiceRequest {
    let mut out = request.clone();
    out.description = ERASED.to_owned();
    out.public_description = None;
    out.location.address = None;
    out.location.point = out.location.point.map(coarsen);
    out.attributes.clear();
    out.media.clear();
    out.has_contact = false;
    out.privacy_requested = true;
    out.suggestions.clear();
    out.resolution = out.resolution.as_deref().map(|r| redact(r, contact));
    out
}

/// `event` without the person's words (theirs, and those written to them),
/// and with their details cut from staff notes; `None` when it holds no text.
pub fn anonymised_event(event: &HistoryEvent, contact: Option<&Contact>) -> Option<HistoryEvent> {
    let mut out = event.clone();
    match &mut out.kind {
        EventKind::CitizenUpdate { note } | EventKind::NoteToCitizen { note } => {
            if note == ERASED {
                return None;
            }
            *note = ERASED.to_owned();
        }
        EventKind::StatusChanged {
            note: Some(note), ..
        }
        | EventKind::HandedBack {
            reason: Some(note), ..
        }
        | EventKind::InternalNote { note }
        | EventKind::Transferred { reason: note, .. } => {
            let cut = redact(note, contact);
            if cut == *note {
                return None;
            }
            *note = cut;
        }
        _ => return None,
    }
    Some(out)
}
