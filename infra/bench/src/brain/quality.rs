//! The quality section of `citydesk-brain-bench`: citydesk's classifier and
//! learned routes beside the tuned scikit-learn baselines on the real samples,
//! on the held-out fifth and on every fifth in turn.

use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use citydesk_core::learning::evaluation::{Evaluation, FOLDS, evaluate, fold_of};
use citydesk_core::learning::features::FeatureExtractor;
use citydesk_core::learning::routing_table::{
    HandledCase, LearnedRoutes, MajorityTables, RouteLearner,
};
use citydesk_core::learning::text_classifier::BlockWeights;
use citydesk_core::learning::training::{TrainingExample, TrainingOptions, train};
use citydesk_history::{HistoryReader, RowResult};
use serde::Deserialize;

use super::Args;

/// A sample's rows: one fold held out, the others to train on.
pub(super) struct Split {
    pub train: Vec<TrainingExample>,
    pub test: Vec<TrainingExample>,
    /// The rows that name a department, as routing learns from them.
    train_cases: Vec<HandledCase>,
    test_cases: Vec<HandledCase>,
}

/// The rows of `fold` held out, the others to train on.
pub(super) fn split(path: &Path, fold: u32) -> anyhow::Result<Split> {
    let reader = HistoryReader::new(
        BufReader::new(std::fs::File::open(path).with_context(|| format!("{}", path.display()))?),
        None,
        jiff::tz::TimeZone::get("America/New_York")?,
    )?;
    let mut s = Split {
        train: Vec::new(),
        test: Vec::new(),
        train_cases: Vec::new(),
        test_cases: Vec::new(),
    };
    for row in reader {
        if let RowResult::Taken(r) = row?
            && !r.text.trim().is_empty()
        {
            let held_out = fold_of(&r.source_id) == fold;
            if let Some(department) = &r.department {
                let case = HandledCase {
                    service: r.service.clone(),
                    subtype: r.subtype.clone(),
                    text: r.text.clone(),
                    district: r.district.clone(),
                    received_at: r.created_at,
                    department: department.clone(),
                };
                if held_out {
                    s.test_cases.push(case);
                } else {
                    s.train_cases.push(case);
                }
            }
            let example = TrainingExample {
                text: r.text,
                label: r.service,
            };
            if held_out {
                s.test.push(example);
            } else {
                s.train.push(example);
            }
        }
    }
    Ok(s)
}

pub(super) fn quality_figures(args: &Args) -> anyhow::Result<()> {
    println!("2. quality on the same held-out fifth (row ids hashing to 0 mod 5)");
    println!(
        "   each baseline's C chosen by 5-fold cross-validation (macro-F1) on the training rows only"
    );
    // citydesk's L2 per example is k / rows, as scikit-learn's C = 1 / k.
    let citydesk_c = args
        .l2_times_rows
        .map_or("-".to_owned(), |k| format!("{:.2}", 1.0 / k));
    for (name, path) in [("nyc", &args.nyc), ("boston", &args.boston)] {
        let data = split(path, 0)?;
        let (ours, labels, train_seconds, blocks) = citydesk_scores(args, &data)?;
        let baselines = run_baseline(args, &data).unwrap_or_else(|e| {
            eprintln!("   baselines for {name} skipped: {e:#}");
            Vec::new()
        });
        println!(
            "   {name}: {} train, {} test, {} labels",
            data.train.len(),
            data.test.len(),
            labels
        );
        println!(
            "     {:<40} {:>6} {:>6} {:>9} {:>9} {:>8}",
            "model", "C", "CV F1", "accuracy", "macro-F1", "train s"
        );
        println!(
            "     {:<40} {:>6} {:>6} {:>9.3} {:>9.3} {:>8.2}",
            format!("citydesk, {}", blocks_name(blocks)),
            citydesk_c,
            "-",
            ours.accuracy,
            ours.macro_f1,
            train_seconds
        );
        // The first of equals: the order baseline.py lists them in.
        let best = baselines
            .iter()
            .reduce(|best, b| if b.macro_f1 > best.macro_f1 { b } else { best });
        for b in &baselines {
            let cv = b.cv_macro_f1.map_or("-".to_owned(), |f| format!("{f:.3}"));
            let mark = if best.is_some_and(|best| std::ptr::eq(best, b)) {
                "  <- best baseline"
            } else {
                ""
            };
            println!(
                "     {:<40} {:>6.2} {:>6} {:>9.3} {:>9.3} {:>8.2}{mark}",
                b.name, b.c, cv, b.accuracy, b.macro_f1, b.training_seconds
            );
        }
        if let Some(best) = best {
            let verdict = if ours.macro_f1 >= best.macro_f1 {
                "at least as good as"
            } else {
                "behind"
            };
            println!(
                "     citydesk is {verdict} the best baseline on macro-F1: {:.3} vs {:.3} ({:+.3})",
                ours.macro_f1,
                best.macro_f1,
                ours.macro_f1 - best.macro_f1
            );
        }
        routing_figures(&data);
        every_row_held_out_once(args, name, path)?;
    }
    println!(
        "   (accuracy and macro-F1 on the test rows; train s: the final fit on all training rows;\n    citydesk's default L2 of 0.1 / rows is C = 10, --l2-times-rows k is C = 1 / k)\n"
    );
    Ok(())
}

