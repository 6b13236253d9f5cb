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

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use heatcrew_protocol::ChainTip;
use heatcrew_protocol::export::{EXPORT_FORMAT_V2, Export, ExportLine, ExportReport};
use std::collections::BTreeSet;

/// What a verifier concluded, as both print it: fault codes, whose records the events are, and how
/// many sign-outs count.
#[derive(Debug, PartialEq, Eq)]
struct Conclusion {
    faults: BTreeSet<String>,
    makers: Vec<(String, u64, u64)>,
    sign_outs: u64,
}

impl Conclusion {
    fn of(r: &ExportReport) -> Conclusion {
        Conclusion {
            faults: r.faults.iter().map(|f| f.code.to_owned()).collect(),
            makers: r
                .makers
                .iter()
                .map(|m| (m.username.clone(), m.first_seq, m.last_seq))
                .collect(),
            sign_outs: r.sign_outs,
        }
    }

    /// From `verify.py export`'s lines: `FAULT: code: …`, `MAKER: device … events a..b: user (…)`
    /// and `SIGNED: n sign-in(s) and m sign-out(s) …`.
    fn printed(stdout: &str) -> Conclusion {
        let mut c = Conclusion {
            faults: BTreeSet::new(),
            makers: Vec::new(),
            sign_outs: 0,
        };
        for line in stdout.lines() {
            if let Some(rest) = line.strip_prefix("FAULT: ") {
                c.faults
                    .insert(rest.split(':').next().unwrap_or_default().to_owned());
            } else if let Some(rest) = line.strip_prefix("MAKER: ") {
                let (_, events) = rest.split_once(" events ").expect("events");
                let (range, user) = events.split_once(": ").expect("user");
                let (a, b) = range.split_once("..").expect("range");
                let user = user.split(" (").next().unwrap_or_default();
                c.makers.push((
                    user.to_owned(),
                    a.parse().expect("first"),
                    b.parse().expect("last"),
                ));
            } else if let Some(rest) = line.strip_prefix("SIGNED: ") {
                let (_, outs) = rest.split_once(" and ").expect("sign-outs");
                c.sign_outs = outs
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .parse()
                    .expect("n");
            }
        }
        c
    }
}

/// The chain at event `seq` of `w`'s device.
fn at(w: &World, seq: u64) -> ChainTip {
    ChainTip {
        seq,
        hash: w.events[seq as usize - 1].hash,
    }
}

