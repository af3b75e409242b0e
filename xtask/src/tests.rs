//! End-to-end tests on tiny fake workspaces in the temp directory: a correct
//! one passes, and each kind of mistake is reported.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::checks::{self, Problem};

/// A throwaway workspace, deleted when dropped.
struct Fake {
    root: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

const MAIN_RS: &str = "//! A demo program.
//!
//! Run it: `cargo run -p demo`

// ANCHOR: main
fn main() {
    // ANCHOR: greet
    println!(\"hi\");
    // ANCHOR_END: greet
}
// ANCHOR_END: main
";

const ZH: &str = "# 第一课

运行 `cargo run -p demo`。

## 代码

<!-- code: crates/demo/src/main.rs#greet -->
```rust
println!(\"hi\");
```

```mermaid
sequenceDiagram
    A->>B: hi
```

返回[目录](../README.md)。

## 练习

1. 改一改。
";

const EN: &str = "# Lesson one

Run `cargo run -p demo`.

## Code

<!-- code: crates/demo/src/main.rs#greet -->
```rust
println!(\"hi\");
```

```mermaid
sequenceDiagram
    A->>B: hi
```

Back to the [index](../README.md).

## Exercises

1. Change it.
";

impl Fake {
    /// A correct workspace: one program, one library, one lesson in two
    /// languages, an index and a script.
    fn good() -> Fake {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root =
            std::env::temp_dir().join(format!("xtask-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let fake = Fake { root };
        fake.write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\", \"xtask\"]\n",
        );
        fake.write(
            "crates/demo/Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
        );
        fake.write("crates/demo/src/main.rs", MAIN_RS);
        fake.write(
            "crates/shared/Cargo.toml",
            "[package]\nname = \"shared\"\nversion = \"0.1.0\"\n",
        );
        fake.write("crates/shared/src/lib.rs", "pub fn f() {}\n");
        fake.write(
            "notes/README.md",
            "# Course\n\n| lesson | program |\n|---|---|\n| [中文](zh/01-x.md) · [English](en/01-x.md) | `demo` |\n",
        );
        fake.write("notes/zh/01-x.md", ZH);
        fake.write("notes/en/01-x.md", EN);
        fake.write(
            "scripts/demo.sh",
            "#!/bin/sh\nset -e\nmkdir -p target/tmp\ncargo run -q -p demo\ncargo xtask check\n",
        );
        fake.write("README.md", "See [the notes](notes/README.md).\n");
        fake
    }

    /// Writes a file, creating its folders.
    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Reads a file.
    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    /// Runs the checks and returns the problems.
    fn problems(&self) -> Vec<Problem> {
        checks::check(&self.root).problems
    }

    /// The root.
    fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Asserts that exactly one problem was found, at `path`, containing `needle`.
fn assert_one(problems: &[Problem], path: &str, needle: &str) {
    assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
    assert_eq!(problems[0].path, path, "{problems:#?}");
    assert!(
        problems[0].message.contains(needle),
        "`{needle}` not in {problems:#?}"
    );
}

/// Splits the problems into Rust blocks typed by hand and the others.
fn split_typed_by_hand(problems: Vec<Problem>) -> (Vec<Problem>, Vec<Problem>) {
    problems
        .into_iter()
        .partition(|p| p.message.contains("typed by hand"))
}

#[test]
fn correct_workspace_passes() {
    let fake = Fake::good();
    let report = checks::check(fake.root());
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(
        (report.pages, report.blocks, report.programs),
        (3, 2, 1),
        "library crates are not programs"
    );
    let sync = checks::sync(fake.root(), &[]);
    assert!(sync.updated.is_empty() && sync.problems.is_empty());
}

#[test]
fn drifted_block_is_reported_and_sync_fixes_it() {
    let fake = Fake::good();
    fake.write(
        "crates/demo/src/main.rs",
        &MAIN_RS.replace(
            "println!(\"hi\");",
            "println!(\"hello\");\n    println!(\"bye\");",
        ),
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0].to_string(), "notes/en/01-x.md:7: code block differs from crates/demo/src/main.rs#greet; run `cargo xtask sync`");
    assert_eq!(problems[1].path, "notes/zh/01-x.md");

    let sync = checks::sync(fake.root(), &[]);
    assert_eq!(sync.updated, vec!["notes/en/01-x.md", "notes/zh/01-x.md"]);
    assert!(fake.read("notes/zh/01-x.md").contains(
        "```rust\nprintln!(\"hello\");\nprintln!(\"bye\");\n```\n\n```mermaid"
    ));
    assert!(fake.problems().is_empty());
    assert!(
        checks::sync(fake.root(), &[]).updated.is_empty(),
        "sync is idempotent"
    );
}

#[test]
fn missing_anchor_is_reported() {
    let fake = Fake::good();
    fake.write(
        "crates/demo/src/main.rs",
        &MAIN_RS.replace("// ANCHOR: greet\n", ""),
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems.iter().all(|p| p
        .message
        .contains("has `ANCHOR_END: greet` but no `ANCHOR: greet`")));

    let fake = Fake::good();
    for lang in ["zh", "en"] {
        let page = format!("notes/{lang}/01-x.md");
        fake.write(&page, &fake.read(&page).replace("#greet", "#nope"));
    }
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].message.contains("no anchor `nope`"));
    // sync reports it too and leaves the file alone.
    let sync = checks::sync(fake.root(), &[]);
    assert_eq!(sync.problems.len(), 2);
    assert!(sync.updated.is_empty());
}

#[test]
fn marker_problems_are_reported() {
    let fake = Fake::good();
    for lang in ["zh", "en"] {
        let page = format!("notes/{lang}/01-x.md");
        fake.write(
            &page,
            &fake
                .read(&page)
                .replace("demo/src/main.rs#greet -->\n", "demo/src/gone.rs -->\n\n"),
        );
    }
    // The block the marker no longer reaches is Rust typed by hand, too.
    let (typed, problems) = split_typed_by_hand(fake.problems());
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].message.contains("not followed by a code fence"));
    assert_eq!(typed.len(), 2, "{typed:#?}");

    let fake = Fake::good();
    for lang in ["zh", "en"] {
        let page = format!("notes/{lang}/01-x.md");
        fake.write(&page, &fake.read(&page).replace("main.rs#greet", "gone.rs"));
    }
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0]
        .message
        .contains("crates/demo/src/gone.rs, which does not exist"));
}

