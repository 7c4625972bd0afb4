//! `citydesk-brain-bench`: figures for the brain (issue 4), printed side by side
//! in one run.
//!
//! 1. History import: rows per second reading a seeded synthetic NYC export
//!    (1M rows by default) into normalised JSON lines, and the process's peak
//!    memory before and after.
//! 2. Quality: citydesk's classifier beside the scikit-learn baselines
//!    (`infra/bench/quality/baseline.py`: TF-IDF word or character n-grams +
//!    logistic regression or a linear SVM, each with its C chosen by 5-fold
//!    cross-validation on the training rows) on the same held-out split of the
//!    real NYC and Boston samples, and whether citydesk matches the best one.
//! 3. Speed: classification + routing per request in process (the Kraków demo
//!    catalogue's model and rules), and classifier throughput on one core.
//!
//! Figures, not tests: compare ratios within one run. `infra/bench/brain.sh`
//! (`make bench-brain`) installs scikit-learn into .venv and runs this in release.

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::learning::features::FeatureExtractor;
use citydesk_core::learning::text_classifier::BlockWeights;
use citydesk_core::learning::training::{
    TrainingExample, TrainingOptions, catalogue_examples, train,
};
use citydesk_core::rules::classification::TrainedClassifier;
use citydesk_core::rules::routing::{RoutingCase, route};
use citydesk_history::{HistoryReader, RowResult, write_synthetic_nyc};
use clap::Parser;

mod quality;
use quality::{quality_figures, split};

#[derive(Debug, Parser)]
#[command(name = "citydesk-brain-bench")]
struct Args {
    #[arg(
        long,
        default_value = "shared/history/tests/fixtures/nyc311-2022-05-01.csv"
    )]
    nyc: PathBuf,
    #[arg(
        long,
        default_value = "shared/history/tests/fixtures/boston311-100.csv"
    )]
    boston: PathBuf,
    /// Synthetic NYC rows for the import figure.
    #[arg(long, default_value_t = 1_000_000)]
    import_rows: u64,
    /// Python with scikit-learn (the baseline); skipped when it does not run.
    #[arg(long, default_value = ".venv/bin/python")]
    python: PathBuf,
    #[arg(long, default_value = "infra/bench/quality/baseline.py")]
    baseline: PathBuf,
    #[arg(long, default_value = "infra/demo-city")]
    catalogue_dir: PathBuf,
    /// Only writes the synthetic NYC file (--import-rows rows) here, to time
    /// `citydesk import` on it.
    #[arg(long)]
    write_synthetic: Option<PathBuf>,
    /// Quality section only, with this L2 strength × rows (experiments).
    #[arg(long)]
    l2_times_rows: Option<f32>,
    /// Timed classifications (and classification + routing) per figure.
    #[arg(long, default_value_t = 200_000)]
    texts: usize,
    /// The quality section (classification and routing) only.
    #[arg(long)]
    quality_only: bool,
    /// Passes of citydesk's training over the data (experiments; default: by size).
    #[arg(long)]
    epochs: Option<u32>,
    /// Feature blocks citydesk uses (experiments; default: chosen by
    /// cross-validation on the training rows).
    #[arg(long, value_enum)]
    blocks: Option<BlocksArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BlocksArg {
    Both,
    Words,
    Chars,
}

