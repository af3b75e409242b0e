//! Just enough of an X.509 certificate (RFC 5280) to show it to a person:
//! who it names (subject), who signed it (issuer), when it is valid, and
//! the host names it is for. Checking a certificate is rustls's work (with
//! webpki); this only reads.
//!
//! A certificate is DER: every value is a tag byte, a length, then that
//! many bytes of content, and a SEQUENCE's content is more such values. So
//! reading one is a walk: take a value, look inside, take the next.
//! ([`x509-parser`](https://docs.rs/x509-parser) does all of it, at the
//! price of a longer first build.)

use crate::HttpError;

/// What a person wants to know about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Whom it names, such as `CN=localhost, O=Example`.
    pub subject: String,
    /// Who signed it, in the same form. The same as `subject`: self-signed.
    pub issuer: String,
    /// Valid from, as `2026-01-31 12:00:00 UTC`.
    pub not_before: String,
    /// Valid until, in the same form.
    pub not_after: String,
    /// The names it is for (its subjectAltName): DNS names and IP addresses.
    pub names: Vec<String>,
}

impl Certificate {
    /// Whether it signed itself: its issuer is its subject.
    pub fn is_self_signed(&self) -> bool {
        self.subject == self.issuer
    }
}

// The DER tags met on the way (X.690 §8): universal types, and the
// context-specific tags that X.509 gives its optional fields.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const VERSION: u8 = 0xa0; // [0] EXPLICIT
const EXTENSIONS: u8 = 0xa3; // [3] EXPLICIT
const DNS_NAME: u8 = 0x82; // GeneralName [2] IA5String
const IP_ADDRESS: u8 = 0x87; // GeneralName [7] OCTET STRING

/// subjectAltName: 2.5.29.17, as DER encodes the OID.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// Reads the certificate's DER bytes (as a server sends them).
pub fn parse(der: &[u8]) -> Result<Certificate, HttpError> {
    read(der).ok_or_else(|| HttpError("the certificate is not valid DER".into()))
}

fn read(der: &[u8]) -> Option<Certificate> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
    let mut cert = Der(Der(der).expect(SEQUENCE)?);
    // TBSCertificate ::= SEQUENCE { version [0], serialNumber, signature,
    //   issuer, validity, subject, subjectPublicKeyInfo, ..., extensions [3] }
    let mut tbs = Der(cert.expect(SEQUENCE)?);
    tbs.optional(VERSION);
    tbs.expect(INTEGER)?;
    tbs.expect(SEQUENCE)?;
    let issuer = name(tbs.expect(SEQUENCE)?)?;
    let mut validity = Der(tbs.expect(SEQUENCE)?);
    let not_before = time(validity.next()?)?;
    let not_after = time(validity.next()?)?;
    let subject = name(tbs.expect(SEQUENCE)?)?;
    tbs.expect(SEQUENCE)?;
    // The unique identifiers [1] and [2] (rare) come before the extensions.
    let mut names = Vec::new();
    while let Some((tag, content)) = tbs.next() {
        if tag == EXTENSIONS {
            names = alt_names(content)?;
        }
    }
    Some(Certificate {
        subject,
        issuer,
        not_before,
        not_after,
        names,
    })
}

/// DER values one after another, read from the front.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    // ANCHOR: der
    /// The next value: its tag and its content.
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, rest) = rest.split_first()?;
        // A length under 128 is one byte; else the low bits say how many
        // bytes of length follow (at most 4 here: no certificate is 4 GiB).
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let len = rest[..count]
                .iter()
                .fold(0usize, |n, &b| (n << 8) | usize::from(b));
            (len, &rest[count..])
        };
        if rest.len() < len {
            return None;
        }
        self.0 = &rest[len..];
        Some((tag, &rest[..len]))
    }
    // ANCHOR_END: der

    /// The next value, which must have this tag.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.next().filter(|(t, _)| *t == tag).map(|(_, c)| c)
    }

    /// Skips the next value if it has this tag.
    fn optional(&mut self, tag: u8) {
        if self.0.first() == Some(&tag) {
            self.next();
        }
    }
}

