//! Lesson 11: an https server for the classroom, with a certificate
//! authority (CA) of its own, so that `http-get https://...` can be tried
//! with no internet and no real certificate. It makes a CA and a
//! certificate for `localhost` and `127.0.0.1` at each start, writes the
//! CA's certificate to `DIR/ca.pem` (what `--cacert` trusts), and answers
//! every GET with a short page, one connection after another.
//!
//! Its options make the failures of the lesson on purpose: a certificate
//! that has expired, one for another name, a self-signed one, one from a CA
//! nobody trusts; a body that ends with the connection, with or without
//! TLS close_notify.
//!
//! ```text
//! cargo run -p http-get --example https-server -- --dir /tmp/tls
//! cargo run -p http-get -- -v --cacert /tmp/tls/ca.pem https://localhost:8443/
//! ```

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, UsageError};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const DEFAULT_ADDR: &str = "127.0.0.1:8443";

const HELP: &str = "\
https-server: an https test server with a CA of its own (lesson 11)

Usage: https-server [ADDR] [OPTIONS]

Makes a CA and a server certificate at each start, writes the CA's
certificate to DIR/ca.pem, and answers every GET with a page.

Options:
      --dir DIR          where to write ca.pem [default: the system's temp folder,
                         http-get-tls/]
      --cert KIND        good, expired, not-yet-valid, wrong-name, self-signed or
                         unknown-ca [default: good]
      --body FRAMING     length (Content-Length), chunked, or close (the body ends
                         with the connection) [default: length]
      --size BYTES       the body's size: that many bytes of a repeated line
                         [default: a line of text]
      --no-close-notify  end each connection without TLS close_notify
  -h, --help             print this help

Example:
  https-server --dir /tmp/tls
  http-get --cacert /tmp/tls/ca.pem https://localhost:8443/
";

/// The kinds of certificate the server can show.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Good,
    Expired,
    NotYetValid,
    WrongName,
    SelfSigned,
    UnknownCa,
}

struct Options {
    addr: String,
    dir: PathBuf,
    kind: Kind,
    body: String,
    size: Option<usize>,
    close_notify: bool,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    // A certificate's key pair must be given to rustls as PKCS#8 DER.
    let (chain, key) = certificates(&options)?;
    let config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);

    let listener = TcpListener::bind(&options.addr)
        .with_context(|| format!("cannot listen on {}", options.addr))?;
    let addr = listener.local_addr()?;
    say!("listening on {addr}");
    let ca = options.dir.join("ca.pem");
    say!(
        "try: cargo run -p http-get -- -v --cacert {} https://localhost:{}/",
        ca.display(),
        addr.port()
    );
    for stream in listener.incoming() {
        let Ok(tcp) = stream else { continue };
        // One slow or silent client must not hold the server for long.
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        let peer = tcp.peer_addr().map_or("?".into(), |a| a.to_string());
        let tls = ServerConnection::new(Arc::clone(&config))?;
        match answer(StreamOwned::new(tls, tcp), &options) {
            Ok(path) => say!("{peer}: GET {path}"),
            // A client that refused our certificate ends the handshake with
            // an alert: rustls reports it here, and the server goes on.
            Err(err) => say!("{peer}: {err}"),
        }
    }
    Ok(())
}

