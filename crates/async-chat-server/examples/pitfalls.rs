//! Lesson 13's pitfalls, run rather than told: a blocking call inside a task
//! stalls every other task on the thread, and a future that is not
//! cancellation safe loses data when a race drops it. No sockets: tokio's
//! in-memory pipe (`duplex`) stands in for a connection.
//!
//! ```text
//! cargo run -p async-chat-server --example pitfalls
//! ```

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::time::{sleep, Instant};

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    runtime.block_on(blocking_stalls_everyone());
    runtime.block_on(a_dropped_buffer_loses_data())
}

// ANCHOR: blocking
/// A ticker task asks to run every 100 ms. Meanwhile another task, on the
/// same thread, calls `std::thread::sleep`: a blocking call, which holds
/// the thread, where `tokio::time::sleep(...).await` would hand it back.
async fn blocking_stalls_everyone() {
    let start = Instant::now();
    let ticker = tokio::spawn(async move {
        for tick in 1..=4 {
            sleep(Duration::from_millis(100)).await;
            // Rounded down to 100 ms, so that a busy machine prints the same.
            let ms = start.elapsed().as_millis() / 100 * 100;
            println!("tick {tick} at about {ms} ms");
        }
    });
    sleep(Duration::from_millis(150)).await;
    println!("a task blocks the thread for 500 ms");
    std::thread::sleep(Duration::from_millis(500));
    let _ = ticker.await;
}
// ANCHOR_END: blocking

// ANCHOR: cancel
/// A line arrives in two parts, 300 ms apart, while the reader races each
/// read against a 100 ms timer (as a server races it against a shutdown).
/// `read_until` appends what it has read to the buffer it was given, even
/// when it is dropped before the line is whole. With a fresh buffer for
/// every try, that part goes with the buffer; with one buffer kept outside
/// the loop, the line comes out whole. (`read_line` is worse: tokio's docs
/// say a dropped `read_line` may lose the part read, whatever the buffer.)
async fn a_dropped_buffer_loses_data() -> std::io::Result<()> {
    for keep_buffer in [false, true] {
        let (mut client, server) = tokio::io::duplex(64);
        tokio::spawn(async move {
            let _ = client.write_all(b"hel").await;
            sleep(Duration::from_millis(300)).await;
            let _ = client.write_all(b"lo\n").await;
        });
        let mut reader = BufReader::new(server);
        let mut kept = Vec::new();
        let line = loop {
            let mut fresh = Vec::new();
            let buf = if keep_buffer { &mut kept } else { &mut fresh };
            let timer = sleep(Duration::from_millis(100));
            if let Some(read) = first(reader.read_until(b'\n', buf), timer).await {
                read?;
                break String::from_utf8_lossy(buf).into_owned();
            }
        };
        let how = if keep_buffer {
            "one buffer kept"
        } else {
            "a fresh buffer each try"
        };
        println!("{how}: got {line:?}");
    }
    Ok(())
}

/// `Some(out)` if `work` finished before `timer`, `None` if the timer won
/// (and `work` was dropped): the server's `race`, for this example.
async fn first<T>(work: impl Future<Output = T>, timer: impl Future) -> Option<T> {
    let (mut work, mut timer) = (pin!(work), pin!(timer));
    poll_fn(|cx| match work.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => timer.as_mut().poll(cx).map(|_| None),
    })
    .await
}
// ANCHOR_END: cancel
