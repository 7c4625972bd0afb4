//! The in-memory world every pipeline test runs in: the stores, queues and
//! clock, each step's wiring, and the outbox's dispatcher run by hand.

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::ids::ServiceCode;
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::memory::*;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{IdempotencyClaim, RequestStore};
use citydesk_core::request::Channel;
use citydesk_core::usecases::classify_request::{Classify, classify_request};
use citydesk_core::usecases::department_work::DepartmentWork;
use citydesk_core::usecases::notify_citizen::{Notify, notify_citizen};
use citydesk_core::usecases::route_request::{Route, RouteOutcome, route_request};
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};
use futures_executor::block_on;

pub const TOML: &str = include_str!("../../../../infra/demo-city/catalogue.toml");
pub const GEOJSON: &str = include_str!("../../../../infra/demo-city/districts.geojson");

/// The member of staff the tests' department and triage work is done by.
pub static CLERK: std::sync::LazyLock<citydesk_core::audit::StaffStamp> =
    std::sync::LazyLock::new(|| citydesk_core::audit::StaffStamp {
        subject: "clerk-1".into(),
        roles: "clerk:roads".into(),
        via: "test".into(),
    });

pub struct World {
    pub store: MemoryStore,
    pub queues: MemoryQueues,
    pub bus: MemoryBus,
    /// Committed events the dispatcher has not handed on yet (a failed
    /// dispatch keeps its event and those after it, as a stream shard does).
    pub undelivered: std::sync::Mutex<Vec<citydesk_core::outbox::CommittedEvent>>,
    pub messenger: MemoryMessenger,
    pub blobs: MemoryBlobs,
    pub audit: citydesk_core::memory::MemoryAuditTrail,
    pub clock: ManualClock,
    pub ids: SequentialIds,
    pub catalogue: Catalogue,
    pub catalogues: citydesk_core::catalogue::Catalogues,
    pub classifiers: citydesk_core::rules::classification::Classifiers,
    pub tracking_key: citydesk_core::ids::TrackingKey,
    pub models: citydesk_core::learning::CityModels,
    pub texters: citydesk_core::memory::MemoryTexters,
    pub contact_key: citydesk_core::contact::ContactKey,
    pub counters: citydesk_core::memory::MemoryCounters,
    pub limits: citydesk_core::channels::outbound::OutboundLimits,
    /// The address residents write to (mail is answered there, tagged).
    pub reply_to: citydesk_core::contact::Email,
}

