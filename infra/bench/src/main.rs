//! `citydesk-bench`: prints the benchmark figures of citydesk as one table.
//!
//! A. intake handler throughput in process (in-memory ports);
//! B. cold init of each function binary against a Lambda runtime API
//!    stand-in, beside a bare `lambda_runtime` hello world;
//! C. each binary's size.
//!
//! Figures, not tests: one run on whatever machine runs it. Compare the ratios
//! within one run, not absolute numbers across machines. `infra/bench/run.sh`
//! (`make bench`) builds the binaries, starts the emulator, deploys the stack
//! and runs this; see `infra/bench/README.md`.

mod cold;
mod intake;
mod stack;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use crate::cold::{ColdFigures, ColdOptions, Subject};
use crate::intake::{IntakeFigures, IntakeOptions};
use crate::stack::Stack;

/// The function binaries of template.yaml, in pipeline order.
const FUNCTIONS: &[&str] = &[
    "intake-web",
    "open311",
    "classify",
    "route",
    "department-api",
    "notify",
    "report",
    "sla-watch",
    "dispatch",
];
const HELLO: &str = "bench-hello";
/// The floor: what every function pays before its own start-up work.
const FLOOR: &str = "bench-clients";
/// How far above the floor a function's cold init may be.
const FLOOR_TARGET: f64 = 1.3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Layout {
    /// `<bin-dir>/<bin>/bootstrap`, as `cargo lambda build` writes them.
    Lambda,
    /// `<bin-dir>/<bin>`, as `cargo build --release` writes them.
    Plain,
}

/// Prints citydesk's benchmark figures: intake requests/s in process, cold
/// init of each function binary, and binary sizes.
#[derive(Debug, Parser)]
#[command(name = "citydesk-bench", version)]
struct Args {
    /// Where the built binaries are.
    #[arg(long, default_value = "target/lambda")]
    bin_dir: PathBuf,
    /// How binaries are laid out under --bin-dir.
    #[arg(long, value_enum, default_value = "lambda")]
    layout: Layout,
    /// How the binaries were built (printed above the cold-init and size tables).
    #[arg(long, default_value = "cargo lambda build --release")]
    build_note: String,
    /// Stack description from infra/local/deploy_stack.py (needed for cold init).
    #[arg(long)]
    stack_file: Option<PathBuf>,
    /// Folder with catalogue.toml and districts.geojson.
    #[arg(long, default_value = "infra/demo-city")]
    catalogue_dir: PathBuf,
    /// Untimed POSTs before the timed ones.
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    /// Timed POST /v1/requests, each with a distinct body.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Timed GET /v1/requests/{case} over the cases just created.
    #[arg(long, default_value_t = 20_000)]
    views: usize,
    /// Every n-th POST carries its own Idempotency-Key (0: none).
    #[arg(long, default_value_t = 4)]
    idempotency_every: usize,
    /// Measured starts of each binary (after one unrecorded warm-up start).
    #[arg(long, default_value_t = 21)]
    runs: usize,
    /// AWS_LAMBDA_FUNCTION_MEMORY_SIZE given to the functions.
    #[arg(long, default_value_t = 256)]
    memory_size: u32,
    /// Give up on a start that has not asked for its first event after this long.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Where each binary's output of its latest start is kept.
    #[arg(long, default_value = ".local/bench")]
    log_dir: PathBuf,
    #[arg(long)]
    skip_intake: bool,
    #[arg(long)]
    skip_cold: bool,
    #[arg(long)]
    skip_sizes: bool,
}

impl Args {
    fn binary(&self, name: &str) -> PathBuf {
        match self.layout {
            Layout::Lambda => self.bin_dir.join(name).join("bootstrap"),
            Layout::Plain => self.bin_dir.join(name),
        }
    }
    fn binaries(&self) -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
        [HELLO, FLOOR]
            .into_iter()
            .chain(FUNCTIONS.iter().copied())
            .map(|name| {
                let path = self.binary(name);
                if path.is_file() {
                    Ok((name, path))
                } else {
                    anyhow::bail!(
                        "{} is missing: build the binaries first (infra/bench/run.sh does)",
                        path.display()
                    )
                }
            })
            .collect()
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    print_header();

