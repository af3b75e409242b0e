//! Course maintenance tasks, run as `cargo xtask <command>`.
//!
//! - `cargo xtask sync` copies the code blocks of the notes from the crates.
//! - `cargo xtask check` verifies the notes, the programs and the scripts and
//!   prints every problem as `path:line: message`.
//! - `cargo xtask book-src OUT` and `cargo xtask book-map BOOK` are the two
//!   steps of `scripts/book` around `mdbook build` (see book.rs).
//!
//! No dependencies, so it builds in about a second.

mod book;
mod checks;
mod includes;
mod markdown;

#[cfg(test)]
mod tests;

use std::env;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  sync [PAGE...]  rewrite every included code block in the notes (or only in
                  the pages named, like notes/en/02-looping-echo.md) from the
                  source files
  check           verify notes, programs and scripts; print problems as `path:line: message`
  book-src OUT    lay out an mdBook source per language in OUT/zh and OUT/en
                  (used by scripts/book)
  book-map BOOK   write BOOK/zh/lang-map.js and BOOK/en/lang-map.js, the
                  heading ids of the built pages (used by scripts/book)

A note includes code with a marker on the line right before a code fence:
  <!-- code: crates/NAME/src/main.rs#anchor -->   (omit #anchor for the whole file)
and the source marks the region with `// ANCHOR: anchor` ... `// ANCHOR_END: anchor`
(`# ANCHOR: anchor` in shell and TOML files).

What a program prints (a ```text block in a lesson page) is included from a
transcript, `<!-- code: notes/transcripts/NAME.txt -->` (made by
scripts/transcripts), or marked `<!-- by hand: REASON -->` when it can't be.";

/// Prints a line to stdout; a closed pipe (`cargo xtask check | head`) is not an error.
fn say(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

/// Prints a line to stderr, ignoring write errors.
fn warn(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Finds the workspace root: the nearest ancestor of `start` whose
/// Cargo.toml has a `[workspace]` section.
fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

/// The workspace root, from the current directory or else from where this
/// crate was built.
fn workspace_root() -> Option<PathBuf> {
    env::current_dir()
        .ok()
        .and_then(|d| find_root(&d))
        .or_else(|| find_root(Path::new(env!("CARGO_MANIFEST_DIR"))))
}

/// `cargo xtask check`: prints problems, exit 1 if any.
fn run_check(root: &Path) -> ExitCode {
    let report = checks::check(root);
    if report.problems.is_empty() {
        say(&format!(
            "notes check: {} pages, {} code blocks, {} programs: ok",
            report.pages, report.blocks, report.programs
        ));
        return ExitCode::SUCCESS;
    }
    for p in &report.problems {
        say(&p.to_string());
    }
    let n = report.problems.len();
    warn(&format!(
        "notes check: {n} problem{} found",
        if n == 1 { "" } else { "s" }
    ));
    ExitCode::FAILURE
}

/// `cargo xtask sync`: rewrites drifted blocks (of the `only` pages, if any
/// are named), exit 1 if a marker is broken.
fn run_sync(root: &Path, only: &[String]) -> ExitCode {
    let report = checks::sync(root, only);
    for path in &report.updated {
        say(&format!("updated {path}"));
    }
    for p in &report.problems {
        warn(&p.to_string());
    }
    say(&format!(
        "sync: {} code blocks, {} files updated",
        report.blocks,
        report.updated.len()
    ));
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo xtask book-src OUT` or `cargo xtask book-map BOOK`: exit 1 on
/// failure, with the reason on stderr.
fn run_book(root: &Path, command: &str, dir: &Path) -> ExitCode {
    let result = if command == "book-src" {
        book::write_sources(root, dir)
    } else {
        book::write_heading_map(dir)
    };
    match result {
        Ok(lines) => {
            for line in lines {
                say(&line);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            warn(&format!("xtask {command}: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let command = match args.as_slice() {
        [] => {
            warn(USAGE);
            return ExitCode::from(2);
        }
        [one] => one.as_str(),
        [sync, _, ..] if sync == "sync" => "sync",
        [book, _] if book == "book-src" || book == "book-map" => book.as_str(),
        [first, rest @ ..] => {
            warn(&format!(
                "xtask: `{first}` takes no arguments (got `{}`); see `cargo xtask --help`",
                rest.join(" ")
            ));
            return ExitCode::from(2);
        }
    };
    if matches!(command, "-h" | "--help" | "help") {
        say(USAGE);
        return ExitCode::SUCCESS;
    }
    if matches!(command, "book-src" | "book-map") && args.len() != 2 {
        warn(&format!(
            "xtask: `{command}` takes one folder; see `cargo xtask --help`"
        ));
        return ExitCode::from(2);
    }
    if !matches!(command, "sync" | "check" | "book-src" | "book-map") {
        warn(&format!(
            "xtask: unknown command `{command}`; expected `sync`, `check`, `book-src` or `book-map` \
             (see `cargo xtask --help`)"
        ));
        return ExitCode::from(2);
    }
    let Some(root) = workspace_root() else {
        warn("xtask: no Cargo.toml with [workspace] found above the current directory");
        return ExitCode::FAILURE;
    };
    if command == "sync" {
        run_sync(&root, &args[1..])
    } else if command == "book-src" || command == "book-map" {
        run_book(&root, command, Path::new(&args[1]))
    } else {
        run_check(&root)
    }
}
