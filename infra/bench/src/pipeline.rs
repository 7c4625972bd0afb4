//! `citydesk-pipeline-bench`: the outbox's figures (`make bench-pipeline`).
//!
//! - `latency`: POST `/v1/requests` → `assigned` on a running local system,
//!   one request at a time, polling its public view; prints p50, p90, p99 and
//!   max as one JSON line (the script runs it against the system before and
//!   after the outbox and prints both side by side).
//! - `reads`: items the table returns to route one new report, with N other
//!   requests already in the day, for the place index (what routing reads
//!   now) beside the creation-day window (what it read before).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use citydesk_aws::config::Clients;
use citydesk_aws::dynamo::DynamoStore;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument, Catalogues};
use citydesk_core::ids::{CaseNumber, DepartmentCode, RequestId, ServiceCode, TrackingKey};
use citydesk_core::language::Language;
use citydesk_core::learning::CityModels;
use citydesk_core::location::Location;
use citydesk_core::memory::ManualClock;
use citydesk_core::ports::{NewRequest, RequestStore};
use citydesk_core::request::{Channel, EventKind, HistoryEvent, ServiceRequest};
use citydesk_core::status::Status;
use citydesk_core::usecases::route_request::{Route, RouteOutcome, route_request};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use jiff::{SignedDuration, Timestamp};

#[derive(Parser)]
#[command(about = "The outbox's figures: POST to assigned, and items read per routed request")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// POST → assigned latency on a running system.
    Latency {
        #[arg(long)]
        base_url: String,
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        /// Give up on one request after this many seconds.
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
        /// A name for the figures' line.
        #[arg(long, default_value = "system")]
        label: String,
    },
    /// Items read to route one report, with these many others in the day.
    Reads {
        #[arg(long)]
        endpoint: String,
        #[arg(long, value_delimiter = ',', default_value = "100,20000")]
        others: Vec<usize>,
        /// One empty table shaped like template.yaml's per count (the script
        /// deploys a stack for each).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// The demo catalogue folder.
        #[arg(long, default_value = "infra/demo-city")]
        catalogue_dir: std::path::PathBuf,
    },
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Latency {
            base_url,
            requests,
            timeout_secs,
            label,
        } => {
            latency(
                &base_url,
                requests,
                Duration::from_secs(timeout_secs),
                &label,
            )
            .await
        }
        Command::Reads {
            endpoint,
            others,
            tables,
            catalogue_dir,
        } => reads(&endpoint, &others, &tables, &catalogue_dir).await,
    }
}

