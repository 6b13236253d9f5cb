//! `heatcrew-office migrate`: move a whole office from embedded SQLite and a folder to PostgreSQL
//! and object storage (docs/moving-up.md).
//!
//! - [`plan`]: which tables, in which order, checked against both schemas before anything moves;
//! - [`copy`]: the rows, in batches, each committed with its progress row, so a killed run resumes;
//! - [`objects`]: the attachment files, content-addressed, each counted once re-hashed at the target;
//! - [`target`]: the target's bookkeeping (which office it holds, how far the copy got) and the
//!   counters set at the end (the ledger's commit-order counter, identity sequences);
//! - [`compare`]: every table compared row for row (as hash sums), per device for the events;
//! - [`progress`]: bars on stderr.
//!
//! The run ends with `verify` on the target (chains, ledger, Merkle log, tree heads, every file
//! re-hashed). The source is only read; stop its office first (see [`source`]).

pub mod cell;
pub mod compare;
pub mod copy;
pub mod objects;
pub mod plan;
pub mod progress;
pub mod source;
pub mod target;

use crate::objects::{Location, Objects};
use crate::office_key::{self, OfficeKeyError};
use crate::store::{PgStore, StoreError};
use crate::verify::{self, VerifyReport};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use compare::Comparison;
pub use target::Claim;

/// Why a migration stopped before its comparison.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("the schemas do not match the migration plan: {0}")]
    Schema(String),
    #[error("stored data cannot be copied as it is: {0}")]
    Corrupt(String),
    #[error("attachment files: {0}")]
    Objects(String),
    #[error("the source database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the target database: {0}")]
    Postgres(#[from] postgres::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] OfficeKeyError),
}

/// What to move where.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// The office's SQLite file.
    pub from: PathBuf,
    /// Its attachment files (default `<db>.files`).
    pub from_objects: Location,
    /// `postgres://…` of an empty database (or one this migration was cut short in).
    pub to: String,
    /// Where the attachment files go.
    pub to_objects: Location,
    /// Copy the office key file (`<db>.office-key`) here, owner-only, after checking it is the
    /// key the database records.
    pub to_key: Option<PathBuf>,
    pub batch_rows: usize,
    /// A pause after each batch and file (tests kill a run mid-way with it).
    pub pause: Duration,
    /// Progress bars on stderr (drawn only when it is a terminal).
    pub show_progress: bool,
}

impl MigrateOptions {
    /// The defaults for a source at `from` going to `to` and `to_objects`.
    pub fn new(from: impl AsRef<Path>, to: &str, to_objects: Location) -> MigrateOptions {
        let from = from.as_ref().to_path_buf();
        MigrateOptions {
            from_objects: crate::Config::new(&from).objects,
            from,
            to: to.to_owned(),
            to_objects,
            to_key: None,
            batch_rows: 5_000,
            pause: Duration::ZERO,
            show_progress: false,
        }
    }
}

/// What a migration did and found.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub claim: Claim,
    pub office_public_key: String,
    pub comparison: Comparison,
    /// Attachment files the source counts as received (all at the target, re-hashed there).
    pub files: u64,
    pub file_bytes: u64,
    pub counters: target::Counters,
    /// `verify` on the target.
    pub verify: VerifyReport,
    pub elapsed: Duration,
    /// Of which: copying rows and files, comparing, verifying the target.
    pub copy_time: Duration,
    pub compare_time: Duration,
    pub verify_time: Duration,
}

impl MigrationReport {
    /// Everything that differs, the target's verify faults included.
    pub fn differences(&self) -> Vec<String> {
        let mut all = self.comparison.differences();
        all.extend(self.verify.faults.iter().map(|f| format!("verify: {f}")));
        all
    }

    /// The target matches the source and verifies.
    pub fn ok(&self) -> bool {
        self.differences().is_empty()
    }

    /// The summary `migrate` prints.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let how = match &self.claim {
            Claim::Fresh => "migrated".to_owned(),
            Claim::Resumed => "resumed and finished the migration of".to_owned(),
            Claim::Finished { at } => format!("compared (the migration finished at {at})"),
        };
        let _ = writeln!(
            s,
            "{how} office {} in {:.1} s (copy {:.1} s, compare {:.1} s, verify {:.1} s)",
            self.office_public_key,
            self.elapsed.as_secs_f64(),
            self.copy_time.as_secs_f64(),
            self.compare_time.as_secs_f64(),
            self.verify_time.as_secs_f64()
        );
        let _ = writeln!(s, "  {:<22} {:>10} {:>10}", "table", "source", "target");
        for t in &self.comparison.tables {
            let mark = if t.differences.is_empty() {
                ""
            } else {
                "  DIFFERS"
            };
            let _ = writeln!(
                s,
                "  {:<22} {:>10} {:>10}{mark}",
                t.table, t.source_rows, t.target_rows
            );
        }
        let _ = writeln!(
            s,
            "  attachment files: {} ({} bytes), each re-hashed at the target",
            self.files, self.file_bytes
        );
        let _ = writeln!(
            s,
            "  ledger: next change-feed number {}, office log of {} entries",
            self.counters.next_change, self.counters.log_size
        );
        let v = &self.verify;
        let _ = writeln!(
            s,
            "  verify (target): {} events from {} devices, {} files, log of {} entries, {} tree heads, {} faults",
            v.events,
            v.devices,
            v.attachments,
            v.log_entries,
            v.tree_heads,
            v.faults.len()
        );
        let differences = self.differences();
        if differences.is_empty() {
            let _ = writeln!(s, "ok: the target holds the same office as the source");
        } else {
            let _ = writeln!(s, "FAILED: {} differences:", differences.len());
            for d in differences {
                let _ = writeln!(s, "  {d}");
            }
        }
        s
    }
}

