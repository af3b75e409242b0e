//! Framing: how to find messages in a TCP byte stream.
//!
//! TCP delivers bytes in order, but not the boundaries between writes: two
//! writes may come out of one read, and one write out of several. So a
//! protocol must say where a message ends. Two common ways, both here:
//!
//! - [`LineDecoder`]: a message ends at a newline (`\n`), as in the chat
//!   room and in newline-delimited JSON.
//! - [`LengthDecoder`]: each message starts with its length, as four bytes
//!   in network (big-endian) order; see [`encode_frame`].
//!
//! The decoders never touch a socket: you feed them the bytes of each read,
//! whatever their size, and they hand back the complete messages. Each one
//! holds at most its maximum message size (plus a four-byte header), however
//! many bytes a peer sends, so a peer cannot make them allocate without
//! bound.

use std::fmt;

/// What went wrong in a stream of frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A line grew past the maximum without a newline.
    LineTooLong { max: usize },
    /// A length header announced more than the maximum.
    FrameTooLarge { len: u64, max: usize },
    /// The stream ended in the middle of a message.
    Truncated {
        have: usize,
        expected: Option<usize>,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::LineTooLong { max } => {
                write!(f, "a line is longer than {max} bytes")
            }
            FrameError::FrameTooLarge { len, max } => {
                write!(
                    f,
                    "a frame announces {len} bytes, more than the {max} allowed"
                )
            }
            FrameError::Truncated {
                have,
                expected: Some(expected),
            } => write!(
                f,
                "the stream ended inside a frame: {have} of {expected} bytes"
            ),
            FrameError::Truncated {
                have,
                expected: None,
            } => write!(
                f,
                "the stream ended inside a message: {have} bytes without an end"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

// ANCHOR: lines
/// Splits a byte stream into lines ending with `\n` (a `\r` before it is
/// kept: the bytes are the line's). After an error the stream cannot be
/// trusted any more: every later call returns the same error, and the
/// connection should be closed.
pub struct LineDecoder {
    /// The start of a line whose newline has not come yet.
    partial: Vec<u8>,
    max_line: usize,
    failed: Option<FrameError>,
}

impl LineDecoder {
    /// A decoder for lines of at most `max_line` bytes (without the `\n`).
    pub fn new(max_line: usize) -> Self {
        LineDecoder {
            partial: Vec::new(),
            max_line,
            failed: None,
        }
    }

    /// Takes the bytes of one read and returns the lines they complete,
    /// without their `\n`. A line cut at the end of `bytes` is kept for the
    /// next call.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut lines = Vec::new();
        for piece in bytes.split_inclusive(|&b| b == b'\n') {
            let (text, complete) = match piece.strip_suffix(b"\n") {
                Some(text) => (text, true),
                None => (piece, false),
            };
            // Check before copying: the decoder never holds more than
            // max_line bytes, however long the line a peer sends.
            if self.partial.len() + text.len() > self.max_line {
                let err = FrameError::LineTooLong { max: self.max_line };
                self.failed = Some(err.clone());
                self.partial = Vec::new();
                return Err(err);
            }
            self.partial.extend_from_slice(text);
            if complete {
                lines.push(std::mem::take(&mut self.partial));
            }
        }
        Ok(lines)
    }

    /// How many bytes the decoder holds: never more than the maximum line.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Call at the end of the stream: bytes after the last newline are an
    /// unfinished line.
    pub fn finish(&self) -> Result<(), FrameError> {
        match self.partial.len() {
            0 => Ok(()),
            have => Err(FrameError::Truncated {
                have,
                expected: None,
            }),
        }
    }
}
// ANCHOR_END: lines

// ANCHOR: length
/// The size of a length header: a u32 in network byte order (big-endian).
pub const HEADER: usize = 4;

/// Puts a four-byte big-endian length in front of `payload`.
pub fn encode_frame(payload: &[u8], max: usize) -> Result<Vec<u8>, FrameError> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&len| len as usize <= max)
        .ok_or(FrameError::FrameTooLarge {
            len: payload.len() as u64,
            max,
        })?;
    let mut frame = Vec::with_capacity(HEADER + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Splits a byte stream into length-prefixed frames. After an error every
/// later call returns the same error: close the connection.
pub struct LengthDecoder {
    /// Bytes of the frame being read: its header, then its payload.
    partial: Vec<u8>,
    max_frame: usize,
    failed: Option<FrameError>,
}

impl LengthDecoder {
    /// A decoder for frames of at most `max_frame` bytes of payload.
    pub fn new(max_frame: usize) -> Self {
        LengthDecoder {
            partial: Vec::new(),
            max_frame,
            failed: None,
        }
    }

    /// Takes the bytes of one read and returns the payloads they complete.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            // First the header, however many reads it takes.
            if self.partial.len() < HEADER {
                let take = (HEADER - self.partial.len()).min(bytes.len());
                self.partial.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if self.partial.len() < HEADER {
                    break;
                }
            }
            // Then the payload: check the announced length before keeping
            // any of it, so a header saying "4 GiB" allocates nothing.
            let len = self.announced();
            if len > self.max_frame {
                let err = FrameError::FrameTooLarge {
                    len: len as u64,
                    max: self.max_frame,
                };
                self.failed = Some(err.clone());
                self.partial = Vec::new();
                return Err(err);
            }
            let missing = HEADER + len - self.partial.len();
            let take = missing.min(bytes.len());
            self.partial.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if take == missing {
                frames.push(self.partial.split_off(HEADER));
                self.partial.clear();
            }
        }
        Ok(frames)
    }

    /// How many bytes the decoder holds: never more than a header and the
    /// maximum payload.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Call at the end of the stream: a header or payload begun and not
    /// finished is a truncated frame.
    pub fn finish(&self) -> Result<(), FrameError> {
        match self.partial.len() {
            0 => Ok(()),
            have if have < HEADER => Err(FrameError::Truncated {
                have,
                expected: Some(HEADER),
            }),
            have => Err(FrameError::Truncated {
                have: have - HEADER,
                expected: Some(self.announced()),
            }),
        }
    }

    /// The payload length in the header (the first four bytes of `partial`).
    fn announced(&self) -> usize {
        let mut header = [0; HEADER];
        header.copy_from_slice(&self.partial[..HEADER]);
        u32::from_be_bytes(header) as usize
    }
}
// ANCHOR_END: length

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cut_anywhere_come_out_whole() {
        let mut decoder = LineDecoder::new(10);
        assert_eq!(decoder.feed(b"ab").ok(), Some(vec![]));
        assert_eq!(
            decoder.feed(b"c\nd\n\nef").ok(),
            Some(vec![b"abc".to_vec(), b"d".to_vec(), b"".to_vec()])
        );
        assert_eq!(
            decoder.finish(),
            Err(FrameError::Truncated {
                have: 2,
                expected: None
            })
        );
    }

    #[test]
    fn a_line_over_the_limit_is_an_error_not_a_buffer() {
        let mut decoder = LineDecoder::new(4);
        assert_eq!(decoder.feed(b"abcd\n").ok(), Some(vec![b"abcd".to_vec()]));
        assert_eq!(
            decoder.feed(b"abcde"),
            Err(FrameError::LineTooLong { max: 4 })
        );
    }

    #[test]
    fn after_an_error_a_decoder_stays_failed() {
        let mut lines = LineDecoder::new(4);
        assert!(lines.feed(b"abc").is_ok());
        assert!(lines.feed(b"defgh\n").is_err());
        assert_eq!(lines.feed(b"x\n"), Err(FrameError::LineTooLong { max: 4 }));
        let mut frames = LengthDecoder::new(4);
        assert!(frames.feed(&[0, 0, 0, 9]).is_err());
        assert!(frames.feed(&[0, 0, 0, 1, b'a']).is_err());
    }

    #[test]
    fn frames_round_trip_and_bad_headers_fail_early() {
        let mut stream = encode_frame(b"hi", 10).unwrap_or_default();
        stream.extend(encode_frame(b"", 10).unwrap_or_default());
        let mut decoder = LengthDecoder::new(10);
        assert_eq!(
            decoder.feed(&stream).ok(),
            Some(vec![b"hi".to_vec(), vec![]])
        );
        assert_eq!(
            decoder.feed(&u32::MAX.to_be_bytes()),
            Err(FrameError::FrameTooLarge {
                len: u64::from(u32::MAX),
                max: 10
            })
        );
        let mut cut = LengthDecoder::new(10);
        assert_eq!(cut.feed(&[0, 0, 0, 5, b'a']).ok(), Some(vec![]));
        assert_eq!(
            cut.finish(),
            Err(FrameError::Truncated {
                have: 1,
                expected: Some(5)
            })
        );
        assert!(encode_frame(&[0; 11], 10).is_err());
    }
}