async fn latency(
    base: &str,
    requests: usize,
    timeout: Duration,
    label: &str,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let started = Instant::now();
    for i in 0..requests {
        // Points along ul. Długa, further apart than any duplicate radius.
        let lat = 50.0600 + (i % 400) as f64 * 0.0003;
        let body = serde_json::json!({
            "description": "Na ulicy Długiej jest ogromna dziura w jezdni",
            "lat": lat,
            "long": 19.935 + (i / 400) as f64 * 0.004,
        });
        let t = Instant::now();
        let created: serde_json::Value = http
            .post(format!("{base}/v1/requests"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let case = created["case_number"]
            .as_str()
            .context("no case_number in the answer")?
            .to_owned();
        loop {
            let view: serde_json::Value = http
                .get(format!("{base}/v1/requests/{case}"))
                .send()
                .await?
                .json()
                .await?;
            if view["status"] == "assigned" {
                break;
            }
            if t.elapsed() > timeout {
                bail!(
                    "{case} not assigned within {timeout:?} (status {})",
                    view["status"]
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        histogram.record(t.elapsed().as_micros() as u64)?;
    }
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "label": label,
            "requests": requests,
            "p50_ms": ms(0.5),
            "p90_ms": ms(0.9),
            "p99_ms": ms(0.99),
            "max_ms": histogram.max() as f64 / 1000.0,
            "wall_s": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

/// A request as the pipeline would have left it: assigned (open) or resolved.
fn request(
    service: &str,
    lat: f64,
    long: f64,
    at: Timestamp,
    status: Status,
) -> anyhow::Result<ServiceRequest> {
    let id = RequestId::parse(&ulid_like(at))?;
    let department = DepartmentCode::parse("greenery")?;
    Ok(ServiceRequest {
        case_number: CaseNumber::from_entropy(at.as_nanosecond() as u64),
        privacy_requested: false,
        public_description: None,
        open311_client: None,
        tracking_token_hash: TrackingKey::new(b"bench").token_for(&id).hash(),
        id,
        jurisdiction: citydesk_core::ids::JurisdictionId::parse("krakow")?,
        channel: Channel::Web,
        language: Language::Pl,
        service_code: Some(ServiceCode::parse(service)?),
        classification_confidence: None,
        description: "Zgłoszenie".into(),
        location: Location::parse(Some(lat), Some(long), None)?,
        status,
        department: Some(department),
        due_at: Some(at + SignedDuration::from_hours(24)),
        created_at: at,
        updated_at: at,
        resolved_at: None,
        resolution: None,
        has_contact: false,
        attributes: Default::default(),
        media: Vec::new(),
        suggestions: Vec::new(),
        declined_departments: Vec::new(),
        duplicate_of: None,
        follows: None,
        followers: Vec::new(),
        follower_count: 0,
        sla_warning_at: None,
        sla_warned: false,
        sla_breach_noted: false,
        assignee: None,
        sla_paused_at: None,
        transfer_to: None,
        version: 2,
    })
}

/// A ULID-shaped id from a time, unique per nanosecond.
fn ulid_like(at: Timestamp) -> String {
    const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut n = at.as_nanosecond() as u128;
    let mut out = [b'0'; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(n % 32) as usize];
        n /= 32;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn reads(
    endpoint: &str,
    others: &[usize],
    tables: &[String],
    catalogue_dir: &std::path::Path,
) -> anyhow::Result<()> {
    if tables.len() != others.len() {
        bail!("--tables needs one table per count in --others");
    }
    let clients = Clients::for_emulator(endpoint).await?;
    let read = |name: &str| std::fs::read_to_string(catalogue_dir.join(name));
    let catalogue = Catalogue::new(CatalogueDocument::from_sources(
        &read("catalogue.toml")?,
        &read("districts.geojson")?,
    )?)?;
    let catalogues = Catalogues::single(catalogue);
    let models = CityModels::default();
    println!(
        "| requests already in the day | items read to route one report (place index) | what the day window read before |"
    );
    println!("|---|---|---|");
    for (&count, table) in others.iter().zip(tables) {
        let store = DynamoStore::new(clients.dynamodb.clone(), table);
        let day = Timestamp::now() - SignedDuration::from_hours(6);
        // The tree already reported, open; the day's other work around it.
        store
            .put_requests_unchecked(&[request(
                "fallen-tree",
                50.0614,
                19.9366,
                day,
                Status::Assigned,
            )?])
            .await?;
        let mut bulk = Vec::with_capacity(count);
        for i in 0..count {
            let at = day + SignedDuration::from_millis(1 + i as i64);
            bulk.push(match i % 4 {
                // Other services on the same spot.
                0 => request("pothole", 50.0614, 19.9366, at, Status::Assigned)?,
                // The same service kilometres away.
                1 => request(
                    "fallen-tree",
                    50.02 + (i % 50) as f64 * 0.001,
                    19.99,
                    at,
                    Status::Assigned,
                )?,
                // The same service at the spot, already resolved.
                2 => request("fallen-tree", 50.0614, 19.9366, at, Status::Resolved)?,
                _ => request("streetlight", 50.0650, 19.9400, at, Status::Assigned)?,
            });
        }
        store.put_requests_unchecked(&bulk).await?;
        let clock = ManualClock::at(Timestamp::now());
        let mut new = request(
            "fallen-tree",
            50.0616,
            19.9366,
            day + SignedDuration::from_hours(1),
            Status::New,
        )?;
        new.department = None;
        new.due_at = None;
        new.version = 1;
        store
            .create(&NewRequest {
                created: HistoryEvent {
                    seq: 1,
                    at: new.created_at,
                    actor: "citizen".into(),
                    by: None,
                    kind: EventKind::Created {
                        channel: Channel::Web,
                    },
                },
                request: new.clone(),
                contact: None,
                person_keys: Vec::new(),
                idempotency: None,
            })
            .await?;
        let step = Route {
            store: &store,
            queries: &store,
            clock: &clock,
            catalogues: &catalogues,
            models: &models,
        };
        let before = store.items_read();
        let outcome = route_request(&step, &new.id).await?;
        if !matches!(outcome, RouteOutcome::Duplicate { .. }) {
            bail!("the bench's report should follow the open tree, got {outcome:?}");
        }
        let now_reads = store.items_read() - before;
        // What the route step read before: the service's 48 h window by creation day.
        let before_window = store.items_read();
        let window_items = store
            .created_between(
                new.created_at - SignedDuration::from_hours(48),
                new.created_at + SignedDuration::from_millis(1),
            )
            .await?
            .len();
        let then_reads = store.items_read() - before_window;
        println!("| {count} | {now_reads} | {then_reads} ({window_items} requests) |");
    }
    Ok(())
}