    if !args.skip_intake {
        let figures = intake::run(
            &args.catalogue_dir,
            IntakeOptions {
                warmup: args.warmup,
                creates: args.requests,
                views: args.views,
                idempotency_every: args.idempotency_every,
            },
        )
        .await
        .context("intake throughput")?;
        print_intake(&figures, &args);
    }

    let binaries = if args.skip_cold && args.skip_sizes {
        Vec::new()
    } else {
        args.binaries()?
    };

    if !args.skip_cold {
        let stack_file = args
            .stack_file
            .as_deref()
            .context("--stack-file is needed for cold init (or pass --skip-cold)")?;
        let stack = Stack::load(stack_file)?;
        let key = stack::publish_catalogue(&stack, &args.catalogue_dir).await?;
        stack::store_secrets(&stack).await?;
        let subjects = binaries
            .iter()
            .map(|(name, path)| subject(&stack, name, path))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let options = ColdOptions {
            runs: args.runs,
            memory_size_mb: args.memory_size,
            timeout: Duration::from_secs(args.timeout_secs),
        };
        let load = load_average();
        let figures = cold::measure_all(&subjects, &options, &args.log_dir)
            .await
            .context("cold init")?;
        print_cold(&figures, &args, &stack, &key, &load);
    }

    if !args.skip_sizes {
        print_sizes(&binaries, &args)?;
    }
    Ok(())
}