/// Move the office. Blocks (call it where blocking is allowed); `rt` runs the object store's
/// requests.
pub fn run(
    opts: &MigrateOptions,
    rt: &tokio::runtime::Handle,
) -> Result<MigrationReport, MigrateError> {
    let started = Instant::now();
    let src = source::open(&opts.from)?;
    let office_public_key = source::office_key(&src)?;
    if let Some(to_key) = &opts.to_key {
        copy_key(
            &office_key::default_path(&opts.from),
            to_key,
            &office_public_key,
        )?;
    }
    // Creates the schema in an empty database; refuses one written by a newer binary.
    let store = PgStore::open(&opts.to)?;
    let mut client = crate::store::postgres::PgTarget::parse(&opts.to)
        .map_err(|e| MigrateError::Refused(format!("the target address: {e}")))?
        .connect()?;
    let tables = plan::resolve(&src, &mut client)?;
    let counts = source::row_counts(&src, &tables)?;
    let claim = target::claim(
        &mut client,
        &tables,
        &office_public_key,
        &opts.from.display().to_string(),
        &source::fingerprint(&counts),
    )?;
    let from_files = Objects::existing(&opts.from_objects)
        .map_err(|e| MigrateError::Objects(format!("{}: {e}", opts.from_objects)))?;
    let to_files = Objects::open(&opts.to_objects)
        .map_err(|e| MigrateError::Objects(format!("{}: {e}", opts.to_objects)))?;
    let autoincrement = source::autoincrement(&src)?;
    let counters = source::counters(&src, &autoincrement)?;
    let received = objects::received(&src)?;
    let files = received.len() as u64;
    let file_bytes = received.iter().map(|(_, n)| n).sum();
    let copy_started = Instant::now();
    if !matches!(claim, Claim::Finished { .. }) {
        let bars = progress::Progress::new(opts.show_progress);
        let pace = copy::Pace {
            batch_rows: opts.batch_rows.max(1),
            pause: opts.pause,
        };
        let table_bars: Vec<progress::Bar> = counts
            .iter()
            .map(|(name, n)| bars.table(name, *n))
            .collect();
        let file_bar = bars.files(files, file_bytes);
        for (t, bar) in tables.iter().zip(&table_bars) {
            copy::copy_table(&src, &mut client, t, pace, bar)?;
        }
        objects::copy_files(
            rt,
            &src,
            &from_files,
            &to_files,
            &mut client,
            opts.pause,
            &file_bar,
        )?;
        target::finish(&mut client, &tables, counters, &autoincrement)?;
    }
    let copy_time = copy_started.elapsed();
    let compare_started = Instant::now();
    let mut comparison = compare::compare(&src, &mut client, &tables, counters)?;
    let now = source::fingerprint(&source::row_counts(&src, &tables)?);
    if now != source::fingerprint(&counts) {
        comparison.other.push(format!(
            "the source changed while it was migrated (an office is running on it?): it was {}, it is {now}; \
             stop the office, drop and recreate the target database, and migrate again",
            source::fingerprint(&counts)
        ));
    }
    let compare_time = compare_started.elapsed();
    let verify_started = Instant::now();
    let verify = verify::check(&store, Some(&to_files))?;
    let verify_time = verify_started.elapsed();
    Ok(MigrationReport {
        claim,
        office_public_key,
        comparison,
        files,
        file_bytes,
        counters,
        verify,
        elapsed: started.elapsed(),
        copy_time,
        compare_time,
        verify_time,
    })
}

/// Copy the office key file to `to` (owner-only), after checking it is the key the database
/// records; a file already at `to` must hold the same key.
fn copy_key(from: &Path, to: &Path, public_key: &str) -> Result<(), MigrateError> {
    let key = office_key::read(from)?.ok_or_else(|| {
        MigrateError::Refused(format!(
            "the office key file {} is missing: restore it from the office's backup first",
            from.display()
        ))
    })?;
    let public = hex::encode(key.verifying_key().as_bytes());
    if public != public_key {
        return Err(MigrateError::Refused(format!(
            "the key file {} holds the key {public}, but the database belongs to {public_key}",
            from.display()
        )));
    }
    if let Some(there) = office_key::read(to)? {
        return if hex::encode(there.verifying_key().as_bytes()) == public_key {
            Ok(())
        } else {
            Err(MigrateError::Refused(format!(
                "{} already holds another office's key",
                to.display()
            )))
        };
    }
    let bytes = std::fs::read(from).map_err(|source| OfficeKeyError::Io {
        path: from.to_owned(),
        source,
    })?;
    let io = |source| OfficeKeyError::Io {
        path: to.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(to).map_err(io)?;
    std::io::Write::write_all(&mut f, &bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}
