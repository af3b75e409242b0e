//! Lesson 11, exercise 2: pin a certificate. With `--pin SHA256`, the server
//! is accepted only if the SHA-256 of its certificate's DER bytes is that hex
//! string, whatever the CAs say; without it, the fingerprint is printed, to
//! be pinned. Start the test server, then:
//!
//! ```text
//! cargo run -p http-get --example https-server -- --dir /tmp/tls
//! cargo run -p http-get --example answer-11-2 -- https://localhost:8443/
//! cargo run -p http-get --example answer-11-2 -- --pin HEX https://localhost:8443/
//! ```
//!
//! Restart the server and the pin fails: it made a new key and certificate.
//! A real site renews its certificate every few months, so a pin must name
//! the key (or a CA) and be updated ahead of time, or the site is lost.

use std::process::ExitCode;

use anyhow::bail;
use http_get::tls::Trust;
use rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
use rustls::SupportedCipherSuite;

mod lesson11;

const HELP: &str = "\
answer-11-2: accept an https server only by its certificate's SHA-256 (lesson 11, exercise 2)

Usage: answer-11-2 [--pin SHA256] URL

Without --pin, prints the SHA-256 of the server's certificate.

Example:
  answer-11-2 https://localhost:8443/
  answer-11-2 --pin 3f2a... https://localhost:8443/
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let command = lesson11::command(HELP, "pin")?;
    // The pin replaces the CAs: the chain is not checked, the fingerprint is.
    let (tls, _tcp) = lesson11::handshake(&command.url, &Trust::Insecure)?;
    let Some(der) = tls.peer_certificates().and_then(|chain| chain.first()) else {
        bail!("the server sent no certificate");
    };
    let fingerprint = sha256_hex(der);
    match command.option {
        None => println!("{fingerprint}"),
        Some(pin) if pin.eq_ignore_ascii_case(&fingerprint) => {
            println!("the certificate matches the pin");
        }
        Some(pin) => bail!(
            "the certificate of {} has the SHA-256 {fingerprint}, not the pinned {pin}",
            command.url.host
        ),
    }
    Ok(())
}

// ANCHOR: sha256
/// The SHA-256 of `bytes` in hex, from the hash that rustls's ring provider
/// already has (the one of a TLS 1.3 cipher suite): no other crate needed.
fn sha256_hex(bytes: &[u8]) -> String {
    let SupportedCipherSuite::Tls13(suite) = TLS13_AES_128_GCM_SHA256 else {
        return String::new();
    };
    let digest = suite.common.hash_provider.hash(bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
// ANCHOR_END: sha256
