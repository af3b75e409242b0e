//! Code blocks included from the crates.
//!
//! A note ties a block to source with a marker on the line right before the
//! opening fence:
//!
//! ```text
//! <!-- code: crates/v2-echo-server/src/main.rs#accept_loop -->
//! ```
//!
//! and the source marks the region with `// ANCHOR: accept_loop` and
//! `// ANCHOR_END: accept_loop` (or `# ANCHOR: ...` in shell and TOML).

use crate::checks::Problem;
use crate::markdown::Doc;

/// Whether an anchor marker line opens or closes a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    End,
}

/// Recognises `// ANCHOR: name`, `# ANCHOR_END: name` (leading whitespace
/// allowed) and returns the kind and the name.
fn anchor_marker(line: &str) -> Option<(Kind, &str)> {
    let t = line.trim_start();
    let body = t
        .strip_prefix("//")
        .or_else(|| t.strip_prefix('#'))?
        .trim_start();
    let (kind, rest) = if let Some(r) = body.strip_prefix("ANCHOR_END:") {
        (Kind::End, r)
    } else if let Some(r) = body.strip_prefix("ANCHOR:") {
        (Kind::Start, r)
    } else {
        return None;
    };
    let name = rest.split_whitespace().next()?;
    Some((kind, name))
}

/// Why an anchor could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorError {
    /// Neither `ANCHOR: name` nor `ANCHOR_END: name` is in the file.
    Missing,
    /// `ANCHOR: name` without a following `ANCHOR_END: name`.
    NoEnd,
    /// `ANCHOR_END: name` without a preceding `ANCHOR: name`.
    EndWithoutStart,
    /// `ANCHOR: name` appears more than once.
    Duplicate,
}

impl AnchorError {
    /// A message telling the contributor what to fix.
    pub fn describe(self, path: &str, name: &str) -> String {
        match self {
            AnchorError::Missing => format!(
                "no anchor `{name}` in {path}; add `// ANCHOR: {name}` and `// ANCHOR_END: {name}` \
                 around the code, or fix the name in the marker"
            ),
            AnchorError::NoEnd => {
                format!("anchor `{name}` in {path} has no `ANCHOR_END: {name}` after it; add one")
            }
            AnchorError::EndWithoutStart => format!(
                "{path} has `ANCHOR_END: {name}` but no `ANCHOR: {name}` before it; add one"
            ),
            AnchorError::Duplicate => {
                format!("anchor `{name}` is opened more than once in {path}; rename one of them")
            }
        }
    }
}

/// Removes the common leading whitespace of the non-blank lines; blank
/// lines become empty.
pub fn dedent(lines: &[&str]) -> Vec<String> {
    let mut common: Option<&str> = None;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let ws = &line[..line.len() - line.trim_start().len()];
        common = Some(match common {
            None => ws,
            Some(c) => {
                let shared: usize = c
                    .chars()
                    .zip(ws.chars())
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| a.len_utf8())
                    .sum();
                &c[..shared]
            }
        });
    }
    let cut = common.map_or(0, str::len);
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                l[cut..].to_string()
            }
        })
        .collect()
}

/// Drops trailing blank lines.
fn trim_trailing_blank(lines: &mut Vec<String>) {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
}

/// The lines a marker includes from `src`: the whole file (`anchor` is
/// `None`) or the region between `ANCHOR: name` and `ANCHOR_END: name`,
/// without any marker lines, dedented, trailing blank lines trimmed.
pub fn extract(src: &str, anchor: Option<&str>) -> Result<Vec<String>, AnchorError> {
    let lines: Vec<&str> = src.lines().collect();
    let keep = |l: &&str| anchor_marker(l).is_none();
    let Some(name) = anchor else {
        let mut out: Vec<String> = lines
            .iter()
            .copied()
            .filter(keep)
            .map(String::from)
            .collect();
        trim_trailing_blank(&mut out);
        return Ok(out);
    };
    let find = |kind: Kind| -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| anchor_marker(l) == Some((kind, name)))
            .map(|(i, _)| i)
            .collect()
    };
    let starts = find(Kind::Start);
    let ends = find(Kind::End);
    let start = match starts.as_slice() {
        [] if ends.is_empty() => return Err(AnchorError::Missing),
        [] => return Err(AnchorError::EndWithoutStart),
        [s] => *s,
        _ => return Err(AnchorError::Duplicate),
    };
    if ends.iter().any(|&e| e < start) {
        return Err(AnchorError::EndWithoutStart);
    }
    let Some(&end) = ends.iter().find(|&&e| e > start) else {
        return Err(AnchorError::NoEnd);
    };
    let body: Vec<&str> = lines[start + 1..end].iter().copied().filter(keep).collect();
    let mut out = dedent(&body);
    trim_trailing_blank(&mut out);
    Ok(out)
}

/// What processing the include markers of one note found.
#[derive(Debug, Default)]
pub struct NoteIncludes {
    /// Number of markers tied to a code block.
    pub blocks: usize,
    /// Markers that could not be resolved (bad path, anchor, fence).
    pub problems: Vec<Problem>,
    /// Blocks whose content differs from the source (0-based marker lines
    /// and the marker target).
    pub drifted: Vec<(usize, String)>,
    /// The note text with every resolvable block rewritten from source.
    pub synced: String,
}

