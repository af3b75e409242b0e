//! Loading the workspace and every check `cargo xtask check` runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::includes;
use crate::markdown::Doc;

/// One problem, printed as `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Path relative to the workspace root, with `/` separators.
    pub path: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    /// Builds a problem at `path:line`.
    pub fn new(path: &str, line: usize, message: String) -> Problem {
        Problem {
            path: path.to_string(),
            line,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// A Markdown file of the course.
#[derive(Debug)]
pub struct Page {
    /// Path relative to the workspace root (`notes/zh/01-x.md`).
    pub rel: String,
    /// Its parsed content.
    pub doc: Doc,
}

/// A package under `crates/`.
#[derive(Debug)]
pub struct Package {
    /// `name` from the `[package]` section.
    pub name: String,
    /// Path of its Cargo.toml relative to the root.
    pub manifest: String,
    /// 1-based line of `name = ...` in the manifest.
    pub name_line: usize,
    /// Path of its `src/main.rs` relative to the root, if it has one.
    pub main_rs: Option<String>,
    /// Binary target names: the package itself if it has a main.rs,
    /// `[[bin]]` names and `src/bin/*` programs.
    pub bins: Vec<String>,
}

/// Everything the checks read, loaded once.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The workspace root.
    pub root: PathBuf,
    /// Every `.md` file under `notes/`, sorted.
    pub notes: Vec<Page>,
    /// The workspace-root README.md, if present.
    pub readme: Option<Page>,
    /// Packages under `crates/`, sorted by directory.
    pub packages: Vec<Package>,
    /// Files directly under `scripts/`: (relative path, text).
    pub scripts: Vec<(String, String)>,
    /// Files that could not be read.
    pub problems: Vec<Problem>,
}

/// The result of `check`.
#[derive(Debug, Default)]
pub struct Report {
    /// Every problem found, sorted by path and line.
    pub problems: Vec<Problem>,
    /// Markdown pages under notes/.
    pub pages: usize,
    /// Included code blocks.
    pub blocks: usize,
    /// Packages with a `src/main.rs`.
    pub programs: usize,
}

/// The result of `sync`.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Notes that were rewritten (relative paths).
    pub updated: Vec<String>,
    /// Included code blocks seen.
    pub blocks: usize,
    /// Markers that could not be resolved, and write failures.
    pub problems: Vec<Problem>,
}

/// `path` relative to `root`, with `/` separators.
fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Collects `.md` files under `dir` recursively (skipping hidden folders).
fn walk_md(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk_md(&path, out);
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// Sorted entries of a directory (empty if it does not exist).
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    list.sort();
    list
}

/// Reads the `name = "..."` of a TOML section; returns (name, 1-based line).
fn section_names(manifest: &str, section: &str) -> Vec<(String, usize)> {
    let mut names = Vec::new();
    let mut current = String::new();
    for (i, raw) in manifest.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            current = line.split('#').next().unwrap_or("").trim().to_string();
            continue;
        }
        if current != section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "name" {
            continue;
        }
        let value = value.trim();
        let quote = if value.starts_with('\'') { '\'' } else { '"' };
        if let Some(inner) = value.strip_prefix(quote) {
            if let Some(end) = inner.find(quote) {
                names.push((inner[..end].to_string(), i + 1));
            }
        }
    }
    names
}

/// Reads one package from `dir`, if it has a Cargo.toml with a name.
fn load_package(root: &Path, dir: &Path, problems: &mut Vec<Problem>) -> Option<Package> {
    let manifest_path = dir.join("Cargo.toml");
    let manifest = rel_path(root, &manifest_path);
    let text = fs::read_to_string(&manifest_path).ok()?;
    let Some((name, name_line)) = section_names(&text, "[package]").into_iter().next()
    else {
        problems.push(Problem::new(
            &manifest,
            1,
            "no `name = \"...\"` in the [package] section; add one".into(),
        ));
        return None;
    };
    let main_path = dir.join("src/main.rs");
    let main_rs = main_path.is_file().then(|| rel_path(root, &main_path));
    let mut bins = Vec::new();
    if main_rs.is_some() {
        bins.push(name.clone());
    }
    bins.extend(section_names(&text, "[[bin]]").into_iter().map(|(n, _)| n));
    for p in sorted_entries(&dir.join("src/bin")) {
        let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
        if let Some(stem) = stem {
            if p.is_dir() || p.extension().is_some_and(|e| e == "rs") {
                bins.push(stem);
            }
        }
    }
    Some(Package {
        name,
        manifest,
        name_line,
        main_rs,
        bins,
    })
}