#[test]
fn broken_link_is_reported() {
    let fake = Fake::good();
    fake.write(
        "notes/en/01-x.md",
        &format!(
            "{EN}\nSee [next](02-y.md#top), [web](https://example.com), `[code](no.md)`.\n\n```text\n[fenced](no.md)\n```\n"
        ),
    );
    // The extra fence also breaks the mirror; only look at link problems.
    let problems: Vec<Problem> = fake
        .problems()
        .into_iter()
        .filter(|p| p.message.contains("broken link"))
        .collect();
    assert_one(&problems, "notes/en/01-x.md", "broken link `02-y.md#top`");
    assert_eq!(problems[0].line, 23);

    let fake = Fake::good();
    fake.write("README.md", "See [the notes](notes/READ_ME.md).\n");
    assert_one(
        &fake.problems(),
        "README.md",
        "notes/READ_ME.md does not exist",
    );
}

#[test]
fn heading_level_mismatch_is_reported() {
    let fake = Fake::good();
    fake.write("notes/en/01-x.md", &EN.replace("## Code", "### Code"));
    let problems = fake.problems();
    assert_one(
        &problems,
        "notes/zh/01-x.md",
        "`## 代码` in notes/zh/01-x.md vs `### Code`",
    );
    assert_eq!(problems[0].line, 5);
}

#[test]
fn missing_diagram_in_one_language_is_reported() {
    let fake = Fake::good();
    fake.write("notes/en/01-x.md", &EN.replace("```mermaid", "```svgbob"));
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].message.contains("no ```mermaid diagram"));
    assert!(problems[1]
        .message
        .contains("a ```mermaid block in notes/zh/01-x.md vs a ```svgbob block"));
}

