use jiff::Timestamp;

use futures_executor::block_on;

use super::*;
use crate::catalogue::CatalogueDocument;
use crate::knowledge::{ArticleId, Reader};
use crate::memory::{ManualClock, MemoryCounters, MemoryStore, MemoryTexters, SequentialIds};
use crate::status::Status;

fn catalogue() -> Catalogue {
    let mut doc = CatalogueDocument::from_sources(
        include_str!("../../../../../infra/demo-city/catalogue.toml"),
        include_str!("../../../../../infra/demo-city/districts.geojson"),
    )
    .unwrap();
    doc.addresses = crate::places::parse_address_csv(include_str!(
        "../../../../../infra/demo-city/addresses.csv"
    ))
    .unwrap();
    Catalogue::new(doc).unwrap()
}

/// Finds an article whose keywords or title share a word with the query.
struct WordIndex<'k>(&'k KnowledgeBase);

impl KnowledgeIndex for WordIndex<'_> {
    fn search(
        &self,
        query: &str,
        language: Language,
        reader: Reader,
        limit: usize,
    ) -> Result<Vec<ArticleId>, PortError> {
        let words: Vec<String> = query
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(self
            .0
            .articles
            .values()
            .filter(|a| reader.finds(a))
            .filter(|a| {
                let title = a.text(language).title.to_lowercase();
                words.iter().any(|w| title.contains(w.as_str()))
            })
            .map(|a| a.id.clone())
            .take(limit)
            .collect())
    }
}

struct World {
    store: MemoryStore,
    texters: MemoryTexters,
    counters: MemoryCounters,
    clock: ManualClock,
    ids: SequentialIds,
    catalogue: Catalogue,
    kb: KnowledgeBase,
    key: ContactKey,
}

impl World {
    fn new() -> Self {
        let catalogue = catalogue();
        let kb = KnowledgeBase::from_files(
            &catalogue,
            [(
                "bulky-waste-pickup.toml",
                include_str!("../../../../../infra/demo-city/kb/bulky-waste-pickup.toml"),
            )],
        )
        .unwrap();
        Self {
            store: MemoryStore::default(),
            texters: MemoryTexters::default(),
            counters: MemoryCounters::default(),
            clock: ManualClock::at("2026-12-04T18:00:00Z".parse().unwrap()),
            ids: SequentialIds::default(),
            catalogue,
            kb,
            key: ContactKey::new(crate::memory::TEST_TRACKING_KEY),
        }
    }

    async fn text(&self, id: &str, body: &str) -> TextAnswer {
        self.inbound(InboundText {
            message_id: id.into(),
            channel: Channel::Sms,
            from: PhoneNumber::parse("+48600100200").unwrap(),
            body: body.into(),
            point: None,
            media: Vec::new(),
            dropped_attachments: 0,
        })
        .await
    }

    async fn inbound(&self, inbound: InboundText) -> TextAnswer {
        let index = WordIndex(&self.kb);
        let deps = TextDesk {
            store: &self.store,
            people: &self.store,
            texters: &self.texters,
            counters: &self.counters,
            ledger: &self.store,
            clock: &self.clock,
            ids: &self.ids,
            catalogue: &self.catalogue,
            knowledge: &self.kb,
            knowledge_index: &index,
            contact_key: &self.key,
            public_base_url: "https://311.example",
        };
        answer_text(&deps, inbound).await.unwrap()
    }

    async fn request(&self, case: &CaseNumber) -> crate::request::ServiceRequest {
        self.store.find_by_case_number(case).await.unwrap().unwrap()
    }
}

fn created(answer: &TextAnswer) -> CaseNumber {
    match &answer.outcome {
        TextOutcome::Created(case) => case.clone(),
        other => panic!("expected a request, got {other:?}: {:?}", answer.reply),
    }
}

