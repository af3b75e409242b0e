//! Bytes to text, for display and for replies.

use encoding_rs::{CoderResult, Encoding, UTF_8};

/// Turns the bytes of successive reads into text.
///
/// TCP does not keep a character together: `你` is three bytes in UTF-8, and
/// a read may end after the first of them. Decoding each read on its own
/// would turn both halves into U+FFFD (`�`). This decoder keeps the unfinished
/// bytes and completes the character with the next read. Bytes that are not
/// valid text become U+FFFD; they never stop the program.
pub struct Decoder {
    inner: encoding_rs::Decoder,
}

impl Decoder {
    /// A decoder for UTF-8, the encoding of every lesson by default.
    pub fn utf8() -> Self {
        Self::new(UTF_8)
    }

    /// A decoder for any encoding that encoding_rs knows (GBK, GB18030, ...).
    pub fn new(encoding: &'static Encoding) -> Self {
        Decoder {
            inner: encoding.new_decoder_without_bom_handling(),
        }
    }

    /// Decodes the bytes of one read. A character cut at the end of `bytes`
    /// is held back and comes out of the next call.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        self.run(bytes, false)
    }

    /// Call when no more bytes will come: a character still unfinished is
    /// returned as U+FFFD.
    pub fn finish(&mut self) -> String {
        self.run(&[], true)
    }

    fn run(&mut self, mut bytes: &[u8], last: bool) -> String {
        let mut text = String::new();
        loop {
            let room = self
                .inner
                .max_utf8_buffer_length(bytes.len())
                .unwrap_or(bytes.len().saturating_mul(3))
                .max(16);
            text.reserve(room);
            let (result, read, _had_errors) =
                self.inner.decode_to_string(bytes, &mut text, last);
            bytes = &bytes[read..];
            if result == CoderResult::InputEmpty {
                return text;
            }
        }
    }
}

/// Peer text with its control characters shown as escapes (`\u{1b}`), so
/// that bytes from the network cannot move the cursor or clear the screen
/// of whoever reads them. Everything else is shown as it is.
pub fn printable(text: &str) -> String {
    escape_controls(text, |_| false)
}

/// [`printable`] for text that is a stream of lines, such as what a chat
/// client prints: line ends (`\n`) and tabs stay as they are, every other
/// control character is shown as an escape. What a hostile server sends
/// cannot clear the user's screen or retitle the window.
pub fn printable_lines(text: &str) -> String {
    escape_controls(text, |c| c == '\n' || c == '\t')
}

fn escape_controls(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !keep(c) {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Shows peer text in a log line: quoted, with control characters escaped
/// (so an escape sequence cannot repaint the teacher's terminal), and cut
/// after 60 characters.
pub fn preview(text: &str) -> String {
    const SHOWN: usize = 60;
    let total = text.chars().count();
    if total <= SHOWN {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(SHOWN).collect();
    format!("{head:?}... ({} more characters)", total - SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_between_reads_comes_out_whole() {
        let bytes = "你好".as_bytes();
        let mut decoder = Decoder::utf8();
        let mut text = String::new();
        for chunk in bytes.chunks(1) {
            text += &decoder.decode(chunk);
        }
        text += &decoder.finish();
        assert_eq!(text, "你好");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut decoder = Decoder::utf8();
        assert_eq!(decoder.decode(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(decoder.decode(&"你".as_bytes()[..2]), "");
        assert_eq!(decoder.finish(), "\u{FFFD}");
    }

    #[test]
    fn printable_escapes_only_control_characters() {
        assert_eq!(
            printable("it's \"你好\"\u{1b}[2J\n"),
            "it's \"你好\"\\u{1b}[2J\\n"
        );
    }

    #[test]
    fn printable_lines_keeps_line_ends_and_tabs() {
        assert_eq!(
            printable_lines("a\tb\n\u{1b}]0;x\u{7}\r\n\u{9b}2J"),
            "a\tb\n\\u{1b}]0;x\\u{7}\\r\n\\u{9b}2J"
        );
    }

    #[test]
    fn preview_escapes_and_shortens() {
        assert_eq!(preview("hi\n"), "\"hi\\n\"");
        assert_eq!(preview("\u{1b}[2J"), "\"\\u{1b}[2J\"");
        let long = "好".repeat(100);
        let shown = preview(&long);
        assert!(shown.ends_with("(40 more characters)"), "{shown}");
    }
}

/// The text encoding of the bytes on the wire, chosen with `--encoding`.
///
/// UTF-8 is the default everywhere. GBK and GB18030 are what Chinese
/// Windows tools (a "network debug assistant", say) send by default;
/// `gb2312` is accepted as a name for GBK, a superset of GB2312, as the
/// WHATWG Encoding Standard (which encoding_rs follows) does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charset {
    encoding: &'static Encoding,
    name: &'static str,
    /// The value of `--encoding` that chose it.
    flag: &'static str,
}

/// A character that the chosen encoding has no bytes for (an emoji in GBK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmappable {
    pub ch: char,
    pub charset: &'static str,
}

impl std::fmt::Display for Unmappable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} (U+{:04X}) cannot be written in {}",
            self.ch, self.ch as u32, self.charset
        )
    }
}

