//! The course as a website: `cargo xtask book-src OUT` lays out one mdBook
//! source folder per language from the notes as they are, and `cargo xtask
//! book-map BOOK` records the heading ids of the built pages so that the
//! language switch can keep the section. `scripts/book` runs both around
//! `mdbook build`.
//!
//! The notes stay the source: they are copied, never changed. In the copies
//! only the links that point out of a language's folder are rewritten, so that
//! they still work in the book (`../README.md` becomes the book's first page,
//! `../../BENCHMARKS.md` a page of the book, `../en/x.md` the other book).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::checks::{link_path, resolve};
use crate::markdown::Doc;

/// The two books, with what differs between them.
pub const LANGS: [Lang; 2] = [
    Lang {
        code: "zh",
        title: "可以运行的套接字编程课",
        benchmarks: "基准测试数据（BENCHMARKS.md，英文）",
    },
    Lang {
        code: "en",
        title: "Socket programming you can run",
        benchmarks: "Benchmark figures (BENCHMARKS.md)",
    },
];

/// One language's book.
pub struct Lang {
    /// The folder under `notes/` and under the output.
    pub code: &'static str,
    /// The book's title, in the menu bar.
    pub title: &'static str,
    /// The sidebar title of the page made from BENCHMARKS.md.
    pub benchmarks: &'static str,
}

impl Lang {
    /// The other language's code.
    fn other(&self) -> &'static str {
        if self.code == "zh" {
            "en"
        } else {
            "zh"
        }
    }
}

/// A page of a book, in course order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The file name in `notes/<lang>/`, like `05-stream-framing.md`.
    pub file: String,
    /// The title in the sidebar.
    pub title: String,
}

/// The pages of `lang` in the order notes/README.md links them. A link in a
/// table row whose first cell is a lesson number (`| 05 |`) gets the number in
/// front of its text.
pub fn course_order(index: &str, lang: &str) -> Vec<Entry> {
    let doc = Doc::parse(index);
    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    let prefix = format!("notes/{lang}/");
    // Only lines the scanner found links on: fenced code is skipped.
    let lines: BTreeSet<usize> = doc.links.iter().map(|l| l.line).collect();
    for i in lines {
        let line = &doc.lines[i];
        let number = lesson_number(line);
        for (text, target) in text_links(line) {
            let Some(path) = link_path(&target) else {
                continue;
            };
            let Some(rel) = resolve("notes", &path) else {
                continue;
            };
            let Some(file) = rel.strip_prefix(&prefix) else {
                continue;
            };
            if file.contains('/')
                || !file.ends_with(".md")
                || !seen.insert(file.to_string())
            {
                continue;
            }
            let title = match number {
                Some(n) => format!("{n} {text}"),
                None => text,
            };
            entries.push(Entry {
                file: file.to_string(),
                title,
            });
        }
    }
    entries
}

