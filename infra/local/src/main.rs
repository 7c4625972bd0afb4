//! `citydesk-local`: the whole system on this machine (see the crate docs).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Runs every citydesk function of the deployed stack locally")]
struct Args {
    /// Stack description written by infra/local/deploy_stack.py.
    #[arg(long, default_value = ".local/stack-citydesk-local.json")]
    stack_file: PathBuf,
    /// Address of the local HTTP API.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Catalogue folder (catalogue.toml, districts.geojson); repeat for more cities.
    #[arg(long = "catalogue-dir", default_value = "infra/demo-city")]
    catalogue_dirs: Vec<PathBuf>,
    /// Where the demo credentials are written.
    #[arg(long, default_value = ".local/credentials.json")]
    credentials_file: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    citydesk_aws::telemetry::init_local();
    let args = Args::parse();
    let system = citydesk_local::start(citydesk_local::Options {
        stack_file: args.stack_file,
        listen: args.listen,
        catalogue_dirs: args.catalogue_dirs,
        credentials_file: args.credentials_file.clone(),
        fire_schedules: true,
    })
    .await?;
    let url = system.base_url();
    println!(
        "\ncitydesk is running (stack {}, AWS API at {})\n",
        system.stack.stack_name, system.stack.endpoint_url
    );
    println!("  HTTP API            {url}");
    for r in &system.stack.http_routes {
        println!("    {:<6} {url}{}  -> {}", r.method, r.path, r.function);
    }
    for q in &system.stack.queue_sources {
        println!(
            "  queue               {} -> {}",
            q.queue_url.rsplit('/').next().unwrap_or_default(),
            q.function
        );
    }
    if let Some(f) = system
        .stack
        .functions
        .values()
        .find(|f| f.binary == "intake-email")
    {
        println!(
            "  write to the city   drop a raw message (.eml) in s3://{}/{}<any id> (what SES does; e.g. events/email/)",
            f.environment.get("BUCKET_NAME").map_or("?", String::as_str),
            f.environment
                .get("INBOUND_MAIL_PREFIX")
                .map_or("?", String::as_str)
        );
    }
    for i in &system.stack.direct_invocations {
        println!(
            "  invoked by {:<24} {} (as the service calls it: POST {url}/_local/invoke/{} with its event; events/ has real-shaped ones)",
            i.principal, i.function, i.function
        );
    }
    for s in &system.stack.schedules {
        println!(
            "  schedule            {} {} -> {}  (run now: POST {url}/_local/schedules/{}/run)",
            s.name, s.expression, s.function, s.name
        );
    }
    for (dept, queue) in &system.published.department_queues {
        println!(
            "  department queue    {dept}: {}",
            queue.rsplit('/').next().unwrap_or_default()
        );
    }
    println!("  residents' portal   {url}/  (report a problem: {url}/report)");
    println!(
        "  staff pages         {url}/staff/  (sign in as any demo member of staff; clerks: the department portal; operators: the console)"
    );
    println!("  OpenAPI             {url}/openapi.json");
    println!("  Open311 GeoReport   {url}/open311/v2/discovery.json");
    println!("  outbox (SMS/e-mail) {url}/_local/outbox");
    println!(
        "  text the city       curl -s {url}/_local/sms/inbound --data-urlencode From=+48600100200 --data-urlencode 'Body=Dziura w jezdni'  (the reply lands in the outbox)"
    );
    println!(
        "  API keys            {} (departments, and open311_api_key)",
        args.credentials_file.display()
    );
    println!(
        "  bucket              {}",
        system.stack.resource("Bucket").unwrap_or("?")
    );
    println!(
        "  table               {}",
        system.stack.resource("Table").unwrap_or("?")
    );
    println!(
        "\nTry: curl -s -X POST {url}/v1/requests -H 'content-type: application/json' \\\n       -d '{{\"description\": \"Na ulicy Długiej jest ogromna dziura w jezdni\", \"lat\": 50.07, \"long\": 19.935, \"contact\": {{\"phone\": \"+48600100200\"}}}}'\n\nCtrl-C stops."
    );
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    system.shutdown().await;
    Ok(())
}