impl Workspace {
    /// Reads the notes, the README, the packages and the scripts under `root`.
    pub fn load(root: &Path) -> Workspace {
        let mut ws = Workspace {
            root: root.to_path_buf(),
            ..Workspace::default()
        };
        let mut md = Vec::new();
        walk_md(&root.join("notes"), &mut md);
        md.sort();
        for path in md {
            if let Some(page) = ws.read_page(&path) {
                ws.notes.push(page);
            }
        }
        let readme = root.join("README.md");
        if readme.is_file() {
            ws.readme = ws.read_page(&readme);
        }
        for dir in sorted_entries(&root.join("crates")) {
            if dir.is_dir() {
                if let Some(p) = load_package(root, &dir, &mut ws.problems) {
                    ws.packages.push(p);
                }
            }
        }
        for path in sorted_entries(&root.join("scripts")) {
            if path.is_file() {
                // Binary files cannot name packages; skip them quietly.
                if let Ok(text) = fs::read_to_string(&path) {
                    ws.scripts.push((rel_path(root, &path), text));
                }
            }
        }
        ws
    }

    /// Reads and parses one Markdown file, recording a problem on failure.
    fn read_page(&mut self, path: &Path) -> Option<Page> {
        let rel = rel_path(&self.root, path);
        match fs::read_to_string(path) {
            Ok(text) => Some(Page {
                rel,
                doc: Doc::parse(&text),
            }),
            Err(e) => {
                self.problems
                    .push(Problem::new(&rel, 1, format!("cannot read: {e}")));
                None
            }
        }
    }

    /// Notes, then the root README: every page that may hold includes and links.
    fn all_pages(&self) -> impl Iterator<Item = &Page> {
        self.notes.iter().chain(self.readme.iter())
    }

    /// Notes directly or indirectly under `notes/<lang>/`.
    fn lang_pages(&self, lang: &str) -> Vec<&Page> {
        let prefix = format!("notes/{lang}/");
        self.notes
            .iter()
            .filter(|p| p.rel.starts_with(&prefix))
            .collect()
    }

    /// `notes/README.md`, the course index.
    fn index(&self) -> Option<&Page> {
        self.notes.iter().find(|p| p.rel == "notes/README.md")
    }

    /// Runs the include processing on every page with a caching loader.
    fn includes(&self) -> Vec<(&Page, includes::NoteIncludes)> {
        let mut cache: HashMap<String, Option<String>> = HashMap::new();
        let root = self.root.clone();
        let mut load = move |path: &str| -> Option<String> {
            cache
                .entry(path.to_string())
                .or_insert_with(|| fs::read_to_string(root.join(path)).ok())
                .clone()
        };
        self.all_pages()
            .map(|page| (page, includes::process(&page.rel, &page.doc, &mut load)))
            .collect()
    }
}