impl std::error::Error for Unmappable {}

impl Charset {
    pub const UTF8: Charset = Charset {
        encoding: UTF_8,
        name: "UTF-8",
        flag: "utf-8",
    };

    /// The charsets `--encoding` accepts: utf-8, gbk, gb2312, gb18030.
    pub fn parse(name: &str) -> Result<Charset, crate::UsageError> {
        let (encoding, name, flag) = match name.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => (UTF_8, "UTF-8", "utf-8"),
            "gbk" => (encoding_rs::GBK, "GBK", "gbk"),
            "gb2312" => (encoding_rs::GBK, "GBK (for gb2312)", "gb2312"),
            "gb18030" => (encoding_rs::GB18030, "GB18030", "gb18030"),
            _ => {
                return Err(crate::UsageError(format!(
                    "unknown encoding {name:?}: expected utf-8, gbk, gb2312 or gb18030"
                )))
            }
        };
        Ok(Charset {
            encoding,
            name,
            flag,
        })
    }

    /// The charset's name, for messages.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The `--encoding` value that chooses this charset.
    pub fn flag(self) -> &'static str {
        self.flag
    }

    /// A streaming decoder for bytes in this charset.
    pub fn decoder(self) -> Decoder {
        Decoder::new(self.encoding)
    }

    /// Decodes `bytes` that must all be valid in this charset: `None` if
    /// any are not (where a [`Decoder`] would put U+FFFD).
    pub fn decode_exact(self, bytes: &[u8]) -> Option<String> {
        self.encoding
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| text.into_owned())
    }

    /// Encodes `text`, or names the first character this charset cannot
    /// write. (encoding_rs's plain `encode` would write it as an HTML
    /// reference like `&#128512;`, which is not what the user typed.)
    pub fn encode(self, text: &str) -> Result<Vec<u8>, Unmappable> {
        let mut bytes = Vec::new();
        self.encode_with(text, &mut bytes, |ch| {
            Err(Unmappable {
                ch,
                charset: self.name,
            })
        })?;
        Ok(bytes)
    }

    /// Encodes `text`, writing `?` for each character this charset cannot
    /// write; for servers, which have nobody to ask.
    pub fn encode_lossy(self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        let _ = self.encode_with(text, &mut bytes, |_| Ok(b'?'));
        bytes
    }

    fn encode_with(
        self,
        mut text: &str,
        bytes: &mut Vec<u8>,
        mut unmappable: impl FnMut(char) -> Result<u8, Unmappable>,
    ) -> Result<(), Unmappable> {
        let mut encoder = self.encoding.new_encoder();
        loop {
            let room = encoder
                .max_buffer_length_from_utf8_without_replacement(text.len())
                .unwrap_or(text.len().saturating_mul(4))
                .max(16);
            let start = bytes.len();
            bytes.resize(start + room, 0);
            let (result, read, written) = encoder.encode_from_utf8_without_replacement(
                text,
                &mut bytes[start..],
                true,
            );
            bytes.truncate(start + written);
            text = &text[read..];
            match result {
                encoding_rs::EncoderResult::InputEmpty => return Ok(()),
                encoding_rs::EncoderResult::OutputFull => {}
                encoding_rs::EncoderResult::Unmappable(ch) => bytes.push(unmappable(ch)?),
            }
        }
    }
}

#[cfg(test)]
mod charset_tests {
    use super::*;

    #[test]
    fn the_seeds_gbk_bytes() {
        let gbk = Charset::parse("GBK").expect("gbk");
        let hello = gbk
            .encode("你好服务端，我是客户端小黑!")
            .expect("all in GBK");
        assert_eq!(
            hello[..10],
            [0xc4, 0xe3, 0xba, 0xc3, 0xb7, 0xfe, 0xce, 0xf1, 0xb6, 0xcb]
        );
        let reply = [0xce, 0xd2, 0xca, 0xc7, 0xb7, 0xfe, 0xce, 0xf1, 0xc6, 0xf7];
        let mut decoder = gbk.decoder();
        assert_eq!(decoder.decode(&reply), "我是服务器");
        assert_eq!(gbk.encode("我是服务器").ok(), Some(reply.to_vec()));
    }

    #[test]
    fn unmappable_characters_are_named_or_replaced() {
        let gbk = Charset::parse("gb2312").expect("gb2312");
        let err = gbk.encode("hi 😀").expect_err("no emoji in GBK");
        assert_eq!(err.ch, '😀');
        assert!(err.to_string().contains("U+1F600"), "{err}");
        assert_eq!(gbk.encode_lossy("a😀b"), b"a?b");
        let gb18030 = Charset::parse("gb18030").expect("gb18030");
        assert!(gb18030.encode("😀").is_ok());
        assert!(Charset::parse("latin1").is_err());
    }

    #[test]
    fn gbk_split_between_reads_decodes_whole() {
        let gbk = Charset::parse("gbk").expect("gbk");
        let bytes = gbk.encode("我是服务器").expect("gbk");
        let mut decoder = gbk.decoder();
        let mut text = String::new();
        for chunk in bytes.chunks(3) {
            text += &decoder.decode(chunk);
        }
        assert_eq!(text + &decoder.finish(), "我是服务器");
    }
}
