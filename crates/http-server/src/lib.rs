//! http-server's library: [`serve`], what a connection's thread does, and
//! the parts that never touch a socket, so that they can be tested on bytes
//! and strings alone:
//!
//! - [`head`]: where a request head ends, and what it says.
//! - [`target`]: from a request target to safe, decoded path segments.
//! - [`content_type`], [`parse_range`], [`http_date`] and
//!   [`parse_http_date`], [`listing`]: what a response says about a file or
//!   a folder.

pub mod head;
pub mod serve;
pub mod target;

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A request the server will not serve: the status to answer with, and
/// why (for the body of the error response and the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub why: &'static str,
}

impl Refusal {
    pub fn new(status: u16, why: &'static str) -> Self {
        Refusal { status, why }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, reason(self.status), self.why)
    }
}

/// The reason phrase of each status this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

// ANCHOR: mime
/// The `Content-Type` of a file, from its extension. A browser trusts it:
/// a stylesheet served as `text/plain` is not applied, a script is not run.
/// Text types say their charset, so that 汉字 is not read as Latin-1.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/vnd.microsoft.icon",
        Some("wasm") => "application/wasm",
        Some("txt") => "text/plain; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("woff2") => "font/woff2",
        // Unknown: bytes, which a browser offers to save instead of showing.
        _ => "application/octet-stream",
    }
}
// ANCHOR_END: mime

// ANCHOR: range
/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// No range, or one this server ignores (several, another unit, a
    /// malformed one): the whole file, 200.
    Whole,
    /// Bytes `start..=end`, 206.
    Part { start: u64, end: u64 },
    /// A range that starts past the end, 416.
    Unsatisfiable,
}

/// Reads one `bytes=a-b`, `bytes=a-` or `bytes=-n` (the last n bytes).
pub fn parse_range(value: &str, len: u64) -> Range {
    let Some(spec) = value
        .trim()
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| value.trim()[6..].trim())
    else {
        return Range::Whole;
    };
    // Several ranges need a multipart answer; the whole file is allowed too.
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Range::Whole;
    };
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (number(first), number(last), last.is_empty()) {
        // bytes=-n: the last n bytes.
        (None, Some(n), _) if first.is_empty() => {
            if n == 0 || len == 0 {
                Range::Unsatisfiable
            } else {
                Range::Part {
                    start: len.saturating_sub(n),
                    end: len - 1,
                }
            }
        }
        (Some(start), _, _) if start >= len => Range::Unsatisfiable,
        // bytes=a-: from a to the end (what `curl -C -` sends).
        (Some(start), None, true) => Range::Part {
            start,
            end: len - 1,
        },
        (Some(start), Some(end), _) if start <= end => Range::Part {
            start,
            end: end.min(len - 1),
        },
        _ => Range::Whole,
    }
}
// ANCHOR_END: range

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A time as HTTP writes it (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37
/// GMT`. Times before 1970 are written as 1970.
pub fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days);
    let in_day = secs % 86_400;
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// Reads a date written as [`http_date`] writes it; `None` for anything
/// else (the obsolete forms are rare enough to be ignored: a client that
/// sends one gets the whole file, which is always correct).
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let mut parts = text.split(' ');
    let (_day_name, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let month = MONTHS.iter().position(|&m| m == month)? as u64 + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    let mut hms = time.split(':').map(|n| n.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if year < 1970 || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// The date `days` after 1970-01-01, in the proleptic Gregorian calendar:
/// counted in 400-year eras of 146,097 days, with the year starting in
/// March so that the leap day comes last.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524
        - day_of_era / 146_096)
        / 365;
    let day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * mp + 2) / 5 + day - 1;
    let day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

/// Escapes text for HTML, so that a file called `<script>.txt` is shown as
/// a name and never run.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ANCHOR: listing
/// A small HTML page that lists the folder `dir`, which the browser shows
/// at `url_path` (decoded, ending in `/`): its [`entries`] in name order.
pub fn listing(dir: &Path, url_path: &str) -> io::Result<String> {
    let mut entries = entries(dir)?;
    entries.sort();
    Ok(listing_page(&entries, url_path))
}

/// The names in `dir`, each with whether it is a folder. Names that are not
/// UTF-8 are left out: no link could reach them.
pub fn entries(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // file_type does not follow a symbolic link; metadata does.
        let is_dir = fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        entries.push((name, is_dir));
    }
    Ok(entries)
}

/// The listing page for `entries`, in their order: folders end with `/`,
/// every name is escaped in the text and percent-encoded in its link.
pub fn listing_page(entries: &[(String, bool)], url_path: &str) -> String {
    let title = escape_html(url_path);
    let mut page = format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">\
         <title>Index of {title}</title></head>\n<body>\n<h1>Index of {title}</h1>\n<ul>\n"
    );
    if url_path != "/" {
        page.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for (name, is_dir) in entries {
        let slash = if *is_dir { "/" } else { "" };
        page.push_str(&format!(
            "<li><a href=\"{}{slash}\">{}{slash}</a></li>\n",
            target::percent_encode(name),
            escape_html(name)
        ));
    }
    page.push_str("</ul>\n</body>\n</html>\n");
    page
}
// ANCHOR_END: listing

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_the_extension_without_case() {
        assert_eq!(
            content_type(Path::new("a/b.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.woff2")), "font/woff2");
        assert_eq!(
            content_type(Path::new("x.tar.gz")),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(Path::new("Makefile")),
            "application/octet-stream"
        );
    }

    #[test]
    fn ranges() {
        use Range::*;
        for (value, want) in [
            ("bytes=0-9", Part { start: 0, end: 9 }),
            ("bytes=10-", Part { start: 10, end: 99 }),
            ("bytes=-10", Part { start: 90, end: 99 }),
            ("bytes=-1000", Part { start: 0, end: 99 }),
            ("bytes=90-1000", Part { start: 90, end: 99 }),
            ("Bytes = 5-5", Whole),
            ("bytes=5-5", Part { start: 5, end: 5 }),
            ("bytes=100-", Unsatisfiable),
            ("bytes=100-200", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=9-5", Whole),
            ("bytes=0-1,5-6", Whole),
            ("bytes=x-", Whole),
            ("items=0-1", Whole),
            ("bytes", Whole),
        ] {
            assert_eq!(parse_range(value, 100), want, "{value}");
        }
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
    }

    #[test]
    fn dates_round_trip() {
        let known = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(known), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(known)
        );
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let leap = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(http_date(leap), "Thu, 29 Feb 2024 12:34:56 GMT");
        // Every 1,000,003 s for 60 years: written and read back the same.
        for i in 0..1900 {
            let t = UNIX_EPOCH + Duration::from_secs(i * 1_000_003);
            assert_eq!(parse_http_date(&http_date(t)), Some(t), "{}", http_date(t));
        }
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nox 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
