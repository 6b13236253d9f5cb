//! The docs cannot drift from the tree: every file or folder path that a Markdown file in the
//! repository names in backticks exists, every `Type::function` it names is defined, every symbol
//! it names right after a file (`crates/office/src/ledger.rs` `judge`) is in that file, every
//! relative link resolves, and nothing points outside the repository.
//!
//! How a mention is read:
//! - a path with a known file ending (`.rs`, `.md`, `.json`, …) or a folder (`crates/media/`) that
//!   starts at a top-level entry is looked up from the repository root; a shorter one (`event.rs`,
//!   `sync/state.rs`, `src/lib.rs`) from the folder of the last path the same file named and that
//!   folder's parents, else anywhere in the tree for a bare file name;
//! - `*` and `**` are globs; spans with spaces, `<…>`, `{…}` or a leading `/` are not paths (HTTP
//!   routes, placeholders);
//! - rows of a "Where things moved" table name the old paths on purpose: their first cell is skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FILE_ENDINGS: &[&str] = &[
    ".rs", ".md", ".json", ".sql", ".ts", ".svelte", ".toml", ".py", ".sh", ".js", ".yml", ".yaml",
    ".html", ".css",
];

/// Files the reader makes by hand while following a doc (docs/evidence.md), not in the tree.
const READERS_OWN: &[&str] = &["e.json", "canonical.bin"];

