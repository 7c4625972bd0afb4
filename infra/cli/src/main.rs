//! `citydesk`: the admin command.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use citydesk_cli::history_import::{ImportOptions, import, schema_from_args};
use citydesk_cli::model_training::{LabelMap, evaluate_city, load_catalogue, train_city};
use citydesk_cli::target::{TargetArgs, deployment};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "citydesk", about = "citydesk administration")]
struct Cli {
    /// A stack deployed with `sam deploy`: its outputs name the table, the
    /// bucket and the alarm topic (credentials and region from the environment).
    #[arg(long, global = true)]
    stack_name: Option<String>,
    /// Stack description (infra/local/deploy_stack.py) naming the deployment.
    #[arg(
        long,
        global = true,
        default_value = ".local/stack-citydesk-local.json"
    )]
    stack_file: PathBuf,
    /// The table, instead of a stack file (endpoint and credentials from the environment).
    #[arg(long, global = true)]
    table: Option<String>,
    /// The bucket, instead of a stack file.
    #[arg(long, global = true)]
    bucket: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The city's catalogue, calendar, address list and departments.
    #[command(subcommand)]
    City(City),
    /// Keys of the departments' API (hashed, shown once, revoked at once).
    #[command(subcommand)]
    DepartmentKey(DepartmentKey),
    /// A person's data: export everything held about them, or erase it.
    #[command(subcommand)]
    Citizen(Citizen),
    /// Open311 client application keys.
    #[command(subcommand)]
    ApiKey(ApiKey),
    /// Imports a city's past requests from a CSV export (NYC, San Francisco,
    /// Boston or Open311 bulk schema, detected from the header, or a mapping file).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The city the history belongs to (its jurisdiction id).
        #[arg(long)]
        city: String,
        /// Force a built-in schema: nyc, sf, boston, open311.
        #[arg(long)]
        schema: Option<String>,
        /// A TOML mapping file for any other export.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Time zone of the export's local dates (default: the city's catalogue's).
        #[arg(long)]
        time_zone: Option<String>,
        /// Read and report only; store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Trains the city's classifier and learned routes from its imported
    /// history and its catalogue, and makes the model current.
    Train {
        #[arg(long)]
        city: String,
        /// TOML `[labels]` renaming old categories to the catalogue's service codes.
        #[arg(long)]
        label_map: Option<PathBuf>,
        /// At most this many history rows are read.
        #[arg(long, default_value_t = 1_000_000)]
        max_rows: usize,
    },
    /// Service levels of the imported history per service (time to close, on
    /// time, who handled it, repeated reports), archived under reports/.
    HistoryReport {
        #[arg(long)]
        city: String,
        #[arg(long)]
        label_map: Option<PathBuf>,
        /// Radius of the repeated-report probe, in metres.
        #[arg(long, default_value_t = 50.0)]
        duplicate_radius_m: f64,
        /// Window of the repeated-report probe, in hours.
        #[arg(long, default_value_t = 48)]
        duplicate_window_hours: u32,
        /// Services printed (all are archived).
        #[arg(long, default_value_t = 15)]
        top: usize,
    },
    /// Trains on four fifths of the imported history and scores the held-out fifth.
    Evaluate {
        #[arg(long)]
        city: String,
        #[arg(long)]
        label_map: Option<PathBuf>,
        #[arg(long, default_value_t = 1_000_000)]
        max_rows: usize,
        /// Also writes train.csv and test.csv (text,label) here, for the baseline script.
        #[arg(long)]
        export_split: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum City {
    /// Publishes a city's folder (catalogue.toml, districts.geojson, optional
    /// addresses.csv): the catalogue, each department's queue with its
    /// dead-letter queue and alarms, a first key per department. Idempotent;
    /// a department left out is removed once it holds no open request.
    Publish {
        dir: PathBuf,
        /// Print what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, clap::Args)]
struct Person {
    /// The person's phone number (international form, e.g. +48600100200).
    #[arg(long)]
    phone: Option<String>,
    /// The person's e-mail address.
    #[arg(long)]
    email: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Citizen {
    /// Prints (or writes to --out) everything held about the person, as JSON.
    Export {
        #[command(flatten)]
        person: Person,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Erases the person's data: contacts, index entries, photos, training
    /// examples; their requests stay, anonymised. Safe to run again.
    Erase {
        #[command(flatten)]
        person: Person,
    },
}

#[derive(Debug, Subcommand)]
enum DepartmentKey {
    /// Creates a key for a department and prints it (once).
    Create {
        #[arg(long)]
        department: String,
    },
    /// Lists a department's keys by id (never the keys), revoked ones marked.
    List {
        #[arg(long)]
        department: String,
    },
    /// Revokes a key: the key itself, its SHA-256 or its id from `list`.
    Revoke {
        #[arg(long)]
        department: String,
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKey {
    /// Creates a key for a client application and prints it (once).
    Create {
        #[arg(long)]
        client: String,
    },
    /// Revokes a key (the key itself or its SHA-256).
    Revoke {
        #[arg(long)]
        key: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("citydesk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let named_directly = cli.table.is_some() || cli.bucket.is_some() || cli.stack_name.is_some();
    let target = TargetArgs {
        stack_name: cli.stack_name.as_deref(),
        stack_file: (!named_directly).then_some(cli.stack_file.as_path()),
        table: cli.table.as_deref(),
        bucket: cli.bucket.as_deref(),
    };
    let deployment = deployment(target).await?;
    match cli.command {
        Command::City(City::Publish { dir, dry_run }) => {
            let published = citydesk_cli::city::publish(&deployment, &dir, dry_run).await?;
            print!("{}", citydesk_cli::city::render(&published, dry_run));
        }
        Command::Citizen(Citizen::Export { person, out }) => {
            use citydesk_cli::citizen::{Identifier, contact_key, export};
            let who = Identifier::from_args(person.phone.as_deref(), person.email.as_deref())?;
            let key = contact_key(&deployment).await?;
            let document = serde_json::to_string_pretty(&export(&deployment, &key, &who).await?)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, document)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "written to {} (personal data: hand it over securely)",
                        path.display()
                    );
                }
                None => println!("{document}"),
            }
        }
        Command::Citizen(Citizen::Erase { person }) => {
            use citydesk_cli::citizen::{Identifier, contact_key, erase};
            let who = Identifier::from_args(person.phone.as_deref(), person.email.as_deref())?;
            let key = contact_key(&deployment).await?;
            let report = erase(&deployment, &key, &who).await?;
            println!(
                "erased: {} request(s) anonymised, {} contact(s), {} photo(s), {} training example(s), {} text(s); recorded",
                report.requests_anonymised,
                report.contacts_deleted,
                report.photos_deleted,
                report.training_examples_deleted,
                report.texts_erased
            );
        }
        Command::DepartmentKey(DepartmentKey::Create { department }) => {
            let key = citydesk_cli::city::create_key(&deployment, &department).await?;
            println!("{key}");
            eprintln!(
                "API key for department {department}; it is not stored and cannot be shown again."
            );
        }
        Command::DepartmentKey(DepartmentKey::List { department }) => {
            let keys = citydesk_cli::city::list_keys(&deployment, &department).await?;
            if keys.is_empty() {
                println!("department {department} has no keys");
            }
            for key in keys {
                match key.revoked_at {
                    None => println!("{}  created {}  active", key.key_id, key.created_at),
                    Some(at) => {
                        println!("{}  created {}  revoked {at}", key.key_id, key.created_at)
                    }
                }
            }
        }
        Command::DepartmentKey(DepartmentKey::Revoke { department, key }) => {
            citydesk_cli::city::revoke_key(&deployment, &department, &key).await?;
            eprintln!("revoked: the department's API refuses it from now on");
        }
        Command::ApiKey(ApiKey::Create { client }) => {
            let key = citydesk_cli::api_keys::create(&deployment.store, &client).await?;
            println!("{key}");
            eprintln!("Open311 api_key for {client}; it is not stored and cannot be shown again.");
        }
        Command::ApiKey(ApiKey::Revoke { key }) => {
            if citydesk_cli::api_keys::revoke(&deployment.store, &key).await? {
                eprintln!("revoked");
            } else {
                anyhow::bail!("no such key");
            }
        }
        Command::Import {
            file,
            city,
            schema,
            mapping,
            time_zone,
            dry_run,
        } => {
            let schema = schema_from_args(schema.as_deref(), mapping.as_deref())?;
            let time_zone = match time_zone {
                Some(name) => jiff::tz::TimeZone::get(&name)
                    .with_context(|| format!("--time-zone {name:?} is not a known time zone"))?,
                None => match load_catalogue(&deployment.blobs, &city).await? {
                    Some(c) => c.time_zone().clone(),
                    None => anyhow::bail!(
                        "{city} has no published catalogue here: name the export's time zone with --time-zone (e.g. America/New_York)"
                    ),
                },
            };
            let outcome = import(
                &deployment.blobs,
                ImportOptions {
                    file: &file,
                    city: &city,
                    schema,
                    time_zone,
                    dry_run,
                    show_progress: std::io::stderr().is_terminal(),
                },
            )
            .await?;
            if outcome.already_imported {
                println!(
                    "{} was imported before: nothing stored again",
                    file.display()
                );
            }
            println!("{}", outcome.summary);
            match outcome.stored_as {
                Some(key) => println!("stored as s3://{}/{key}", deployment.bucket),
                None => println!("dry run: nothing stored"),
            }
        }
        Command::Train {
            city,
            label_map,
            max_rows,
        } => {
            let labels = label_map_from(label_map.as_deref())?;
            let report = train_city(&deployment.blobs, &city, &labels, max_rows).await?;
            let m = &report.model;
            println!(
                "trained model {} for {city}: {} history rows, {} operator choices, {} catalogue examples, {} labels, {} features, temperature {:.2}, {:.2} s",
                m.version,
                m.history_examples,
                report.operator_examples,
                m.catalogue_examples,
                m.classifier.labels().len(),
                m.classifier.feature_count(),
                m.classifier.temperature(),
                report.seconds
            );
            if !report.catalogue_found {
                println!(
                    "no catalogue of {city} is published here: the model is stored, but a city's functions use it only when its labels are services of that city's catalogue (see --label-map)"
                );
            }
            if !report.labels_outside_catalogue.is_empty() {
                println!(
                    "{} history labels are not services of the catalogue and will not be chosen (rename them with --label-map): {}",
                    report.labels_outside_catalogue.len(),
                    report
                        .labels_outside_catalogue
                        .iter()
                        .take(10)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            println!(
                "stored as s3://{}/{} (current); functions load it at their next cold start",
                deployment.bucket, report.stored_as
            );
        }
        Command::HistoryReport {
            city,
            label_map,
            duplicate_radius_m,
            duplicate_window_hours,
            top,
        } => {
            if duplicate_radius_m.is_nan()
                || duplicate_radius_m <= 0.0
                || duplicate_window_hours == 0
            {
                anyhow::bail!("--duplicate-radius-m and --duplicate-window-hours must be above 0");
            }
            let probe = citydesk_history::DuplicateProbe {
                radius_m: duplicate_radius_m,
                window_hours: duplicate_window_hours,
            };
            let labels = label_map_from(label_map.as_deref())?;
            let report = citydesk_cli::history_report::history_report(
                &deployment.blobs,
                &city,
                &labels,
                probe,
            )
            .await?;
            println!("{}", report.render(&city, probe, top));
            println!(
                "archived as s3://{0}/{1} and s3://{0}/{2}",
                deployment.bucket, report.json_key, report.csv_key
            );
        }
        Command::Evaluate {
            city,
            label_map,
            max_rows,
            export_split,
        } => {
            let labels = label_map_from(label_map.as_deref())?;
            let report = evaluate_city(
                &deployment.blobs,
                &city,
                &labels,
                max_rows,
                export_split.as_deref(),
            )
            .await?;
            println!("{}", report.render(&city));
        }
    }
    Ok(())
}

fn label_map_from(path: Option<&std::path::Path>) -> anyhow::Result<LabelMap> {
    path.map_or_else(|| Ok(LabelMap::default()), LabelMap::from_file)
}
