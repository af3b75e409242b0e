//! Reading a request head (RFC 9112 §2-§5): where it ends, and what its
//! request line and header fields say.

use crate::Refusal;

/// The largest request head the server reads, request line and headers
/// together. A longer one is answered 431. Browsers send 0.5 to 2 KiB; a
/// head of 16 KiB is already a large cookie jar.
pub const MAX_HEAD: usize = 16 * 1024;

/// The most header lines a request may have (431 beyond).
pub const MAX_HEADERS: usize = 100;

/// The HTTP version a request was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// As sent: methods are case-sensitive (`get` is not `GET`).
    pub method: String,
    /// The request target, still percent-encoded: `/docs/a%20b.txt?x=1`.
    pub target: String,
    pub version: Version,
    /// In the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The length of the body that follows the head (0 when there is none).
    pub content_length: u64,
}

impl Request {
    /// The value of the first header called `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the client wants the connection kept open after the
    /// response: HTTP/1.1 does unless it says `Connection: close`; for
    /// HTTP/1.0 this server always closes.
    pub fn keep_alive(&self) -> bool {
        let close = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("close"));
        self.version == Version::Http11 && !close
    }
}

/// The value of the first of `headers` called `name`, compared without
/// case: for a request's headers and a response's alike.
pub fn find_header<'a>(
    headers: &'a [(impl AsRef<str>, String)],
    name: &str,
) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ANCHOR: head_end
/// Where the head in `buf` ends: the index just after the empty line, or
/// `None` while it is incomplete. Empty lines before the request line are
/// skipped (RFC 9112 §2.2), and a bare LF is taken for CRLF.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let mut i = start;
    while let Some(at) = buf[i..].iter().position(|&b| b == b'\n') {
        let lf = i + at;
        // The line after this LF is empty if it is "\n" or "\r\n".
        match buf.get(lf + 1..) {
            Some([b'\n', ..]) => return Some(lf + 2),
            Some([b'\r', b'\n', ..]) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}
// ANCHOR_END: head_end

// ANCHOR: parse
/// Parses a whole head (as delimited by [`head_end`]).
///
/// Refuses with 400 what is malformed, 431 too many fields, 505 a version
/// other than 1.0 and 1.1, 501 `Transfer-Encoding` (a GET or HEAD has no
/// reason to send a chunked body).
pub fn parse(head: &[u8]) -> Result<Request, Refusal> {
    let bad = |why: &'static str| Refusal::new(400, why);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .skip_while(|line| line.is_empty());

    let line = lines.next().ok_or(bad("no request line"))?;
    let line =
        std::str::from_utf8(line).map_err(|_| bad("the request line is not text"))?;
    // Exactly three parts, separated by single spaces.
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the request line is not METHOD TARGET VERSION"));
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(bad("the method is not a token"));
    }
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "the target has a character that must be percent-encoded",
        ));
    }
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.len() == 8 && v.starts_with("HTTP/") => {
            return Err(Refusal::new(
                505,
                "only HTTP/1.0 and HTTP/1.1 are spoken here",
            ))
        }
        _ => return Err(bad("the version is not HTTP/1.x")),
    };

    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if headers.len() == MAX_HEADERS {
            return Err(Refusal::new(431, "too many header fields"));
        }
        // A line that starts with a space continues the one before (obsolete
        // line folding): RFC 9112 §5.2 lets a server refuse it.
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            return Err(bad("a folded header line"));
        }
        let colon = line.iter().position(|&b| b == b':');
        let Some(colon) = colon else {
            return Err(bad("a header line without ':'"));
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        // No space before the colon (RFC 9112 §5.1): it has been used to
        // smuggle a second request past a proxy.
        if name.is_empty() || !name.iter().copied().all(is_token) {
            return Err(bad("a header name is not a token"));
        }
        let value = value.trim_ascii();
        if value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
            return Err(bad("a control character in a header value"));
        }
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }

    let count = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    };
    // One address can serve many sites: HTTP/1.1 requires exactly one Host.
    if version == Version::Http11 && count("host") != 1 {
        return Err(bad("an HTTP/1.1 request needs exactly one Host header"));
    }
    if count("transfer-encoding") > 0 {
        if count("content-length") > 0 {
            // Both at once is how requests are smuggled (RFC 9112 §6.1).
            return Err(bad("both Transfer-Encoding and Content-Length"));
        }
        return Err(Refusal::new(501, "Transfer-Encoding is not supported"));
    }
    let content_length = content_length(&headers)?;
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        version,
        headers,
        content_length,
    })
}
// ANCHOR_END: parse

/// The value of `Content-Length`: digits only, and the same in every copy
/// of the header (a list like `5, 5` too).
fn content_length(headers: &[(String, String)]) -> Result<u64, Refusal> {
    let mut length = None;
    let values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, v)| v.split(','));
    for value in values {
        let value = value.trim();
        let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<u64>().ok())
            .flatten()
            .ok_or(Refusal::new(400, "Content-Length is not a number"))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(Refusal::new(400, "two different Content-Length values"));
        }
        length = Some(parsed);
    }
    Ok(length.unwrap_or(0))
}

/// A byte allowed in a method or a header name (RFC 9110 §5.6.2 `tchar`).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(head: &[u8]) -> u16 {
        match parse(head) {
            Ok(_) => 200,
            Err(refusal) => refusal.status,
        }
    }

    #[test]
    fn the_end_of_a_head_is_an_empty_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\nrest"), Some(24));
        // Empty lines before the request line do not end anything.
        assert_eq!(head_end(b"\r\n\r\n"), None);
        assert_eq!(head_end(b"\r\nGET / HTTP/1.0\r\n\r\n"), Some(20));
    }

    #[test]
    fn a_browser_like_request_parses() {
        let head = b"\r\nGET /a%20b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
            User-Agent: test\r\nAccept:  */*  \r\nConnection: keep-alive\r\n\r\n";
        let request = parse(head).expect("parses");
        assert_eq!(request.method, "GET");
        assert_eq!(request.target, "/a%20b?x=1");
        assert_eq!(request.header("accept"), Some("*/*"));
        assert!(request.keep_alive());
        assert_eq!(request.content_length, 0);
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        let keep = |head: &[u8]| parse(head).expect("parses").keep_alive();
        assert!(!keep(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"
        ));
        assert!(!keep(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: x, close\r\n\r\n"
        ));
        assert!(!keep(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn malformed_heads_are_refused_with_their_status() {
        for (head, want) in [
            (&b"GARBAGE\r\n\r\n"[..], 400),
            (b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            (b"GET / FTP/1.0\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 400),
            (b"GET /\xe6 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400),
        ] {
            assert_eq!(status(head), want, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn too_many_headers_is_431() {
        let mut head = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            head.extend(format!("X-{i}: y\r\n").bytes());
        }
        head.extend(b"\r\n");
        assert_eq!(status(&head), 431);
    }

    #[test]
    fn content_length_copies_must_agree() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n";
        assert_eq!(parse(head).expect("parses").content_length, 5);
    }
}