/// Produced by a build, so never in a fresh checkout.
const BUILT: &[&str] = &["ui/dist", "target", "node_modules", "ui/node_modules"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// Every file and folder under the root, relative (`/`-separated), without build output and `.git`.
fn tree(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            let name = e.file_name().to_string_lossy().into_owned();
            // Not the repository's own: git, dependencies, build output, and what `./dev run`
            // and the schemathesis run leave in the checkout (both git-ignored).
            if name == ".git"
                || name == "node_modules"
                || rel == "ui/dist"
                || rel == "console/dist"
                || rel == ".heatcrew"
                || rel == ".hypothesis"
                || rel.starts_with("target")
            {
                continue;
            }
            out.insert(rel.clone());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// `*` matches within a segment, `**` any number of segments.
fn glob(pattern: &str, path: &str) -> bool {
    fn seg(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => seg(&p[1..], s) || (!s.is_empty() && seg(p, &s[1..])),
            (Some(a), Some(b)) if a == b => seg(&p[1..], &s[1..]),
            _ => false,
        }
    }
    fn segs(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => segs(&p[1..], s) || (!s.is_empty() && segs(p, &s[1..])),
            (Some(a), Some(b)) => seg(a.as_bytes(), b.as_bytes()) && segs(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segs(&p, &s)
}

struct Docs {
    root: PathBuf,
    tree: BTreeSet<String>,
    problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mention {
    Path,
    Symbol,
    Other,
}

fn is_ident(s: &str) -> bool {
    let s = s.strip_suffix("()").unwrap_or(s);
    !s.is_empty()
        && s.split("::").all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn classify(span: &str) -> Mention {
    if span.contains(' ') || span.contains('<') || span.contains('{') || span.starts_with('/') {
        return Mention::Other;
    }
    if span.contains("://") || span.starts_with('.') || span.starts_with('-') {
        return Mention::Other;
    }
    let file = FILE_ENDINGS.iter().any(|e| span.ends_with(e));
    if file || span.ends_with('/') {
        return Mention::Path;
    }
    if is_ident(span) {
        return Mention::Symbol;
    }
    Mention::Other
}

impl Docs {
    fn exists(&self, rel: &str) -> bool {
        let rel = rel.trim_end_matches('/');
        if rel.contains('*') {
            return self.tree.iter().any(|p| glob(rel, p));
        }
        self.tree.contains(rel)
            || BUILT
                .iter()
                .any(|b| rel == *b || rel.starts_with(&format!("{b}/")))
    }

    /// Resolve a path mention; `context` is the folder of the last path this file named.
    fn resolve(&self, span: &str, doc_dir: &str, context: &str) -> Option<String> {
        let span = span.trim_start_matches("./");
        if READERS_OWN.contains(&span) {
            return Some(String::new());
        }
        let top = span.split('/').next().unwrap_or_default();
        if self.exists(span) {
            return Some(span.trim_end_matches('/').to_owned());
        }
        let is_dir = span.ends_with('/');
        // Relative to the document, then to the context folder and its parents.
        let mut bases = vec![doc_dir.to_owned()];
        let mut c = context.to_owned();
        loop {
            bases.push(c.clone());
            match c.rfind('/') {
                Some(i) => c.truncate(i),
                None => break,
            }
        }
        for base in bases.iter().filter(|b| !b.is_empty()) {
            let joined = format!("{base}/{span}");
            if self.exists(&joined) {
                return Some(joined.trim_end_matches('/').to_owned());
            }
        }
        if is_dir && !self.tree.contains(top) {
            return Some(String::new()); // a folder of the running system (e.g. on the device)
        }
        if !span.contains('/') {
            // A bare file name (or pattern): anywhere in the tree.
            return self
                .tree
                .iter()
                .find(|p| glob(span, p.rsplit('/').next().unwrap_or_default()))
                .cloned();
        }
        None
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_default()
    }

    fn rust_and_ts_sources(&self) -> String {
        let mut all = String::new();
        for p in &self.tree {
            if [".rs", ".ts", ".svelte"].iter().any(|e| p.ends_with(e)) {
                all.push_str(&self.read(p));
                all.push('\n');
            }
        }
        all
    }

    fn check_file(&mut self, doc: &str, sources: &str) {
        let text = self.read(doc);
        let doc_dir = doc
            .rsplit_once('/')
            .map(|(d, _)| d)
            .unwrap_or("")
            .to_owned();
        let mut context = String::new();
        let mut in_fence = false;
        let mut heading = String::new();
        for (n, line) in text.lines().enumerate() {
            let at = format!("{doc}:{}", n + 1);
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                continue;
            }
            if in_fence {
                continue;
            }
            if line.starts_with('#') {
                heading = line.to_owned();
            }
            let mut line = line;
            if heading.contains("Where things moved") && line.starts_with('|') {
                line = line[1..]
                    .split_once('|')
                    .map(|(_, rest)| rest)
                    .unwrap_or("");
            }
            self.check_links(line, &doc_dir, &at);
            // (span, text between the previous span and this one)
            let parts: Vec<&str> = line.split('`').collect();
            let mut last_file: Option<String> = None;
            for i in (1..parts.len()).step_by(2) {
                if i + 1 > parts.len() - 1 && parts.len().is_multiple_of(2) {
                    break; // an unclosed backtick
                }
                let span = parts[i];
                let between = parts[i - 1];
                let adjacent = between
                    .chars()
                    .all(|c| c.is_whitespace() || "(,".contains(c));
                if !adjacent || i == 1 {
                    last_file = None;
                }
                match classify(span) {
                    Mention::Path => match self.resolve(span, &doc_dir, &context) {
                        Some(found) if !found.is_empty() => {
                            let dir = if self.root.join(&found).is_dir() {
                                found.clone()
                            } else {
                                found
                                    .rsplit_once('/')
                                    .map(|(d, _)| d.to_owned())
                                    .unwrap_or_default()
                            };
                            if !span.contains('*') {
                                context = dir;
                            }
                            last_file = self.root.join(&found).is_file().then_some(found);
                        }
                        Some(_) => last_file = None,
                        None => {
                            self.problems.push(format!("{at}: no `{span}` in the tree"));
                            last_file = None;
                        }
                    },
                    Mention::Symbol => {
                        self.check_symbol(span, last_file.as_deref(), sources, &at);
                    }
                    Mention::Other => last_file = None,
                }
            }
        }
    }

    fn check_links(&mut self, line: &str, doc_dir: &str, at: &str) {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = rest[..end].split('#').next().unwrap_or_default();
            rest = &rest[end..];
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let joined = if doc_dir.is_empty() {
                target.to_owned()
            } else {
                format!("{doc_dir}/{target}")
            };
            let ok = self
                .root
                .join(&joined)
                .canonicalize()
                .is_ok_and(|p| p.starts_with(&self.root));
            if !ok {
                self.problems.push(format!(
                    "{at}: the link ({target}) leads nowhere in the repository"
                ));
            }
        }
    }

    /// `Type::function` must be defined somewhere; a symbol right after a file must be in it.
    fn check_symbol(&mut self, span: &str, file: Option<&str>, sources: &str, at: &str) {
        let name = span.strip_suffix("()").unwrap_or(span);
        let last = name.rsplit("::").next().unwrap_or(name);
        if let Some(file) = file {
            let text = self.read(file);
            if !contains_word(&text, last) {
                self.problems.push(format!(
                    "{at}: `{span}` is not in {file}, which the line names before it"
                ));
            }
            return;
        }
        if let Some((ty, f)) = name.rsplit_once("::") {
            let ty = ty.rsplit("::").next().unwrap_or(ty);
            let defined = contains_word(sources, ty)
                && (sources.contains(&format!("fn {f}")) || contains_word(sources, f));
            if !defined {
                self.problems
                    .push(format!("{at}: `{span}` is defined nowhere"));
            }
        }
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        edge(before) && edge(after)
    })
}

#[test]
fn every_path_and_symbol_the_docs_name_is_in_the_tree() {
    let root = root();
    let tree = tree(&root);
    let mut docs = Docs {
        root,
        tree,
        problems: Vec::new(),
    };
    let sources = docs.rust_and_ts_sources();
    let markdown: Vec<String> = docs
        .tree
        .iter()
        .filter(|p| p.ends_with(".md"))
        .cloned()
        .collect();
    assert!(
        markdown.iter().any(|p| p == "docs/architecture.md"),
        "the checker sees the docs it guards: {markdown:?}"
    );
    for doc in &markdown {
        docs.check_file(doc, &sources);
    }
    assert!(
        docs.problems.is_empty(),
        "the docs name things that are not in the tree (fix the docs, or the tree):\n{}",
        docs.problems.join("\n")
    );
}

#[test]
fn nothing_in_the_repository_points_outside_it() {
    let root = root();
    let mut found = Vec::new();
    let this = "crates/testkit/tests/docs.rs";
    // Split so that this file does not name them itself.
    let outside = [
        format!("../{}", "shared"),
        format!("{}.md", "DESIGN"),
        format!("{}.md", "DOMAIN"),
        format!("/{}/", "work"),
    ];
    for rel in tree(&root) {
        if rel == this || !root.join(&rel).is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue; // not text
        };
        for o in &outside {
            if text.contains(o.as_str()) {
                found.push(format!("{rel} names {o}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the repository is self-contained; these point outside it:\n{}",
        found.join("\n")
    );
}

/// A merge once committed its conflict markers into the README and every check still passed.
#[test]
fn no_file_holds_a_merge_conflict_marker() {
    let root = root();
    // Built, so that this file does not hold them itself.
    let markers = [format!("{} ", "<".repeat(7)), format!("{} ", ">".repeat(7))];
    let mut found = Vec::new();
    for rel in tree(&root) {
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue; // a folder, or not text
        };
        for (n, line) in text.lines().enumerate() {
            if markers.iter().any(|m| line.starts_with(m.as_str())) {
                found.push(format!("{rel}:{}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "merge conflict markers are committed here:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_finds_a_path_that_is_not_there_and_accepts_one_that_is() {
    let root = root();
    let tree = tree(&root);
    let docs = Docs {
        root,
        tree,
        problems: Vec::new(),
    };
    assert!(
        docs.resolve("crates/core/src/lib.rs", "docs", "").is_some(),
        "a real path resolves"
    );
    assert!(
        docs.resolve("crates/core/src/no_such_file.rs", "docs", "")
            .is_none(),
        "a path that is not there is reported"
    );
    assert!(
        docs.resolve("state.rs", "docs", "crates/core/src/sync")
            .is_some(),
        "a short name resolves from the folder the line named before"
    );
    assert!(
        docs.resolve("crates/rules/templates/*.v1.json", "docs", "")
            .is_some()
            && docs
                .resolve("crates/rules/templates/*.v9.json", "docs", "")
                .is_none(),
        "globs match files, and only real ones"
    );
    assert_eq!(
        classify("POST /api/v1/sync/push"),
        Mention::Other,
        "routes are not paths"
    );
    let mut docs = docs;
    docs.check_symbol(
        "Store::no_such_function",
        None,
        "struct Store; fn record()",
        "t:1",
    );
    docs.check_symbol("judge", Some("crates/office/src/ledger.rs"), "", "t:2");
    docs.check_symbol("not_in_it", Some("crates/office/src/ledger.rs"), "", "t:3");
    assert_eq!(
        docs.problems.len(),
        2,
        "an undefined Type::function and a symbol missing from the file it follows are reported, a \
         present one is not: {:?}",
        docs.problems
    );
    assert!(contains_word("fn judge(", "judge") && !contains_word("fn judged(", "judge"));
}

#[test]
fn the_readme_layout_and_the_architecture_page_list_every_workspace_member() {
    let root = root();
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).expect(rel);
    let readme = read("README.md");
    let layout: Vec<&str> = readme
        .split("## Layout")
        .nth(1)
        .expect("the README has a Layout section")
        .split("```")
        .nth(1)
        .expect("the layout is a code block")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut parent = String::new();
    for line in &layout {
        let entry = line.split_whitespace().next().unwrap_or_default();
        let rel = if line.starts_with(' ') {
            format!("{parent}{entry}")
        } else {
            parent = entry.to_owned();
            entry.to_owned()
        };
        assert!(
            root.join(&rel).exists(),
            "the README's layout names {rel}, which is not in the tree"
        );
    }
    let architecture = read("docs/architecture.md");
    let manifest = read("Cargo.toml");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|m| m.split(']').next())
        .expect("the workspace members");
    for member in members.lines().filter_map(|l| l.split('"').nth(1)) {
        assert!(
            layout.iter().any(|l| l.starts_with(&format!("{member}/"))),
            "the README's layout lists the workspace member {member}"
        );
        assert!(
            architecture.contains(&format!("| `{member}/`")),
            "docs/architecture.md's table of parts lists the workspace member {member}"
        );
    }
}

/// A file too long to hold in one's head is split at its seams, or says at its top why not.
#[test]
fn no_source_file_is_over_700_lines_without_a_reason_at_its_top() {
    let root = root();
    let mut long = Vec::new();
    for rel in tree(&root) {
        let source = [".rs", ".ts", ".svelte", ".py", ".js", ".sh"]
            .iter()
            .any(|e| rel.ends_with(e));
        if !source {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue;
        };
        let lines = text.lines().count();
        // A generated file (its first lines say so) is as long as the types it mirrors.
        let reason = text
            .lines()
            .take(3)
            .any(|l| l.contains("700 lines") || l.starts_with("// GENERATED"));
        if lines > 700 && !reason {
            long.push(format!("{rel}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "split these at their seams, or write in their first lines why they are over 700 lines:\n{}",
        long.join("\n")
    );
}
