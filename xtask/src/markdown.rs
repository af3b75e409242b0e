//! A small line-based Markdown scanner: just enough structure for the checks
//! (fenced code blocks, ATX headings, `<!-- code: ... -->` markers, links).

/// A fenced code block in a note.
#[derive(Debug, Clone)]
pub struct Fence {
    /// 0-based index of the opening fence line.
    pub open: usize,
    /// 0-based index of the closing fence line, `None` if never closed.
    pub close: Option<usize>,
    /// First word of the info string (`rust`, `mermaid`, ...); may be empty.
    pub lang: String,
    /// Leading whitespace of the opening fence line.
    pub indent: String,
}

/// An ATX heading (`#` to `######`) outside code blocks.
#[derive(Debug, Clone)]
pub struct Heading {
    /// 0-based line index.
    pub line: usize,
    /// 1 to 6.
    pub level: usize,
    /// The heading text, without the `#` marks.
    pub text: String,
}

/// A `<!-- code: PATH[#ANCHOR] -->` line outside code blocks.
#[derive(Debug, Clone)]
pub struct Marker {
    /// 0-based line index.
    pub line: usize,
    /// What follows `code:`, trimmed.
    pub target: String,
}

/// A link or image target, or a reference definition, outside code.
#[derive(Debug, Clone)]
pub struct Link {
    /// 0-based line index.
    pub line: usize,
    /// The raw target as written (angle brackets removed).
    pub target: String,
}

/// A parsed note: its lines and the pieces the checks look at.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The lines, without line endings.
    pub lines: Vec<String>,
    /// The line ending used by the file (`"\n"` or `"\r\n"`).
    pub eol: &'static str,
    /// Fenced code blocks, in order.
    pub fences: Vec<Fence>,
    /// ATX headings outside fences, in order.
    pub headings: Vec<Heading>,
    /// Include markers outside fences, in order.
    pub markers: Vec<Marker>,
    /// Link targets outside fences and code spans, in order.
    pub links: Vec<Link>,
}

impl Doc {
    /// Scans `text` line by line.
    pub fn parse(text: &str) -> Doc {
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let lines: Vec<String> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        let mut doc = Doc {
            lines: Vec::new(),
            eol,
            fences: Vec::new(),
            headings: Vec::new(),
            markers: Vec::new(),
            links: Vec::new(),
        };
        // The fence character and length of the block we are inside, if any.
        let mut inside: Option<(char, usize)> = None;
        for (i, line) in lines.iter().enumerate() {
            if let Some((ch, len)) = inside {
                if is_closing_fence(line, ch, len) {
                    if let Some(fence) = doc.fences.last_mut() {
                        fence.close = Some(i);
                    }
                    inside = None;
                }
                continue;
            }
            if let Some((ch, len, indent, lang)) = opening_fence(line) {
                inside = Some((ch, len));
                doc.fences.push(Fence {
                    open: i,
                    close: None,
                    lang,
                    indent,
                });
                continue;
            }
            if let Some((level, text)) = heading(line) {
                doc.headings.push(Heading {
                    line: i,
                    level,
                    text,
                });
            }
            if let Some(target) = marker(line) {
                doc.markers.push(Marker { line: i, target });
                continue;
            }
            for target in links_in_line(line) {
                doc.links.push(Link { line: i, target });
            }
        }
        doc.lines = lines;
        doc
    }

    /// The whole text with `\n` line endings, for plain substring searches.
    pub fn plain_text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Recognises an opening fence: returns (char, length, indent, language).
fn opening_fence(line: &str) -> Option<(char, usize, String, String)> {
    let trimmed = line.trim_start();
    let indent = line[..line.len() - trimmed.len()].to_string();
    let ch = trimmed.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let len = trimmed.chars().take_while(|&c| c == ch).count();
    if len < 3 {
        return None;
    }
    let info = &trimmed[len..]; // `ch` is ASCII, so `len` is a byte count too.
    if ch == '`' && info.contains('`') {
        return None; // that is inline code, not a fence
    }
    let lang = info.split_whitespace().next().unwrap_or("").to_string();
    Some((ch, len, indent, lang))
}

/// True if `line` closes a fence opened with `len` times `ch`.
fn is_closing_fence(line: &str, ch: char, len: usize) -> bool {
    let t = line.trim();
    t.len() >= len && t.chars().all(|c| c == ch)
}

/// Recognises an ATX heading: returns (level, text).
fn heading(line: &str) -> Option<(usize, String)> {
    let spaces = line.chars().take_while(|&c| c == ' ').count();
    if spaces > 3 {
        return None;
    }
    let rest = &line[spaces..];
    let level = rest.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let after = &rest[level..];
    if !(after.is_empty() || after.starts_with(' ') || after.starts_with('\t')) {
        return None;
    }
    let mut text = after.trim();
    // An optional closing sequence of `#` is not part of the text.
    let without = text.trim_end_matches('#');
    if without.is_empty() || without.ends_with(' ') || without.ends_with('\t') {
        text = without.trim_end();
    }
    Some((level, text.to_string()))
}

/// Recognises `<!-- code: TARGET -->` and returns TARGET (possibly empty).
pub fn marker(line: &str) -> Option<String> {
    let body = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let target = body.strip_prefix("code:")?;
    Some(target.trim().to_string())
}

/// Replaces inline code spans (`` `x` ``, ``` ``x`` ```) with spaces so that
/// nothing inside them is taken for a link.
fn blank_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&c| c == '`').count();
        // Look for a closing run of exactly the same length.
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                if r == run {
                    close = Some(j);
                    break;
                }
                j += r;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                for c in &mut out[i..j + run] {
                    *c = ' ';
                }
                i = j + run;
            }
            None => i += run,
        }
    }
    out.into_iter().collect()
}

