//! Lesson 11, exercise 1: print the chain of certificates a server sends,
//! each with its subject, its issuer and its dates, as `-v` does for the
//! first one. Start the test server, then ask it:
//!
//! ```text
//! cargo run -p http-get --example https-server -- --dir /tmp/tls
//! cargo run -p http-get --example answer-11-1 -- --cacert /tmp/tls/ca.pem https://localhost:8443/
//! ```
//!
//! The test server sends two: its own certificate, then its CA's. A real
//! site sends its own and the intermediate CAs, never the root: the client
//! must already have the root in its store, or the chain means nothing.

use std::process::ExitCode;

use http_get::x509;

mod lesson11;

const HELP: &str = "\
answer-11-1: print the certificate chain an https server sends (lesson 11, exercise 1)

Usage: answer-11-1 [--cacert FILE] URL

Example:
  answer-11-1 --cacert /tmp/tls/ca.pem https://localhost:8443/
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let command = lesson11::command(HELP, "")?;
    let (tls, _tcp) = lesson11::handshake(&command.url, &command.trust)?;
    // ANCHOR: chain
    // The chain as the server sent it: its own certificate first, then each
    // issuer's, up to (but usually not including) the root.
    let chain = tls.peer_certificates().unwrap_or_default();
    for (i, der) in chain.iter().enumerate() {
        let cert = x509::parse(der)?;
        println!("{i}: subject {}", cert.subject);
        println!("   issuer  {}", cert.issuer);
        println!("   valid   {} until {}", cert.not_before, cert.not_after);
        if !cert.names.is_empty() {
            println!("   names   {}", cert.names.join(", "));
        }
    }
    // ANCHOR_END: chain
    Ok(())
}
