//! `heatcrew-sim`: a simulated field day against a running office. Prints one JSON line and exits
//! non-zero if anything was lost or duplicated or a chain failed.

use clap::Parser;
use heatcrew_sim::{SimConfig, run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    version,
    about = "Simulate a field day of N devices against a HeatCrew office"
)]
struct Cli {
    /// The office, e.g. http://127.0.0.1:8080; several processes of one office as
    /// `--office URL --office URL` or comma-separated (devices are spread over them in turn).
    #[arg(long, required = true, value_delimiter = ',')]
    office: Vec<String>,
    #[arg(long, default_value_t = 5)]
    devices: usize,
    #[arg(long, default_value_t = 5)]
    jobs_per_device: usize,
    /// Chance that a device has no signal when it would sync (0..1).
    #[arg(long, default_value_t = 0.3)]
    offline_ratio: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// An admin account at the office (the demo office's admin by default).
    #[arg(long, default_value = "admin")]
    admin_user: String,
    #[arg(long, env = "HEATCREW_ADMIN_PASSWORD", default_value = "heatcrew-demo")]
    admin_password: String,
    /// Keep the device databases here instead of a temporary folder.
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// Seconds each device keeps trying to empty its outbox at the end.
    #[arg(long, default_value_t = 300)]
    drain_timeout: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !(0.0..=1.0).contains(&cli.offline_ratio) {
        eprintln!("error: --offline-ratio must be between 0 and 1");
        return ExitCode::from(2);
    }
    let cfg = SimConfig {
        offices: cli.office,
        devices: cli.devices,
        jobs_per_device: cli.jobs_per_device,
        offline_ratio: cli.offline_ratio,
        seed: cli.seed,
        admin_user: cli.admin_user,
        admin_password: cli.admin_password,
        workdir: cli.workdir,
        drain_timeout: Duration::from_secs(cli.drain_timeout),
    };
    match run(&cfg) {
        Ok(result) => {
            println!(
                "{}",
                serde_json::to_string(&result).expect("result serializes")
            );
            if result.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