/// Link targets on one line: inline links and images `[t](x)`, `![a](x)`,
/// and reference definitions `[id]: x`. Code spans are ignored.
pub fn links_in_line(line: &str) -> Vec<String> {
    let line = blank_code_spans(line);
    let mut found = Vec::new();

    // Reference definition: up to three spaces, `[label]:`, target.
    let spaces = line.chars().take_while(|&c| c == ' ').count();
    if spaces <= 3 {
        let rest = &line[spaces..];
        if let Some(after_open) = rest.strip_prefix('[') {
            if let Some(close) = after_open.find("]:") {
                let label = &after_open[..close];
                if !label.is_empty() && !label.starts_with('^') {
                    let target = after_open[close + 2..].split_whitespace().next();
                    if let Some(t) = target {
                        let t = t.trim_start_matches('<').trim_end_matches('>');
                        found.push(t.to_string());
                    }
                }
            }
        }
    }

    // Inline links and images: every `](` starts a target.
    let mut from = 0;
    while let Some(pos) = line[from..].find("](") {
        let start = from + pos + 2;
        from = start;
        let rest = line[start..].trim_start();
        if let Some(inner) = rest.strip_prefix('<') {
            if let Some(end) = inner.find('>') {
                found.push(inner[..end].to_string());
            }
            continue;
        }
        let mut depth = 0usize;
        let mut end = rest.len();
        for (k, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = k;
                    break;
                }
                ')' => depth -= 1,
                c if c.is_whitespace() => {
                    end = k;
                    break;
                }
                _ => {}
            }
        }
        let target = &rest[..end];
        if !target.is_empty() {
            found.push(target.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fences_headings_markers() {
        let text = "# Title\n\n<!-- code: a.rs#x -->\n````rust\n```\n# not a heading\n````\n\n## Next ##\n```mermaid\ngraph LR\n```\n";
        let doc = Doc::parse(text);
        assert_eq!(doc.fences.len(), 2);
        assert_eq!(doc.fences[0].lang, "rust");
        assert_eq!(doc.fences[0].close, Some(6));
        assert_eq!(doc.fences[1].lang, "mermaid");
        let levels: Vec<usize> = doc.headings.iter().map(|h| h.level).collect();
        assert_eq!(levels, vec![1, 2]);
        assert_eq!(doc.headings[1].text, "Next");
        assert_eq!(doc.markers.len(), 1);
        assert_eq!(doc.markers[0].target, "a.rs#x");
        assert_eq!(doc.lines.join(doc.eol), text);
    }

    #[test]
    fn links_skip_code() {
        let t =
            links_in_line("see [a](x.md#f) and `[b](y.md)` and ![i](<img 1.png> \"t\")");
        assert_eq!(t, vec!["x.md#f".to_string(), "img 1.png".to_string()]);
        let r = links_in_line("[ref]: ../zh/01-x.md \"title\"");
        assert_eq!(r, vec!["../zh/01-x.md".to_string()]);
        let doc = Doc::parse("```\n[a](inside.md)\n```\n[b](outside.md)\n");
        assert_eq!(doc.links.len(), 1);
        assert_eq!(doc.links[0].target, "outside.md");
        assert_eq!(doc.links[0].line, 3);
    }

    #[test]
    fn crlf_round_trip() {
        let text = "# A\r\n```\r\nx\r\n```\r\n";
        let doc = Doc::parse(text);
        assert_eq!(doc.fences[0].close, Some(3));
        assert_eq!(doc.lines.join(doc.eol), text);
    }
}