/// Resolves every include marker of `doc` (the note at `rel`, relative to
/// the workspace root). `load` returns a source file's text by its path
/// relative to the workspace root, or `None` if it does not exist.
pub fn process(
    rel: &str,
    doc: &Doc,
    load: &mut dyn FnMut(&str) -> Option<String>,
) -> NoteIncludes {
    let mut result = NoteIncludes::default();
    let mut lines = doc.lines.clone();
    // Replacements as (first body line, closing fence line, new lines),
    // applied bottom-up so earlier indices stay valid.
    let mut edits: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for m in &doc.markers {
        let problem = |message: String| Problem::new(rel, m.line + 1, message);
        let Some(fence) = doc.fences.iter().find(|f| f.open == m.line + 1) else {
            result.problems.push(problem(format!(
                "code marker `{}` is not followed by a code fence; put the ``` line right after it",
                m.target
            )));
            continue;
        };
        let Some(close) = fence.close else {
            result.problems.push(problem(
                "the code block after this marker is never closed; add the closing fence"
                    .into(),
            ));
            continue;
        };
        result.blocks += 1;
        let (path, anchor) = match m.target.split_once('#') {
            Some((p, a)) => (p.trim(), Some(a.trim())),
            None => (m.target.as_str(), None),
        };
        if path.is_empty() || path.starts_with('/') || path.contains('\\') {
            result.problems.push(problem(format!(
                "code marker `{}` needs a path relative to the workspace root, like \
                 `crates/NAME/src/main.rs#anchor`",
                m.target
            )));
            continue;
        }
        let Some(src) = load(path) else {
            result.problems.push(problem(format!(
                "code marker names {path}, which does not exist; fix the path"
            )));
            continue;
        };
        let wanted = match extract(&src, anchor.filter(|a| !a.is_empty())) {
            Ok(lines) => lines,
            Err(e) => {
                result
                    .problems
                    .push(problem(e.describe(path, anchor.unwrap_or(""))));
                continue;
            }
        };
        let wanted: Vec<String> = wanted
            .into_iter()
            .map(|l| {
                if l.is_empty() {
                    l
                } else {
                    format!("{}{l}", fence.indent)
                }
            })
            .collect();
        if doc.lines[fence.open + 1..close] != wanted[..] {
            result.drifted.push((m.line, m.target.clone()));
            edits.push((fence.open + 1, close, wanted));
        }
    }
    for (from, to, new) in edits.into_iter().rev() {
        lines.splice(from..to, new);
    }
    result.synced = lines.join(doc.eol);
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dedent_common_whitespace() {
        let out = dedent(&["    fn a() {", "", "        b();", "    }"]);
        assert_eq!(out, vec!["fn a() {", "", "    b();", "}"]);
        let tabs = dedent(&["\t\tx", "\t y"]);
        assert_eq!(tabs, vec!["\tx", " y"]);
    }

    #[test]
    fn nested_and_overlapping_anchors_are_stripped() {
        let src = "fn main() {\n    // ANCHOR: outer\n    let a = 1;\n    // ANCHOR: inner\n    let b = 2;\n    // ANCHOR: other\n    // ANCHOR_END: inner\n    let c = 3;\n\n    // ANCHOR_END: outer\n    // ANCHOR_END: other\n}\n";
        assert_eq!(
            extract(src, Some("outer")).unwrap(),
            vec!["let a = 1;", "let b = 2;", "let c = 3;"]
        );
        assert_eq!(extract(src, Some("inner")).unwrap(), vec!["let b = 2;"]);
        assert_eq!(extract(src, Some("other")).unwrap(), vec!["let c = 3;"]);
        let whole = extract(src, None).unwrap();
        assert!(whole.iter().all(|l| !l.contains("ANCHOR")));
        assert_eq!(whole.first().unwrap(), "fn main() {");
        assert_eq!(whole.last().unwrap(), "}");
    }

    #[test]
    fn hash_comment_anchors() {
        let src = "#!/bin/sh\n# ANCHOR: run\ncargo run -p demo\n  # ANCHOR_END: run\n";
        assert_eq!(
            extract(src, Some("run")).unwrap(),
            vec!["cargo run -p demo"]
        );
    }

    #[test]
    fn anchor_errors() {
        let src =
            "// ANCHOR: a\nx\n// ANCHOR_END: b\n// ANCHOR: d\n// ANCHOR: d\n// ANCHOR_END: d\n";
        assert_eq!(extract(src, Some("zz")), Err(AnchorError::Missing));
        assert_eq!(extract(src, Some("a")), Err(AnchorError::NoEnd));
        assert_eq!(extract(src, Some("b")), Err(AnchorError::EndWithoutStart));
        assert_eq!(extract(src, Some("d")), Err(AnchorError::Duplicate));
        let reversed = "// ANCHOR_END: r\n// ANCHOR: r\n";
        assert_eq!(
            extract(reversed, Some("r")),
            Err(AnchorError::EndWithoutStart)
        );
    }

    #[test]
    fn process_rewrites_only_drifted_blocks() {
        let note = "Intro\n<!-- code: s.rs#a -->\n```rust\nold\n```\n\n- item\n  <!-- code: s.rs#a -->\n  ```rust\n  x();\n  ```\n<!-- code: s.rs#a -->\n\ntext\n";
        let doc = Doc::parse(note);
        let mut load = |p: &str| {
            (p == "s.rs")
                .then(|| "// ANCHOR: a\n    x();\n// ANCHOR_END: a\n".to_string())
        };
        let r = process("n.md", &doc, &mut load);
        assert_eq!(r.blocks, 2);
        assert_eq!(r.drifted.len(), 1);
        assert_eq!(r.drifted[0].0, 1);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].line, 12);
        assert!(r.synced.contains("```rust\nx();\n```"));
        assert!(r.synced.contains("  ```rust\n  x();\n  ```"));
        // Syncing again changes nothing.
        let again = process("n.md", &Doc::parse(&r.synced), &mut load);
        assert!(again.drifted.is_empty());
        assert_eq!(again.synced, r.synced);
    }
}
