//! `heatcrew-media prepare` against libvips' `vipsthumbnail` on the same camera JPEG, in the same
//! run: wall time, peak memory (ru_maxrss) and output bytes, as ratios ours / vips.
//!
//!     cargo bench -p heatcrew-media --bench vs_vips -- [PHOTO.jpg]
//!
//! PHOTO defaults to $HEATCREW_BENCH_PHOTO, then to the 17.9 MP photograph shipped by Debian's
//! mate-backgrounds. `benches/bench-photo.sh` makes the 12 MP, orientation-6 crop used in the
//! README. Runs: $HEATCREW_BENCH_RUNS (default 9), alternating the two tools, medians reported.
//! Skips (exit 0) with a message when vipsthumbnail or the photo is missing.
//!
//! Both tools run as child processes, each measured by a fresh copy of this binary
//! (`HEATCREW_BENCH_MEASURE=1`), so `RUSAGE_CHILDREN` sees exactly one process: the tool.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const DEFAULT_PHOTO: &str = "/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg";
const MEASURE_ENV: &str = "HEATCREW_BENCH_MEASURE";

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let under_cargo_bench = raw.iter().any(|a| a == "--bench");
    let args: Vec<String> = raw.into_iter().filter(|a| a != "--bench").collect();
    if std::env::var_os(MEASURE_ENV).is_some() {
        return measure_child(&args);
    }
    if !under_cargo_bench {
        // `cargo test --all-targets` runs bench targets too; timing a debug build is meaningless.
        println!(
            "vs_vips: SKIPPED: not run by `cargo bench` (unoptimised build); nothing measured"
        );
        return ExitCode::SUCCESS;
    }
    match run(args.first().map(PathBuf::from)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vs_vips: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Measurer mode: run `args` once, print "wall_us max_rss_kb exit_code".
fn measure_child(args: &[String]) -> ExitCode {
    let Some((program, rest)) = args.split_first() else {
        eprintln!("measure mode needs a command");
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .stdout(Stdio::null())
        .status();
    let wall = started.elapsed();
    let Ok(status) = status else {
        eprintln!("cannot run {program}");
        return ExitCode::FAILURE;
    };
    let max_rss_kb = rusage_children_max_rss_kb();
    println!(
        "{} {} {}",
        wall.as_micros(),
        max_rss_kb,
        status.code().unwrap_or(-1)
    );
    ExitCode::SUCCESS
}

#[cfg(unix)]
fn rusage_children_max_rss_kb() -> i64 {
    use nix::sys::resource::{UsageWho, getrusage};
    // Linux reports ru_maxrss in kilobytes.
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(-1, |u| u.max_rss())
}

#[cfg(not(unix))]
fn rusage_children_max_rss_kb() -> i64 {
    -1
}

struct Sample {
    wall_ms: f64,
    max_rss_mb: f64,
}

fn measure(program: &str, args: &[String]) -> Result<Sample, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(me)
        .env(MEASURE_ENV, "1")
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<i64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields.as_slice() {
        [wall_us, rss_kb, 0] => Ok(Sample {
            wall_ms: *wall_us as f64 / 1000.0,
            max_rss_mb: *rss_kb as f64 / 1024.0,
        }),
        _ => Err(format!(
            "{program} failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn vips_available() -> bool {
    Command::new("vipsthumbnail")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn file_len(p: &Path) -> Result<u64, String> {
    std::fs::metadata(p)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", p.display()))
}

fn run(arg: Option<PathBuf>) -> Result<(), String> {
    if !vips_available() {
        println!(
            "vs_vips: SKIPPED: vipsthumbnail is not installed (apt-get install libvips-tools); nothing measured"
        );
        return Ok(());
    }
    let photo = arg
        .or_else(|| std::env::var_os("HEATCREW_BENCH_PHOTO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PHOTO));
    if !photo.exists() {
        println!(
            "vs_vips: SKIPPED: no photo at {} (apt-get install mate-backgrounds, or pass a JPEG path)",
            photo.display()
        );
        return Ok(());
    }
    let runs: usize = std::env::var("HEATCREW_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9)
        .max(1);
    let ours = env!("CARGO_BIN_EXE_heatcrew-media");
    let (w, h) = image::ImageReader::open(&photo)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| e.to_string())?
        .into_dimensions()
        .map_err(|e| e.to_string())?;
    let input_bytes = file_len(&photo)?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;

    let vips_out = work.path().join("vips.jpg");
    let vips_args = vec![
        photo.display().to_string(),
        "-s".to_owned(),
        "1600x1600".to_owned(),
        "-o".to_owned(),
        format!("{}[Q=80,strip]", vips_out.display()),
    ];
    let ours_dir = work.path().join("ours");
    let ours_args = vec![
        "prepare".to_owned(),
        photo.display().to_string(),
        ours_dir.display().to_string(),
    ];

    println!(
        "vs_vips: {} ({w}x{h}, {:.1} MP, {:.1} MB), {runs} runs each, alternating, after one warm-up",
        photo.display(),
        f64::from(w) * f64::from(h) / 1e6,
        input_bytes as f64 / 1e6
    );
    // Warm-up: page cache and dynamic loading, for both.
    measure("vipsthumbnail", &vips_args)?;
    measure(ours, &ours_args)?;

    let (mut vt, mut vm, mut ot, mut om) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let v = measure("vipsthumbnail", &vips_args)?;
        vt.push(v.wall_ms);
        vm.push(v.max_rss_mb);
        let _ = std::fs::remove_dir_all(&ours_dir);
        let o = measure(ours, &ours_args)?;
        ot.push(o.wall_ms);
        om.push(o.max_rss_mb);
    }

    let vips_bytes = file_len(&vips_out)?;
    let ours_photo = std::fs::read_dir(&ours_dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".jpg") && !n.ends_with(".thumb.jpg"))
        })
        .ok_or("heatcrew-media wrote no photo")?;
    let ours_bytes = file_len(&ours_photo)?;
    let ours_dims = image::image_dimensions(&ours_photo).map_err(|e| e.to_string())?;
    let vips_dims = image::image_dimensions(&vips_out).map_err(|e| e.to_string())?;

    let (vt, vm, ot, om) = (median(vt), median(vm), median(ot), median(om));
    let row = |name: &str, ours: f64, vips: f64, unit: &str| {
        let ratio = ours / vips;
        println!(
            "  {name:<12} ours {ours:>9.1} {unit:<3} vips {vips:>9.1} {unit:<3} ratio {ratio:.2}x  (target <= 1.00x: {})",
            if ratio <= 1.0 { "met" } else { "MISSED" }
        );
    };
    println!(
        "  output       ours {}x{} (+ 320 px thumbnail, EXIF time/GPS read, SHA-256, fsync), vips {}x{}",
        ours_dims.0, ours_dims.1, vips_dims.0, vips_dims.1
    );
    row("wall time", ot, vt, "ms");
    row("peak memory", om, vm, "MB");
    row(
        "output bytes",
        ours_bytes as f64 / 1024.0,
        vips_bytes as f64 / 1024.0,
        "KiB",
    );
    println!(
        "vs_vips: ratios time {:.2}x, memory {:.2}x, bytes {:.2}x",
        ot / vt,
        om / vm,
        ours_bytes as f64 / vips_bytes as f64
    );
    Ok(())
}
