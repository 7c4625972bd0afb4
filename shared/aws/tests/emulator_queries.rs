//! Adapter tests against the AWS-API emulator: the reads that must not grow
//! with the day (department work and its pages, time windows, routing's
//! bounded reads, time-ordered pages, the sweep's place). Every test uses its
//! own table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod emulator_support;

use emulator_support::*;

use citydesk_aws::dynamo::DynamoStore;
use citydesk_core::ids::DepartmentCode;
use citydesk_core::location::Location;
use citydesk_core::ports::*;
use citydesk_core::request::ServiceRequest;
use citydesk_core::status::Status;
use jiff::{SignedDuration, Timestamp};

async fn open_work(
    store: &DynamoStore,
    department: &DepartmentCode,
    status: Option<Status>,
) -> Result<Vec<ServiceRequest>, PortError> {
    let listing = citydesk_core::paging::Listing::DepartmentWork {
        department: department.clone(),
        status,
    };
    let mut page = citydesk_core::paging::PageRequest::default();
    let mut all = Vec::new();
    loop {
        let got = store.page(&listing, &page).await?;
        all.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return Ok(all),
        }
    }
}

#[tokio::test]
async fn department_work_and_time_window_queries() {
    let store = fresh_store().await;
    let roads = DepartmentCode::parse("roads").unwrap();
    let water = DepartmentCode::parse("water").unwrap();
    let day: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
    let mut ids = Vec::new();
    // Twelve requests spread over the shards, two days, two departments.
    for i in 0..12_i64 {
        let at = day + SignedDuration::from_hours(i * 3);
        let new = new_request(at, None);
        store.create(&new).await.unwrap();
        let dept = if i % 3 == 0 {
            water.clone()
        } else {
            roads.clone()
        };
        let due = at + SignedDuration::from_hours(72 - i);
        let change = new.request.assign(dept, due, due, at, "test").unwrap();
        store.apply(&change).await.unwrap();
        ids.push(change.request);
    }
    let open = open_work(&store, &roads, None).await.unwrap();
    assert_eq!(open.len(), 8);
    assert!(
        open.windows(2).all(|w| w[0].due_at <= w[1].due_at),
        "due first"
    );
    assert!(open.iter().all(|r| r.department.as_ref() == Some(&roads)));

    // Resolved work leaves the department's list.
    let first = open[0].clone();
    let ack = first
        .move_to(Status::Resolved, Some("done".into()), now(), "test")
        .unwrap();
    store.apply(&ack).await.unwrap();
    assert_eq!(open_work(&store, &roads, None).await.unwrap().len(), 7);
    // Filtered by status through the index's sort key.
    let second = open[1]
        .move_to(Status::Acknowledged, None, now(), "test")
        .unwrap();
    store.apply(&second).await.unwrap();
    let acknowledged = open_work(&store, &roads, Some(Status::Acknowledged))
        .await
        .unwrap();
    assert_eq!(
        acknowledged
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
        vec![second.request.id.clone()]
    );
    assert_eq!(
        open_work(&store, &roads, Some(Status::Assigned))
            .await
            .unwrap()
            .len(),
        6
    );
    assert_eq!(open_work(&store, &water, None).await.unwrap().len(), 4);

    // 27 Nov 10:00 .. 28 Nov 10:00 holds i = 0..=7 (every three hours).
    let from = day;
    let to = day + SignedDuration::from_hours(24);
    let window = store.created_between(from, to).await.unwrap();
    assert_eq!(window.len(), 8);
    assert!(
        window
            .iter()
            .all(|r| r.created_at >= from && r.created_at < to)
    );
}

