//! The outbox on the local system: every committed change reaches the
//! pipeline and the city's event bus through the table's change stream, the
//! emulator consumes nothing itself (a burst is not dead-lettered), a writer
//! that dies right after its commit loses nothing, and every bus event
//! matches its published JSON Schema and carries no personal data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sqs::types::QueueAttributeName;
use citydesk_e2e::{
    RunningSystem, common_config, create_request, create_request_retrying, eventually,
    public_status, start_system, wait_for_status,
};
use serde_json::{Value, json};

/// A queue subscribed to every citydesk event on the stack's bus, as a city
/// system would subscribe with a rule.
async fn subscribe_to_bus(system: &RunningSystem) -> (aws_sdk_sqs::Client, String) {
    let clients = citydesk_aws::config::Clients::new(&common_config(system)).await;
    let sqs = clients.sqs.clone();
    let events = aws_sdk_eventbridge::Client::new(&clients.sdk);
    let bus = system
        .stack
        .resource("CityEventBus")
        .expect("the bus")
        .to_owned();
    let name = format!("bus-tap-{}", ulid::Ulid::new().to_string().to_lowercase());
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = citydesk_aws::sqs::queue_arn(&sqs, &url).await.unwrap();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&bus)
        .event_pattern(json!({"source": ["citydesk"]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("tap")
                .arn(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (sqs, url)
}

/// Everything on the tap queue so far (EventBridge envelopes).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, into: &mut Vec<Value>) {
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            return;
        }
        for m in &got {
            into.push(serde_json::from_str(m.body.as_deref().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.clone().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// Drains the tap until `done` holds for what arrived (at most `seconds`).
async fn collect_until(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    seconds: u64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut envelopes = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        drain(sqs, url, &mut envelopes).await;
        if done(&envelopes) {
            break;
        }
    }
    envelopes
}

fn schema_for(detail_type: &str) -> jsonschema::Validator {
    let path = citydesk_e2e::repo_root().join(format!("events/schemas/{detail_type}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no schema {} for a published type: {e}", path.display()));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::from_str(&text).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_reaches_the_bus_once_per_event_id_matching_its_schema() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let (sqs, tap) = subscribe_to_bus(&system).await;

    let created = create_request(
        &http,
        &base,
        json!({
            "description": "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
            "lat": 50.07, "long": 19.935,
            "contact": {"name": "Anna Nowak", "phone": "+48600100200", "email": "anna@example.org"}
        }),
    )
    .await;
    let case = created["case_number"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    wait_for_status(&http, &base, &case, "assigned", 60)
        .await
        .expect("assigned through the outbox");
    let roads = system.published.department_keys["roads"].clone();
    for body in [
        json!({"status": "acknowledged"}),
        json!({"status": "resolved", "note": "Załatane, dzwoniłem do Pani Anny pod +48600100200."}),
    ] {
        let r = http
            .post(format!("{base}/v1/department/assignments/{case}/status"))
            .bearer_auth(&roads)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }

    let wanted = [
        "citydesk.request.created.v1",
        "citydesk.request.classified.v1",
        "citydesk.request.routed.v1",
        "citydesk.request.status_changed.v1",
    ];
    let envelopes = collect_until(&sqs, &tap, 20, |got| {
        got.iter().any(|e| e["detail"]["to_status"] == "resolved")
    })
    .await;
    let mine: Vec<&Value> = envelopes
        .iter()
        .filter(|e| e["detail"]["request_id"] == id.as_str())
        .collect();
    let types: BTreeSet<&str> = mine
        .iter()
        .filter_map(|e| e["detail-type"].as_str())
        .collect();
    for t in wanted {
        assert!(types.contains(t), "{t} missing from {types:?}");
    }
    // One event per committed change: seq 1 (created) to 5 (resolved), each id once.
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for e in &mine {
        assert_eq!(e["source"], "citydesk");
        let detail = &e["detail"];
        let detail_type = e["detail-type"].as_str().unwrap();
        let validator = schema_for(detail_type);
        let errors: Vec<String> = validator
            .iter_errors(detail)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{detail_type}: {errors:?}\n{detail}");
        assert_eq!(
            detail["event_id"],
            format!("{id}/{}", detail["seq"]).as_str()
        );
        *by_id
            .entry(detail["event_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
        let text = e.to_string();
        for private in [
            "600100200",
            "anna@example.org",
            "Nowak",
            "Długiej",
            "Załatane",
            "50.07",
        ] {
            assert!(!text.contains(private), "{private} on the bus: {text}");
        }
    }
    let seqs: Vec<u64> = mine
        .iter()
        .filter_map(|e| e["detail"]["seq"].as_u64())
        .collect();
    assert_eq!(
        seqs.iter().copied().collect::<BTreeSet<_>>(),
        (1..=5).collect::<BTreeSet<_>>(),
        "{seqs:?}"
    );
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
    let routed = mine
        .iter()
        .find(|e| e["detail-type"] == "citydesk.request.routed.v1")
        .unwrap();
    assert_eq!(routed["detail"]["department"], "roads");
    assert_eq!(routed["detail"]["case_number"], case.as_str());
    system.shutdown().await;
}

/// The queues' depth (visible and in flight).
async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    attrs.values().filter_map(|v| v.parse::<usize>().ok()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_routed_whole_and_nothing_is_dead_lettered() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    // The emulator was given no event source mapping: the runner is the only consumer.
    assert!(
        system
            .stack
            .event_source_mappings
            .iter()
            .all(|m| !m.enabled)
    );
    const BURST: usize = 60;
    let posts = (0..BURST).map(|i| {
        let http = http.clone();
        let base = base.clone();
        async move {
            // Spread along ul. Długa, further apart than any duplicate radius.
            let lat = 50.0650 + (i as f64) * 0.0008;
            create_request_retrying(
                &http,
                &base,
                json!({"description": "Ogromna dziura w jezdni", "lat": lat, "long": 19.935}),
                &format!("outbox-burst-{i}"),
            )
            .await
            .0["case_number"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    });
    // All at once, with no ramp-up.
    use futures::StreamExt;
    let cases: Vec<String> = futures::stream::iter(posts)
        .buffer_unordered(BURST)
        .collect()
        .await;
    let all_assigned = eventually(120, || async {
        let mut assigned = 0;
        for case in &cases {
            if public_status(&http, &base, case).await == "assigned" {
                assigned += 1;
            }
        }
        (assigned == BURST).then_some(())
    })
    .await;
    let sqs = citydesk_aws::config::Clients::new(&common_config(&system))
        .await
        .sqs;
    for dlq in [
        "ClassifyDeadLetterQueue",
        "RouteDeadLetterQueue",
        "NotifyDeadLetterQueue",
        "DispatchDeadLetterQueue",
    ] {
        let url = system.stack.resource(dlq).unwrap();
        assert_eq!(depth(&sqs, url).await, 0, "{dlq} is not empty");
    }
    assert!(
        all_assigned.is_some(),
        "not every request of the burst was assigned"
    );
    system.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_dies_right_after_its_commit_loses_nothing() {
    use citydesk_core::ports::RequestStore;
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let (sqs, tap) = subscribe_to_bus(&system).await;
    let clients = citydesk_aws::config::Clients::new(&common_config(&system)).await;
    let store = citydesk_aws::dynamo::DynamoStore::new(
        clients.dynamodb.clone(),
        system.stack.resource("Table").unwrap(),
    );
    // The writer's whole work is one commit; here it "dies" right after it:
    // nothing but the creation transaction is written, nothing is sent.
    let new = created_request_commit();
    let case = new.request.case_number.to_string();
    assert!(matches!(
        store.create(&new).await.unwrap(),
        citydesk_core::ports::CreateOutcome::Created
    ));
    // Generous: the burst beside it keeps the one emulator busy.
    wait_for_status(&http, &base, &case, "assigned", 60)
        .await
        .expect("classified and routed from the commit alone");
    let sms = eventually(30, || async {
        let outbox: Value = http
            .get(format!("{base}/_local/outbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let to_them: Vec<Value> = outbox
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m.to_string().contains("+48600999111"))
            .cloned()
            .collect();
        (to_them.len() >= 2).then_some(to_them)
    })
    .await
    .expect("the confirmation and the assignment told");
    assert!(sms.iter().any(|m| m.to_string().contains(&case)), "{sms:?}");
    let routed = |got: &[Value]| {
        got.iter().any(|e| {
            e["detail-type"] == "citydesk.request.routed.v1"
                && e["detail"]["case_number"] == case.as_str()
        })
    };
    let envelopes = collect_until(&sqs, &tap, 15, routed).await;
    assert!(routed(&envelopes), "the routing on the bus: {envelopes:?}");
    system.shutdown().await;
}

/// The creation a web intake commits for a pothole report with a phone number.
fn created_request_commit() -> citydesk_core::ports::NewRequest {
    use citydesk_core::ids::{CaseNumber, RequestId, TrackingKey};
    use citydesk_core::request::*;
    let now = jiff::Timestamp::now();
    let id = RequestId::parse(&ulid::Ulid::new().to_string()).unwrap();
    let token = TrackingKey::new(b"unused").token_for(&id);
    let request: ServiceRequest = serde_json::from_value(json!({
        "id": id,
        "case_number": CaseNumber::from_entropy(rand_entropy()),
        "jurisdiction": "krakow",
        "channel": "web",
        "language": "pl",
        "description": "Na ulicy Długiej jest ogromna dziura w jezdni",
        "location": {"point": {"lat": 50.07, "long": 19.935}, "district": "stare-miasto"},
        "status": "new",
        "created_at": now,
        "updated_at": now,
        "tracking_token_hash": token.hash(),
        "has_contact": true,
        "version": 1
    }))
    .unwrap();
    citydesk_core::ports::NewRequest {
        created: HistoryEvent {
            seq: 1,
            at: now,
            actor: "citizen".into(),
            by: None,
            kind: EventKind::Created {
                channel: Channel::Web,
            },
        },
        request,
        contact: Some(citydesk_core::contact::Contact {
            phone: citydesk_core::contact::PhoneNumber::parse("+48600999111").ok(),
            ..Default::default()
        }),
        person_keys: Vec::new(),
        idempotency: None,
    }
}

fn rand_entropy() -> u64 {
    ulid::Ulid::new().random() as u64
}
