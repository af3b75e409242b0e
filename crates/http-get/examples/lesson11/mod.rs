//! What lesson 11's two exercise answers share: the command line (one
//! https:// URL and `--cacert FILE`, plus each answer's own option) and the
//! TLS handshake, done as http-get's main.rs does it, with its library's
//! configuration. Each answer's own part is in its file.

// Each answer compiles this module and uses what it needs of it.
#![allow(dead_code)]

use std::net::TcpStream;
use std::sync::Arc;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::UsageError;
use http_get::tls::{self, Trust};
use http_get::{Scheme, Url};
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

#[path = "../lesson09/mod.rs"]
mod lesson09;

/// What the command line asked for.
pub struct Command {
    pub url: Url,
    pub trust: Trust,
    /// The value of the answer's own option (`option` below), if given.
    pub option: Option<String>,
}

/// Reads `[--cacert FILE] [--OPTION VALUE] https://URL`.
pub fn command(help: &'static str, option: &str) -> Result<Command, UsageError> {
    let mut args = Args::from_env(help);
    let (mut url, mut trust, mut value) = (None, Trust::System, None);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("cacert") => trust = Trust::CaFile(args.value("--cacert")?),
            Arg::Long(name) if name == option => {
                value = Some(args.value(&format!("--{option}"))?);
            }
            Arg::Value(text) if url.is_none() => {
                let text = text.to_string_lossy();
                let parsed = Url::parse(&text)
                    .ok()
                    .filter(|url| url.scheme == Scheme::Https)
                    .ok_or_else(|| {
                        UsageError(format!("invalid URL {text:?}: expected https://"))
                    })?;
                url = Some(parsed);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let url = url.ok_or_else(|| UsageError("no URL given".into()))?;
    Ok(Command {
        url,
        trust,
        option: value,
    })
}

/// Connects and runs the TLS handshake with `trust`; a failure is told in
/// the words of http-get's `tls::explain`.
pub fn handshake(
    url: &Url,
    trust: &Trust,
) -> anyhow::Result<(ClientConnection, TcpStream)> {
    let mut tcp = lesson09::connect(url)?;
    let (config, verifier) = tls::client_config(trust)?;
    let name = ServerName::try_from(url.host.clone())
        .with_context(|| format!("{:?} is not a host name TLS can check", url.host))?;
    let mut tls = ClientConnection::new(Arc::clone(&config), name)?;
    while tls.is_handshaking() {
        if let Err(err) = tls.complete_io(&mut tcp) {
            let why = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>());
            return Err(match why {
                Some(why) => {
                    let cert = verifier.seen();
                    tls::explain(why, &url.host, cert.as_ref(), trust).into()
                }
                None => anyhow::Error::new(err).context("the TLS handshake failed"),
            });
        }
    }
    Ok((tls, tcp))
}
