//! Intake handler throughput in process: the real `citydesk_intake_web::router`
//! over the in-memory ports (no photos are attached), driven request by request through
//! `tower::ServiceExt::oneshot` on the caller's (current-thread) runtime.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Body;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::memory::{MemoryBlobs, MemoryStore};
use citydesk_intake_web::{Deps, router};
use hdrhistogram::Histogram;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// What one kind of request did.
#[derive(Debug)]
pub struct Throughput {
    pub operation: &'static str,
    pub requests: usize,
    pub elapsed: Duration,
    /// Per-request latency in nanoseconds (oneshot call and body collected).
    pub latency: Histogram<u64>,
}

impl Throughput {
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }
    /// Latency at a quantile, in microseconds.
    pub fn micros_at(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

#[derive(Debug)]
pub struct IntakeFigures {
    pub create: Throughput,
    pub view: Throughput,
    /// Requests stored at the end (warm-up included), as a sanity check.
    pub stored: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct IntakeOptions {
    pub warmup: usize,
    pub creates: usize,
    pub views: usize,
    /// Every n-th create carries an `Idempotency-Key` (0: none do).
    pub idempotency_every: usize,
}

const DESCRIPTIONS: &[&str] = &[
    "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
    "Nie świeci latarnia na rogu Karmelickiej i Batorego",
    "Powalone drzewo blokuje chodnik w parku Jordana",
    "Przepełniony kosz na śmieci przy przystanku tramwajowym",
    "Graffiti na elewacji kamienicy przy placu Nowym",
    "Sygnalizacja świetlna miga na żółto od rana",
    "Pothole on the bike lane next to the river boulevard",
    "Broken pavement slabs in front of the post office",
    "Uszkodzony znak drogowy ustąp pierwszeństwa na skrzyżowaniu",
    "Nieodśnieżony chodnik przy przychodni, bardzo ślisko",
];

fn create_body(i: usize) -> String {
    let description = DESCRIPTIONS
        .get(i % DESCRIPTIONS.len())
        .copied()
        .unwrap_or("dziura w jezdni");
    // Points spread over the demo city's districts (and a few outside them).
    let lat = 50.00 + (i % 97) as f64 * 0.0012;
    let long = 19.85 + (i % 89) as f64 * 0.0025;
    let mut body = serde_json::json!({
        "description": format!("{description} (zgłoszenie {i})"),
        "lat": lat,
        "long": long,
    });
    match i % 4 {
        0 => body["contact"] = serde_json::json!({"phone": format!("+48600{:06}", i % 1_000_000)}),
        1 => {
            body["contact"] = serde_json::json!({"email": format!("mieszkaniec{i}@example.org")});
            body["language"] = serde_json::json!("en");
        }
        2 => body["address"] = serde_json::json!(format!("ul. Długa {}", i % 120 + 1)),
        _ => {}
    }
    body.to_string()
}

fn create_request(i: usize, idempotency_every: usize) -> anyhow::Result<http::Request<Body>> {
    let mut builder =
        http::Request::post("/v1/requests").header("content-type", "application/json");
    if idempotency_every > 0 && i.is_multiple_of(idempotency_every) {
        builder = builder.header("idempotency-key", format!("bench-{i:08}"));
    }
    Ok(builder.body(Body::from(create_body(i)))?)
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    // 1 ns .. 60 s at 3 significant figures.
    Ok(Histogram::new_with_bounds(1, 60_000_000_000, 3)?)
}

async fn call(app: &axum::Router, req: http::Request<Body>) -> anyhow::Result<(u16, bytes::Bytes)> {
    let resp = app.clone().oneshot(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Runs the warm-up, the timed creates, then the timed public views of the
/// cases just created.
pub async fn run(catalogue_dir: &Path, options: IntakeOptions) -> anyhow::Result<IntakeFigures> {
    let read = |name: &str| {
        let path = catalogue_dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let doc =
        CatalogueDocument::from_sources(&read("catalogue.toml")?, &read("districts.geojson")?)
            .context("parsing the demo catalogue")?;
    let store = Arc::new(MemoryStore::default());
    let deps = Deps {
        store: store.clone(),
        catalogue: Catalogue::new(doc).context("building the demo catalogue")?,
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds::new(
            citydesk_core::ids::TrackingKey::new(b"bench"),
            citydesk_core::contact::ContactKey::new(b"bench"),
        )),
        media: Arc::new(MemoryBlobs::default()),
    };
    let app = router(Arc::new(deps));

    // Warm-up: allocator, lazy statics, branch predictors. Not timed.
    for i in 0..options.warmup {
        let (status, body) = call(&app, create_request(1_000_000_000 + i, 0)?).await?;
        if status != 201 {
            bail!(
                "warm-up POST /v1/requests answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    let _ = store.take_committed();

    // Requests are built before the clock starts; the loop only calls the router.
    let requests = (0..options.creates)
        .map(|i| create_request(i, options.idempotency_every))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut latency = histogram()?;
    let mut answers = Vec::with_capacity(options.creates);
    let started = Instant::now();
    for req in requests {
        let t = Instant::now();
        let answer = call(&app, req).await?;
        latency.record(duration_nanos(t.elapsed()))?;
        answers.push(answer);
    }
    let create = Throughput {
        operation: "POST /v1/requests",
        requests: options.creates,
        elapsed: started.elapsed(),
        latency,
    };

    let mut cases = Vec::with_capacity(answers.len());
    for (status, body) in &answers {
        if *status != 201 {
            bail!(
                "POST /v1/requests answered {status} (want 201): {}",
                String::from_utf8_lossy(body)
            );
        }
        let created: serde_json::Value =
            serde_json::from_slice(body).context("POST /v1/requests answer is not JSON")?;
        let case = created["case_number"]
            .as_str()
            .context("POST /v1/requests answer has no case_number")?;
        cases.push(case.to_owned());
    }
    // One committed creation per new request reaches the outbox (its
    // classification and confirmation follow from it).
    let committed = store.take_committed().len();
    if committed != options.creates {
        bail!(
            "{committed} committed events for {} created requests (expected one each)",
            options.creates
        );
    }

    let view = if cases.is_empty() || options.views == 0 {
        Throughput {
            operation: "GET /v1/requests/{case}",
            requests: 0,
            elapsed: Duration::ZERO,
            latency: histogram()?,
        }
    } else {
        let requests = (0..options.views)
            .map(|i| {
                let case = &cases[i % cases.len()];
                http::Request::get(format!("/v1/requests/{case}")).body(Body::empty())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut latency = histogram()?;
        let mut bad = None;
        let started = Instant::now();
        for req in requests {
            let t = Instant::now();
            let (status, body) = call(&app, req).await?;
            latency.record(duration_nanos(t.elapsed()))?;
            if status != 200 && bad.is_none() {
                bad = Some((status, body));
            }
        }
        let elapsed = started.elapsed();
        if let Some((status, body)) = bad {
            bail!(
                "GET /v1/requests/{{case}} answered {status} (want 200): {}",
                String::from_utf8_lossy(&body)
            );
        }
        Throughput {
            operation: "GET /v1/requests/{case}",
            requests: options.views,
            elapsed,
            latency,
        }
    };

    Ok(IntakeFigures {
        create,
        view,
        stored: store.request_count(),
    })
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}