/// Runs every check on the workspace at `root`. Changes nothing.
pub fn check(root: &Path) -> Report {
    let ws = Workspace::load(root);
    let mut report = Report {
        pages: ws.notes.len(),
        programs: ws.packages.iter().filter(|p| p.main_rs.is_some()).count(),
        ..Report::default()
    };
    let mut problems = ws.problems.clone();
    for (page, inc) in ws.includes() {
        report.blocks += inc.blocks;
        problems.extend(inc.problems);
        for (line, target) in inc.drifted {
            problems.push(Problem::new(
                &page.rel,
                line + 1,
                format!("code block differs from {target}; run `cargo xtask sync`"),
            ));
        }
    }
    for page in ws.all_pages() {
        problems.extend(check_links(root, page));
    }
    problems.extend(check_mirror(&ws));
    problems.extend(check_programs(&ws));
    problems.extend(check_lessons(&ws));
    let packages: BTreeSet<String> = ws
        .packages
        .iter()
        .map(|p| p.name.clone())
        .chain(std::iter::once("xtask".to_string()))
        .collect();
    let bins: BTreeSet<String> = ws
        .packages
        .iter()
        .flat_map(|p| p.bins.iter().cloned())
        .chain(std::iter::once("xtask".to_string()))
        .collect();
    for (rel, text) in &ws.scripts {
        problems.extend(check_script(rel, text, &packages, &bins));
    }
    problems.extend(check_index(&ws));
    problems.extend(check_rust_blocks(&ws));
    problems.extend(check_exercises(&ws));
    problems.sort();
    problems.dedup();
    report.problems = problems;
    report
}

/// Rewrites every included code block from source (only in the pages named
/// in `only`, as paths relative to `root`, unless it is empty); writes only
/// changed files.
pub fn sync(root: &Path, only: &[String]) -> SyncReport {
    let ws = Workspace::load(root);
    let mut report = SyncReport {
        problems: ws.problems.clone(),
        ..SyncReport::default()
    };
    for wanted in only {
        if !ws.notes.iter().any(|p| &p.rel == wanted) {
            report.problems.push(Problem::new(
                wanted,
                1,
                "no such page under notes/; name it from the workspace root".into(),
            ));
        }
    }
    for (page, inc) in ws.includes() {
        if !only.is_empty() && !only.contains(&page.rel) {
            continue;
        }
        report.blocks += inc.blocks;
        report.problems.extend(inc.problems);
        if inc.drifted.is_empty() {
            continue;
        }
        match fs::write(root.join(&page.rel), inc.synced) {
            Ok(()) => report.updated.push(page.rel.clone()),
            Err(e) => report.problems.push(Problem::new(
                &page.rel,
                1,
                format!("cannot write: {e}"),
            )),
        }
    }
    report
}