/// Which feature blocks a model uses, as the bench prints it.
fn blocks_name(blocks: BlockWeights) -> &'static str {
    match (blocks.words > 0.0, blocks.chars > 0.0) {
        (true, true) => "words+chars",
        (true, false) => "words",
        _ => "chars",
    }
}

/// citydesk trained on `data.train` and scored on `data.test`: the scores,
/// how many labels it learned, its training seconds, the blocks it chose.
fn citydesk_scores(
    args: &Args,
    data: &Split,
) -> anyhow::Result<(Evaluation, usize, f64, BlockWeights)> {
    let started = Instant::now();
    let options = TrainingOptions {
        l2: args.l2_times_rows.map(|k| k / data.train.len() as f32),
        epochs: args.epochs,
        blocks: args.blocks.map(BlockWeights::from),
        ..TrainingOptions::default()
    };
    let model = train(&data.train, &options)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let mut x = FeatureExtractor::default();
    let predictions: Vec<String> = data
        .test
        .iter()
        .map(|e| {
            model
                .best(&mut x, &e.text)
                .map(|c| c.label.to_owned())
                .unwrap_or_default()
        })
        .collect();
    let scores = evaluate(
        data.test
            .iter()
            .zip(&predictions)
            .map(|(e, p)| (e.label.as_str(), p.as_str())),
        0,
    );
    Ok((
        scores,
        model.labels().len(),
        train_seconds,
        model.block_weights(),
    ))
}

/// One held-out fifth of a small sample is a few rows (Boston's is 20), where
/// one row moves macro-F1 by several points: here every fold is held out in
/// turn, citydesk and every baseline tuned and scored on each, and the mean
/// over the folds printed side by side.
fn every_row_held_out_once(args: &Args, name: &str, path: &Path) -> anyhow::Result<()> {
    let mut ours = (0.0, 0.0);
    let mut chosen = Vec::new();
    let mut theirs: Vec<(String, f64, f64)> = Vec::new();
    for fold in 0..FOLDS {
        let data = split(path, fold)?;
        let (scores, _, _, blocks) = citydesk_scores(args, &data)?;
        chosen.push(blocks_name(blocks));
        ours.0 += scores.accuracy / f64::from(FOLDS);
        ours.1 += scores.macro_f1 / f64::from(FOLDS);
        let baselines = match run_baseline(args, &data) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("   outer folds for {name} skipped: {e:#}");
                return Ok(());
            }
        };
        for b in baselines {
            match theirs.iter_mut().find(|(n, _, _)| *n == b.name) {
                Some(t) => {
                    t.1 += b.accuracy / f64::from(FOLDS);
                    t.2 += b.macro_f1 / f64::from(FOLDS);
                }
                None => theirs.push((
                    b.name,
                    b.accuracy / f64::from(FOLDS),
                    b.macro_f1 / f64::from(FOLDS),
                )),
            }
        }
    }
    println!("     every row held out once ({FOLDS} outer folds, the mean over them):");
    println!("       {:<40} {:>9} {:>9}", "model", "accuracy", "macro-F1");
    println!(
        "       {:<40} {:>9.3} {:>9.3}",
        format!("citydesk ({})", chosen.join(", ")),
        ours.0,
        ours.1
    );
    for (model, accuracy, macro_f1) in &theirs {
        println!("       {model:<40} {accuracy:>9.3} {macro_f1:>9.3}");
    }
    if let Some(best) = theirs.iter().map(|t| t.2).reduce(f64::max) {
        let verdict = if ours.1 >= best {
            "at least as good as"
        } else {
            "behind"
        };
        println!(
            "       citydesk is {verdict} the best baseline on mean macro-F1: {:.3} vs {best:.3} ({:+.3})",
            ours.1,
            ours.1 - best
        );
    }
    Ok(())
}

