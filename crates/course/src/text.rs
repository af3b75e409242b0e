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
    fn preview_escapes_and_shortens() {
        assert_eq!(preview("hi\n"), "\"hi\\n\"");
        assert_eq!(preview("\u{1b}[2J"), "\"\\u{1b}[2J\"");
        let long = "好".repeat(100);
        let shown = preview(&long);
        assert!(shown.ends_with("(40 more characters)"), "{shown}");
    }
}
