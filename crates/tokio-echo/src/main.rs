//! The echo servers' protocol served by tokio: a benchmark anchor, not a
//! lesson. The course teaches blocking sockets and threads; this program is
//! only the async point of comparison that `scripts/bench-echo` measures
//! beside v2-echo-server and v5-echo-server, so that the notes can show
//! what the step to async buys (memory at 1,000 connections, CPU per round
//! trip) and what it doesn't.
//!
//! One thread runs every connection: a task per client on tokio's
//! single-threaded runtime (the benchmark pins everything to one CPU
//! anyway). Each read of up to 64 KiB (v5-echo-server reads 16 KiB) is
//! answered with `收到你的消息` and the bytes read, in one write. Unlike the
//! lessons it echoes bytes as they came, without decoding them as text, logs
//! only connections, not messages, and leaves Nagle's algorithm on (each
//! reply is one write, so nothing waits for it). Start it, then measure it:
//!
//! ```text
//! cargo run --release -p tokio-echo
//! cargo run --release -p echo-bench -- 127.0.0.1:19535 --connections 1000
//! ```

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use course::say;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Loopback, on the port after the echo lessons' 19534, so that both can
/// run at once.
const DEFAULT_ADDR: &str = "127.0.0.1:19535";

/// What the course's echo servers put before every echo.
const PREFIX: &str = "收到你的消息";

/// The most one read takes in, as in the Python anchors' 64 KiB variants.
const BUF_SIZE: usize = 64 * 1024;

const HELP: &str = "\
tokio-echo: the echo protocol served by tokio (a benchmark anchor, not a lesson)

Usage: tokio-echo [ADDR]

Answers every read with 收到你的消息 followed by the bytes read, serving all
clients from one thread with tokio. scripts/bench-echo measures it beside
v5-echo-server. Stop it with Ctrl-C.

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:19535]
        port 0 lets the system pick a free port

Options:
  -h, --help    print this help

Example:
  tokio-echo 127.0.0.1:0
  tokio-echo                 # then: echo-bench 127.0.0.1:19535
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let addr = course::cli::addr_only(HELP, DEFAULT_ADDR)?;
    // Built by hand rather than with #[tokio::main], which needs tokio's
    // proc-macros: a longer first build for one line saved.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(accept_loop(addr))
}

/// Listens on `addr` and gives every client a task of its own.
async fn accept_loop(addr: String) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    course::listening_on(listener.local_addr()?, "v5-echo-client");
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(pair) => pair,
            // A client that reset before we took it, or no file descriptors
            // left for a moment: log it, pause so that a lasting cause
            // doesn't spin the CPU, go on. The pause is a timer, so the
            // other clients are served meanwhile.
            Err(err) => {
                say!("accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        say!("{peer} connected");
        // A task is a few hundred bytes plus its buffer, where a thread is
        // a stack and a kernel thread: that is the memory async saves.
        tokio::spawn(async move {
            match serve(stream).await {
                Ok(()) => say!("{peer} disconnected"),
                // One client's failure ends only its own task.
                Err(err) => say!("{peer} dropped: {err}"),
            }
        });
    }
}

/// Answers every read from one client until the client closes.
async fn serve(mut stream: TcpStream) -> io::Result<()> {
    // The reply is built in place: the prefix, then the bytes read after it.
    // Capacity is reserved but not filled: read_buf reads into the spare
    // capacity without zeroing it first, so an idle connection's memory is
    // the pages its messages touched, not 64 KiB.
    let mut reply = Vec::with_capacity(PREFIX.len() + BUF_SIZE);
    loop {
        reply.clear();
        reply.extend_from_slice(PREFIX.as_bytes());
        // `.await` hands the thread to the other tasks until this socket
        // has data: where v5-echo-server blocks a thread, this parks a task.
        let n = stream.read_buf(&mut reply).await?;
        // 0 bytes: the client closed its side.
        if n == 0 {
            return Ok(());
        }
        // Prefix and data in one write, so a client's single read sees the
        // whole reply. write_all: one write may send only part.
        stream.write_all(&reply).await?;
    }
}