impl World {
    pub fn new() -> Self {
        let catalogue =
            Catalogue::new(CatalogueDocument::from_sources(TOML, GEOJSON).unwrap()).unwrap();
        Self {
            classifiers: citydesk_core::rules::classification::Classifiers::new(
                &citydesk_core::catalogue::Catalogues::single(catalogue.clone()),
            ),
            catalogues: citydesk_core::catalogue::Catalogues::single(catalogue.clone()),
            catalogue,
            store: MemoryStore::default(),
            queues: MemoryQueues::default(),
            bus: MemoryBus::default(),
            undelivered: Default::default(),
            messenger: MemoryMessenger::default(),
            blobs: MemoryBlobs::default(),
            audit: Default::default(),
            clock: ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap()),
            ids: SequentialIds::default(),
            tracking_key: citydesk_core::ids::TrackingKey::new(TEST_TRACKING_KEY),
            models: citydesk_core::learning::CityModels::default(),
            texters: Default::default(),
            contact_key: citydesk_core::contact::ContactKey::new(TEST_TRACKING_KEY),
            counters: Default::default(),
            limits: Default::default(),
            reply_to: citydesk_core::contact::Email::parse("zgloszenia@krakow.example").unwrap(),
        }
    }
    pub fn intake(&self) -> Intake<'_> {
        Intake {
            store: &self.store,
            clock: &self.clock,
            ids: &self.ids,
            catalogue: &self.catalogue,
        }
    }
    pub fn classify(&self) -> Classify<'_> {
        Classify {
            store: &self.store,
            clock: &self.clock,
            classifiers: &self.classifiers,
            threshold: 0.35,
        }
    }
    pub fn route(&self) -> Route<'_> {
        Route {
            store: &self.store,
            queries: &self.store,
            clock: &self.clock,
            catalogues: &self.catalogues,
            models: &self.models,
        }
    }
    pub fn dept(&self) -> DepartmentWork<'_> {
        DepartmentWork {
            store: &self.store,
            clock: &self.clock,
            staff: &CLERK,
            seen_version: None,
        }
    }
    /// Runs the outbox's dispatcher over everything committed so far, in
    /// order; stops at the first failure and keeps the rest for the next try.
    pub fn dispatch(&self) -> Result<(), citydesk_core::usecases::StepError> {
        use citydesk_core::usecases::dispatch_change::{Dispatch, dispatch_change};
        let mut pending = self.undelivered.lock().unwrap();
        pending.extend(self.store.take_committed());
        let deps = Dispatch {
            queue: &self.queues,
            department_queues: &self.queues,
            bus: &self.bus,
            catalogues: &self.catalogues,
            contacts: &self.store,
            audit: &self.audit,
        };
        while let Some(next) = pending.first().cloned() {
            block_on(dispatch_change(&deps, &next))?;
            pending.remove(0);
        }
        Ok(())
    }
    /// The pipeline messages the dispatcher sent since the last call.
    pub fn sent(&self) -> Vec<PipelineMessage> {
        self.dispatch().unwrap();
        self.queues.take_pipeline()
    }
    /// Every message sent to department queues so far.
    pub fn department_messages(&self) -> Vec<(String, citydesk_core::messages::AssignmentMessage)> {
        self.dispatch().unwrap();
        self.queues.department_messages()
    }
    pub fn notify(&self) -> Notify<'_> {
        Notify {
            store: &self.store,
            contacts: &self.store,
            ledger: &self.store,
            messenger: &self.messenger,
            clock: &self.clock,
            catalogues: &self.catalogues,
            tracking_key: &self.tracking_key,
            public_base_url: "https://311.krakow.example",
            queue: &self.queues,
            queries: &self.store,
            texters: &self.texters,
            contact_key: &self.contact_key,
            counters: &self.counters,
            limits: &self.limits,
            reply_to: Some(&self.reply_to),
        }
    }
    /// Runs the notify step on every message the dispatcher and the notify
    /// step itself sent (the followers' fan-out), until none is left.
    pub fn deliver_notifications(&self) {
        use citydesk_core::usecases::tell_followers::{notify_follower, tell_followers};
        loop {
            let messages = self.sent();
            if messages.is_empty() {
                return;
            }
            for message in messages {
                match message {
                    PipelineMessage::StatusChanged { request_id, seq } => {
                        block_on(notify_citizen(&self.notify(), &request_id, seq)).unwrap();
                    }
                    PipelineMessage::TellFollowers {
                        request_id,
                        seq,
                        after,
                    } => {
                        block_on(tell_followers(
                            &self.notify(),
                            &request_id,
                            seq,
                            after.as_deref(),
                        ))
                        .unwrap();
                    }
                    PipelineMessage::FollowerNotice {
                        request_id,
                        original_id,
                        seq,
                    } => {
                        block_on(notify_follower(
                            &self.notify(),
                            &request_id,
                            &original_id,
                            seq,
                        ))
                        .unwrap();
                    }
                    _ => {}
                }
            }
        }
    }
}

pub fn pothole_text(key: Option<&str>) -> RequestSubmission {
    RequestSubmission {
        channel: Channel::Web,
        service_code: None,
        description: "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni".into(),
        location: Location::parse(Some(50.0700), Some(19.9350), Some("ul. Długa 10")).unwrap(),
        contact: Some(Contact {
            phone: PhoneNumber::parse("+48600100200").ok(),
            ..Contact::default()
        }),
        language: Language::Pl,
        answers: Default::default(),
        media: Vec::new(),
        idempotency: key.map(|k| IdempotencyClaim {
            key: k.into(),
            payload_hash: "hash-a".into(),
        }),
        privacy_requested: false,
        open311_client: None,
        registered_by: None,
        follows: None,
    }
}

pub fn report(service: &str, lat: f64, long: f64) -> RequestSubmission {
    let mut s = pothole_text(None);
    s.service_code = Some(ServiceCode::parse(service).unwrap());
    s.description = "Zgłoszenie".into();
    s.location = Location::parse(Some(lat), Some(long), None).unwrap();
    s
}

pub fn submit_and_route(
    w: &World,
    s: RequestSubmission,
) -> (citydesk_core::request::ServiceRequest, RouteOutcome) {
    let id = block_on(submit_request(&w.intake(), s)).unwrap().request.id;
    block_on(classify_request(&w.classify(), &id)).unwrap();
    let outcome = block_on(route_request(&w.route(), &id)).unwrap();
    (block_on(w.store.get(&id)).unwrap().unwrap(), outcome)
}