/// The first cell of a table row, if it is a lesson number like `05`.
fn lesson_number(line: &str) -> Option<&str> {
    let cell = line.trim().strip_prefix('|')?.split('|').next()?.trim();
    let digits = cell.split_whitespace().next()?;
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The inline links `[text](target)` of one line, text and target.
fn text_links(line: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = line[from..].find('[') {
        let start = from + open + 1;
        let Some(close) = line[start..].find("](") else {
            break;
        };
        let text = &line[start..start + close];
        let after = start + close + 2;
        let Some(end) = line[after..].find(')') else {
            break;
        };
        // A `[` inside the text means this `[` opened something else.
        if let Some(inner) = text.rfind('[') {
            from = start + inner;
            continue;
        }
        let target = line[after..after + end]
            .split_whitespace()
            .next()
            .unwrap_or("");
        found.push((text.trim_matches('*').to_string(), target.to_string()));
        from = after + end + 1;
    }
    found
}

/// What a link of the page `page` (a root-relative path) becomes in the book
/// of `lang`, whose pages are `files`; `None` when it stays as it is. A link
/// to a file the book cannot hold is reported in `warnings`.
pub fn book_target(
    page: &str,
    target: &str,
    lang: &Lang,
    files: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let path = link_path(target)?;
    let dir = page.rsplit_once('/').map_or("", |(d, _)| d);
    let suffix = &target[target.find(['#', '?']).unwrap_or(target.len())..];
    let Some(rel) = resolve(dir, &path) else {
        warnings.push(format!("{page}: `{target}` climbs out of the repository"));
        return None;
    };
    let own = format!("notes/{}/", lang.code);
    let other = format!("notes/{}/", lang.other());
    let new = if rel == "notes/README.md" {
        "index.md".to_string()
    } else if rel == "BENCHMARKS.md" {
        "benchmarks.md".to_string()
    } else if let Some(file) = rel.strip_prefix(&own).filter(|f| files.contains(*f)) {
        file.to_string()
    } else if let Some(file) = rel.strip_prefix(&other).filter(|f| f.ends_with(".md")) {
        format!("../{}/{file}", lang.other())
    } else {
        warnings.push(format!(
            "{page}: `{target}` ({rel}) is not a page of the book; the link will not work there"
        ));
        return None;
    };
    let new = format!("{new}{suffix}");
    (new != target).then_some(new)
}

/// `text` (the page at `page`) with its links rewritten for the book.
pub fn rewrite_links(
    page: &str,
    text: &str,
    lang: &Lang,
    files: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> String {
    let doc = Doc::parse(text);
    let mut lines = doc.lines.clone();
    for link in &doc.links {
        let Some(new) = book_target(page, &link.target, lang, files, warnings) else {
            continue;
        };
        let line = &mut lines[link.line];
        let old = &link.target;
        // A reference definition, `[label]: target`.
        if line.trim_start().starts_with('[') && line.contains(&format!("]: {old}")) {
            *line = line.replacen(&format!("]: {old}"), &format!("]: {new}"), 1);
            continue;
        }
        for (open, close) in [("](", ")"), ("](", " "), ("](<", ">")] {
            let from = format!("{open}{old}{close}");
            *line = line.replace(&from, &format!("{open}{new}{close}"));
        }
    }
    lines.join(doc.eol)
}

/// The SUMMARY.md of a book: the index first, the pages in course order, then
/// BENCHMARKS.md if the book has it.
pub fn summary(index_title: &str, entries: &[Entry], benchmarks: Option<&str>) -> String {
    let mut out = String::from("# Summary\n\n");
    let _ = writeln!(out, "[{}](index.md)\n", escape_title(index_title));
    for e in entries {
        let _ = writeln!(out, "- [{}]({})", escape_title(&e.title), e.file);
    }
    if let Some(title) = benchmarks {
        let _ = write!(out, "\n---\n\n[{}](benchmarks.md)\n", escape_title(title));
    }
    out
}

/// A title safe inside `[...]` of SUMMARY.md.
fn escape_title(title: &str) -> String {
    title
        .replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The book.toml of a book: offline (no playground), Mermaid from the local
/// script mdbook-mermaid installs, the course's own script and style, and
/// search that needs every word of a query in one section.
pub fn book_toml(lang: &Lang) -> String {
    format!(
        r#"# Generated by `cargo xtask book-src` (scripts/book); edit xtask/src/book.rs.
[book]
title = {title}
language = "{code}"
src = "src"

[build]
create-missing = false

[preprocessor.mermaid]
command = "mdbook-mermaid"

[output.html]
default-theme = "light"
preferred-dark-theme = "navy"
# The pages read as they do on GitHub: straight quotes, `--flag` stays.
smart-punctuation = false
# Lessons carry their own numbers.
no-section-label = true
# lang-map.js is rewritten after the build; plain names keep that simple.
hash-files = false
additional-css = ["course.css"]
additional-js = ["mermaid.min.js", "mermaid-init.js", "lang-map.js", "course.js"]

[output.html.playground]
# Nothing is sent to the Rust playground: code is shown and copied, never run.
runnable = false
editable = false
copyable = true

[output.html.search]
use-boolean-and = true

[output.html.print]
enable = true
"#,
        title = toml_string(lang.title),
        code = lang.code,
    )
}

/// The title of a Markdown page: its first `#` heading.
fn first_heading(text: &str) -> Option<String> {
    Doc::parse(text)
        .headings
        .into_iter()
        .find(|h| h.level == 1)
        .map(|h| h.text)
}

/// `cargo xtask book-src OUT`: writes OUT/<lang>/book.toml and OUT/<lang>/src/
/// (SUMMARY.md, index.md from notes/README.md, every page of notes/<lang>/,
/// benchmarks.md from BENCHMARKS.md). Returns the lines to print (what was
/// written, and links that will not work in the book).
pub fn write_sources(root: &Path, out: &Path) -> Result<Vec<String>, String> {
    let read =
        |p: &Path| fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let write = |p: &Path, text: &str| -> Result<(), String> {
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let index = read(&root.join("notes/README.md"))?;
    let benchmarks = root.join("BENCHMARKS.md");
    let benchmarks = benchmarks
        .is_file()
        .then(|| read(&benchmarks))
        .transpose()?;
    let mut report = Vec::new();
    let mut warnings = Vec::new();
    for lang in &LANGS {
        let notes = root.join("notes").join(lang.code);
        let mut entries = course_order(&index, lang.code);
        let mut on_disk: Vec<String> = fs::read_dir(&notes)
            .map_err(|e| format!("{}: {e}", notes.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".md"))
            .collect();
        on_disk.sort();
        // The index may name a page that is not written yet: leave it out.
        entries.retain(|e| on_disk.contains(&e.file));
        // A page the index does not list still goes in, at the end.
        for file in &on_disk {
            if !entries.iter().any(|e| &e.file == file) {
                let text = read(&notes.join(file))?;
                let title = first_heading(&text).unwrap_or_else(|| file.clone());
                warnings.push(format!(
                    "notes/{}/{file} is not linked from notes/README.md; it goes last",
                    lang.code
                ));
                entries.push(Entry {
                    file: file.clone(),
                    title,
                });
            }
        }
        let files: BTreeSet<String> = entries.iter().map(|e| e.file.clone()).collect();
        let dir = out.join(lang.code);
        let src = dir.join("src");
        if src.exists() {
            fs::remove_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        }
        for e in &entries {
            let page = format!("notes/{}/{}", lang.code, e.file);
            let text = read(&root.join(&page))?;
            let text = rewrite_links(&page, &text, lang, &files, &mut warnings);
            write(&src.join(&e.file), &text)?;
        }
        let index_text =
            rewrite_links("notes/README.md", &index, lang, &files, &mut warnings);
        write(&src.join("index.md"), &index_text)?;
        let index_title = first_heading(&index).unwrap_or_else(|| lang.title.to_string());
        if let Some(text) = &benchmarks {
            let text = rewrite_links("BENCHMARKS.md", text, lang, &files, &mut warnings);
            write(&src.join("benchmarks.md"), &text)?;
        }
        let bench_title = benchmarks.as_ref().map(|_| lang.benchmarks);
        write(
            &src.join("SUMMARY.md"),
            &summary(&index_title, &entries, bench_title),
        )?;
        write(&dir.join("book.toml"), &book_toml(lang))?;
        report.push(format!(
            "book-src: {} pages in {}",
            entries.len(),
            dir.display()
        ));
    }
    warnings.sort();
    warnings.dedup();
    report.extend(
        warnings
            .into_iter()
            .map(|w| format!("book-src: warning: {w}")),
    );
    Ok(report)
}

/// The ids of the headings (`<h1 id=...>` to `<h6 id=...>`) inside `<main>`
/// of a page built by mdBook, in order.
pub fn heading_ids(html: &str) -> Vec<String> {
    let start = html.find("<main>").unwrap_or(0);
    let end = html[start..]
        .find("</main>")
        .map_or(html.len(), |e| start + e);
    let main = &html[start..end];
    let mut ids = Vec::new();
    let mut from = 0;
    while let Some(pos) = main[from..].find("<h") {
        let at = from + pos;
        from = at + 2;
        let rest = &main[at + 2..];
        let level = rest.as_bytes().first().copied().unwrap_or(0);
        if !(b'1'..=b'6').contains(&level) {
            continue;
        }
        let Some(tag_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[1..tag_end];
        if !(tag.is_empty() || tag.starts_with(' ')) {
            continue;
        }
        if let Some(id) = tag.split("id=\"").nth(1).and_then(|s| s.split('"').next()) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// A JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `cargo xtask book-map BOOK`: writes BOOK/<lang>/lang-map.js for both
/// books, `window.courseHeadings = {"zh": {"page.html": [ids]}, "en": ...}`,
/// from the pages built in BOOK/zh and BOOK/en.
pub fn write_heading_map(book: &Path) -> Result<Vec<String>, String> {
    let mut js = String::from(
        "// Generated by `cargo xtask book-map` (scripts/book): the heading ids of\n\
         // every page of both books, in order, for the language switch.\n\
         window.courseHeadings = {\n",
    );
    let mut pages = 0;
    for (n, lang) in LANGS.iter().enumerate() {
        let dir = book.join(lang.code);
        let mut names: Vec<String> = fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| {
                name.ends_with(".html")
                    && !matches!(name.as_str(), "print.html" | "toc.html" | "404.html")
            })
            .collect();
        names.sort();
        let _ = writeln!(js, "  {}: {{", json_string(lang.code));
        for (k, name) in names.iter().enumerate() {
            let path = dir.join(name);
            let html = fs::read_to_string(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let ids: Vec<String> = heading_ids(&html)
                .iter()
                .map(|id| json_string(id))
                .collect();
            let comma = if k + 1 < names.len() { "," } else { "" };
            let _ =
                writeln!(js, "    {}: [{}]{comma}", json_string(name), ids.join(", "));
            pages += 1;
        }
        let comma = if n + 1 < LANGS.len() { "," } else { "" };
        let _ = writeln!(js, "  }}{comma}");
    }
    js.push_str("};\n");
    for lang in &LANGS {
        let path = book.join(lang.code).join("lang-map.js");
        fs::write(&path, &js).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(vec![format!(
        "book-map: headings of {pages} pages in {}",
        book.display()
    )])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const INDEX: &str = "# Notes\n\n\
| Lesson | 中文 | English |\n|---|---|---|\n\
| 00 | [概念](zh/00-concepts.md) | [Concepts](en/00-concepts.md) |\n\
| 01 | [一次性回显](zh/01-one.md) | [One-shot echo](en/01-one.md) |\n\n\
```text\n[not a page](zh/ghost.md)\n```\n\n\
Teachers: [教师指南](zh/teacher.md) · [Teacher's guide](en/teacher.md) · [again](zh/00-concepts.md)\n";

    #[test]
    fn order_and_titles_come_from_the_index() {
        let zh = course_order(INDEX, "zh");
        let titles: Vec<&str> = zh.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["00 概念", "01 一次性回显", "教师指南"]);
        let en = course_order(INDEX, "en");
        assert_eq!(en[2].file, "teacher.md");
        assert_eq!(en[2].title, "Teacher's guide");
    }

    #[test]
    fn links_out_of_the_folder_are_rewritten() {
        let files: BTreeSet<String> =
            ["00-concepts.md", "01-one.md"].map(String::from).into();
        let (zh, en) = (&LANGS[0], &LANGS[1]);
        let mut w = Vec::new();
        let page = "notes/zh/01-one.md";
        let text = "返回[目录](../README.md)，见[概念](00-concepts.md#x)、\
[英文](../en/01-one.md#y)和[数字](../../BENCHMARKS.md)。\n\
```\n[code](../README.md)\n```\n`[span](../README.md)` [src](../../crates/a/src/main.rs)\n";
        let out = rewrite_links(page, text, zh, &files, &mut w);
        assert_eq!(
            out,
            "返回[目录](index.md)，见[概念](00-concepts.md#x)、\
[英文](../en/01-one.md#y)和[数字](benchmarks.md)。\n\
```\n[code](../README.md)\n```\n`[span](../README.md)` [src](../../crates/a/src/main.rs)\n"
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("crates/a/src/main.rs"), "{w:?}");
        let index = rewrite_links("notes/README.md", INDEX, en, &files, &mut w);
        assert!(index.contains("[Concepts](00-concepts.md)"), "{index}");
        assert!(index.contains("[概念](../zh/00-concepts.md)"), "{index}");
    }

    #[test]
    fn summary_lists_pages_in_order() {
        let entries = course_order(INDEX, "zh");
        let s = summary("Notes", &entries, Some("Figures [en]"));
        assert_eq!(
            s,
            "# Summary\n\n[Notes](index.md)\n\n- [00 概念](00-concepts.md)\n\
- [01 一次性回显](01-one.md)\n- [教师指南](teacher.md)\n\n---\n\n[Figures \\[en\\]](benchmarks.md)\n"
        );
    }

    #[test]
    fn heading_ids_in_main_only() {
        let html = "<h1 id=\"menu\">x</h1><main><h1 id=\"a\"><a href=\"#a\">A</a></h1>\
<p>x</p><h2 id=\"b-1\">B</h2><hr><header><h3>no id</h3></main><h2 id=\"after\">";
        assert_eq!(heading_ids(html), ["a", "b-1"]);
    }

    #[test]
    fn book_toml_turns_the_playground_off() {
        let t = book_toml(&LANGS[0]);
        assert!(t.contains("runnable = false"));
        assert!(t.contains("language = \"zh\""));
        assert!(t.contains("title = \"可以运行的套接字编程课\""));
    }
}