async fn a_report_without_a_place_is_asked_for_it_then_taken_flow() {
    let w = World::new();
    let first = w
        .text("SM1", "Ogromna dziura w jezdni, uszkodziłem koło")
        .await;
    assert_eq!(first.outcome, TextOutcome::AskedLocation);
    assert!(
        first.reply.as_deref().unwrap().contains("gdzie to jest"),
        "{first:?}"
    );

    let unknown = w.text("SM2", "Zielona 500").await;
    assert_eq!(unknown.outcome, TextOutcome::AskedLocation);
    assert!(
        unknown
            .reply
            .as_deref()
            .unwrap()
            .contains("nie znaleźliśmy")
    );

    let answer = w.text("SM3", "ul. Długa 10").await;
    let case = created(&answer);
    let reply = answer.reply.unwrap();
    assert!(
        reply.contains(case.as_str()) && reply.contains("https://311.example/track/"),
        "{reply}"
    );
    let request = w.request(&case).await;
    assert_eq!(request.channel, Channel::Sms);
    assert_eq!(request.language, Language::Pl);
    assert!(request.description.starts_with("Ogromna dziura"));
    assert_eq!(request.location.address.as_deref(), Some("ul. Długa 10"));
    assert!(request.location.point.is_some() && request.has_contact);
    // The conversation is over: a status query is answered, not taken as a place.
    let status = w.text("SM4", &format!("STATUS {case}")).await;
    assert_eq!(status.outcome, TextOutcome::Status(case.clone()));
    assert!(status.reply.unwrap().contains("przyjęte"));
}

async fn an_address_in_the_text_makes_the_report_at_once_in_its_language_flow() {
    let w = World::new();
    let answer = w
        .text(
            "SM1",
            "The street light is broken in front of ul. Długa 20, please fix it",
        )
        .await;
    let case = created(&answer);
    assert!(
        answer
            .reply
            .unwrap()
            .starts_with("Kraków 311: we received request")
    );
    assert_eq!(w.request(&case).await.language, Language::En);
    // The language is remembered for a message that does not tell it.
    let status = w.text("SM2", case.as_str()).await;
    assert!(
        status.reply.unwrap().contains("request"),
        "answered in English"
    );
}

async fn a_retried_delivery_creates_nothing_twice_and_answers_nothing_flow() {
    let w = World::new();
    let first = w.text("SM1", "Dziura w jezdni przy ul. Długa 10").await;
    let case = created(&first);
    let again = w.text("SM1", "Dziura w jezdni przy ul. Długa 10").await;
    assert_eq!(
        again,
        TextAnswer {
            outcome: TextOutcome::Duplicate,
            reply: None
        }
    );
    let all = w
        .store
        .created_between(Timestamp::MIN, Timestamp::MAX)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].case_number, case);
}

async fn a_second_text_soon_after_asks_whether_it_adds_to_the_case_flow() {
    let w = World::new();
    let case = created(&w.text("SM1", "Dziura w jezdni przy ul. Długa 10").await);
    let asked = w.text("SM2", "Jest też druga obok, głębsza").await;
    assert_eq!(asked.outcome, TextOutcome::AskedAddOrNew(case.clone()));
    let added = w.text("SM3", "1").await;
    assert_eq!(added.outcome, TextOutcome::AddedTo(case.clone()));
    let history = w.store.history(&w.request(&case).await.id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|e| format!("{:?}", e.kind).contains("Jest też druga obok")),
        "the note is in the case's history"
    );
    // "2": a new problem, which needs its place.
    w.text("SM4", "Przewrócony znak drogowy").await;
    let new = w.text("SM5", "2").await;
    assert_eq!(new.outcome, TextOutcome::AskedLocation);
    let other = created(&w.text("SM6", "Długa 30").await);
    assert_ne!(other, case);
    assert_eq!(
        w.request(&other).await.description,
        "Przewrócony znak drogowy"
    );
    // Hours later a text is a new report again.
    w.clock.set("2026-12-05T06:00:00Z".parse().unwrap());
    let later = w.text("SM7", "Graffiti na murze, ul. Długa 1").await;
    created(&later);
}

