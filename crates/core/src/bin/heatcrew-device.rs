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
        Command::Demo { db, visits } => {
            let mut store = Store::open(&db)?;
            let mut images = |label: &str, n: u32| (demo_png(label, n), "image/png");
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

/// A small generated PNG (a coloured gradient with the label's hash as tint) so the demo has real
/// image files; the app gets photos from the camera through the media pipeline.
fn demo_png(label: &str, n: u32) -> Vec<u8> {
    let (w, h) = (64u32, 48u32);
    let tint = label
        .bytes()
        .fold(n as u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            raw.extend_from_slice(&[(x * 4) as u8, (y * 5) as u8, tint]);
        }
    }
    // zlib stream with stored (uncompressed) deflate blocks.
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(&data);
        png.extend_from_slice(&crc_input);
        png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
