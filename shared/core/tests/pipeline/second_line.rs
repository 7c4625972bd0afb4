//! The second line: an operator's question reaches the roads experts with the
//! department's due time; a retried ask is the same question; another
//! department's expert cannot see it; the answer becomes a draft article,
//! and the caller who left a phone number hears it once.

use citydesk_core::audit::StaffStamp;
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::ids::{DepartmentCode, ServiceCode};
use citydesk_core::knowledge::{ArticleStatus, KnowledgeBase};
use citydesk_core::language::Language;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::second_line::QuestionStatus;
use citydesk_core::usecases::notify_citizen::NotifyOutcome;
use citydesk_core::usecases::second_line::{
    AnswerFlow, Ask, QuestionReader, SecondLine, SecondLineError, answer_question, ask_experts,
    open_questions, read_question, tell_caller,
};
use futures_executor::block_on;

use super::world::*;

fn stamp(subject: &str, roles: &str) -> StaffStamp {
    StaffStamp {
        subject: subject.into(),
        roles: roles.into(),
        via: "test".into(),
    }
}

#[test]
fn a_question_goes_to_the_experts_and_the_answer_to_the_caller_and_the_knowledge_base() {
    let w = World::new();
    let operator = stamp("operator-1", "operator");
    let asking = SecondLine {
        questions: &w.store,
        clock: &w.clock,
        catalogue: &w.catalogue,
        staff: &operator,
    };
    let ask = Ask {
        department: None,
        service_code: Some(ServiceCode::parse("pothole").unwrap()),
        case_number: None,
        text: "Czy mieszkaniec może sam zasypać dziurę przed swoim domem?".into(),
        language: Language::Pl,
        contact: Some(Contact {
            phone: PhoneNumber::parse("+48600100300").ok(),
            ..Contact::default()
        }),
        key: "call-17".into(),
    };
    let (question, created) = block_on(ask_experts(&asking, ask.clone())).unwrap();
    assert!(created);
    let roads = DepartmentCode::parse("roads").unwrap();
    assert_eq!(question.department, roads);
    // Roads answers within 4 working hours: Friday 10:30 in Kraków + 4 h.
    assert_eq!(question.due_at.to_string(), "2026-11-27T13:30:00Z");
    let (again, created) = block_on(ask_experts(&asking, ask.clone())).unwrap();
    assert_eq!((again.id.clone(), created), (question.id.clone(), false));
    let other = Ask {
        text: "Inne pytanie".into(),
        ..ask
    };
    assert!(matches!(
        block_on(ask_experts(&asking, other)),
        Err(SecondLineError::IdempotencyConflict)
    ));

    // Roads' experts see it; greenery's do not (as if it did not exist).
    let listed = block_on(open_questions(&w.store, &roads)).unwrap();
    assert_eq!(listed.len(), 1);
    let greenery = QuestionReader::Departments(vec![DepartmentCode::parse("greenery").unwrap()]);
    assert!(matches!(
        block_on(read_question(&w.store, &greenery, &question.id)),
        Err(SecondLineError::NotFound(_))
    ));

    let expert = stamp("expert-7", "expert:roads");
    let answering = SecondLine {
        staff: &expert,
        ..asking
    };
    let flow = AnswerFlow {
        drafts: &w.blobs,
        notify: &w.queues,
    };
    let answer = "Nie: ubytek zgłasza się do Zarządu Dróg, który naprawia go w ciągu 72 godzin.";
    let answered = block_on(answer_question(
        &answering,
        &flow,
        &roads,
        &question.id,
        answer,
    ))
    .unwrap();
    assert_eq!(answered.status, QuestionStatus::Answered);
    assert!(
        block_on(open_questions(&w.store, &roads))
            .unwrap()
            .is_empty()
    );
    // The operator reads the answer.
    let read = block_on(read_question(
        &w.store,
        &QuestionReader::Operator,
        &question.id,
    ))
    .unwrap();
    assert_eq!(read.answer.unwrap().text, answer);
    // A second, different answer is refused; the same one again is harmless.
    assert!(matches!(
        block_on(answer_question(
            &answering,
            &flow,
            &roads,
            &question.id,
            "Tak"
        )),
        Err(SecondLineError::AlreadyAnswered)
    ));
    block_on(answer_question(
        &answering,
        &flow,
        &roads,
        &question.id,
        answer,
    ))
    .unwrap();

    // The draft article is a valid info card of roads, a draft, by the expert.
    let article_id = answered.draft_article.clone().unwrap();
    let key = format!("knowledge/drafts/krakow/{article_id}.toml");
    let toml = String::from_utf8(w.blobs.get(&key).expect("draft written")).unwrap();
    let file = format!("{article_id}.toml");
    let kb = KnowledgeBase::from_files(&w.catalogue, [(file.as_str(), toml.as_str())]).unwrap();
    let article = kb.article(&article_id).unwrap();
    assert_eq!(
        (
            article.status,
            article.owner.clone(),
            article.author.as_str()
        ),
        (ArticleStatus::Draft, roads, "expert-7")
    );
    assert!(article.pl.body.contains("72 godzin"));

    // The caller is told once, however often the message comes.
    let messages: Vec<_> = w
        .queues
        .take_pipeline()
        .into_iter()
        .filter(|m| matches!(m, PipelineMessage::QuestionAnswered { .. }))
        .collect();
    assert_eq!(messages.len(), 2, "one per answer call: {messages:?}");
    assert_eq!(
        block_on(tell_caller(&w.notify(), &w.store, &question.id)).unwrap(),
        NotifyOutcome::SentSms
    );
    assert_eq!(
        block_on(tell_caller(&w.notify(), &w.store, &question.id)).unwrap(),
        NotifyOutcome::AlreadySent
    );
    let sent = w.messenger.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains("72 godzin"), "{}", sent[0].body);
}
