//! What the notify step may text: never a number that said STOP (the
//! e-mail instead), only to the allowed countries and within the caps, and
//! no confirmation for a request the conversation already confirmed.

use super::world::*;
use citydesk_core::ports::{Clock, RequestStore};
use citydesk_core::usecases::notify_citizen::{NotifyOutcome, notify_citizen};
use citydesk_core::usecases::submit_request::submit_request;
use futures_executor::block_on;

#[test]
fn a_number_that_said_stop_is_sent_nothing_and_an_email_is_written_instead() {
    use citydesk_core::channels::texter::TexterProfile;
    use citydesk_core::contact::{Email, PhoneNumber};
    use citydesk_core::ports::TexterStore;
    let w = World::new();
    let phone = PhoneNumber::parse("+48600100200").unwrap();
    let mut profile = TexterProfile::new(w.contact_key.of_phone(&phone));
    profile.opted_out = true;
    assert!(block_on(w.texters.save_profile(&profile)).unwrap());

    let submitted = block_on(submit_request(&w.intake(), pothole_text(None))).unwrap();
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &submitted.request.id, 1)).unwrap(),
        NotifyOutcome::OptedOut
    );
    assert!(
        w.messenger.sent().is_empty(),
        "no SMS to a number that said STOP"
    );

    let mut with_email = pothole_text(None);
    if let Some(contact) = with_email.contact.as_mut() {
        contact.email = Email::parse("mieszkaniec@example.pl").ok();
    }
    let submitted = block_on(submit_request(&w.intake(), with_email)).unwrap();
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &submitted.request.id, 1)).unwrap(),
        NotifyOutcome::SentEmail
    );
    // The mail is answered to the residents' address, tagged with its case.
    let mail = w.messenger.sent().pop().unwrap();
    assert_eq!(
        mail.reply_to,
        Some(format!(
            "zgloszenia+{}@krakow.example",
            submitted.request.case_number
        ))
    );

    // A request made by text was confirmed by the conversation's reply.
    profile = block_on(w.texters.profile(&profile.key)).unwrap().unwrap();
    profile.opted_out = false;
    assert!(block_on(w.texters.save_profile(&profile)).unwrap());
    let mut by_sms = pothole_text(None);
    by_sms.channel = citydesk_core::request::Channel::Sms;
    let submitted = block_on(submit_request(&w.intake(), by_sms)).unwrap();
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &submitted.request.id, 1)).unwrap(),
        NotifyOutcome::NothingToSend
    );
}

#[test]
fn texts_go_only_where_and_as_often_as_the_city_allows() {
    use citydesk_core::channels::outbound::Refusal;
    use citydesk_core::contact::PhoneNumber;
    let w = World {
        limits: citydesk_core::channels::outbound::OutboundLimits {
            per_request: 2,
            ..Default::default()
        },
        ..World::new()
    };
    // A number abroad: the text is refused, nothing is sent.
    let mut abroad = pothole_text(None);
    if let Some(contact) = abroad.contact.as_mut() {
        contact.phone = PhoneNumber::parse("+4475501234567").ok();
    }
    let submitted = block_on(submit_request(&w.intake(), abroad)).unwrap();
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &submitted.request.id, 1)).unwrap(),
        NotifyOutcome::NotAllowed(Refusal::Country)
    );
    assert!(w.messenger.sent().is_empty());

    // Two texts a request at most: the third notice about it is not sent.
    let submitted = block_on(submit_request(&w.intake(), pothole_text(None))).unwrap();
    let id = submitted.request.id.clone();
    let notify = w.notify();
    assert_eq!(
        block_on(notify_citizen(&notify, &id, 1)).unwrap(),
        NotifyOutcome::SentSms
    );
    // The same event again is the ledger's: not counted twice.
    assert_eq!(
        block_on(notify_citizen(&notify, &id, 1)).unwrap(),
        NotifyOutcome::AlreadySent
    );
    for seq in [2, 3] {
        let request = block_on(w.store.get(&id)).unwrap().unwrap();
        let change = request.record(
            citydesk_core::request::EventKind::NoteToCitizen {
                note: format!("Wiadomość {seq}"),
            },
            w.clock.now(),
            "test",
        );
        block_on(w.store.apply(&change)).unwrap();
    }
    // A send that fails is retried by the queue: the retry is not counted again.
    use std::sync::atomic::Ordering::SeqCst;
    w.messenger.failing.store(true, SeqCst);
    assert!(block_on(notify_citizen(&notify, &id, 2)).is_err());
    w.messenger.failing.store(false, SeqCst);
    let outcomes: Vec<NotifyOutcome> = [2, 3]
        .into_iter()
        .map(|seq| block_on(notify_citizen(&notify, &id, seq)).unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            NotifyOutcome::SentSms,
            NotifyOutcome::NotAllowed(Refusal::RequestCap)
        ]
    );
    assert_eq!(w.messenger.sent().len(), 2);
}