#[test]
fn python_verifier_concludes_as_rust_on_sign_outs() {
    if !python_available("python_verifier_concludes_as_rust_on_sign_outs") {
        return;
    }
    // Alice signs in at the start and out at event 3; event 4 is made while nobody is signed in;
    // Bob signs in at event 4. Each case: the exports, as `crates/protocol/tests/sign_outs.rs`.
    let w = world();
    let forger = SigningKey::from_bytes(&[33; 32]);
    let ins = |bob_at: u64| {
        vec![
            sign_in(&w.device_key, "alice", ChainTip::START, 0x51),
            sign_in(&w.device_key, "bob", at(&w, bob_at), 0x52),
        ]
    };
    let out = |head: ChainTip, office: Option<&SigningKey>| {
        sign_out(&w.device_key, "alice", head, 0x51, office)
    };
    let kept = out(at(&w, 3), Some(&w.office_key));
    let unacknowledged = out(at(&w, 3), None);
    let device = |lines: Vec<ExportLine>| {
        let mut all = ins(4);
        all.extend(lines);
        let mut e = with_v3(&device_export(&w, &w.events, &w.receipts), all);
        e.name = "device.jsonl".into();
        e
    };
    let office = |lines: Vec<ExportLine>| {
        let mut all = ins(4);
        all.extend(lines);
        let mut e = with_v3(&office_export(&w, &w.events, &w.leaves, &w.office_key), all);
        e.name = "office.jsonl".into();
        e
    };
    let edited = |edit: &dyn Fn(&mut ExportLine)| {
        let mut line = kept.clone();
        edit(&mut line);
        vec![office(vec![line])]
    };
    let field = |f: fn(&mut ChainTip, &mut String, &mut [u8; 32], &mut [u8; 64])| {
        move |l: &mut ExportLine| {
            if let ExportLine::SignOut {
                chain_head,
                username,
                challenge,
                proof,
                ..
            } = l
            {
                f(chain_head, username, challenge, proof)
            }
        }
    };
    let mut other_hash = at(&w, 3);
    other_hash.hash = w.events[0].hash;
    let mut v2 = office(vec![kept.clone()]);
    if let Some(ExportLine::Header { format, .. }) = v2.lines.first_mut() {
        *format = EXPORT_FORMAT_V2.into();
    }
    let bob_at_3 = {
        let mut d = with_v3(&device_export(&w, &w.events, &w.receipts), ins(3));
        d.lines.push(kept.clone());
        d.name = "device.jsonl".into();
        let mut o = with_v3(
            &office_export(&w, &w.events, &w.leaves, &w.office_key),
            ins(3),
        );
        o.name = "office.jsonl".into();
        vec![d, o]
    };
    let cases: Vec<(&str, Vec<Export>)> = vec![
        (
            "kept, in both exports",
            vec![device(vec![kept.clone()]), office(vec![kept.clone()])],
        ),
        (
            "the device's word alone",
            vec![device(vec![unacknowledged.clone()])],
        ),
        (
            "never acknowledged, the office holds event 4",
            vec![device(vec![unacknowledged.clone()]), office(vec![])],
        ),
        (
            "kept, withheld by the office",
            vec![device(vec![kept.clone()]), office(vec![])],
        ),
        ("kept, disowning nothing", bob_at_3),
        (
            "signed past the next sign-in, never acknowledged",
            vec![device(vec![out(at(&w, 5), None)]), office(vec![])],
        ),
        (
            "carried by one office export, left out of a later one",
            vec![office(vec![unacknowledged.clone()]), {
                let mut later = office(vec![]);
                later.name = "office-later.jsonl".into();
                later
            }],
        ),
        (
            "another user",
            edited(&field(|_, u, _, _| *u = "bob".into())),
        ),
        ("moved earlier", edited(&field(|h, _, _, _| h.seq = 2))),
        (
            "another sign-in's challenge",
            edited(&field(|_, _, c, _| *c = [0x52; 32])),
        ),
        ("a flipped proof", edited(&field(|_, _, _, p| p[3] ^= 1))),
        (
            "a flipped acknowledgement",
            edited(&|l: &mut ExportLine| {
                if let ExportLine::SignOut {
                    office_sig: Some(s),
                    ..
                } = l
                {
                    s[7] ^= 1
                }
            }),
        ),
        (
            "signed by another key",
            vec![office(vec![sign_out(
                &forger,
                "alice",
                at(&w, 3),
                0x51,
                Some(&w.office_key),
            )])],
        ),
        (
            "acknowledged by another key",
            vec![device(vec![out(at(&w, 3), Some(&forger))])],
        ),
        (
            "before its own sign-in",
            vec![device(vec![sign_out(
                &w.device_key,
                "bob",
                at(&w, 2),
                0x52,
                None,
            )])],
        ),
        (
            "a head the chain does not hold",
            vec![device(vec![out(other_hash, None)])],
        ),
        (
            "two different sign-outs",
            vec![device(vec![unacknowledged.clone(), out(at(&w, 2), None)])],
        ),
        (
            "its sign-in not shown",
            vec![with_v3(
                &device_export(&w, &w.events, &w.receipts),
                vec![unacknowledged.clone()],
            )],
        ),
        ("in a format 2 file", vec![v2]),
    ];
    let scratch = tempfile::tempdir().expect("temporary directory");
    for (what, exports) in cases {
        let rust = Conclusion::of(&check(&exports));
        let dir = scratch.path().join(what.replace(' ', "-"));
        fs::create_dir_all(&dir).expect("mkdir");
        let files: Vec<PathBuf> = exports
            .iter()
            .map(|e| {
                let path = dir.join(&e.name);
                let text: String = e
                    .lines
                    .iter()
                    .map(|l| serde_json::to_string(l).expect("json") + "\n")
                    .collect();
                fs::write(&path, text).expect("write an export");
                path
            })
            .collect();
        let out = Command::new(PYTHON)
            .arg(workspace_root().join("tests/evidence/verify.py"))
            .arg("export")
            .args(&files)
            .output()
            .expect("run the Python verifier");
        let python = Conclusion::printed(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(python, rust, "{what}:\n{}", transcript(&out));
        assert_eq!(
            out.status.success(),
            rust.faults.is_empty(),
            "{what}:\n{}",
            transcript(&out)
        );
    }
}