impl From<BlocksArg> for BlockWeights {
    fn from(arg: BlocksArg) -> Self {
        match arg {
            BlocksArg::Both => Self::BOTH,
            BlocksArg::Words => Self::WORDS_ONLY,
            BlocksArg::Chars => Self::CHARS_ONLY,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "citydesk-brain-bench: one run on this machine; compare ratios, not absolute figures\n"
    );
    let mut training_sample = Vec::new();
    if let Some(path) = &args.write_synthetic {
        let mut out = BufWriter::new(std::fs::File::create(path)?);
        write_synthetic_nyc(&mut out, args.import_rows, 311)?;
        out.flush()?;
        println!(
            "wrote {} synthetic NYC rows to {}",
            args.import_rows,
            path.display()
        );
        return Ok(());
    }
    if args.l2_times_rows.is_some()
        || args.epochs.is_some()
        || args.blocks.is_some()
        || args.quality_only
    {
        return quality_figures(&args);
    }
    import_figures(&args, &mut training_sample)?;
    quality_figures(&args)?;
    speed_figures(&args, &training_sample)?;
    Ok(())
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Rows of the synthetic file kept for the training-time figure.
const TRAINING_SAMPLE_ROWS: usize = 100_000;

fn import_figures(args: &Args, training_sample: &mut Vec<TrainingExample>) -> anyhow::Result<()> {
    let before = peak_rss_mib();
    let file = tempfile::NamedTempFile::new()?;
    {
        let mut out = BufWriter::new(file.as_file());
        write_synthetic_nyc(&mut out, args.import_rows, 311)?;
        out.flush()?;
    }
    let size = file.as_file().metadata()?.len();
    let started = Instant::now();
    let reader = HistoryReader::new(
        BufReader::with_capacity(1 << 16, std::fs::File::open(file.path())?),
        None,
        jiff::tz::TimeZone::get("America/New_York")?,
    )?;
    let mut sink = BufWriter::new(std::io::sink());
    let (mut taken, mut rejected) = (0u64, 0u64);
    for row in reader {
        match row? {
            RowResult::Taken(record) => {
                serde_json::to_writer(&mut sink, &record)?;
                sink.write_all(b"\n")?;
                taken += 1;
            }
            RowResult::Rejected(_) => rejected += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("1. history import (synthetic NYC schema, seed 311, read + normalised + JSON lines)");
    println!(
        "   {taken} rows taken, {rejected} rejected, {:.0} MiB of CSV in {seconds:.2} s: {:.0} rows/s ({:.0} MiB/s)",
        size as f64 / 1048576.0,
        taken as f64 / seconds,
        size as f64 / 1048576.0 / seconds
    );
    println!(
        "   peak memory of the process: {} before, {} after the import\n",
        mib(before),
        mib(peak_rss_mib())
    );
    // The first rows again, kept in memory this time, for the training figure.
    let reader = HistoryReader::new(
        BufReader::new(std::fs::File::open(file.path())?),
        None,
        jiff::tz::TimeZone::get("America/New_York")?,
    )?;
    for row in reader {
        if let RowResult::Taken(record) = row? {
            training_sample.push(TrainingExample {
                text: record.text,
                label: record.service,
            });
            if training_sample.len() >= TRAINING_SAMPLE_ROWS {
                break;
            }
        }
    }
    Ok(())
}

fn mib(v: Option<f64>) -> String {
    v.map_or("?".into(), |m| format!("{m:.1} MiB"))
}

fn speed_figures(args: &Args, training_sample: &[TrainingExample]) -> anyhow::Result<()> {
    let dir = &args.catalogue_dir;
    let toml = std::fs::read_to_string(dir.join("catalogue.toml"))?;
    let geojson = std::fs::read_to_string(dir.join("districts.geojson"))?;
    let catalogue = Catalogue::new(CatalogueDocument::from_sources(&toml, &geojson)?)?;
    let examples = catalogue_examples(&catalogue);
    let model = citydesk_core::learning::artifact::Model {
        jurisdiction: catalogue.city().jurisdiction_id.to_string(),
        version: "bench".into(),
        history_examples: 0,
        catalogue_examples: examples.len() as u64,
        classifier: train(&examples, &TrainingOptions::default())?,
        routes: Default::default(),
    };
    let classifier = TrainedClassifier::new(&model, &catalogue);
    let texts = [
        "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
        "A huge pothole outside the school on Dluga street",
        "Przewrócone drzewo blokuje chodnik przy parku",
        "Nie świeci latarnia na rogu od tygodnia",
        "Loud music from the flat upstairs every night",
        "Ktoś wyrzucił gruz i stare meble do lasu",
        "Burst pipe, water everywhere on the pavement",
        "Samochód zaparkowany na przejściu dla pieszych",
    ];
    let at: jiff::Timestamp = "2026-11-30T09:00:00Z".parse()?;
    let n = args.texts;
    let started = Instant::now();
    let mut assigned = 0usize;
    for i in 0..n {
        let text = texts[i % texts.len()];
        let top = classifier.top(text, 3);
        if let Some(best) = top.first()
            && route(
                &catalogue,
                &RoutingCase {
                    service: &best.service_code,
                    district: Some("stare-miasto"),
                    text,
                    received_at: at,
                },
                Some(&model.routes),
                &[],
            )
            .is_ok()
        {
            assigned += 1;
        }
    }
    let per_request = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("3. speed in process, one core (release build)");
    println!(
        "   classification (top 3) + routing, Kraków demo catalogue's model ({} services, {} features): {per_request:.2} µs per request over {n} requests ({assigned} routed)",
        model.classifier.labels().len(),
        model.classifier.feature_count()
    );
    let nyc = split(&args.nyc, 0)?;
    let nyc_model = train(&nyc.train, &TrainingOptions::default())?;
    let nyc_texts: Vec<&str> = nyc
        .train
        .iter()
        .chain(&nyc.test)
        .map(|e| e.text.as_str())
        .collect();
    let mut x = FeatureExtractor::default();
    let started = Instant::now();
    let mut found = 0usize;
    for i in 0..n {
        if nyc_model
            .best(&mut x, nyc_texts[i % nyc_texts.len()])
            .is_some()
        {
            found += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "   classifier throughput, NYC sample's model ({} labels, {} features): {:.0} texts/s ({found} classified)",
        nyc_model.labels().len(),
        nyc_model.feature_count(),
        n as f64 / seconds
    );
    let started = Instant::now();
    let big = train(training_sample, &TrainingOptions::default())?;
    println!(
        "   training on {} synthetic NYC rows ({} labels, {} features): {:.2} s",
        training_sample.len(),
        big.labels().len(),
        big.feature_count(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