/// Decodes `%XX` escapes in a link target.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16);
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True for targets that are not files in the repository: URLs with a
/// scheme (`https:`, `mailto:`...), `//host` links and `#fragment` links.
fn is_external(target: &str) -> bool {
    if target.starts_with('#') || target.starts_with("//") {
        return true;
    }
    match target.split_once(':') {
        Some((scheme, _)) => {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// The file part of a relative link (no `#fragment`, no `?query`, decoded);
/// `None` for external links and pure fragments.
pub fn link_path(target: &str) -> Option<String> {
    if is_external(target) {
        return None;
    }
    let end = target.find(['#', '?']).unwrap_or(target.len());
    let path = percent_decode(&target[..end]);
    (!path.is_empty()).then_some(path)
}

/// Joins `target` onto the directory `base` (both relative to the root,
/// `/`-separated) and resolves `.` and `..`. A target starting with `/` is
/// taken from the root. `None` if it climbs out of the root.
pub fn resolve(base: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|s| !s.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The directory of a root-relative file path (`notes/zh` for `notes/zh/a.md`).
fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Check 1: every relative link of `page` points to an existing file or folder.
pub fn check_links(root: &Path, page: &Page) -> Vec<Problem> {
    let mut problems = Vec::new();
    let dir = dir_of(&page.rel);
    for link in &page.doc.links {
        let Some(path) = link_path(&link.target) else {
            continue;
        };
        let (exists, shown) = match resolve(dir, &path) {
            Some(rel) => (root.join(&rel).exists(), rel),
            None => {
                let abs = root.join(dir).join(&path);
                (abs.exists(), abs.display().to_string())
            }
        };
        if !exists {
            problems.push(Problem::new(
                &page.rel,
                link.line + 1,
                format!(
                    "broken link `{}`: {shown} does not exist; fix the path or add the file",
                    link.target
                ),
            ));
        }
    }
    problems
}

/// The index of the first position where `a` and `b` differ, counting a
/// missing element as a difference.
fn first_difference<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

/// Check 2 for one zh/en pair: same heading levels, same include markers,
/// same fenced blocks (by language), in the same order.
pub fn compare_pair(zh: &Page, en: &Page) -> Vec<Problem> {
    let mut problems = Vec::new();
    let (z, e) = (&zh.doc, &en.doc);

    let zl: Vec<usize> = z.headings.iter().map(|h| h.level).collect();
    let el: Vec<usize> = e.headings.iter().map(|h| h.level).collect();
    if let Some(i) = first_difference(&zl, &el) {
        let show = |h: Option<&crate::markdown::Heading>| match h {
            Some(h) => format!("`{} {}`", "#".repeat(h.level), h.text),
            None => "no heading".to_string(),
        };
        let (zh_h, en_h) = (z.headings.get(i), e.headings.get(i));
        let (path, line) = match (zh_h, en_h) {
            (Some(h), _) => (&zh.rel, h.line + 1),
            (None, Some(h)) => (&en.rel, h.line + 1),
            (None, None) => (&zh.rel, 1),
        };
        problems.push(Problem::new(
            path,
            line,
            format!(
                "heading #{} differs between the translations: {} in {} vs {} in {}; \
                 make both pages use the same heading levels in the same order",
                i + 1,
                show(zh_h),
                zh.rel,
                show(en_h),
                en.rel
            ),
        ));
    }

    let zm: Vec<&str> = z.markers.iter().map(|m| m.target.as_str()).collect();
    let em: Vec<&str> = e.markers.iter().map(|m| m.target.as_str()).collect();
    if let Some(i) = first_difference(&zm, &em) {
        let show =
            |m: Option<&&str>| m.map_or("nothing".to_string(), |t| format!("`{t}`"));
        let (path, line) = match (z.markers.get(i), e.markers.get(i)) {
            (Some(m), _) => (&zh.rel, m.line + 1),
            (None, Some(m)) => (&en.rel, m.line + 1),
            (None, None) => (&zh.rel, 1),
        };
        problems.push(Problem::new(
            path,
            line,
            format!(
                "code include #{} differs between the translations: {} in {} vs {} in {}; \
                 include the same code in the same order in both",
                i + 1,
                show(zm.get(i)),
                zh.rel,
                show(em.get(i)),
                en.rel
            ),
        ));
    }

    let zf: Vec<&str> = z.fences.iter().map(|f| f.lang.as_str()).collect();
    let ef: Vec<&str> = e.fences.iter().map(|f| f.lang.as_str()).collect();
    if let Some(i) = first_difference(&zf, &ef) {
        let show = |l: Option<&&str>| match l {
            Some(l) => format!("a ```{l} block"),
            None => "no block".to_string(),
        };
        let (path, line) = match (z.fences.get(i), e.fences.get(i)) {
            (Some(f), _) => (&zh.rel, f.open + 1),
            (None, Some(f)) => (&en.rel, f.open + 1),
            (None, None) => (&zh.rel, 1),
        };
        problems.push(Problem::new(
            path,
            line,
            format!(
                "code block #{} differs between the translations: {} in {} vs {} in {}; \
                 both pages need the same code blocks and diagrams in the same order",
                i + 1,
                show(zf.get(i)),
                zh.rel,
                show(ef.get(i)),
                en.rel
            ),
        ));
    }
    problems
}

/// Check 2: notes/zh and notes/en hold the same pages, and each pair matches.
pub fn check_mirror(ws: &Workspace) -> Vec<Problem> {
    let by_name = |lang: &str| -> BTreeMap<String, &Page> {
        let prefix = format!("notes/{lang}/");
        ws.lang_pages(lang)
            .into_iter()
            .filter_map(|p| Some((p.rel.strip_prefix(&prefix)?.to_string(), p)))
            .collect()
    };
    let zh = by_name("zh");
    let en = by_name("en");
    let mut problems = Vec::new();
    for (name, page) in &zh {
        match en.get(name) {
            Some(other) => problems.extend(compare_pair(page, other)),
            None => problems.push(Problem::new(
                &page.rel,
                1,
                format!("no English counterpart: notes/en/{name} is missing; add the translation"),
            )),
        }
    }
    for (name, page) in &en {
        if !zh.contains_key(name) {
            problems.push(Problem::new(
                &page.rel,
                1,
                format!("no Chinese counterpart: notes/zh/{name} is missing; add the translation"),
            ));
        }
    }
    problems
}

/// True if `name` occurs in `text` as a whole word (not inside a longer
/// identifier such as `name-2` or `my_name`; Chinese text may touch it).
pub fn mentions(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The leading `//!` block of a main.rs, or `None` if the first non-empty
/// line is not a `//!` line.
fn module_doc(main_rs: &str) -> Option<String> {
    let mut lines = main_rs
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .peekable();
    if !lines.peek()?.trim_start().starts_with("//!") {
        return None;
    }
    let doc: Vec<&str> = lines
        .take_while(|l| l.trim_start().starts_with("//!") || l.trim().is_empty())
        .collect();
    Some(doc.join("\n"))
}

/// True if some line of `doc` runs `cargo run ... -p NAME` (or `--package NAME`).
fn has_run_line(doc: &str, name: &str) -> bool {
    doc.lines().any(|line| {
        let Some(pos) = line.find("cargo run") else {
            return false;
        };
        let words: Vec<&str> = line[pos..]
            .split(|c: char| c.is_whitespace() || c == '`')
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(2)
            .any(|w| (w[0] == "-p" || w[0] == "--package") && w[1] == name)
            || words.iter().any(|w| {
                w.strip_prefix("--package=") == Some(name)
                    || w.strip_prefix("-p") == Some(name)
            })
    })
}

/// Check 3: every program is listed in the index, mentioned in both
/// languages, and opens with a `//!` block showing how to run it.
pub fn check_programs(ws: &Workspace) -> Vec<Problem> {
    let mut problems = Vec::new();
    let index = ws.index().map(|p| p.doc.plain_text());
    let zh: Vec<String> = ws
        .lang_pages("zh")
        .iter()
        .map(|p| p.doc.plain_text())
        .collect();
    let en: Vec<String> = ws
        .lang_pages("en")
        .iter()
        .map(|p| p.doc.plain_text())
        .collect();
    for pkg in &ws.packages {
        let Some(main_rs) = &pkg.main_rs else {
            continue; // library crates are not lessons
        };
        let name = &pkg.name;
        if let Some(index) = &index {
            if !mentions(index, name) {
                problems.push(Problem::new(
                    "notes/README.md",
                    1,
                    format!(
                        "program `{name}` ({}) is not listed in the course index; \
                         add it next to the lesson that introduces it",
                        dir_of(dir_of(main_rs))
                    ),
                ));
            }
        }
        for (lang, texts, which) in [("zh", &zh, "Chinese"), ("en", &en, "English")] {
            if !texts.iter().any(|t| mentions(t, name)) {
                problems.push(Problem::new(
                    &pkg.manifest,
                    pkg.name_line,
                    format!(
                        "program `{name}` is not mentioned in any {which} note (notes/{lang}/); \
                         mention it in its lesson, e.g. `cargo run -p {name}`"
                    ),
                ));
            }
        }
        let text = fs::read_to_string(ws.root.join(main_rs)).unwrap_or_default();
        match module_doc(&text) {
            None => problems.push(Problem::new(
                main_rs,
                1,
                format!(
                    "main.rs must begin with a `//!` doc block saying what the program \
                     shows and how to run it (`cargo run -p {name}`)"
                ),
            )),
            Some(doc) if !has_run_line(&doc, name) => problems.push(Problem::new(
                main_rs,
                1,
                format!("the `//!` doc block must show how to run the program: add `cargo run -p {name}`"),
            )),
            Some(_) => {}
        }
    }
    problems
}

/// True for lesson page file names: two digits, a dash, `.md`.
pub fn is_lesson_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 3
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && b[2] == b'-'
        && name.ends_with(".md")
}

/// Lesson pages directly under notes/zh and notes/en: (rel, file name, page).
fn lesson_pages(ws: &Workspace) -> Vec<(&str, &Page)> {
    ws.notes
        .iter()
        .filter_map(|p| {
            let rest = p
                .rel
                .strip_prefix("notes/zh/")
                .or_else(|| p.rel.strip_prefix("notes/en/"))?;
            (!rest.contains('/') && is_lesson_name(rest)).then_some((rest, p))
        })
        .collect()
}

/// Check 4: in every lesson page, each ```text block (what a program prints)
/// is included from a transcript (a `code:` marker) or says why it is not
/// (a `<!-- by hand: REASON -->` line right before it); and lesson pages
/// (other than `00-*`) have a diagram and included code.
pub fn check_lessons(ws: &Workspace) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, page) in lesson_pages(ws) {
        let doc = &page.doc;
        for fence in doc.fences.iter().filter(|f| f.lang == "text") {
            let before = fence.open.checked_sub(1).map(|i| doc.lines[i].trim());
            let included = doc.markers.iter().any(|m| m.line + 1 == fence.open);
            let by_hand = before
                .and_then(|l| l.strip_prefix("<!-- by hand:"))
                .and_then(|l| l.strip_suffix("-->"))
                .is_some_and(|reason| !reason.trim().is_empty());
            if !included && !by_hand {
                problems.push(Problem::new(
                    &page.rel,
                    fence.open + 1,
                    "```text block is neither a transcript nor marked as written by hand; \
                     generate it (notes/transcripts/, then `<!-- code: notes/transcripts/NAME.txt -->`) \
                     or put `<!-- by hand: REASON -->` right before it"
                        .into(),
                ));
            }
        }
        if name.starts_with("00-") {
            continue;
        }
        if !doc
            .fences
            .iter()
            .any(|f| f.lang.eq_ignore_ascii_case("mermaid"))
        {
            problems.push(Problem::new(
                &page.rel,
                1,
                "lesson page has no ```mermaid diagram; add one (sequence or state diagram of the exchange)"
                    .into(),
            ));
        }
        if doc.markers.is_empty() {
            problems.push(Problem::new(
                &page.rel,
                1,
                "lesson page includes no code; add `<!-- code: crates/NAME/src/main.rs#anchor -->` \
                 before a code block and run `cargo xtask sync`"
                    .into(),
            ));
        }
    }
    problems
}

/// Check 5: in one script, every `cargo ... -p NAME`, `--package NAME` and
/// `--bin NAME` names an existing package (or binary, for `--bin`).
/// Only commands that start with `cargo` are looked at, so `mkdir -p dir`
/// is fine. Names containing `$` (shell variables) are skipped.
pub fn check_script(
    rel: &str,
    text: &str,
    packages: &BTreeSet<String>,
    bins: &BTreeSet<String>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Join `\` continuations, remembering the first line of each command.
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i, String::new()));
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(line);
                logical.push((start, acc));
            }
        }
    }
    logical.extend(pending);

    for (line_no, line) in logical {
        for segment in line.split([';', '|', '&', '(', ')', '`']) {
            let words: Vec<&str> = segment
                .split_whitespace()
                // Quotes, and the `\` of an escaped backtick in an echo.
                .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == '\\'))
                .collect();
            let Some(cargo) = words
                .iter()
                .position(|w| *w == "cargo" || w.ends_with("/cargo"))
            else {
                continue;
            };
            // Arguments after `--` go to the program, not to cargo.
            let args = &words[cargo + 1..];
            let args =
                &args[..args.iter().position(|w| *w == "--").unwrap_or(args.len())];
            for (k, w) in args.iter().enumerate() {
                let (flag, name) = match *w {
                    "-p" | "--package" | "--bin" => (*w, args.get(k + 1).copied()),
                    _ => {
                        if let Some(n) = w.strip_prefix("--package=") {
                            ("--package", Some(n))
                        } else if let Some(n) = w.strip_prefix("--bin=") {
                            ("--bin", Some(n))
                        } else if let Some(n) =
                            w.strip_prefix("-p").filter(|n| !n.is_empty())
                        {
                            ("-p", Some(n))
                        } else {
                            continue;
                        }
                    }
                };
                let Some(name) = name else { continue };
                // Shell variables, and placeholders in text (`-p PACKAGE`).
                let placeholder =
                    name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                if name.is_empty()
                    || name.contains('$')
                    || name.starts_with('-')
                    || placeholder
                {
                    continue;
                }
                let known = if flag == "--bin" {
                    bins.contains(name) || packages.contains(name)
                } else {
                    packages.contains(name)
                };
                if !known {
                    let what = if flag == "--bin" { "binary" } else { "package" };
                    problems.push(Problem::new(
                        rel,
                        line_no + 1,
                        format!(
                            "`{flag} {name}` names no {what} in this workspace; \
                             use one of the names in crates/*/Cargo.toml"
                        ),
                    ));
                }
            }
        }
    }
    problems
}

