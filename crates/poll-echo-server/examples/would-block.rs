//! Lesson 12's first step: what a nonblocking socket does when there is
//! nothing to read, how readiness (mio's Poll) says when to try again, and
//! why an edge-triggered poller wants every read taken to WouldBlock.
//!
//! It plays both sides on 127.0.0.1 in one program, so there is nothing to
//! start first:
//!
//! ```text
//! cargo run -p poll-echo-server --example would-block
//! ```

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    let (server_side, _) = listener.accept()?;

    // ANCHOR: blocking
    // A blocking read with nothing sent: it waits. (A read timeout ends
    // the wait here; without one it would wait until the client writes.)
    let mut buf = [0; 1024];
    server_side.set_read_timeout(Some(Duration::from_millis(500)))?;
    let started = Instant::now();
    let result = (&server_side).read(&mut buf);
    // (A busy machine may take a little longer than the timeout.)
    let whole = started.elapsed() >= Duration::from_millis(450);
    println!(
        "blocking read: waited {}, then {}",
        if whole {
            "the whole 0.5 s"
        } else {
            "less than 0.5 s"
        },
        show(&result)
    );
    // ANCHOR_END: blocking

    // ANCHOR: nonblocking
    // The same read on a nonblocking socket returns at once.
    server_side.set_nonblocking(true)?;
    let started = Instant::now();
    let result = (&server_side).read(&mut buf);
    let waited = started.elapsed();
    println!(
        "nonblocking read: returned {}: {}",
        if waited < Duration::from_millis(100) {
            "at once"
        } else {
            "late"
        },
        show(&result)
    );
    // ANCHOR_END: nonblocking

    // ANCHOR: readiness
    // Don't try again in a loop (that burns a CPU): ask the kernel to
    // wake us when the socket is readable, and read then.
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(8);
    let mut socket = mio::net::TcpStream::from_std(server_side);
    poll.registry()
        .register(&mut socket, Token(1), Interest::READABLE)?;
    client.write_all(b"hello\n")?;
    poll.poll(&mut events, Some(Duration::from_secs(5)))?;
    for event in &events {
        println!(
            "poll: token {} is readable: {}",
            event.token().0,
            event.is_readable()
        );
    }
    println!("read: {}", show(&socket.read(&mut buf)));
    // Everything that came has been read: the next read would block again.
    println!("read again: {}", show(&socket.read(&mut buf)));
    // ANCHOR_END: readiness

    // ANCHOR: edge
    // mio's readiness is edge-triggered: poll reports a socket when data
    // arrives, not while data sits unread. Read only part of it, and the
    // next poll says nothing, however long it waits.
    client.write_all(b"0123456789")?;
    poll.poll(&mut events, Some(Duration::from_secs(5)))?;
    let mut small = [0; 4];
    println!("10 bytes sent, read 4: {}", show(&socket.read(&mut small)));
    poll.poll(&mut events, Some(Duration::from_millis(500)))?;
    println!("poll again for 0.5 s: {} events", events.iter().count());
    println!("yet they are there: {}", show(&socket.read(&mut buf)));
    // ANCHOR_END: edge

    drop(client);
    poll.poll(&mut events, Some(Duration::from_secs(5)))?;
    println!("after the client closed: {}", show(&socket.read(&mut buf)));
    // ANCHOR_END: readiness
    Ok(())
}

/// A read's result as a line: the bytes read, or the error's kind.
fn show(result: &io::Result<usize>) -> String {
    match result {
        Ok(0) => "Ok(0): the peer closed".to_string(),
        Ok(n) => format!("Ok({n}) bytes"),
        Err(err) => format!("Err({:?}): {err}", err.kind()),
    }
}
