//! `heatcrew-office`: serve the office, add users, verify stored evidence, export it and check
//! exports.

use anyhow::Context;
use clap::{Parser, Subcommand};
use heatcrew_office::api::admin::{CreateUserRequest, new_user};
use heatcrew_office::export::{ExportScope, export, write_lines};
use heatcrew_office::storage::{DatabaseUrl, Storage};
use heatcrew_office::store::sqlite::role_str;
use heatcrew_office::store::{AccountStore, PgStore, SqliteStore};
use heatcrew_office::{Office, verify};
use heatcrew_protocol::sync::Role;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "heatcrew-office",
    about = "The HeatCrew office server",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The office's database: an SQLite file (the default) or PostgreSQL, exactly one.
#[derive(Debug, clap::Args)]
struct DatabaseArgs {
    /// SQLite database file (created on first start).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// A PostgreSQL database instead (it must exist; the schema is created on first start):
    /// postgres://user:password@host:port/database. Several office processes may serve one.
    /// Prefer the environment variable to the command line for an address with a password.
    /// Needs --key-file and --objects (nothing lives "beside" it). The password is never printed.
    #[arg(
        long,
        env = "HEATCREW_DATABASE",
        value_name = "postgres://…",
        hide_env_values = true
    )]
    database: Option<DatabaseUrl>,
}

