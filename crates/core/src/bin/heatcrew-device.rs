//! `heatcrew-device`: for support staff working on a device database copied off a phone.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use ed25519_dalek::VerifyingKey;
use heatcrew_core::Store;
use heatcrew_core::audit::audit;
use heatcrew_core::demo;
use rusqlite::{Connection, OpenFlags};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "Inspect and check a HeatCrew device database")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every hash, signature and chain link; name the first bad event.
    Verify {
        #[arg(long)]
        db: PathBuf,
        /// Verify against this Ed25519 public key (hex, e.g. as enrolled at the office) instead of
        /// the key stored in the database.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print every event as one JSON line.
    Export {
        #[arg(long)]
        db: PathBuf,
    },
    /// Sign this device database in to an office, enrolling its key, exactly as the app's sign-in
    /// screen does (`./dev run` uses it to open the app already signed in to the demo office).
    Login {
        #[arg(long)]
        db: PathBuf,
        /// The office's address, e.g. http://127.0.0.1:8080
        #[arg(long)]
        office: String,
        #[arg(long)]
        user: String,
        #[arg(long, env = "HEATCREW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Record a demo field day: N home repair visits, one inspection, one patrol round.
    Demo {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 3)]
        visits: usize,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Verify { db, public_key } => verify(&db, public_key.as_deref()),
        Command::Export { db } => {
            let store = open_existing(&db)?;
            let mut out = std::io::stdout().lock();
            for e in store.events()? {
                let line = serde_json::to_string(&e)? + "\n";
                match out.write_all(line.as_bytes()) {
                    // The reader went away (e.g. `| head`): that is not an error.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
                    other => other?,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Login {
            db,
            office,
            user,
            password,
        } => {
            let store = std::sync::Mutex::new(Store::open(&db)?);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let session = rt
                .block_on(heatcrew_core::sync::login(
                    &store, &office, &user, &password,
                ))
                .with_context(|| format!("sign in to {office} as {user}"))?;
            println!(
                "signed in as {} ({}) at {}; device {}",
                session.user.username,
                session.user.display_name,
                session.office_url,
                session.device_code
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { db, visits } => {
            let mut store = Store::open(&db)?;
            let mut images = demo::generated_png;
            let counts = demo::field_day(&mut store, &mut images, visits)?;
            println!(
                "recorded {} events: {} home repair visits, {} inspection, {} patrol round (device {})",
                counts.events,
                counts.visits,
                counts.inspections,
                counts.patrols,
                store.device_id()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify(db: &Path, public_key: Option<&str>) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let key = match public_key {
        Some(hex_key) => {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hex_key, &mut bytes)
                .context("--public-key: want 64 hex characters")?;
            VerifyingKey::from_bytes(&bytes).context("--public-key: not an Ed25519 key")?
        }
        None => store.public_key(),
    };
    let events = match store.events() {
        Ok(events) => events,
        Err(e) => {
            println!("bad: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    match audit(&events, store.device_id(), &key, Some(store.tip())) {
        Ok(n) => {
            println!("ok: {n} events");
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            println!("bad: {failure}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Open a database that must already exist (never create one by mistake while checking).
fn open_existing(db: &Path) -> anyhow::Result<Store> {
    if !db.is_file() {
        bail!("no database at {}", db.display());
    }
    // Refuse files that are not SQLite before the store tries to migrate them.
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .with_context(|| format!("{} is not a HeatCrew database", db.display()))?;
    Ok(Store::open(db)?)
}