/// True for the info strings of a Rust block: `rust`, `rs`, `rust,ignore`...
fn is_rust_lang(lang: &str) -> bool {
    let first = lang.split(',').next().unwrap_or("");
    first.eq_ignore_ascii_case("rust") || first.eq_ignore_ascii_case("rs")
}

/// Check 7: every ```rust block in every note (lessons, the teacher's guide,
/// the measuring page) is included from a source file by a `code:` marker on
/// the line before it, so that it is code that compiles and is tested.
pub fn check_rust_blocks(ws: &Workspace) -> Vec<Problem> {
    let mut problems = Vec::new();
    for page in &ws.notes {
        let doc = &page.doc;
        for fence in doc.fences.iter().filter(|f| is_rust_lang(&f.lang)) {
            if doc.markers.iter().any(|m| m.line + 1 == fence.open) {
                continue;
            }
            problems.push(Problem::new(
                &page.rel,
                fence.open + 1,
                "```rust block typed by hand: Rust in the notes must be included from \
                 code that compiles and is tested. Put it in a crate (an exercise's \
                 answer goes in crates/NAME/examples/answer-NN-M.rs), mark it with \
                 `// ANCHOR: name` ... `// ANCHOR_END: name`, put \
                 `<!-- code: crates/NAME/examples/FILE.rs#name -->` right before the \
                 fence and run `cargo xtask sync`"
                    .into(),
            ));
        }
    }
    problems
}

