//! From a request target to the names of the folders and file it asks for,
//! refusing every form of "a path that climbs out".
//!
//! This is the string half of path safety. The other half is in main.rs:
//! the file system's own answer (`canonicalize`), checked against the
//! served folder, which also catches symbolic links that lead out.

use crate::Refusal;

/// What a request target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The path as sent, still percent-encoded, without the query:
    /// `/docs/a%20b`. Safe to send back in a `Location` header.
    pub path: String,
    /// The query after `?`, if any, as sent.
    pub query: Option<String>,
    /// The decoded names between the slashes: `["docs", "a b"]`.
    pub segments: Vec<String>,
    /// Whether the path ends with `/` (it asks for a folder).
    pub slash: bool,
}

// ANCHOR: target
/// Splits and decodes a request target.
///
/// `400` for a target that is not a path or whose percent-encoding is
/// broken or not UTF-8; `403` for a path that tries to leave the folder or
/// to name something no browser would: a `.` or `..` segment (also as
/// `%2e%2e`), a `/` or `\` inside a name (`..%2f`, `%5c`), an empty
/// segment (`//`, how an absolute path sneaks in), a NUL byte.
pub fn parse(target: &str) -> Result<Target, Refusal> {
    let refused = |why| Err(Refusal::new(403, why));
    // The absolute form (`GET http://host/path`), which proxies use, names
    // the same path; the host is ours whatever it says.
    let target = match strip_scheme(target) {
        Some(rest) => &rest[rest.find('/').unwrap_or(rest.len())..],
        None => target,
    };
    let target = if target.is_empty() { "/" } else { target };
    if !target.starts_with('/') {
        return Err(Refusal::new(400, "the target is not a path"));
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query.to_string())),
        None => (target, None),
    };
    let mut segments = Vec::new();
    let raw: Vec<&str> = path[1..].split('/').collect();
    let slash = raw.last().is_some_and(|last| last.is_empty());
    for (i, raw_segment) in raw.iter().enumerate() {
        // Split before decoding, so that `%2f` is a character in a name,
        // never a separator; then refuse it below.
        let segment = percent_decode(raw_segment)?;
        if segment.is_empty() {
            if i + 1 == raw.len() {
                continue; // the final slash of a folder
            }
            return refused("an empty path segment (//)");
        }
        if segment == "." || segment == ".." {
            return refused("a . or .. segment");
        }
        if segment.contains(['/', '\\']) {
            return refused("a slash or backslash inside a name");
        }
        if segment.contains('\0') {
            return refused("a NUL byte in the path");
        }
        segments.push(segment);
    }
    Ok(Target {
        path: path.to_string(),
        query,
        segments,
        slash,
    })
}
// ANCHOR_END: target

fn strip_scheme(target: &str) -> Option<&str> {
    ["http://", "https://"].into_iter().find_map(|scheme| {
        let head = target.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| &target[scheme.len()..])
    })
}

/// Decodes `%XX` escapes; the bytes must then be UTF-8.
pub fn percent_decode(text: &str) -> Result<String, Refusal> {
    let bad = || Refusal::new(400, "a broken %-escape in the path");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Refusal::new(400, "the path is not UTF-8"))
}

/// Percent-encodes one file name for a link: letters, digits and `-._~`
/// stay, every other byte (UTF-8 included) becomes `%XX`.
pub fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(target: &str) -> u16 {
        match parse(target) {
            Ok(_) => 200,
            Err(refusal) => refusal.status,
        }
    }

    #[test]
    fn names_are_decoded_after_splitting() {
        let t = parse("/docs/%E6%B1%89%E5%AD%97.txt?x=1").expect("parses");
        assert_eq!(t.segments, ["docs", "汉字.txt"]);
        assert_eq!(t.path, "/docs/%E6%B1%89%E5%AD%97.txt");
        assert_eq!(t.query.as_deref(), Some("x=1"));
        assert!(!t.slash);
        let t = parse("/docs/").expect("parses");
        assert_eq!((t.segments, t.slash), (vec!["docs".to_string()], true));
        let t = parse("/").expect("parses");
        assert_eq!((t.segments.len(), t.slash), (0, true));
        let t = parse("http://example.com/a%20b").expect("parses");
        assert_eq!(t.segments, ["a b"]);
    }

    #[test]
    fn every_way_out_is_refused() {
        for target in [
            "/..",
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/.%2e/etc/passwd",
            "/..%2fetc%2fpasswd",
            "/..%2Fetc/passwd",
            "/..%5c..%5cetc",
            "/a%5cb",
            "//etc/passwd",
            "/%2fetc/passwd",
            "/a//b",
            "/./a",
            "/a%00.txt",
            "http://x//etc/passwd",
        ] {
            assert_eq!(status(target), 403, "{target}");
        }
    }

    #[test]
    fn broken_targets_are_400() {
        for target in ["*", "etc/passwd", "/%", "/%4", "/%zz", "/%ff%fe"] {
            assert_eq!(status(target), 400, "{target}");
        }
    }

    #[test]
    fn encoding_a_name_and_decoding_it_give_it_back() {
        for name in ["a b.txt", "汉字.txt", "100%.html", "<x>&\"'", "a+b=c?d#e"] {
            let encoded = percent_encode(name);
            assert!(encoded.bytes().all(|b| b.is_ascii_graphic()), "{encoded}");
            assert_eq!(percent_decode(&encoded).ok().as_deref(), Some(name));
        }
    }
}
