//! `citydesk`: the admin command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "citydesk", about = "citydesk administration")]
struct Cli {
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open311 client application keys.
    #[command(subcommand)]
    ApiKey(ApiKey),
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
    let stack_file = cli.table.is_none().then_some(cli.stack_file.as_path());
    let store = citydesk_cli::target::store(stack_file, cli.table.as_deref()).await?;
    match cli.command {
        Command::ApiKey(ApiKey::Create { client }) => {
            let key = citydesk_cli::api_keys::create(&store, &client).await?;
            println!("{key}");
            eprintln!("Open311 api_key for {client}; it is not stored and cannot be shown again.");
        }
        Command::ApiKey(ApiKey::Revoke { key }) => {
            if citydesk_cli::api_keys::revoke(&store, &key).await? {
                eprintln!("revoked");
            } else {
                anyhow::bail!("no such key");
            }
        }
    }
    Ok(())
}