/// Learned routing on the held-out rows beside the majority baselines.
fn routing_figures(data: &Split) {
    if data.test_cases.is_empty() {
        println!("     routing: the sample names no departments");
        return;
    }
    let started = Instant::now();
    let routes = LearnedRoutes::learn(&data.train_cases);
    let seconds = started.elapsed().as_secs_f64();
    let tables = routes.tables();
    let history_tables = MajorityTables::learn(
        data.train_cases
            .iter()
            .map(|c| (c.query(), c.department.as_str())),
    );
    let share = |pick: &dyn Fn(&HandledCase) -> Option<String>| {
        data.test_cases
            .iter()
            .filter(|c| pick(c).as_deref() == Some(c.department.as_str()))
            .count() as f64
            / data.test_cases.len() as f64
    };
    let learner = match routes.learner() {
        RouteLearner::DepartmentClassifier => "department classifier",
        RouteLearner::MajorityTables => "majority tables",
    };
    println!(
        "     routing, {} held-out rows with a department ({} departments in training):",
        data.test_cases.len(),
        data.train_cases
            .iter()
            .map(|c| c.department.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    println!(
        "       citydesk learned routes ({learner}, learned in {seconds:.2} s) {:.3}",
        share(&|c| routes.department(&c.live_query()))
    );
    println!(
        "       majority by sub-type × district {:.3} (the export's column; live requests have none); by service × district {:.3}; by service {:.3}",
        share(&|c| history_tables.department(&c.query()).map(str::to_owned)),
        share(&|c| tables
            .service_and_district(&c.live_query())
            .map(str::to_owned)),
        share(&|c| tables.service_default(&c.service).map(str::to_owned)),
    );
}

/// What `quality/baseline.py` prints (its other fields are not read).
#[derive(Debug, Deserialize)]
struct BaselineReport {
    baselines: Vec<Baseline>,
}

/// One tuned scikit-learn baseline, scored on the test rows.
#[derive(Debug, Deserialize)]
struct Baseline {
    name: String,
    /// The C its cross-validation chose.
    #[serde(rename = "C")]
    c: f64,
    /// Mean macro-F1 over the folds at that C; `None` when no fold could be fitted.
    cv_macro_f1: Option<f64>,
    accuracy: f64,
    macro_f1: f64,
    training_seconds: f64,
}

/// The scikit-learn baselines, as `quality/baseline.py` lists them.
fn run_baseline(args: &Args, data: &Split) -> anyhow::Result<Vec<Baseline>> {
    let dir = tempfile::tempdir()?;
    for (name, rows) in [("train.csv", &data.train), ("test.csv", &data.test)] {
        let mut out = csv::Writer::from_path(dir.path().join(name))?;
        out.write_record(["text", "label"])?;
        for r in rows.iter() {
            out.write_record([r.text.as_str(), r.label.as_str()])?;
        }
        out.flush()?;
    }
    let output = std::process::Command::new(&args.python)
        .arg(&args.baseline)
        .arg(dir.path())
        .output()
        .with_context(|| format!("running {}", args.python.display()))?;
    if !output.status.success() {
        anyhow::bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let report: BaselineReport = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "{} printed no baseline report: {}",
            args.baseline.display(),
            String::from_utf8_lossy(&output.stdout).trim()
        )
    })?;
    if report.baselines.is_empty() {
        anyhow::bail!("{} reported no baselines", args.baseline.display());
    }
    Ok(report.baselines)
}
