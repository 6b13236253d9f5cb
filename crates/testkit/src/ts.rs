//! TypeScript files generated from Rust types by ts-rs and checked in, so a UI cannot drift from
//! what the Rust side sends. Both UIs use this: the field app's `ui/src/lib/backend/types.ts`
//! (`crates/core/tests/bindings.rs`) and the console's `console/src/lib/api/types.ts`
//! (`crates/office/tests/bindings.rs`). Each of those tests names its root types, [`render`]s the
//! file in memory and [`check_generated`] compares it with the checked-in one (or rewrites it when
//! `UPDATE_BINDINGS=1`).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use ts_rs::{TS, TypeVisitor};

/// The variable that makes [`check_generated`] rewrite the file instead of comparing.
pub const UPDATE_ENV: &str = "UPDATE_BINDINGS";

/// Every declarable type reachable from the roots given to [`Declarations::visit`], by TypeScript
/// name (sorted, so the file is stable).
#[derive(Debug, Default)]
pub struct Declarations {
    decls: BTreeMap<String, (TypeId, String)>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives, Option, Vec and maps have no declaration of their own: they are inlined.
        if T::output_path().is_none() {
            return;
        }
        let name = T::ident();
        if let Some((id, _)) = self.decls.get(&name) {
            assert_eq!(
                *id,
                TypeId::of::<T>(),
                "two Rust types are both called `{name}` in TypeScript; give one a #[ts(rename = ...)]"
            );
            return;
        }
        let decl = format!(
            "{}export {}",
            T::docs().unwrap_or_default(),
            pretty(&T::decl())
        );
        self.decls.insert(name, (TypeId::of::<T>(), decl));
        T::visit_dependencies(self);
    }
}

/// The whole file: `header` (comment lines, each ending in a newline), then every declaration
/// reachable from what `roots` visits, one blank line before each.
pub fn render(header: &str, roots: impl FnOnce(&mut Declarations)) -> String {
    let mut d = Declarations::default();
    roots(&mut d);
    let mut out = header.to_owned();
    for (_, decl) in d.decls.values() {
        out.push('\n');
        out.push_str(decl);
        out.push('\n');
    }
    out
}

/// ts-rs writes each declaration on one line (field docs included): give every field and every
/// variant of a long union a line of its own, so the file reads like a hand-written one.
pub fn pretty(decl: &str) -> String {
    let Some((head, body)) = decl.split_once(" = ") else {
        return decl.to_owned();
    };
    let body = body.trim_end_matches(';');
    // One object (a union of objects also starts and ends with a brace, so count the variants).
    if let Some(inner) = body.strip_prefix('{').and_then(|b| b.strip_suffix('}'))
        && split_top(body, '|').len() == 1
    {
        let mut out = format!("{head} = {{\n");
        for field in split_top(inner, ',') {
            for line in field.lines().map(str::trim).filter(|l| !l.is_empty()) {
                // Field docs come as `/**`, ` * text`, ` */` lines; fields get their comma back.
                if line.starts_with("/**") {
                    out.push_str(&format!("  {line}\n"));
                } else if line.starts_with('*') {
                    out.push_str(&format!("   {line}\n"));
                } else {
                    out.push_str(&format!("  {line},\n"));
                }
            }
        }
        out.push_str("};");
        return out;
    }
    let variants = split_top(body, '|');
    if variants.len() > 1 && decl.len() > 90 {
        let mut out = format!("{head} =");
        for v in variants {
            out.push_str(&format!("\n  | {v}"));
        }
        out.push(';');
        return out;
    }
    format!("{head} = {body};")
}

/// `s` cut at `sep` where it is outside brackets, strings and comments; pieces trimmed, empty ones dropped.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut start, mut pieces) = (0i32, 0, Vec::new());
    let (mut in_string, mut in_comment) = (false, false);
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            _ if in_comment => in_comment = !(c == '/' && i > 0 && bytes[i - 1] == b'*'),
            '"' => in_string = !in_string,
            _ if in_string => {}
            '/' if bytes.get(i + 1) == Some(&b'*') => in_comment = true,
            '{' | '[' | '(' | '<' => depth += 1,
            '}' | ']' | ')' | '>' => depth -= 1,
            _ if c == sep && depth == 0 => {
                pieces.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&s[start..]);
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// A path in the repository (`console/src/lib/api/types.ts`) on this machine.
fn in_repo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(file)
}

/// Compare the checked-in generated `file` (a path from the repository root, such as
/// `ui/src/lib/backend/types.ts`) with `want`, what the Rust types give now; panic with the first
/// difference and how to regenerate (`regenerate`, a command). With `UPDATE_BINDINGS` set, rewrite
/// the file instead.
pub fn check_generated(file: &str, want: &str, regenerate: &str) {
    let path = in_repo(file);
    if std::env::var_os(UPDATE_ENV).is_some() {
        std::fs::write(&path, want).unwrap_or_else(|e| panic!("write {file}: {e}"));
        return;
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some(line) = first_difference(&got, want) {
        // The front end the file belongs to (`ui`, `console`) type-checks it.
        let front_end = file.split('/').next().unwrap_or(".");
        panic!(
            "{file} is out of date with the Rust types (first difference at line {}).\n\
             Regenerate it with:\n\n    {regenerate}\n\n\
             then run `cd {front_end} && npm run check` and commit the file.\n\
             checked in: {:?}\n\
             generated:  {:?}",
            line + 1,
            got.lines().nth(line).unwrap_or("<end of file>"),
            want.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

/// The 0-based number of the first line where `got` and `want` differ; `None` when they are equal.
fn first_difference(got: &str, want: &str) -> Option<usize> {
    (got != want).then(|| {
        got.lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_gets_a_line_per_field_with_its_docs() {
        assert_eq!(
            pretty("type A = { /**\n * the id\n */\nid: string, n: number | null, };"),
            "type A = {\n  /**\n   * the id\n   */\n  id: string,\n  n: number | null,\n};"
        );
        assert_eq!(
            pretty("type B = { a: { x: number, y: number }, b: Array<string> };"),
            "type B = {\n  a: { x: number, y: number },\n  b: Array<string>,\n};",
            "commas inside a nested object do not split the field"
        );
    }

    #[test]
    fn a_long_union_gets_a_line_per_variant_a_short_one_stays() {
        assert_eq!(
            pretty("type L = \"zh-CN\" | \"en\";"),
            "type L = \"zh-CN\" | \"en\";"
        );
        let long = "type K = { \"kind\": \"a_long_variant\" } | { \"kind\": \"another_rather_long_variant\", \"n\": number };";
        assert_eq!(
            pretty(long),
            "type K =\n  | { \"kind\": \"a_long_variant\" }\n  | { \"kind\": \"another_rather_long_variant\", \"n\": number };"
        );
    }

    #[test]
    fn separators_in_strings_and_comments_do_not_split() {
        assert_eq!(
            split_top("a: \"x|y\", /* one, two */ b: 1", ','),
            vec!["a: \"x|y\"", "/* one, two */ b: 1"]
        );
    }

    #[test]
    fn the_first_difference_is_found_also_when_one_file_is_longer() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        assert_eq!(first_difference("a\nb\n", "a\nc\n"), Some(1));
        assert_eq!(first_difference("a\n", "a\nb\n"), Some(1));
        assert_eq!(first_difference("", "a\n"), Some(0));
    }
}
