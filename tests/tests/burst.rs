//! A storm on one street, on the local system: a bounded burst of requests
//! for one department posted with no ramp-up (loopback only), while a clerk
//! pages through the department's list. Every request is routed exactly
//! once, each pass over the list has no repeat and misses nothing that was
//! there before it began, and nothing reaches a dead-letter queue.
//!
//! `CITYDESK_BURST` sets the size: 150 by default, what one emulator process
//! (moto, one Python process for every service) absorbs in a couple of
//! minutes on two cores; larger local bursts measure moto's queries, which
//! read whole tables, not citydesk (`CITYDESK_BURST=400` passes in about
//! eight minutes here).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use citydesk_core::ports::RequestStore;
use citydesk_e2e::{common_config, create_request_retrying, eventually, start_system};
use futures::StreamExt;
use serde_json::{Value, json};

/// One pass over the department's list, a page of 50 at a time.
async fn list_pass(http: &reqwest::Client, base: &str, key: &str) -> Vec<String> {
    let mut cases = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/department/assignments?limit=50");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        // A busy answer (503) is reloaded, as a clerk would.
        let mut page = Value::Null;
        for attempt in 0..20_u64 {
            let r = http.get(&url).bearer_auth(key).send().await.unwrap();
            if r.status().as_u16() == 200 {
                page = r.json().await.unwrap();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * (attempt + 1))).await;
        }
        for a in page["assignments"].as_array().expect("a page") {
            cases.push(a["case_number"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return cases,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_on_one_street_is_routed_once_each_and_paged_without_gaps() {
    let burst: usize = std::env::var("CITYDESK_BURST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let roads = system.published.department_keys["roads"].clone();

    // The clerk pages through the list over and over while the burst arrives.
    let posting_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let passes: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let clerk = {
        let (http, base, roads) = (http.clone(), base.clone(), roads.clone());
        let (done, passes) = (posting_done.clone(), passes.clone());
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let pass = list_pass(&http, &base, &roads).await;
                passes.lock().unwrap().push(pass);
                // A clerk reads the page before asking for the list again.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        })
    };

    // The burst: broken pavement all along one street, ten at a time in flight.
    let started = Instant::now();
    let posts = (0..burst).map(|i| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let (created, busy) = create_request_retrying(
                &http,
                &base,
                json!({
                    "service_code": "pavement",
                    "description": format!("Zapadnięty chodnik, posesja {i}"),
                    "lat": 50.0650 + (i % 100) as f64 * 0.00005,
                    "long": 19.9350,
                }),
                &format!("burst-{i}"),
            )
            .await;
            (
                created["case_number"].as_str().unwrap().to_owned(),
                created["id"].as_str().unwrap().to_owned(),
                busy,
            )
        }
    });
    let answered: Vec<(String, String, usize)> = futures::stream::iter(posts)
        .buffer_unordered(10)
        .collect()
        .await;
    let posted_in = started.elapsed();
    let busy: usize = answered.iter().map(|(_, _, b)| b).sum();
    println!(
        "{burst} requests posted in {posted_in:?} ({busy} answers of 503 retried with the same key)"
    );
    let created: Vec<(String, String)> = answered.into_iter().map(|(c, i, _)| (c, i)).collect();
    let cases: BTreeSet<String> = created.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(cases.len(), burst, "every request got its own case number");

    // Every one is assigned to roads (within generous time: one emulator process).
    let all_assigned = eventually(900, || {
        let (http, base, roads, cases) = (&http, &base, &roads, &cases);
        async move {
            let listed: BTreeSet<String> = list_pass(http, base, roads).await.into_iter().collect();
            cases.is_subset(&listed).then_some(())
        }
    })
    .await;
    posting_done.store(true, std::sync::atomic::Ordering::SeqCst);
    clerk.await.unwrap();
    assert!(
        all_assigned.is_some(),
        "not every request reached the roads list"
    );
    println!(
        "{burst} requests assigned {:?} after the first post",
        started.elapsed()
    );

    // Each pass: no repeat, and nothing the pass before it saw is missing
    // (assigned work stays assigned: what was there throughout is listed).
    let passes = passes.lock().unwrap().clone();
    assert!(passes.len() >= 2, "the clerk paged while the burst arrived");
    let mut previous: BTreeSet<String> = BTreeSet::new();
    for (n, pass) in passes.iter().enumerate() {
        let unique: BTreeSet<String> = pass.iter().cloned().collect();
        assert_eq!(unique.len(), pass.len(), "pass {n} listed a case twice");
        let missing: Vec<_> = previous.difference(&unique).collect();
        assert!(
            missing.is_empty(),
            "pass {n} missed {} case(s) already listed",
            missing.len()
        );
        previous = unique;
    }

    // Routed exactly once: one assignment in each request's history.
    let clients = citydesk_aws::config::Clients::new(&common_config(&system)).await;
    let store = citydesk_aws::dynamo::DynamoStore::new(
        clients.dynamodb.clone(),
        system.stack.resource("Table").unwrap(),
    );
    for (case, id) in &created {
        let id = citydesk_core::ids::RequestId::parse(id).unwrap();
        let assignments = store
            .history(&id)
            .await
            .unwrap()
            .iter()
            .filter(|e| matches!(e.kind, citydesk_core::request::EventKind::Assigned { .. }))
            .count();
        assert_eq!(assignments, 1, "{case} assigned {assignments} times");
    }
    for dlq in [
        "ClassifyDeadLetterQueue",
        "RouteDeadLetterQueue",
        "NotifyDeadLetterQueue",
        "DispatchDeadLetterQueue",
    ] {
        let attrs = clients
            .sqs
            .get_queue_attributes()
            .queue_url(system.stack.resource(dlq).unwrap())
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        let depth: usize = attrs.values().filter_map(|v| v.parse::<usize>().ok()).sum();
        assert_eq!(depth, 0, "{dlq} is not empty");
    }
    system.shutdown().await;
}
