//! Lesson 11: what http-get trusts, how it checks a server's certificate,
//! and how it says what went wrong. The socket side (the TcpStream wrapped
//! in TLS) is in `main.rs`; nothing here touches a socket.
//!
//! rustls does the TLS and webpki checks the certificate chain, as curl's
//! library does: a chain from the server's certificate up to a certificate
//! authority (CA) this machine trusts, every link signed by the next, each
//! valid today, the first one naming the host asked for.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{bail, Context};
use rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};

use crate::x509;

/// Whom to believe about a server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The CAs this machine trusts (on Debian, `/etc/ssl/certs`), as curl.
    System,
    /// `--cacert FILE`: only the CA certificates in this PEM file.
    CaFile(PathBuf),
    /// `-k`/`--insecure`: anyone. The connection is encrypted, but to whom
    /// is not checked: a machine in the middle can answer instead.
    Insecure,
}

// ANCHOR: config
/// A TLS client configuration for one connection, and its verifier (which
/// keeps the certificate the server showed, for `-v` and for errors).
pub fn client_config(
    trust: &Trust,
) -> anyhow::Result<(Arc<ClientConfig>, Arc<Verifier>)> {
    // ring: the cryptography, built with the C compiler every machine has.
    let provider = Arc::new(ring::default_provider());
    let webpki = match trust {
        Trust::Insecure => None,
        _ => {
            let roots = Arc::new(roots(trust)?);
            let verifier =
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .context("cannot use these CA certificates")?;
            Some(verifier)
        }
    };
    let verifier = Arc::new(Verifier {
        webpki,
        algorithms: provider.signature_verification_algorithms,
        seen: Mutex::new(None),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        // TLS 1.3, and 1.2 for the servers that have nothing newer.
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    // ALPN: we speak HTTP/1.1 inside, not HTTP/2 (a server that offers both
    // picks by this list).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), verifier))
}
// ANCHOR_END: config

/// The trusted CA certificates: the system's, or those of `--cacert`.
fn roots(trust: &Trust) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match trust {
        Trust::CaFile(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read the CA file {shown}"))?;
            for cert in certs {
                let cert = cert.with_context(|| format!("{shown} is not valid PEM"))?;
                roots.add(cert).with_context(|| {
                    format!("{shown} holds a certificate that is not valid")
                })?;
            }
            if roots.is_empty() {
                bail!("{shown} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)");
            }
        }
        _ => {
            // Unreadable files among the system's are skipped, as curl does.
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                bail!(
                    "this machine trusts no CA certificate (none found in its store): \
                     install the ca-certificates package, or pass --cacert FILE"
                );
            }
        }
    }
    Ok(roots)
}

// ANCHOR: verifier
/// Checks the server's certificate with webpki (or not at all, for `-k`),
/// and keeps it: when the check fails, the error can say what the
/// certificate was (self-signed? for which names?).
#[derive(Debug)]
pub struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Mutex<Option<CertificateDer<'static>>>,
}

impl Verifier {
    /// The server's own certificate, once it has shown one.
    pub fn seen(&self) -> Option<x509::Certificate> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.as_ref().and_then(|der| x509::parse(der).ok())
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(end_entity.clone().into_owned());
        match &self.webpki {
            Some(webpki) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            // -k: whoever it is, believe it.
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    // Even with -k, the server must prove it holds the key of the
    // certificate it showed: these two check its handshake signature.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
// ANCHOR_END: verifier

/// A TLS failure in a beginner's words, with a hint: the error line and
/// the hint line that http-get prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

// ANCHOR: explain
/// Says why the handshake with `host` failed: `err` from rustls, `cert` the
/// certificate the server showed, if it showed one, `trust` whom we believe.
pub fn explain(
    err: &rustls::Error,
    host: &str,
    cert: Option<&x509::Certificate>,
    trust: &Trust,
) -> Problem {
    let problem = |message: String, hint: &str| Problem {
        message,
        hint: hint.to_string(),
    };
    // A first answer that is not TLS at all: plain HTTP, most likely.
    if let rustls::Error::InvalidMessage(_) = err {
        return problem(
            format!("{host} did not answer in TLS ({err}): is it a plain http server?"),
            "an http:// server speaks no TLS: try the same URL with http://",
        );
    }
    let rustls::Error::InvalidCertificate(why) = err else {
        return problem(
            format!("the TLS handshake with {host} failed: {err}"),
            "is it an https server? http:// is plain HTTP (port 80 unless told), \
             https:// is TLS (port 443 unless told)",
        );
    };
    let issuer = cert.map_or("an unknown issuer".into(), |c| format!("\"{}\"", c.issuer));
    let valid = cert.map_or(String::new(), |c| {
        format!(" (valid from {} until {})", c.not_before, c.not_after)
    });
    match why {
        CertificateError::UnknownIssuer if cert.is_some_and(|c| c.is_self_signed()) => problem(
            format!(
                "{host}'s certificate is self-signed: it vouches for itself, and no \
                 certificate authority you trust vouches for it"
            ),
            "if it is your own test server, trust its certificate with --cacert FILE; \
             -k skips the check, for a test only",
        ),
        CertificateError::UnknownIssuer => problem(
            format!(
                "{host}'s certificate was issued by {issuer}, a certificate authority \
                 {}",
                match trust {
                    Trust::CaFile(path) => format!("that {} does not hold", path.display()),
                    _ => "this machine does not trust".into(),
                }
            ),
            "a school, company or test CA? trust it with --cacert CA-FILE (PEM)",
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => problem(
            format!("{host}'s certificate has expired{valid}"),
            "check this machine's clock (run date); if it is right, the server \
             must renew its certificate",
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            problem(
                format!("{host}'s certificate is not valid yet{valid}"),
                "check this machine's clock (run date): it may be behind",
            )
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            // Our own reading of the certificate: rustls's list shows each
            // name as Rust source (`DnsName("x")`).
            let names = match (cert, why) {
                (Some(cert), _) => cert.names.join(", "),
                (None, CertificateError::NotValidForNameContext { presented, .. }) => {
                    presented.join(", ")
                }
                _ => String::new(),
            };
            let names = if names.is_empty() { "no host names".into() } else { names };
            problem(
                format!("the certificate is for {names}, not for {host}, the name asked for"),
                "use a name the certificate is for in the URL; a certificate names \
                 hosts, so the URL's host must be one of them",
            )
        }
        other => problem(
            format!("{host}'s certificate was refused: {other:?}"),
            "the server's certificate is not one a browser would accept either",
        ),
    }
}
// ANCHOR_END: explain

/// The error for a body that ends with the connection, when the connection
/// ends without TLS `close_notify`.
pub fn truncated(body_bytes: u64) -> Problem {
    Problem {
        message: format!(
            "the connection was cut without TLS close_notify after {body_bytes} body \
             bytes: the body may be truncated"
        ),
        hint: "this body has no length, so only close_notify shows it is whole; \
               anyone on the path can cut a TCP connection (curl accepts it, we refuse)"
            .into(),
    }
}