fn subject(stack: &Stack, name: &str, path: &Path) -> anyhow::Result<Subject> {
    let path = std::path::absolute(path)?;
    if name == HELLO {
        // The hello world gets what Lambda injects (and the same AWS variables),
        // but no template environment: it reads none.
        return Ok(Subject {
            name: name.to_owned(),
            path,
            env: stack.aws_env(),
            function_name: format!("{}-BenchHello", stack.stack_name),
        });
    }
    if name == FLOOR {
        // The floor reads the configuration every function reads: a function's env.
        let f = stack.function("route")?;
        return Ok(Subject {
            name: name.to_owned(),
            path,
            env: stack.function_env(f),
            function_name: format!("{}-BenchClients", stack.stack_name),
        });
    }
    let f = stack.function(name)?;
    Ok(Subject {
        name: name.to_owned(),
        path,
        env: stack.function_env(f),
        function_name: f.function_name.clone(),
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| {
            let parts: Vec<&str> = l.split_whitespace().take(3).collect();
            (parts.len() == 3).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn print_header() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "citydesk bench  {}  {} {}  {cores} cores ({})  load {}",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        cpu_model(),
        load_average()
    );
    println!(
        "One run on a shared machine: compare ratios within this run, not absolute figures across runs."
    );
}

fn print_intake(f: &IntakeFigures, args: &Args) {
    println!();
    println!(
        "A. intake-web handler in process: citydesk_intake_web::router over in-memory ports \
         (MemoryStore, MemoryQueues, MemoryBlobs; system clock and ids), tower oneshot, current-thread tokio, {} build",
        if cfg!(debug_assertions) {
            "DEBUG (not comparable)"
        } else {
            "release"
        }
    );
    println!(
        "   {} untimed warm-up POSTs; {} distinct POST bodies, every {} with its own Idempotency-Key; \
         GETs cycle over the created cases",
        args.warmup,
        args.requests,
        if args.idempotency_every == 0 {
            "none".to_owned()
        } else {
            ordinal(args.idempotency_every)
        }
    );
    println!(
        "   {:<26} {:>8} {:>12} {:>10} {:>10} {:>10}",
        "operation", "requests", "requests/s", "p50 µs", "p99 µs", "max µs"
    );
    for t in [&f.create, &f.view] {
        println!(
            "   {:<26} {:>8} {:>12.0} {:>10.1} {:>10.1} {:>10.1}",
            t.operation,
            t.requests,
            t.per_second(),
            t.micros_at(0.50),
            t.micros_at(0.99),
            t.latency.max() as f64 / 1_000.0
        );
    }
    println!("   ({} requests in the store at the end)", f.stored);
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "one".to_owned(),
        2 => "2nd".to_owned(),
        3 => "3rd".to_owned(),
        n => format!("{n}th"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn print_cold(
    figures: &[ColdFigures],
    args: &Args,
    stack: &Stack,
    catalogue_key: &str,
    load: &str,
) {
    println!();
    println!(
        "B. cold init: process spawn -> first GET /2018-06-01/runtime/invocation/next on a runtime API stand-in (127.0.0.1)"
    );
    println!("   binaries: {}", args.build_note);
    println!(
        "   env: template variables of stack {} on {} (catalogue {} published there), \
         AWS_LAMBDA_FUNCTION_MEMORY_SIZE={}; {} measured starts each after one unrecorded, round-robin; load {}",
        stack.stack_name,
        if stack.endpoint_url.is_empty() {
            "AWS"
        } else {
            &stack.endpoint_url
        },
        catalogue_key,
        args.memory_size,
        args.runs,
        load
    );
    let hello = figures.iter().find(|f| f.name == HELLO);
    let hello_median = hello.map(ColdFigures::median).unwrap_or_default();
    let hello_min = hello.map(ColdFigures::min).unwrap_or_default();
    let floor = figures.iter().find(|f| f.name == FLOOR);
    let floor_median = floor.map(ColdFigures::median).unwrap_or_default();
    println!(
        "   {:<16} {:>10} {:>8} {:>8} {:>9} {:>8} {:>9} {:>14}",
        "binary",
        "median ms",
        "min ms",
        "max ms",
        "x hello",
        "x hello",
        "x floor",
        "median - hello"
    );
    println!(
        "   {:<16} {:>10} {:>8} {:>8} {:>9} {:>8} {:>9} {:>14}",
        "", "", "", "", "(median)", "(min)", "(median)", "ms"
    );
    let ratio_of =
        |a: Duration, b: Duration| (!b.is_zero()).then(|| a.as_secs_f64() / b.as_secs_f64());
    let shown = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"));
    let mut above = Vec::new();
    for f in figures {
        let to_floor = ratio_of(f.median(), floor_median);
        let is_function = f.name != HELLO && f.name != FLOOR;
        if is_function && to_floor.is_some_and(|r| r > FLOOR_TARGET) {
            above.push(f.name.clone());
        }
        println!(
            "   {:<16} {:>10.2} {:>8.2} {:>8.2} {:>9} {:>8} {:>9} {:>14.2}",
            f.name,
            ms(f.median()),
            ms(f.min()),
            ms(f.max()),
            shown(ratio_of(f.median(), hello_median)),
            shown(ratio_of(f.min(), hello_min)),
            shown(to_floor),
            ms(f.median()) - ms(hello_median)
        );
    }
    println!(
        "   floor: {FLOOR} builds the clients every function builds, nothing else; target: every function <= {FLOOR_TARGET}x floor ({})",
        if above.is_empty() {
            "met".to_owned()
        } else {
            format!("above: {}", above.join(", "))
        }
    );
}

fn print_sizes(binaries: &[(&str, PathBuf)], args: &Args) -> anyhow::Result<()> {
    println!();
    println!("C. binary size: {}", args.build_note);
    println!(
        "   {:<16} {:>12} {:>10} {:>8} {:>8}  file",
        "binary", "bytes", "KiB", "MiB", "x hello"
    );
    let sizes = binaries
        .iter()
        .map(|(name, path)| {
            let len = std::fs::metadata(path)
                .with_context(|| format!("reading the size of {}", path.display()))?
                .len();
            Ok((*name, path, len))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let hello = sizes
        .iter()
        .find(|(name, _, _)| *name == HELLO)
        .map(|(_, _, len)| *len)
        .unwrap_or(0);
    for (name, path, len) in sizes {
        let ratio = if hello == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}", len as f64 / hello as f64)
        };
        println!(
            "   {:<16} {:>12} {:>10.0} {:>8.2} {:>8}  {}",
            name,
            len,
            len as f64 / 1024.0,
            len as f64 / (1024.0 * 1024.0),
            ratio,
            path.display()
        );
    }
    Ok(())
}
