//! Plumbing that every lesson program shares, kept out of the lessons so that
//! each `main.rs` shows only its socket calls.
//!
//! - [`main`] runs a program and turns its error into an exit code and one
//!   clear line: 2 for a bad argument, 1 for anything that went wrong at run
//!   time (with a hint where one helps).
//! - [`cli`] parses the command line: `--help`, the `ADDR` argument.
//! - [`listening_on`] prints the line that tests, scripts and students wait
//!   for: `listening on <addr>`.
//! - [`say!`] prints a log line that is flushed at once and never panics.
//! - [`Decoder`] turns bytes into text, keeping a character that was cut
//!   between two reads whole.
//! - [`chat`] (with the `chat` feature) is the chat room's protocol, the
//!   same for every chat server.
//!
//! Nothing here opens, reads or writes a socket: that is what the lessons
//! are about, so they do it themselves.

#[cfg(feature = "chat")]
pub mod chat;
pub mod cli;
mod report;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;

pub use cli::UsageError;
pub use report::main;
pub use text::{preview, printable, printable_lines, Charset, Decoder, Unmappable};

/// Prints one line to stdout and flushes it, like `println!`, but never
/// panics: a server whose output pipe was closed keeps serving.
///
/// Standard output in Rust is line-buffered, so every line reaches a pipe or
/// a `tee` as soon as it is printed; `say!` adds the promise not to panic.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::print_line(::std::format_args!($($arg)*))
    };
}

/// The function behind [`say!`].
#[doc(hidden)]
pub fn print_line(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    // A closed or broken stdout is no reason to stop a server: ignore it.
    let _ = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

/// Prints `listening on <addr>` (the first line of every server's output)
/// and, on the next line, how to connect to it.
///
/// `client` is the package of the lesson's own client, for the hint.
pub fn listening_on(addr: SocketAddr, client: &str) {
    listening_on_with_encoding(addr, client, Charset::UTF8);
}

/// [`listening_on`] for a server that speaks `charset`: the hint tells the
/// client to use the same one.
pub fn listening_on_with_encoding(addr: SocketAddr, client: &str, charset: Charset) {
    say!("listening on {addr}");
    let (ip, port) = (addr.ip(), addr.port());
    // Quote an IPv6 address: some shells (zsh) read `[::1]` as a pattern.
    let arg = match addr {
        SocketAddr::V4(_) => addr.to_string(),
        SocketAddr::V6(_) => format!("'{addr}'"),
    };
    let encoding = if charset == Charset::UTF8 {
        String::new()
    } else {
        format!(" --encoding {}", charset.flag())
    };
    say!("connect with: cargo run -p {client} -- {arg}{encoding}   (or: nc {ip} {port})");
}
