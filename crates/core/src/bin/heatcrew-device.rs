//! `heatcrew-device`: for support staff working on a device database copied off a phone.

use anyhow::Context;
use clap::{Parser, Subcommand};
use ed25519_dalek::VerifyingKey;
use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_core::evidence::DeviceDb;
use heatcrew_core::keys::FileVault;
use heatcrew_protocol::export::{Export, ExportLine, ExportReport, verify_exports};
use std::collections::HashMap;
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
    /// Check every hash, signature and chain link (naming the first bad event), the recorded tip,
    /// every photo and signature file, and the office's receipts and tree heads the device kept.
    /// Opens the database read-only: nothing on disk changes. Exit 0 ok, 1 faults, 2 not checkable.
    Verify {
        #[arg(long)]
        db: PathBuf,
        /// The folder holding the database's key (`database-key.secret`) when the database is
        /// encrypted; default `<db>.keys/` beside it.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Verify against this Ed25519 public key (hex, e.g. as enrolled at the office) instead of
        /// the key stored in the database.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Write the standalone evidence export (docs/evidence.md) to stdout, or with `--bundle` to
    /// `<dir>/export.jsonl` with every referenced photo and signature in `<dir>/files/`.
    /// Opens the database read-only.
    Export {
        #[arg(long)]
        db: PathBuf,
        /// As for `verify`.
        #[arg(long)]
        keys: Option<PathBuf>,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Check export files (docs/evidence.md), alone and against each other; `file` lines are
    /// read relative to each export's folder. Exit 0 ok, 1 faults, 2 unreadable.
    VerifyExport {
        #[arg(required = true)]
        exports: Vec<PathBuf>,
        /// Treat anything unproven (e.g. a tree head without a consistency proof) as a fault.
        #[arg(long)]
        strict: bool,
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
        Command::Verify {
            db,
            keys,
            public_key,
        } => verify(&open(&db, keys)?, public_key.as_deref()),
        Command::Export { db, keys, bundle } => export(&open(&db, keys)?, bundle.as_deref()),
        Command::VerifyExport { exports, strict } => verify_export(&exports, strict),
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

/// The database read-only, with its key from `keys` or from `<db>.keys/`.
fn open(db: &Path, keys: Option<PathBuf>) -> anyhow::Result<DeviceDb> {
    let vault = keys.map_or_else(|| FileVault::beside(db), FileVault::new);
    Ok(DeviceDb::open_read_only_with(db, &vault)?)
}

fn verify(device: &DeviceDb, public_key: Option<&str>) -> anyhow::Result<ExitCode> {
    let key = public_key.map(parse_key).transpose()?;
    let report = device.verify(key)?;
    let c = &report.checks;
    match &report.chain {
        Ok(n) if report.ok() => println!(
            "ok: {n} events, {} files, {} receipts, {} tree heads",
            c.files, c.receipts, c.tree_heads
        ),
        Ok(n) => println!("bad: {n} events chain up, but the evidence around them does not hold"),
        Err(failure) => println!("bad: {failure}"),
    }
    print_findings(c);
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn export(device: &DeviceDb, bundle: Option<&Path>) -> anyhow::Result<ExitCode> {
    let lines = device.export(chrono::Utc::now(), None, bundle.is_some())?;
    let mut text = String::new();
    for line in &lines {
        text.push_str(&serde_json::to_string(line)?);
        text.push('\n');
    }
    let Some(dir) = bundle else {
        match std::io::stdout().lock().write_all(text.as_bytes()) {
            // The reader went away (e.g. `| head`): that is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
        return Ok(ExitCode::SUCCESS);
    };
    let files = dir.join("files");
    std::fs::create_dir_all(&files).with_context(|| format!("create {}", files.display()))?;
    let mut copied = 0;
    for line in &lines {
        if let ExportLine::File { sha256, .. } = line {
            let from = device.attachment_path(sha256);
            // Opened from their seal and copied as recorded: verify-export says whether they
            // still match.
            if from.is_file() {
                let bytes = device
                    .attachment(sha256)
                    .with_context(|| format!("read {}", from.display()))?;
                std::fs::write(files.join(sha256.to_hex()), bytes)
                    .with_context(|| format!("write {}", files.display()))?;
                copied += 1;
            }
        }
    }
    let path = dir.join("export.jsonl");
    std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    println!(
        "wrote {} ({} lines) and {copied} files to {}",
        path.display(),
        lines.len(),
        files.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_export(paths: &[PathBuf], strict: bool) -> anyhow::Result<ExitCode> {
    let mut exports = Vec::new();
    let mut dirs = HashMap::new();
    for path in paths {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        let name = path.display().to_string();
        let export = match Export::parse(&name, &text) {
            Ok(e) => e,
            Err(e) => {
                println!("bad: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        dirs.insert(
            name,
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        );
        exports.push(export);
    }
    // A file line's path is relative to its export's folder; every bundle here shares the rule.
    let folders: Vec<PathBuf> = dirs.values().cloned().collect();
    let report = verify_exports(&exports, |rel| {
        let rel = Path::new(rel);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            return None;
        }
        folders.iter().find_map(|d| std::fs::read(d.join(rel)).ok())
    });
    let ok = report.ok() && (!strict || report.unproven.is_empty());
    if ok {
        println!(
            "ok: {} devices, {} events, {} links, {} receipts, {} tree heads, {} inclusion proofs, {} consistency proofs, {} files, {} sign-ins",
            report.devices,
            report.events,
            report.links,
            report.receipts,
            report.tree_heads,
            report.inclusion_proofs,
            report.consistency_proofs,
            report.files,
            report.sign_ins
        );
    } else {
        println!(
            "bad: {} faults, {} unproven",
            report.faults.len(),
            report.unproven.len()
        );
    }
    print_findings(&report);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_findings(report: &ExportReport) {
    for m in &report.makers {
        println!(
            "device {} events {}..{}: {} (signed in on the device)",
            m.device_id, m.first_seq, m.last_seq, m.username
        );
    }
    for f in &report.faults {
        println!("fault {f}");
    }
    for u in &report.unproven {
        println!("unproven: {u}");
    }
}

fn parse_key(hex_key: &str) -> anyhow::Result<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes).context("--public-key: want 64 hex characters")?;
    VerifyingKey::from_bytes(&bytes).context("--public-key: not an Ed25519 key")
}
