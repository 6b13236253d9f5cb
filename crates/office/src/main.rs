//! `heatcrew-office`: serve the office, add users, verify stored evidence.

use anyhow::Context;
use clap::{Parser, Subcommand};
use heatcrew_office::api::admin::{CreateUserRequest, new_user};
use heatcrew_office::store::sqlite::role_str;
use heatcrew_office::store::{AccountStore, SqliteStore};
use heatcrew_office::{Config, Office, verify};
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the office API. Prints `listening on http://ADDR` once bound.
    Serve {
        /// SQLite database file (created on first start).
        #[arg(long)]
        db: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed a demo company (idempotent) and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Re-verify every stored device chain and signature, and every received attachment file.
    Verify {
        #[arg(long)]
        db: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user (e.g. the first admin).
    Add {
        #[arg(long)]
        db: PathBuf,
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
        Command::Serve { db, listen, demo } => {
            let office = Office::open(Config::new(&db))
                .with_context(|| format!("opening {}", db.display()))?;
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
            }
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            println!("listening on http://{addr}");
            if heatcrew_office::console::is_built() {
                println!("office console: http://{addr}/");
            } else {
                println!(
                    "office console: not built into this binary (cd console && npm ci && npm run build, then rebuild)"
                );
            }
            use std::io::Write;
            std::io::stdout().flush()?;
            let live = office.state().live.clone();
            axum::serve(listener, office.router())
                .with_graceful_shutdown(async move {
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
                    db,
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
            let store = SqliteStore::open(&db)?;
            let user = new_user(CreateUserRequest {
                username,
                password,
                role,
                display_name: name,
                badge_no: badge,
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.body.message))?;
            let info = store.add_user(user, chrono::Utc::now())?;
            println!(
                "added {} ({}) as {} with id {}",
                info.username,
                info.display_name,
                role_str(info.role),
                info.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { db } => {
            anyhow::ensure!(db.exists(), "no database at {}", db.display());
            let store = SqliteStore::open(&db)?;
            let files = heatcrew_office::files::FileStore::open(&Config::new(&db).files_dir)?;
            match verify::verify_all(&store, Some(&files)) {
                Ok(r) => {
                    println!(
                        "ok: {} events from {} devices; {} attachment files intact",
                        r.events, r.devices, r.attachments
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("FAILED: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
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