#[tokio::test]
async fn department_work_pages_through_every_item_once_while_work_arrives() {
    use citydesk_core::paging::{Listing, PageRequest};
    let store = fresh_store().await;
    let roads = DepartmentCode::parse("roads").unwrap();
    let day: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
    let assign = |i: i64| {
        let store = store.clone();
        let roads = roads.clone();
        async move {
            let at = day + SignedDuration::from_mins(i);
            let new = new_request(at, None);
            store.create(&new).await.unwrap();
            let due = at + SignedDuration::from_hours(72);
            let change = new.request.assign(roads, due, due, at, "test").unwrap();
            store.apply(&change).await.unwrap();
            change.request.id
        }
    };
    let mut present = Vec::new();
    for i in 0..23 {
        present.push(assign(i).await);
    }
    let listing = Listing::DepartmentWork {
        department: roads.clone(),
        status: None,
    };
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 5,
        after: None,
    };
    let mut pages = 0;
    let mut arrived = Vec::new();
    loop {
        let before = store.items_read();
        let got = store.page(&listing, &page).await.unwrap();
        // Eight shards, at most limit + 1 items each, however long the list.
        assert!(
            store.items_read() - before <= 8 * 6,
            "a page reads a bounded number of items"
        );
        assert!(got.items.len() <= 5);
        seen.extend(got.items.iter().map(|r| r.id.clone()));
        pages += 1;
        if pages == 2 {
            // New work arrives while the clerk pages: due later, so after the cursor.
            for i in 100..104 {
                arrived.push(assign(i).await);
            }
        }
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no item twice");
    for id in present.iter().chain(&arrived) {
        assert!(unique.contains(id), "{id} missing");
    }
    assert_eq!(seen.len(), 27);
    // A status filter pages within that status only.
    let acknowledged = Listing::DepartmentWork {
        department: roads,
        status: Some(Status::Acknowledged),
    };
    let none = store
        .page(&acknowledged, &PageRequest::default())
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next.is_none());
}

#[tokio::test]
async fn changes_in_a_window_across_days() {
    let store = fresh_store().await;
    let t0: Timestamp = "2026-11-26T23:00:00Z".parse().unwrap();
    let new = new_request(t0, None);
    store.create(&new).await.unwrap();
    let roads = DepartmentCode::parse("roads").unwrap();
    let at = t0 + SignedDuration::from_hours(2); // the next UTC day
    let assign = new.request.assign(roads, at, at, at, "test").unwrap();
    store.apply(&assign).await.unwrap();
    let all = store
        .changes_between(t0, at + SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|(id, e)| (id.clone(), e.seq))
            .collect::<Vec<_>>(),
        vec![(new.request.id.clone(), 1), (new.request.id.clone(), 2)]
    );
    let later = store
        .changes_between(
            t0 + SignedDuration::from_secs(1),
            at + SignedDuration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].1.seq, 2);
}

/// A request of `service` at a point, assigned (open work), created at `at`.
async fn open_report(store: &DynamoStore, service: &str, lat: f64, long: f64, at: Timestamp) {
    let mut new = new_request(at, None);
    new.request.service_code = Some(citydesk_core::ids::ServiceCode::parse(service).unwrap());
    new.request.location = Location::parse(Some(lat), Some(long), None).unwrap();
    store.create(&new).await.unwrap();
    let due = at + SignedDuration::from_hours(24);
    let dept = DepartmentCode::parse("greenery").unwrap();
    let change = new.request.assign(dept, due, due, at, "test").unwrap();
    store.apply(&change).await.unwrap();
}

