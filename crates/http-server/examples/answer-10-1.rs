//! Lesson 10, exercise 1: the folder listing with folders first, then
//! files, each group in name order without regard to case (`B.txt` after
//! `a.txt`).
//!
//! It prints the page that http-server would send for a folder, so the
//! order can be seen without a browser:
//!
//! ```text
//! cargo run -p http-server --example answer-10-1 -- notes
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use course::cli::{Arg, Args};
use http_server::{entries, listing_page};

const HELP: &str = "\
answer-10-1: print a folder's listing, folders first, names without case (lesson 10, exercise 1)

Usage: answer-10-1 [DIR]     (default: the current folder)

Example:
  answer-10-1 notes
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let mut args = Args::from_env(HELP);
    let mut dir = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Value(value) if dir.is_none() => dir = Some(PathBuf::from(value)),
            other => {
                return Err(course::UsageError(other.unexpected().to_string()).into())
            }
        }
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let mut entries =
        entries(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
    sort(&mut entries);
    print!("{}", listing_page(&entries, "/"));
    Ok(())
}

// ANCHOR: sort
/// Folders first (`!is_dir` is false for them, and false sorts first), then
/// files; in each group by the name in lower case, and by the exact name
/// where two differ only in case, so that the order is the same every time.
fn sort(entries: &mut [(String, bool)]) {
    entries.sort_by_cached_key(|(name, is_dir)| {
        (!*is_dir, name.to_lowercase(), name.clone())
    });
}
// ANCHOR_END: sort
