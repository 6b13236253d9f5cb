//! Runs `tests/evidence/verify.py`, a verifier written in Python from `docs/evidence.md` alone
//! (it never read this crate), over the published vectors in `docs/evidence/`. If the page and
//! the vectors drift apart, or the page stops being enough to implement the format, this fails.
//!
//! It needs Debian's `/usr/bin/python3` with the `cryptography` module
//! (`apt-get install -y python3-cryptography`); without them the test fails, unless
//! `HEATCREW_SKIP_PYTHON=1` is set, in which case it says it skipped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PYTHON: &str = "/usr/bin/python3";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the Python verifier can run here; panics with what to install if it cannot, unless
/// `HEATCREW_SKIP_PYTHON=1`.
fn python_available(test: &str) -> bool {
    let problem = match Command::new(PYTHON)
        .args(["-c", "import cryptography"])
        .output()
    {
        Ok(out) if out.status.success() => return true,
        Ok(out) => format!(
            "{PYTHON} cannot import the `cryptography` module: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(err) => format!("{PYTHON} does not run: {err}"),
    };
    if std::env::var("HEATCREW_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("{test}: skipped, HEATCREW_SKIP_PYTHON=1 and {problem}");
        return false;
    }
    panic!(
        "{problem}.\nThe independent evidence verifier needs Debian's python3 with the Debian \
         package python3-cryptography: apt-get install -y python3-cryptography\n\
         (set HEATCREW_SKIP_PYTHON=1 to skip this test)"
    );
}

fn run_vectors(dir: &Path) -> Output {
    let root = workspace_root();
    Command::new(PYTHON)
        .arg(root.join("tests/evidence/verify.py"))
        .arg("vectors")
        .arg(dir)
        .current_dir(&root)
        .output()
        .expect("run the Python verifier")
}

fn transcript(out: &Output) -> String {
    format!(
        "exit status: {}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy's directory");
    for entry in fs::read_dir(from).expect("read the vectors directory") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a vectors file");
        }
    }
}

#[test]
fn python_verifier_reproduces_every_vector_from_the_spec() {
    if !python_available("python_verifier_reproduces_every_vector_from_the_spec") {
        return;
    }
    let out = run_vectors(Path::new("docs/evidence"));
    assert!(
        out.status.success(),
        "the independent verifier disagrees with docs/evidence/:\n{}",
        transcript(&out)
    );
}

#[test]
fn python_verifier_refuses_a_flipped_signature() {
    if !python_available("python_verifier_refuses_a_flipped_signature") {
        return;
    }
    let scratch = tempfile::tempdir().expect("temporary directory");
    copy_dir(&workspace_root().join("docs/evidence"), scratch.path());

    // Flip one hex digit of the first event's `sig` (the format-2 event, which must verify).
    let path = scratch.path().join("vectors.json");
    let mut text = fs::read_to_string(&path).expect("read the copied vectors");
    let events = text.find("\"events\"").expect("an events list");
    let sig =
        events + text[events..].find("\"sig\": \"").expect("an event sig") + "\"sig\": \"".len();
    let flipped = if &text[sig..=sig] == "0" { "1" } else { "0" };
    text.replace_range(sig..=sig, flipped);
    fs::write(&path, text).expect("write the altered vectors");

    let out = run_vectors(scratch.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && stdout.contains("bad_signature"),
        "the verifier accepted a vectors file with a flipped signature:\n{}",
        transcript(&out)
    );
}