#[tokio::test]
async fn routing_reads_a_bounded_number_of_items_however_busy_the_day() {
    use citydesk_core::usecases::route_request::{Route, RouteOutcome, route_request};
    let store = fresh_store().await;
    let catalogue = citydesk_core::catalogue::Catalogue::new(
        citydesk_core::catalogue::CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let catalogues = citydesk_core::catalogue::Catalogues::single(catalogue);
    let models = citydesk_core::learning::CityModels::default();
    let clock = citydesk_core::memory::ManualClock::at(now());
    let day = now() - SignedDuration::from_hours(6);
    // The tree already reported, open.
    open_report(&store, "fallen-tree", 50.0614, 19.9366, day).await;
    // Reads for routing one new report of the same tree, 20 m away.
    let route_one = |minute: i64| {
        let store = store.clone();
        let (catalogues, models, clock) = (&catalogues, &models, &clock);
        async move {
            let mut new = new_request(day + SignedDuration::from_mins(minute), None);
            new.request.service_code =
                Some(citydesk_core::ids::ServiceCode::parse("fallen-tree").unwrap());
            new.request.location = Location::parse(Some(50.0616), Some(19.9366), None).unwrap();
            store.create(&new).await.unwrap();
            let step = Route {
                store: &store,
                queries: &store,
                clock,
                catalogues,
                models,
            };
            let before = store.items_read();
            let outcome = route_request(&step, &new.request.id).await.unwrap();
            assert!(
                matches!(outcome, RouteOutcome::Duplicate { .. }),
                "{outcome:?}"
            );
            store.items_read() - before
        }
    };
    // The day's other work: other services on the same spot, the same
    // service kilometres away.
    let busy_day = |from: i64, count: i64| {
        let store = store.clone();
        async move {
            for i in from..from + count {
                let at = day + SignedDuration::from_secs(i);
                if i % 2 == 0 {
                    open_report(&store, "pothole", 50.0614, 19.9366, at).await;
                } else {
                    open_report(&store, "fallen-tree", 50.10, 19.99, at).await;
                }
            }
        }
    };
    busy_day(1, 10).await;
    let quiet = route_one(60).await;
    busy_day(11, 50).await;
    let busy = route_one(61).await;
    assert_eq!(
        quiet, busy,
        "items read per routed request: {quiet} with 10 others in the day, {busy} with 60"
    );
    assert!(busy <= 10, "{busy} items read to route one request");
    // Both new reports follow the tree, and its followers list pages them out.
    let original = store
        .created_in(
            &citydesk_core::paging::TimeWindow {
                from: day,
                to: day + SignedDuration::from_secs(1),
            },
            citydesk_core::paging::Order::OldestFirst,
            &citydesk_core::paging::PageRequest::default(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(original.follower_count, 2);
    let followers = store
        .page(
            &citydesk_core::paging::Listing::Followers {
                original: original.id.clone(),
            },
            &citydesk_core::paging::PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(followers.items.len(), 1);
    let rest = store
        .page(
            &citydesk_core::paging::Listing::Followers {
                original: original.id,
            },
            &citydesk_core::paging::PageRequest {
                limit: 1,
                after: followers.next,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_ne!(rest.items[0].id, followers.items[0].id);
}

#[tokio::test]
async fn time_ordered_pages_walk_days_and_shards_in_order() {
    use citydesk_core::paging::{Order, PageRequest, TimeWindow};
    let store = fresh_store().await;
    let day: Timestamp = "2026-11-25T20:00:00Z".parse().unwrap();
    let mut created = Vec::new();
    // Fifteen requests over three days (every five hours), on every shard.
    for i in 0..15_i64 {
        let new = new_request(day + SignedDuration::from_hours(i * 5), None);
        store.create(&new).await.unwrap();
        created.push((new.request.created_at, new.request.id.clone()));
    }
    let window = TimeWindow {
        from: day,
        to: day + SignedDuration::from_hours(75),
    };
    for order in [Order::NewestFirst, Order::OldestFirst] {
        let mut page = PageRequest {
            limit: 4,
            after: None,
        };
        let mut seen = Vec::new();
        loop {
            let got = store.created_in(&window, order, &page).await.unwrap();
            assert!(got.items.len() <= 4);
            seen.extend(got.items.iter().map(|r| (r.created_at, r.id.clone())));
            match got.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let mut expected = created.clone();
        if order == Order::NewestFirst {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order:?}");
        // The history events (one per creation) come the same way.
        let changes = store
            .changed_in(
                &window,
                order,
                &PageRequest {
                    limit: 50,
                    after: None,
                },
            )
            .await
            .unwrap();
        let ids: Vec<_> = changes.items.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(
            ids,
            expected
                .iter()
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>()
        );
    }
    // A window that ends at a creation leaves it out (half-open).
    let narrow = TimeWindow {
        from: day,
        to: day + SignedDuration::from_hours(5),
    };
    let first = store
        .created_in(&narrow, Order::OldestFirst, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
}

#[tokio::test]
async fn the_sweep_keeps_its_place_until_it_goes_round() {
    use citydesk_core::ports::{SweepPosition, SweepProgress};
    let store = fresh_store().await;
    assert_eq!(store.load().await.unwrap(), None);
    let position = SweepPosition {
        jurisdiction: citydesk_core::ids::JurisdictionId::parse("krakow").unwrap(),
        department: DepartmentCode::parse("greenery").unwrap(),
        after: Some("c1.6162".into()),
    };
    store.save(Some(&position)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(position));
    store.save(None).await.unwrap();
    assert_eq!(store.load().await.unwrap(), None);
}
