//! The first line's caller lookup: the read is in the audit trail before
//! anything is shown, and when the trail cannot take it nothing is shown.

use citydesk_core::audit::{AuditAction, StaffStamp};
use citydesk_core::contact::{ContactKey, PhoneNumber};
use citydesk_core::memory::TEST_TRACKING_KEY;
use citydesk_core::ports::PortError;
use citydesk_core::usecases::operator_desk::{
    CallerIdentifier, OperatorDesk, OperatorError, look_up_caller,
};
use citydesk_core::usecases::submit_request::submit_request;
use futures_executor::block_on;

use super::world::*;

#[test]
fn a_lookup_is_audited_first_and_shows_nothing_when_the_trail_is_down() {
    let w = World::new();
    block_on(submit_request(&w.intake(), pothole_text(None))).unwrap();
    let key = ContactKey::new(TEST_TRACKING_KEY);
    let desk = OperatorDesk {
        store: &w.store,
        contacts: &w.store,
        people: &w.store,
        audit: &w.audit,
        clock: &w.clock,
        contact_key: &key,
    };
    let operator = StaffStamp {
        subject: "operator-1".into(),
        roles: "operator".into(),
        via: "test".into(),
    };
    let caller = CallerIdentifier::Phone(PhoneNumber::parse("+48600100200").unwrap());
    let found = block_on(look_up_caller(&desk, &operator, &caller, "read-1".into())).unwrap();
    assert_eq!(found.open.len(), 1);
    assert!(found.contact.is_some());
    let records = w.audit.all();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].action, AuditAction::ReadPersonalData);
    assert!(
        !format!("{records:?}").contains("600100200"),
        "no number in the trail"
    );

    w.audit
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let refused = block_on(look_up_caller(&desk, &operator, &caller, "read-2".into()));
    assert!(
        matches!(
            refused,
            Err(OperatorError::Port(PortError {
                retryable: true,
                ..
            }))
        ),
        "{refused:?}"
    );
}