impl DatabaseArgs {
    fn storage(self) -> anyhow::Result<Storage> {
        Storage::from_args(self.db, self.database)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the office API. Prints `listening on http://ADDR` (`https://` with `--tls-cert`) once
    /// bound.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The office's signing key file (default `<db>.office-key`; required with --database,
        /// the same file for every office process).
        #[arg(long, env = "HEATCREW_KEY_FILE", value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed a demo company (idempotent) and print its logins.
        #[arg(long)]
        demo: bool,
        /// Let admins sign in with their password alone. By default an admin needs a TOTP second
        /// factor, and one without signs in only to set it up (`./dev run`'s demo uses this flag).
        #[arg(long)]
        admin_totp_optional: bool,
        /// Behind a reverse proxy: the request header carrying the client's address (e.g.
        /// `X-Forwarded-For`; its last entry, the one the proxy appended, is taken) for throttling
        /// and the audit log. Without it, the TCP peer's address is used. Set it only when every
        /// request comes through that proxy: a client could otherwise write the header itself.
        #[arg(long, value_name = "NAME", value_parser = parse_header_name)]
        client_address_header: Option<String>,
        /// Serve HTTPS with this certificate chain (PEM: the server's certificate first, then any
        /// intermediates). Needs `--tls-key`. Without both, plain HTTP: only on loopback behind a
        /// TLS-terminating reverse proxy (README, "Security").
        #[arg(long, env = "HEATCREW_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1). Keep it owner-only.
        #[arg(long, env = "HEATCREW_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The font of the evidence bundle's PDF summary: a CJK OpenType/TrueType font or
        /// collection (a subset of it is embedded). If it cannot be read, bundles are made
        /// without the PDF and their README says why.
        #[arg(long, env = "HEATCREW_PDF_FONT", value_name = "FILE",
            default_value = heatcrew_office::pdf::DEFAULT_FONT)]
        pdf_font: PathBuf,
        /// Where attachment files live: a folder (default `<db>.files`; required with --database)
        /// or S3-compatible storage, `s3://bucket/prefix`, with credentials, region and endpoint
        /// from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
        /// AWS_ENDPOINT_URL). Several office processes may share one bucket (docs/objects.md).
        #[arg(long, env = "HEATCREW_OBJECTS", value_name = "FOLDER|s3://BUCKET/PREFIX",
            value_parser = heatcrew_office::objects::Location::parse)]
        objects: Option<heatcrew_office::objects::Location>,
        /// With --database: PostgreSQL connections at most in this process's pool (2–1000). Set
        /// the server's `max_connections` to at least (this + 2) × processes + 10 (docs/deploy.md).
        #[arg(long, env = "HEATCREW_DB_CONNECTIONS", value_name = "N",
            default_value_t = heatcrew_office::store::postgres::DEFAULT_POOL_SIZE,
            value_parser = clap::value_parser!(u32).range(2..=1000))]
        db_connections: u32,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Re-check all evidence the office holds, reading only: every device chain and signature,
    /// ledger positions, the Merkle log against the ledger, the tree heads handed out, and every
    /// received attachment file. Never creates, migrates or writes anything.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Where the attachment files are, as `serve --objects` (default `<db>.files`; required
        /// with --database).
        #[arg(long, env = "HEATCREW_OBJECTS", value_name = "FOLDER|s3://BUCKET/PREFIX",
            value_parser = heatcrew_office::objects::Location::parse)]
        objects: Option<heatcrew_office::objects::Location>,
    },
    /// Write an evidence export (JSON lines, docs/evidence.md) to stdout or `--out`. Needs the
    /// office key file (it signs the current tree head and the receipts).
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The office's signing key file (default `<db>.office-key`; required with --database).
        #[arg(long, env = "HEATCREW_KEY_FILE", value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Only this device.
        #[arg(long)]
        device: Option<uuid::Uuid>,
        /// Only this job's events whole (the devices' other events as links).
        #[arg(long)]
        job: Option<uuid::Uuid>,
        /// Only events received at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        /// Only events received before this time (RFC 3339).
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
        /// Add a consistency proof from the tree head of this size (e.g. one a device holds).
        #[arg(long)]
        consistency_from: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check export files (office and device exports together): chains, keys, tips, receipts,
    /// tree heads, proofs and listed files (relative to each export's folder).
    VerifyExport {
        /// Export files (JSON lines).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Treat what could not be checked for lack of a proof as a fault.
        #[arg(long)]
        strict: bool,
    },
    /// Fill a new database with a big company's year of work (users, phones, jobs of every kind,
    /// signed visits pushed through the real ledger), to measure the console against. Prints
    /// what it seeded and the busy day to load the board of.
    Seed {
        /// SQLite database file; must hold no users yet (created if missing).
        #[arg(long, alias = "db")]
        database: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        jobs: u64,
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Days the jobs spread over, ending today (China time); today is the busy day.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Field users, one phone each.
        #[arg(long, default_value_t = 60)]
        field_users: u32,
        /// Seed of the random mix (the same seed, the same company).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The moment the seeded company stands at (RFC 3339; default: now). Today's visits stop
        /// at any step before it, so a seed run just after midnight China time has none started:
        /// tests pass an afternoon to get every state on the board whatever the hour.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Move the whole office from its SQLite file and attachment folder to PostgreSQL and object
    /// storage (docs/moving-up.md). Stop the office first. Resumable: run it again with the same
    /// arguments after a stop anywhere. Ends by comparing every table and re-hashing every file
    /// at the target, and exits non-zero on any difference.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// The office's SQLite file (its office must be stopped).
    #[arg(long, value_name = "DB")]
    from: PathBuf,
    /// Where its attachment files are (default `<DB>.files`).
    #[arg(long, value_name = "FOLDER|s3://BUCKET/PREFIX",
        value_parser = heatcrew_office::objects::Location::parse)]
    from_objects: Option<heatcrew_office::objects::Location>,
    /// The PostgreSQL database: empty, or one this migration was cut short in.
    #[arg(long, value_name = "postgres://…")]
    to: String,
    /// Where the attachment files go (S3 credentials from the environment, as for `serve`).
    #[arg(long, value_name = "FOLDER|s3://BUCKET/PREFIX",
        value_parser = heatcrew_office::objects::Location::parse)]
    to_objects: heatcrew_office::objects::Location,
    /// Copy the office key file (`<DB>.office-key`) here, owner-only, for the office that will
    /// serve the target: receipts and tree heads go on being signed by the same key.
    #[arg(long, value_name = "FILE")]
    to_key: Option<PathBuf>,
    /// Rows per batch (one target transaction each).
    #[arg(long, default_value_t = 5_000)]
    batch_rows: usize,
    /// Pause after each batch and file (tests use it to stop a run mid-way).
    #[arg(long, default_value_t = 0, hide = true)]
    pause_ms: u64,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user (e.g. the first admin).
    Add {
        #[command(flatten)]
        database: DatabaseArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// repair_technician, inspector, patrol, dispatcher or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        badge: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            database,
            key_file,
            listen,
            demo,
            admin_totp_optional,
            client_address_header,
            tls_cert,
            tls_key,
            pdf_font,
            objects,
            db_connections,
        } => {
            // Checked before anything else starts: a bad certificate is a clear error at once.
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    Some(heatcrew_office::tls::Tls::from_pem_files(&cert, &key)?)
                }
                _ => None,
            };
            // Checked at start so a missing font is said once, plainly; bundles still download.
            if let Err(e) = heatcrew_office::pdf::PdfFont::load(&pdf_font) {
                eprintln!(
                    "warning: {e}; evidence bundles will have no PDF summary (install fonts-noto-cjk or pass --pdf-font)"
                );
            }
            let storage = database.storage()?;
            let defaults = storage.config(storage.key_file(key_file)?, storage.objects(objects)?);
            let config = heatcrew_office::Config {
                require_admin_totp: !admin_totp_optional,
                client_address_header,
                pdf_font: Some(pdf_font),
                db_connections,
                ..defaults
            };
            eprintln!("database: {storage}");
            eprintln!("attachment files: {}", config.objects);
            // The PostgreSQL client is synchronous: opening and seeding block this thread.
            let office = tokio::task::block_in_place(|| open_and_seed(&storage, config, demo))?;
            office.warm_chains_in_background();
            // Re-inspections of notices that fell due, patrol rounds, the defects register.
            heatcrew_office::schedule::spawn(
                office.state().clone(),
                std::time::Duration::from_secs(60),
            );
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            let scheme = if tls.is_some() { "https" } else { "http" };
            println!("listening on {scheme}://{addr}");
            if heatcrew_office::console::is_built() {
                println!("office console: {scheme}://{addr}/");
            } else {
                println!(
                    "office console: not built into this binary (cd console && npm ci && npm run build, then rebuild)"
                );
            }
            use std::io::Write;
            std::io::stdout().flush()?;
            let live = office.state().live.clone();
            heatcrew_office::serve(listener, office.router(), tls, async move {
                shutdown_signal().await;
                // Open consoles' live streams would otherwise hold the shutdown open.
                live.close();
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    database,
                    username,
                    password,
                    role,
                    name,
                    badge,
                },
        } => {
            let role: Role = serde_json::from_value(serde_json::Value::String(role.clone())).map_err(|_| {
                anyhow::anyhow!("unknown role {role:?}: use repair_technician, inspector, patrol, dispatcher or admin")
            })?;
            let storage = database.storage()?;
            let user = new_user(CreateUserRequest {
                username,
                password,
                role,
                display_name: name,
                badge_no: badge,
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.body.message))?;
            let info = tokio::task::block_in_place(|| {
                storage
                    .open()?
                    .add_user(user, chrono::Utc::now())
                    .map_err(anyhow::Error::from)
            })?;
            println!(
                "added {} ({}) as {} with id {}",
                info.username,
                info.display_name,
                role_str(info.role),
                info.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { database, objects } => {
            let storage = database.storage()?;
            let location = storage.objects(objects)?;
            let store: Box<dyn heatcrew_office::store::OfficeStore> = match &storage {
                Storage::Sqlite(db) => Box::new(SqliteStore::open_read_only(db)?),
                Storage::Postgres(url) => tokio::task::block_in_place(|| {
                    heatcrew_office::storage::check_reachable(url)?;
                    anyhow::Ok(Box::new(
                        PgStore::open_read_only(url.expose())
                            .with_context(|| format!("opening {url} to read"))?,
                    ))
                })?,
            };
            let files = heatcrew_office::objects::Objects::existing(&location)
                .with_context(|| format!("opening the attachment files at {location}"))?;
            // Reading every file blocks: off the async runtime.
            let r =
                tokio::task::spawn_blocking(move || verify::check(&*store, Some(&files))).await??;
            if r.faults.is_empty() {
                println!(
                    "ok: {} events from {} devices; {} attachment files intact; office log of {} entries, {} tree heads",
                    r.events, r.devices, r.attachments, r.log_entries, r.tree_heads
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "FAILED: {} problems in {} events from {} devices:",
                    r.faults.len(),
                    r.events,
                    r.devices
                );
                for f in &r.faults {
                    println!("  {f}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Export {
            database,
            key_file,
            device,
            job,
            from,
            to,
            consistency_from,
            out,
        } => {
            let storage = database.storage()?;
            if let Storage::Sqlite(db) = &storage {
                anyhow::ensure!(db.is_file(), "no office database at {}", db.display());
            }

            let scope = ExportScope {
                device,
                job,
                from,
                to,
                consistency_from,
            };
            let key_file = storage.key_file(key_file)?;
            tokio::task::block_in_place(|| export_command(&storage, &key_file, &scope, out))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed {
            database,
            jobs,
            events,
            days,
            field_users,
            seed,
            now,
        } => {
            // `--database` is also serve's PostgreSQL flag: an address here would otherwise become
            // an SQLite file named after it, with the password in its name.
            let text = database.to_string_lossy();
            anyhow::ensure!(
                !(text.starts_with("postgres://") || text.starts_with("postgresql://")),
                "seed fills an SQLite file only; to measure on PostgreSQL, seed a file and move it \
                 up with `heatcrew-office migrate --from FILE --to postgres://…`"
            );
            let plan = heatcrew_office::seed::SeedPlan {
                jobs,
                events,
                days,
                field_users,
                seed,
                now: now.unwrap_or_else(chrono::Utc::now),
            };
            tokio::task::spawn_blocking(move || seed_command(&database, &plan)).await?
        }
        Command::Migrate(args) => {
            let mut opts = heatcrew_office::migrate::MigrateOptions::new(
                &args.from,
                &args.to,
                args.to_objects,
            );
            if let Some(from_objects) = args.from_objects {
                opts.from_objects = from_objects;
            }
            opts.to_key = args.to_key;
            opts.batch_rows = args.batch_rows;
            opts.pause = std::time::Duration::from_millis(args.pause_ms);
            opts.show_progress = true;
            let rt = tokio::runtime::Handle::current();
            let report =
                tokio::task::spawn_blocking(move || heatcrew_office::migrate::run(&opts, &rt))
                    .await??;
            print!("{}", report.summary());
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::VerifyExport { files, strict } => {
            let mut exports = Vec::new();
            for path in &files {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                exports.push(
                    heatcrew_protocol::export::Export::parse(&path.display().to_string(), &text)
                        .map_err(|e| anyhow::anyhow!("bad_header: {e}"))?,
                );
            }
            let base = files[0]
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            let r = heatcrew_protocol::export::verify_exports(&exports, |p| {
                std::fs::read(base.join(p)).ok()
            });
            println!(
                "{} devices, {} events, {} links, {} receipts, {} tree heads, {} inclusion and {} consistency proofs, {} files, {} sign-ins",
                r.devices,
                r.events,
                r.links,
                r.receipts,
                r.tree_heads,
                r.inclusion_proofs,
                r.consistency_proofs,
                r.files,
                r.sign_ins
            );
            for m in &r.makers {
                println!(
                    "device {} events {}..{}: {} (signed in on the device)",
                    m.device_id, m.first_seq, m.last_seq, m.username
                );
            }
            for u in &r.unproven {
                println!("unproven: {u}");
            }
            for f in &r.faults {
                println!("FAULT {f}");
            }
            let ok = r.ok() && (!strict || r.unproven.is_empty());
            println!("{}", if ok { "ok" } else { "FAILED" });
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// `export`: the office's evidence for `scope`, signed with the existing key, to `out` or stdout.
fn export_command(
    storage: &Storage,
    key_file: &std::path::Path,
    scope: &ExportScope,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = storage.open()?;
    let office_key = heatcrew_office::office_key::load_existing(key_file, &*store)?;
    let lines = export(&*store, &office_key, scope, chrono::Utc::now())?;
    match out {
        Some(path) => {
            let f = std::fs::File::create(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            write_lines(&lines, std::io::BufWriter::new(f))?;
            eprintln!("wrote {} lines to {}", lines.len(), path.display());
        }
        None => write_lines(&lines, std::io::stdout().lock())?,
    }
    Ok(())
}

/// Open the office on `storage` and, with `demo`, seed the demo company and print its logins.
fn open_and_seed(
    storage: &Storage,
    config: heatcrew_office::Config,
    demo: bool,
) -> anyhow::Result<Office> {
    let office = Office::open_on(storage, config)
        .with_context(|| format!("opening the office on {storage}"))?;
    if demo {
        let logins = office.seed_demo()?;
        println!("demo company ready; logins (username / password / role / name):");
        for l in logins {
            println!(
                "  {} / {} / {} / {} {}",
                l.username,
                l.password,
                role_str(l.role),
                l.display_name,
                l.badge_no
            );
        }
        // The plates posted at the stations, which a patrol scans or types.
        println!("patrol station codes (checkpoint / code):");
        for c in office.store().checkpoint_codes()? {
            println!("  {} / {}", c.checkpoint_id, c.code);
        }
    }
    Ok(office)
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests (and their transactions) finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn seed_command(
    database: &std::path::Path,
    plan: &heatcrew_office::seed::SeedPlan,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let store = std::sync::Arc::new(
        SqliteStore::open(database).with_context(|| format!("opening {}", database.display()))?,
    );
    anyhow::ensure!(
        store.list_users()?.is_empty(),
        "{} already has users: seed a new database",
        database.display()
    );
    let key = heatcrew_office::office_key::load_or_create(
        &heatcrew_office::office_key::default_path(database),
        &*store,
    )?;
    let r = heatcrew_office::seed::seed(&store, &key, plan)?;
    println!(
        "seeded {} users, {} devices, {} jobs, {} events in {:.1} s (of which {:.1} s verifying {} events' chains); busy day {} ({} jobs); password of every user: {}",
        r.users,
        r.devices,
        r.jobs,
        r.events,
        started.elapsed().as_secs_f64(),
        r.chains_secs,
        r.chains_checked,
        r.busy_day,
        r.busy_day_jobs,
        r.password
    );
    Ok(ExitCode::SUCCESS)
}

/// A `--client-address-header` value: a valid HTTP header name, lower-cased as axum matches it.
fn parse_header_name(name: &str) -> Result<String, String> {
    axum::http::HeaderName::from_bytes(name.trim().as_bytes())
        .map(|h| h.as_str().to_owned())
        .map_err(|_| format!("{name:?} is not an HTTP header name"))
}

#[cfg(test)]
#[path = "main_tests.rs"]
mod tests;
