//! v5-echo-server as a real process over 127.0.0.1: the seed's protocol,
//! a thread per client, and the contract's error exits.

use std::io::{ErrorKind, Write};
use std::time::Duration;

use testkit::{exchange, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v5-echo-server");

#[test]
fn answers_every_message_and_logs_each_client() {
    testkit::echo::answers_every_message_and_logs_each_client(EXE);
}

#[test]
fn quiet_logs_clients_but_not_their_messages() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--quiet"]);
    let mut client = server.connect();
    assert_eq!(exchange(&mut client, "secret\n"), "收到你的消息secret\n");
    drop(client);
    server.process.wait_for_stdout("disconnected");
    let log = server.process.stdout();
    if !log.contains(" connected\n") || log.contains("secret") || log.contains(" sent ") {
        server
            .process
            .fail("--quiet should log the client, not its message");
    }
}

#[test]
fn a_character_cut_between_two_reads_is_echoed_whole() {
    let server = Server::start(EXE);
    testkit::assert_split_character_echoed(&mut server.connect(), "收到你的消息");
}

#[test]
fn bad_clients_do_not_stop_the_server() {
    testkit::echo::bad_clients_do_not_stop_the_server(EXE);
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["19534"], "19534");
    testkit::assert_bad_args(EXE, &["127.0.0.1:port"], "127.0.0.1:port");
    testkit::assert_bad_args(EXE, &["--port", "1"], "--port");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_bad_args(EXE, &["--quiet=yes"], "--quiet");
    testkit::assert_bad_args(EXE, &["127.0.0.1:0", "127.0.0.1:1"], "127.0.0.1:1");
}

#[test]
fn speaks_gbk_when_asked() {
    testkit::echo::speaks_gbk_when_asked(EXE);
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    testkit::assert_port_in_use(EXE);
}

#[test]
fn listens_on_ipv6_loopback_when_asked() {
    testkit::echo::listens_on_ipv6_loopback_when_asked(EXE);
}

#[test]
fn fifty_clients_are_served_at_once() {
    let server = Server::start(EXE);
    // All fifty connect and send before any is read from or closed: a
    // server that served one client at a time could answer only the first.
    let mut clients: Vec<_> = (0..50).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i}\n").as_bytes())
            .expect("send");
    }
    for (i, client) in clients.iter_mut().enumerate().rev() {
        let reply = testkit::read_until(client, b"\n", 1024);
        assert_eq!(
            String::from_utf8_lossy(&reply),
            format!("收到你的消息client {i}\n")
        );
    }
}

#[test]
fn a_client_that_never_reads_stalls_nobody_else() {
    let server = Server::start(EXE);
    // A megabyte without a pause, and never a read: this client's thread
    // blocks writing its replies once the buffers are full.
    let mut hog = server.connect();
    hog.set_write_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < 1 << 20 {
        match hog.write(&chunk) {
            Ok(n) => sent += n,
            // Both directions' buffers are full: the server is blocked on us.
            Err(err)
                if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                break
            }
            Err(err) => panic!("send: {err}"),
        }
    }
    let mut other = server.connect();
    assert_eq!(exchange(&mut other, "anyone?\n"), "收到你的消息anyone?\n");
    drop(hog);
    assert_eq!(exchange(&mut other, "still\n"), "收到你的消息still\n");
}

#[test]
fn a_thousand_connections_at_once_and_still_answering() {
    let server = Server::start(EXE);
    let mut clients: Vec<_> = (0..1000).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("{i}\n").as_bytes()).expect("send");
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let reply = testkit::read_until(client, b"\n", 1024);
        assert_eq!(
            String::from_utf8_lossy(&reply),
            format!("收到你的消息{i}\n")
        );
    }
    // Half of them leave abruptly, half politely.
    for (i, client) in clients.into_iter().enumerate() {
        if i % 2 == 0 {
            testkit::reset(client);
        }
    }
    let mut late = server.connect();
    assert_eq!(
        exchange(&mut late, "after the crowd\n"),
        "收到你的消息after the crowd\n"
    );
}

#[test]
fn a_client_written_like_the_seed_works_unchanged() {
    // The seed's v5 client sends text without a newline and makes one
    // recv(1024). This is that shape, written here in Python.
    let server = Server::start(EXE);
    let script = "import socket, sys\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n\
        s.settimeout(10)\n\
        s.connect(('127.0.0.1', int(sys.argv[1])))\n\
        s.send('你好'.encode('utf8'))\n\
        print(s.recv(1024).decode('utf8'))\n\
        s.close()\n";
    let port = server.addr.port().to_string();
    let output = match std::process::Command::new("python3")
        .args(["-c", script, &port])
        .output()
    {
        Ok(output) => output,
        Err(err) => {
            eprintln!("SKIPPED: python3 is not installed ({err})");
            return;
        }
    };
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "收到你的消息你好\n"
    );
}
