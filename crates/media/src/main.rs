//! `heatcrew-media`: run the photo or signature pipeline on one file and store the result by hash.
//!
//! On success prints one JSON line on stdout. On bad input prints the message (English, then
//! Chinese) with its code on stderr, exits 2, and writes nothing; I/O failures exit 1.

use std::fs::{self, File};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use heatcrew_media::{
    GpsPosition, MediaError, PhotoOptions, SignatureOptions, TakenAt, prepare_photo_from_reader,
    prepare_signature,
};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "heatcrew-media",
    version,
    about = "HeatCrew photo and signature pipeline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Photo → OUT_DIR/<sha256>.jpg and OUT_DIR/<sha256>.thumb.jpg
    Prepare {
        /// The camera file (JPEG, PNG or WebP; the name and extension are ignored).
        input: PathBuf,
        /// Folder to store into (created if missing).
        out_dir: PathBuf,
        /// Long side of the stored photo, at most (never upscaled).
        #[arg(long, default_value_t = PhotoOptions::default().max_long_side)]
        max_side: u32,
        /// JPEG quality of the stored photo.
        #[arg(long, default_value_t = PhotoOptions::default().quality)]
        quality: u8,
        /// Long side of the thumbnail, at most.
        #[arg(long, default_value_t = PhotoOptions::default().thumb_long_side)]
        thumb_side: u32,
    },
    /// Signature canvas PNG → OUT_DIR/<sha256>.png
    Signature {
        /// The PNG exported by the signature canvas.
        input: PathBuf,
        /// Folder to store into (created if missing).
        out_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let started = Instant::now();
    let result = match &cli.command {
        Command::Prepare {
            input,
            out_dir,
            max_side,
            quality,
            thumb_side,
        } => {
            let opts = PhotoOptions {
                max_long_side: *max_side,
                quality: *quality,
                thumb_long_side: *thumb_side,
                ..PhotoOptions::default()
            };
            run_prepare(input, out_dir, &opts, started)
        }
        Command::Signature { input, out_dir } => run_signature(input, out_dir, started),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(Failure::Media(e)) => {
            eprintln!("heatcrew-media: {} [{}]\n{}", e, e.code(), e.message_zh());
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
        Err(Failure::Io(context, e)) => {
            eprintln!("heatcrew-media: {context}: {e} [io_error]");
            ExitCode::from(1)
        }
    }
}

#[derive(Debug)]
enum Failure {
    Media(MediaError),
    Io(String, std::io::Error),
}

fn io_context(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
    let context = context.into();
    move |e| Failure::Io(context, e)
}

fn read_input(input: &Path) -> Result<Vec<u8>, Failure> {
    fs::read(input).map_err(io_context(format!("cannot read {}", input.display())))
}

fn run_prepare(
    input: &Path,
    out_dir: &Path,
    opts: &PhotoOptions,
    started: Instant,
) -> Result<String, Failure> {
    // Streamed, not read whole: the file is decoded as it is read, and never held twice.
    let file = File::open(input).map_err(io_context(format!("cannot read {}", input.display())))?;
    let photo = prepare_photo_from_reader(BufReader::with_capacity(64 * 1024, file), opts)
        .map_err(Failure::Media)?;
    let name = photo.sha256.to_hex();
    store(
        out_dir,
        &[
            (format!("{name}.jpg"), &photo.jpeg),
            (format!("{name}.thumb.jpg"), &photo.thumbnail),
        ],
    )?;
    Ok(serde_json::to_string(&PhotoLine {
        sha256: name,
        width: photo.width,
        height: photo.height,
        bytes: photo.jpeg.len(),
        thumb_sha256: photo.thumb_sha256.to_hex(),
        thumb_width: photo.thumb_width,
        thumb_height: photo.thumb_height,
        thumb_bytes: photo.thumbnail.len(),
        orientation_applied: photo.orientation_applied,
        taken_at: photo.taken_at,
        gps: photo.gps,
        ms: started.elapsed().as_millis() as u64,
    })
    .expect("plain data serialises"))
}

/// The JSON line `prepare` prints, keys in the documented order.
#[derive(Debug, Serialize)]
struct PhotoLine {
    sha256: String,
    width: u32,
    height: u32,
    bytes: usize,
    thumb_sha256: String,
    thumb_width: u32,
    thumb_height: u32,
    thumb_bytes: usize,
    orientation_applied: u8,
    taken_at: Option<TakenAt>,
    gps: Option<GpsPosition>,
    ms: u64,
}

fn run_signature(input: &Path, out_dir: &Path, started: Instant) -> Result<String, Failure> {
    let bytes = read_input(input)?;
    let sig = prepare_signature(&bytes, &SignatureOptions::default()).map_err(Failure::Media)?;
    let name = sig.sha256.to_hex();
    store(out_dir, &[(format!("{name}.png"), &sig.png)])?;
    Ok(json!({
        "sha256": name,
        "width": sig.width,
        "height": sig.height,
        "bytes": sig.png.len(),
        "ink_pixels": sig.ink_pixels,
        "ms": started.elapsed().as_millis() as u64,
    })
    .to_string())
}

/// Writes each file to a temporary name in `dir`, fsyncs it, renames it into place, then fsyncs
/// the folder, so a crash leaves either the whole file or none (plus at worst a `.tmp` file).
/// On failure, files this call put in place are removed again.
fn store(dir: &Path, files: &[(String, &Vec<u8>)]) -> Result<(), Failure> {
    fs::create_dir_all(dir).map_err(io_context(format!("cannot create {}", dir.display())))?;
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io_context(format!(
                "cannot create a file in {}",
                dir.display()
            )))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_context(format!("cannot write {name}")))?;
        staged.push((dir.join(name), tmp));
    }
    let mut placed: Vec<PathBuf> = Vec::new();
    for (path, tmp) in staged {
        // Content-addressed: an existing file of that name already holds these bytes.
        let existed = path.exists();
        if let Err(e) = tmp.persist(&path) {
            for p in &placed {
                let _ = fs::remove_file(p);
            }
            return Err(Failure::Io(
                format!("cannot rename into {}", path.display()),
                e.error,
            ));
        }
        if !existed {
            placed.push(path);
        }
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_context(format!("cannot sync {}", dir.display())))
}