/// A Name: a SEQUENCE of SETs of (type, value), shown as `CN=x, O=y`.
fn name(content: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    let mut rdns = Der(content);
    while let Some(set) = rdns.expect(SET) {
        let mut set = Der(set);
        while let Some(pair) = set.expect(SEQUENCE) {
            let mut pair = Der(pair);
            let oid = pair.expect(OID)?;
            // UTF8String, PrintableString, IA5String...: text either way.
            let (_, value) = pair.next()?;
            let value = course::printable(&String::from_utf8_lossy(value));
            parts.push(format!("{}={value}", attribute(oid)));
        }
    }
    Some(parts.join(", "))
}

/// The short name of an attribute type (RFC 4514 §3), or its dotted OID.
fn attribute(oid: &[u8]) -> String {
    let short = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        _ => return dotted(oid),
    };
    short.to_string()
}

/// An OID as numbers: the first byte holds two (40 × a + b), the rest are
/// base 128 with the high bit meaning "more bytes follow".
fn dotted(oid: &[u8]) -> String {
    let Some((&first, rest)) = oid.split_first() else {
        return String::new();
    };
    let mut numbers = vec![u64::from(first / 40), u64::from(first % 40)];
    let mut n = 0u64;
    for &b in rest {
        n = (n << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            numbers.push(n);
            n = 0;
        }
    }
    let numbers: Vec<String> = numbers.iter().map(u64::to_string).collect();
    numbers.join(".")
}

/// A UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as
/// `YYYY-MM-DD HH:MM:SS UTC`.
fn time((tag, content): (u8, &[u8])) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, digits.len()) {
        // RFC 5280 §4.1.2.5.1: YY of 50 or more is 19YY, else 20YY.
        (UTC_TIME, 12) => {
            let yy: u32 = digits[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (GENERALIZED_TIME, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let part = |i: usize| &rest[i..i + 2];
    Some(format!(
        "{year}-{}-{} {}:{}:{} UTC",
        part(0),
        part(2),
        part(4),
        part(6),
        part(8)
    ))
}

/// The DNS names and IP addresses of the subjectAltName extension.
fn alt_names(extensions: &[u8]) -> Option<Vec<String>> {
    // [3] { SEQUENCE OF Extension }; Extension ::= SEQUENCE { extnID,
    //   critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    let mut list = Der(Der(extensions).expect(SEQUENCE)?);
    while let Some(extension) = list.expect(SEQUENCE) {
        let mut extension = Der(extension);
        if extension.expect(OID)? != SUBJECT_ALT_NAME {
            continue;
        }
        extension.optional(BOOLEAN);
        // The value is DER again: a SEQUENCE of GeneralName.
        let value = extension.expect(OCTET_STRING)?;
        let mut general_names = Der(Der(value).expect(SEQUENCE)?);
        let mut names = Vec::new();
        while let Some((tag, content)) = general_names.next() {
            match (tag, content.len()) {
                (DNS_NAME, _) => {
                    names.push(course::printable(&String::from_utf8_lossy(content)));
                }
                (IP_ADDRESS, 4) => {
                    let octets: [u8; 4] = content.try_into().ok()?;
                    names.push(std::net::Ipv4Addr::from(octets).to_string());
                }
                (IP_ADDRESS, 16) => {
                    let octets: [u8; 16] = content.try_into().ok()?;
                    names.push(std::net::Ipv6Addr::from(octets).to_string());
                }
                // Email addresses, URIs...: not names a server answers to.
                _ => {}
            }
        }
        return Some(names);
    }
    Some(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_and_times_read_as_rfc_5280_writes_them() {
        // 1.2.840.113549 (RSA's arc): 0x2a = 40 × 1 + 2, then base 128.
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
        assert_eq!(
            time((UTC_TIME, b"491231235959Z")).as_deref(),
            Some("2049-12-31 23:59:59 UTC")
        );
        assert_eq!(
            time((UTC_TIME, b"500101000000Z")).as_deref(),
            Some("1950-01-01 00:00:00 UTC")
        );
        assert_eq!(
            time((GENERALIZED_TIME, b"21000101000000Z")).as_deref(),
            Some("2100-01-01 00:00:00 UTC")
        );
        assert_eq!(time((UTC_TIME, b"4912312359Z")), None);
    }

    #[test]
    fn truncated_or_garbage_der_is_an_error_not_a_panic() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse(&[0x30, 0x03, 0x30, 0x01]).is_err());
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ 0x30).collect();
            let _ = parse(&bytes);
        }
    }
}