#[test]
fn missing_mirror_file_is_reported() {
    let fake = Fake::good();
    fake.write(
        "notes/zh/00-intro.md",
        "# 简介\n\n见[目录](../README.md)。\n\n## 练习\n\n1. 想一想。\n",
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(
        problems[0].message,
        "lesson page notes/zh/00-intro.md is not linked from the index; add a link `(zh/00-intro.md)`"
    );
    assert_eq!(problems[1].path, "notes/zh/00-intro.md");
    assert!(problems[1]
        .message
        .contains("notes/en/00-intro.md is missing"));
}

#[test]
fn program_missing_from_index_is_reported() {
    let fake = Fake::good();
    fake.write(
        "crates/demo-two/Cargo.toml",
        "[package]\nname = \"demo-two\"\nversion = \"0.1.0\"\n",
    );
    fake.write(
        "crates/demo-two/src/main.rs",
        "//! Second demo: `cargo run -p demo-two`\nfn main() {}\n",
    );
    for lang in ["zh", "en"] {
        let page = format!("notes/{lang}/01-x.md");
        fake.write(
            &page,
            &format!("{}\n`cargo run -p demo-two`\n", fake.read(&page)),
        );
    }
    let problems = fake.problems();
    assert_one(
        &problems,
        "notes/README.md",
        "program `demo-two` (crates/demo-two) is not listed",
    );

    // Not mentioned in the English notes either.
    fake.write("notes/en/01-x.md", EN);
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0].path, "crates/demo-two/Cargo.toml");
    assert_eq!(problems[0].line, 2);
    assert!(problems[0].message.contains("any English note"));
}

#[test]
fn main_without_doc_header_is_reported() {
    let fake = Fake::good();
    fake.write(
        "crates/demo/src/main.rs",
        &MAIN_RS.replace(
            "//! A demo program.\n//!\n//! Run it: `cargo run -p demo`\n",
            "// A demo program.\n",
        ),
    );
    assert_one(
        &fake.problems(),
        "crates/demo/src/main.rs",
        "must begin with a `//!` doc block",
    );

    fake.write(
        "crates/demo/src/main.rs",
        &MAIN_RS.replace("cargo run -p demo", "cargo run"),
    );
    assert_one(
        &fake.problems(),
        "crates/demo/src/main.rs",
        "add `cargo run -p demo`",
    );
}

#[test]
fn script_naming_missing_package_is_reported() {
    let fake = Fake::good();
    fake.write(
        "scripts/try.sh",
        "#!/bin/sh\ncargo run -p demo\ncargo run -p dmeo -- 127.0.0.1:7000\n",
    );
    let problems = fake.problems();
    assert_one(&problems, "scripts/try.sh", "`-p dmeo` names no package");
    assert_eq!(problems[0].line, 3);
}

#[test]
fn lesson_without_include_is_reported() {
    let fake = Fake::good();
    let strip = |t: &str| t.replace("<!-- code: crates/demo/src/main.rs#greet -->\n", "");
    fake.write("notes/zh/01-x.md", &strip(ZH));
    fake.write("notes/en/01-x.md", &strip(EN));
    // The block left without its marker is Rust typed by hand, too.
    let (typed, problems) = split_typed_by_hand(fake.problems());
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems
        .iter()
        .all(|p| p.message.contains("includes no code")));
    assert_eq!(typed.len(), 2, "{typed:#?}");
}

#[test]
fn output_block_must_be_a_transcript_or_marked_by_hand() {
    let fake = Fake::good();
    let output = "\n```text\nlistening on 127.0.0.1:1\n```\n";
    fake.write("notes/zh/01-x.md", &format!("{ZH}{output}"));
    fake.write("notes/en/01-x.md", &format!("{EN}{output}"));
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    for problem in &problems {
        assert!(
            problem.message.contains("neither a transcript"),
            "{problems:#?}"
        );
    }

    // A reason makes it fine; an empty one does not.
    let by_hand =
        "\n<!-- by hand: a protocol example -->\n```text\nGET / HTTP/1.1\n```\n";
    fake.write("notes/zh/01-x.md", &format!("{ZH}{by_hand}"));
    fake.write("notes/en/01-x.md", &format!("{EN}{by_hand}"));
    assert!(fake.problems().is_empty(), "{:#?}", fake.problems());
    fake.write(
        "notes/en/01-x.md",
        &format!("{EN}{}", by_hand.replace("a protocol example", " ")),
    );
    assert_one(&fake.problems(), "notes/en/01-x.md", "neither a transcript");

    // Included from a transcript file: fine, and sync fills it.
    fake.write(
        "notes/transcripts/01-server.txt",
        "listening on 127.0.0.1:1\n",
    );
    let included = "\n<!-- code: notes/transcripts/01-server.txt -->\n```text\n```\n";
    fake.write("notes/zh/01-x.md", &format!("{ZH}{included}"));
    fake.write("notes/en/01-x.md", &format!("{EN}{included}"));
    let only = ["notes/en/01-x.md".to_string()];
    assert_eq!(checks::sync(fake.root(), &only).updated, only);
    assert!(fake
        .read("notes/en/01-x.md")
        .contains("```text\nlistening on"));
    assert!(!fake
        .read("notes/zh/01-x.md")
        .contains("```text\nlistening on"));
    checks::sync(fake.root(), &[]);
    assert!(fake.problems().is_empty(), "{:#?}", fake.problems());
}