/// Check 8: every lesson page, and the measuring page, ends with its
/// exercises: its last `##` section, apart from a closing `## Next`
/// (`## 下一课`, or `## 下一步`), is `## Exercises` (`## 练习` in Chinese).
pub fn check_exercises(ws: &Workspace) -> Vec<Problem> {
    let measuring = ["notes/zh/measuring.md", "notes/en/measuring.md"];
    let pages = lesson_pages(ws).into_iter().map(|(_, page)| page).chain(
        ws.notes
            .iter()
            .filter(|p| measuring.contains(&p.rel.as_str())),
    );
    let mut problems = Vec::new();
    for page in pages {
        let zh = page.rel.starts_with("notes/zh/");
        // The closing section that may follow: 下一课 on lessons, 下一步 on
        // the measuring page.
        let (exercises, next): (&str, &[&str]) = if zh {
            ("练习", &["下一课", "下一步"])
        } else {
            ("Exercises", &["Next"])
        };
        let last = page
            .doc
            .headings
            .iter()
            .rfind(|h| h.level == 2 && !next.contains(&h.text.trim()));
        if last.is_some_and(|h| h.text.trim() == exercises) {
            continue;
        }
        problems.push(Problem::new(
            &page.rel,
            last.map_or(1, |h| h.line + 1),
            format!(
                "the page does not end with its exercises; add a `## {exercises}` section \
                 with two or three exercises as its last section (before `## {}`), \
                 and their answers to notes/{}/teacher.md",
                next[0],
                if zh { "zh" } else { "en" }
            ),
        ));
    }
    problems
}