async fn stop_is_remembered_and_silences_every_answer_but_start_flow() {
    let w = World::new();
    let stop = w.text("SM1", "STOP").await;
    assert_eq!(stop.outcome, TextOutcome::OptedOut);
    assert!(stop.reply.unwrap().contains("START"));
    let key = w.key.of_phone(&PhoneNumber::parse("+48600100200").unwrap());
    assert!(w.texters.profile(&key).await.unwrap().unwrap().opted_out);
    // A report is still taken, without a question or an answer.
    let quiet = w.text("SM2", "Dziura w jezdni").await;
    assert!(
        matches!(quiet.outcome, TextOutcome::Created(_)) && quiet.reply.is_none(),
        "{quiet:?}"
    );
    let start = w.text("SM3", "wznów").await;
    assert_eq!(start.outcome, TextOutcome::OptedIn);
    assert!(start.reply.unwrap().contains("wznowione"));
    assert!(!w.texters.profile(&key).await.unwrap().unwrap().opted_out);
}

async fn info_answers_from_the_knowledge_base_and_unknown_cases_are_explained_flow() {
    let w = World::new();
    let title =
        w.kb.articles
            .values()
            .next()
            .unwrap()
            .text(Language::Pl)
            .title
            .clone();
    let word = title.split_whitespace().next().unwrap().to_lowercase();
    let info = w.text("SM1", &format!("INFO {word}")).await;
    assert_eq!(info.outcome, TextOutcome::Answered);
    assert!(
        info.reply
            .unwrap()
            .contains("https://311.example/answers/bulky-waste-pickup")
    );
    let none = w.text("SM2", "INFO kangury").await;
    assert_eq!(none.outcome, TextOutcome::NoAnswer);
    let unknown = w.text("SM3", "STATUS 7H3K-9QX2").await;
    assert_eq!(unknown.outcome, TextOutcome::UnknownCase);
}

async fn a_shared_location_places_the_report_and_a_flood_is_throttled_flow() {
    let w = World::new();
    let from = PhoneNumber::parse("+48600100300").unwrap();
    let ask = w
        .inbound(InboundText {
            message_id: "WA1".into(),
            channel: Channel::Messenger,
            from: from.clone(),
            body: "Powalone drzewo blokuje chodnik".into(),
            point: None,
            media: Vec::new(),
            dropped_attachments: 0,
        })
        .await;
    assert_eq!(ask.outcome, TextOutcome::AskedLocation);
    let placed = w
        .inbound(InboundText {
            message_id: "WA2".into(),
            channel: Channel::Messenger,
            from: from.clone(),
            body: String::new(),
            point: Some(crate::location::GeoPoint {
                lat: 50.0614,
                long: 19.9366,
            }),
            media: Vec::new(),
            dropped_attachments: 0,
        })
        .await;
    let case = created(&placed);
    let request = w.request(&case).await;
    assert_eq!(request.channel, Channel::Messenger);
    assert!(request.location.point.is_some());
    assert_eq!(request.status, Status::New);
    for n in 0..MAX_TEXTS_PER_MINUTE {
        w.text(&format!("F{n}"), "HELP").await;
    }
    let over = w.text("F-last", "HELP").await;
    assert_eq!(
        over,
        TextAnswer {
            outcome: TextOutcome::Throttled,
            reply: None
        }
    );
}

#[test]
fn a_report_without_a_place_is_asked_for_it_then_taken() {
    block_on(a_report_without_a_place_is_asked_for_it_then_taken_flow());
}

#[test]
fn an_address_in_the_text_makes_the_report_at_once_in_its_language() {
    block_on(an_address_in_the_text_makes_the_report_at_once_in_its_language_flow());
}

#[test]
fn a_retried_delivery_creates_nothing_twice_and_answers_nothing() {
    block_on(a_retried_delivery_creates_nothing_twice_and_answers_nothing_flow());
}

#[test]
fn a_second_text_soon_after_asks_whether_it_adds_to_the_case() {
    block_on(a_second_text_soon_after_asks_whether_it_adds_to_the_case_flow());
}

#[test]
fn stop_is_remembered_and_silences_every_answer_but_start() {
    block_on(stop_is_remembered_and_silences_every_answer_but_start_flow());
}

#[test]
fn info_answers_from_the_knowledge_base_and_unknown_cases_are_explained() {
    block_on(info_answers_from_the_knowledge_base_and_unknown_cases_are_explained_flow());
}

#[test]
fn a_shared_location_places_the_report_and_a_flood_is_throttled() {
    block_on(a_shared_location_places_the_report_and_a_flood_is_throttled_flow());
}