#[test]
fn rust_block_typed_by_hand_is_reported_in_any_note() {
    let fake = Fake::good();
    let typed = "\n1. An answer:\n\n   ```rust\n   fn answer() {}\n   ```\n";
    fake.write("notes/zh/guide.md", &format!("# 教师手册\n{typed}"));
    fake.write("notes/en/guide.md", &format!("# Teacher's guide\n{typed}"));
    let problems = fake.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0].path, "notes/en/guide.md");
    assert_eq!(problems[0].line, 5);
    assert_eq!(problems[1].path, "notes/zh/guide.md");
    assert!(
        problems[0].message.contains("```rust block typed by hand")
            && problems[0]
                .message
                .contains("<!-- code: crates/NAME/examples/"),
        "{problems:#?}"
    );

    // In a lesson page too, whatever the info string says.
    let fake = Fake::good();
    let page = "notes/en/01-x.md";
    fake.write(page, &format!("{EN}\n```rust,ignore\nlet x = 1;\n```\n"));
    let (problems, _) = split_typed_by_hand(fake.problems());
    assert_one(&problems, page, "```rust block typed by hand");
    assert_eq!(problems[0].line, 23);
}

#[test]
fn included_rust_block_in_the_guide_passes_and_a_sketch_does_not() {
    let fake = Fake::good();
    fake.write(
        "crates/demo/examples/answer-01-1.rs",
        "fn main() {\n    // ANCHOR: change\n    println!(\"bye\");\n    // ANCHOR_END: change\n}\n",
    );
    let included = "\n<!-- code: crates/demo/examples/answer-01-1.rs#change -->\n```rust\nprintln!(\"bye\");\n```\n";
    fake.write("notes/zh/guide.md", &format!("# 教师手册\n{included}"));
    fake.write("notes/en/guide.md", &format!("# Guide\n{included}"));
    assert!(fake.problems().is_empty(), "{:#?}", fake.problems());

    // A sketch typed into the guide is reported like one in a lesson.
    fake.write(
        "notes/en/guide.md",
        &format!("# Guide\n{included}\n```rust\n// Sketch: later.\n```\n"),
    );
    let ws = checks::Workspace::load(fake.root());
    let problems = checks::check_rust_blocks(&ws);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "notes/en/guide.md");
    assert!(problems[0].message.contains("typed by hand"));
}

/// The problems about exercises.
fn about_exercises(fake: &Fake) -> Vec<Problem> {
    fake.problems()
        .into_iter()
        .filter(|p| p.message.contains("exercises"))
        .collect()
}

#[test]
fn lesson_page_that_does_not_end_with_exercises_is_reported() {
    // A section after the exercises, other than the closing `## Next`.
    let fake = Fake::good();
    fake.write("notes/en/01-x.md", &format!("{EN}\n## Next\n\nOn.\n"));
    fake.write("notes/zh/01-x.md", &format!("{ZH}\n## 下一课\n\n继续。\n"));
    assert!(fake.problems().is_empty(), "{:#?}", fake.problems());
    fake.write("notes/en/01-x.md", &format!("{EN}\n## More\n\nOn.\n"));
    let problems = about_exercises(&fake);
    assert_one(
        &problems,
        "notes/en/01-x.md",
        "does not end with its exercises",
    );
    assert_eq!(problems[0].line, 23);
    assert!(problems[0].message.contains("add a `## Exercises` section"));

    // No exercises at all, on the measuring page (not a lesson page).
    let fake = Fake::good();
    fake.write(
        "notes/zh/measuring.md",
        "# 测量\n\n## 练习\n\n1. 量一量。\n\n## 下一步\n",
    );
    fake.write("notes/en/measuring.md", "# Measuring\n\n## Next\n");
    let problems = about_exercises(&fake);
    assert_one(
        &problems,
        "notes/en/measuring.md",
        "add a `## Exercises` section",
    );
    assert_eq!(problems[0].line, 1);
}