/// Check 6: notes/README.md exists and links every lesson page.
pub fn check_index(ws: &Workspace) -> Vec<Problem> {
    let Some(index) = ws.index() else {
        return vec![Problem::new(
            "notes/README.md",
            1,
            "the course index is missing; create notes/README.md linking every lesson in both languages"
                .into(),
        )];
    };
    let linked: BTreeSet<String> = index
        .doc
        .links
        .iter()
        .filter_map(|l| resolve("notes", &link_path(&l.target)?))
        .collect();
    lesson_pages(ws)
        .into_iter()
        .filter(|(_, page)| !linked.contains(&page.rel))
        .map(|(_, page)| {
            let target = page.rel.strip_prefix("notes/").unwrap_or(&page.rel);
            Problem::new(
                "notes/README.md",
                1,
                format!(
                    "lesson page {} is not linked from the index; add a link `({target})`",
                    page.rel
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn link_targets() {
        assert_eq!(link_path("https://x.org/a"), None);
        assert_eq!(link_path("mailto:a@b"), None);
        assert_eq!(link_path("#section"), None);
        assert_eq!(link_path("a%20b.md#x"), Some("a b.md".to_string()));
        assert_eq!(link_path("img.png?raw=1"), Some("img.png".to_string()));
        assert_eq!(
            resolve("notes/zh", "../en/01.md"),
            Some("notes/en/01.md".into())
        );
        assert_eq!(resolve("notes", "/crates/x"), Some("crates/x".into()));
        assert_eq!(resolve("notes", "../../x"), None);
    }

    #[test]
    fn whole_word_mentions() {
        assert!(mentions("run `cargo run -p v1-echo`.", "v1-echo"));
        assert!(!mentions("v1-echo-server", "v1-echo"));
        assert!(!mentions("my_v1-echo", "v1-echo"));
        assert!(mentions("运行v1-echo程序。", "v1-echo"));
    }

    #[test]
    fn lesson_names() {
        assert!(is_lesson_name("01-tcp.md"));
        assert!(!is_lesson_name("README.md"));
        assert!(!is_lesson_name("1-tcp.md"));
    }

    #[test]
    fn script_flags() {
        let pk: BTreeSet<String> =
            ["demo", "xtask"].iter().map(|s| s.to_string()).collect();
        let bins: BTreeSet<String> =
            ["demo", "helper"].iter().map(|s| s.to_string()).collect();
        let script = "mkdir -p /tmp/out\ncargo run -p demo &\ncargo build \\\n  --bin helper -p ghost\nPKG=demo; cargo run -p \"$PKG\"\ncargo run --package=nope --bin=demo -- -p 80\n\
                      echo \"run \\`cargo run -p demo\\` or \\`cargo build -p PACKAGE\\`\"\n\
                      echo \"\\`cargo run -p dem0\\`\"\n";
        let p = check_script("scripts/s.sh", script, &pk, &bins);
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 6, 8], "{p:?}");
        assert!(p[0].message.contains("ghost"));
        assert!(p[1].message.contains("nope"));
        assert!(p[2].message.contains("`-p dem0`"), "{p:?}");
    }

    #[test]
    fn doc_header_run_line() {
        assert!(has_run_line(
            "//! Run: `cargo run -p demo -- 127.0.0.1:7`",
            "demo"
        ));
        assert!(!has_run_line("//! Run: `cargo run -p demo2`", "demo"));
        assert!(module_doc("\n//! a\n//!\n//! b\n\nfn main() {}").is_some());
        assert!(module_doc("// a\n//! b\n").is_none());
    }
}