/// Reads one request head over TLS and sends the page.
fn answer(
    mut stream: StreamOwned<ServerConnection, std::net::TcpStream>,
    options: &Options,
) -> io::Result<String> {
    let mut reader = BufReader::new(&mut stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The rest of the head, up to its empty line (at most 100 lines).
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("?").to_string();
    let body = match options.size {
        Some(size) => b"0123456789abcdefghijklmnopqrstuvwxyz\n"
            .iter()
            .copied()
            .cycle()
            .take(size)
            .collect(),
        None => format!("hello over TLS: you asked for {path}\n").into_bytes(),
    };
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n";
    match options.body.as_str() {
        "chunked" => {
            write!(stream, "{head}Transfer-Encoding: chunked\r\n\r\n")?;
            for piece in body.chunks(64 * 1024) {
                write!(stream, "{:x}\r\n", piece.len())?;
                stream.write_all(piece)?;
                stream.write_all(b"\r\n")?;
            }
            stream.write_all(b"0\r\n\r\n")?;
        }
        "close" => {
            write!(stream, "{head}\r\n")?;
            stream.write_all(&body)?;
        }
        _ => {
            write!(stream, "{head}Content-Length: {}\r\n\r\n", body.len())?;
            stream.write_all(&body)?;
        }
    }
    if options.close_notify {
        // "I am done": the last TLS message before the TCP FIN.
        stream.conn.send_close_notify();
    }
    stream.flush()?;
    Ok(path)
}

/// Makes the CA and the certificate that `options.kind` asks for, writes
/// the CA's certificate to DIR/ca.pem, and returns the chain to show (the
/// server's certificate, then its CA's) with the server's private key.
fn certificates(
    options: &Options,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "socket course test CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "socket course");
    let ca_cert = ca.self_signed(&ca_key)?;
    std::fs::create_dir_all(&options.dir)
        .with_context(|| format!("cannot create {}", options.dir.display()))?;
    let ca_path = options.dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem())
        .with_context(|| format!("cannot write {}", ca_path.display()))?;

    let names = match options.kind {
        Kind::WrongName => vec!["other.example".to_string()],
        _ => vec!["localhost".to_string(), "127.0.0.1".to_string()],
    };
    let mut leaf = CertificateParams::new(names.clone())?;
    leaf.distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    // Validity dates: noon (UTC) on the first of January of a year.
    let noon = |year| rcgen::date_time_ymd(year, 1, 1).replace_hour(12);
    (leaf.not_before, leaf.not_after) = match options.kind {
        Kind::Expired => (noon(2000)?, noon(2001)?),
        Kind::NotYetValid => (noon(2090)?, noon(2091)?),
        _ => (noon(2020)?, noon(2100)?),
    };
    let key = KeyPair::generate()?;
    let issuer = Issuer::new(ca, ca_key);
    let cert = match options.kind {
        Kind::SelfSigned => leaf.self_signed(&key)?,
        Kind::UnknownCa => {
            // Another CA, whose certificate is written nowhere.
            let mut other = CertificateParams::new(Vec::new())?;
            other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            other
                .distinguished_name
                .push(DnType::CommonName, "a CA nobody trusts");
            leaf.signed_by(&key, &Issuer::new(other, KeyPair::generate()?))?
        }
        _ => leaf.signed_by(&key, &issuer)?,
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone(), ca_cert.der().clone()], key))
}

fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        addr: DEFAULT_ADDR.into(),
        dir: std::env::temp_dir().join("http-get-tls"),
        kind: Kind::Good,
        body: "length".into(),
        size: None,
        close_notify: true,
    };
    let mut addr = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("dir") => options.dir = args.value("--dir")?,
            Arg::Long("cert") => {
                let kind: String = args.value("--cert")?;
                options.kind = match kind.as_str() {
                    "good" => Kind::Good,
                    "expired" => Kind::Expired,
                    "not-yet-valid" => Kind::NotYetValid,
                    "wrong-name" => Kind::WrongName,
                    "self-signed" => Kind::SelfSigned,
                    "unknown-ca" => Kind::UnknownCa,
                    _ => {
                        return Err(UsageError(format!(
                            "invalid value {kind:?} for --cert"
                        )))
                    }
                };
            }
            Arg::Long("body") => {
                let body: String = args.value("--body")?;
                if !["length", "chunked", "close"].contains(&body.as_str()) {
                    return Err(UsageError(format!("invalid value {body:?} for --body")));
                }
                options.body = body;
            }
            Arg::Long("size") => options.size = Some(args.value("--size")?),
            Arg::Long("no-close-notify") => options.close_notify = false,
            Arg::Value(value) if addr.is_none() => {
                addr = Some(course::cli::parse_addr(value)?);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    if let Some(addr) = addr {
        options.addr = addr;
    }
    Ok(options)
}
