//! The command line: `--help`, the `ADDR` argument and the options a lesson
//! adds, with one-line errors for anything that doesn't parse.
//!
//! A program whose only argument is `ADDR` calls [`addr_only`]. A program
//! with options loops over [`Args::next`] and matches on [`lexopt::Arg`].

use std::ffi::OsString;
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

pub use lexopt::Arg;

/// A bad command line: the program prints this one line and exits with 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl From<lexopt::Error> for UsageError {
    fn from(err: lexopt::Error) -> Self {
        UsageError(err.to_string())
    }
}

/// The arguments of one program, read one at a time.
pub struct Args {
    parser: lexopt::Parser,
    help: &'static str,
}

impl Args {
    /// Reads this process's arguments; `help` is printed for `--help`/`-h`.
    pub fn from_env(help: &'static str) -> Self {
        Args {
            parser: lexopt::Parser::from_env(),
            help,
        }
    }

    /// Reads the given arguments (without the program name), for tests.
    pub fn from_args<I>(help: &'static str, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        Args {
            parser: lexopt::Parser::from_args(args),
            help,
        }
    }

    /// The next argument. `--help` and `-h` print the help text and end the
    /// program with exit code 0, wherever they appear.
    #[allow(clippy::should_implement_trait)] // lexopt::Parser::next has the same shape
    pub fn next(&mut self) -> Result<Option<Arg<'_>>, UsageError> {
        let arg = self.parser.next()?;
        if matches!(arg, Some(Arg::Long("help") | Arg::Short('h'))) {
            // Help is the answer the user asked for: stdout, exit code 0.
            let _ =
                std::io::Write::write_all(&mut std::io::stdout(), self.help.as_bytes());
            std::process::exit(0);
        }
        Ok(arg)
    }

    /// The value of the option just read, parsed as `T`; `name` is how the
    /// error names the option (`--connections`).
    pub fn value<T>(&mut self, name: &str) -> Result<T, UsageError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self.parser.value()?;
        let text = raw.to_string_lossy();
        text.parse().map_err(|err| {
            UsageError(format!("invalid value {text:?} for {name}: {err}"))
        })
    }
}

/// Parses a program whose only argument is an optional `ADDR`, returning
/// `default` when it is absent.
pub fn addr_only(help: &'static str, default: &str) -> Result<String, UsageError> {
    parse_addr_only(Args::from_env(help), default)
}

fn parse_addr_only(mut args: Args, default: &str) -> Result<String, UsageError> {
    let mut addr = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Value(value) if addr.is_none() => addr = Some(parse_addr(value)?),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(addr.unwrap_or_else(|| default.to_string()))
}

/// Parses a program whose arguments are an optional `ADDR` and
/// `--encoding NAME`, returning `default` and UTF-8 when they are absent.
pub fn addr_and_encoding(
    help: &'static str,
    default: &str,
) -> Result<(String, crate::Charset), UsageError> {
    let mut args = Args::from_env(help);
    let mut addr = None;
    let mut charset = crate::Charset::UTF8;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("encoding") => {
                let name: String = args.value("--encoding")?;
                charset = crate::Charset::parse(&name)?;
            }
            Arg::Value(value) if addr.is_none() => addr = Some(parse_addr(value)?),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok((addr.unwrap_or_else(|| default.to_string()), charset))
}

/// Checks that `value` has the shape `host:port`: an IPv4 address or a name,
/// or an IPv6 address in brackets, then a port from 0 to 65535.
///
/// The host is not looked up here: a name that does not resolve is a run-time
/// failure (exit 1), not a bad argument.
pub fn parse_addr(value: OsString) -> Result<String, UsageError> {
    let text = value.to_string_lossy().into_owned();
    let bad = |why: &str| {
        UsageError(format!(
            "invalid ADDR {text:?}: {why} (expected host:port, like 127.0.0.1:8080 or [::1]:8080)"
        ))
    };
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(bad("no ':' between host and port"));
    };
    if port.is_empty() {
        return Err(bad("no port"));
    }
    if port.parse::<u16>().is_err() {
        return Err(bad("the port must be a number from 0 to 65535"));
    }
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if let Some(inner) = host.strip_prefix('[') {
        let ok = inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<Ipv6Addr>().is_ok());
        if !ok {
            return Err(bad("not an IPv6 address in brackets"));
        }
    } else if host.contains(':') {
        return Err(bad("an IPv6 address needs brackets"));
    } else if host.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(bad("the host contains a space or control character"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Result<String, UsageError> {
        parse_addr(OsString::from(s))
    }

    #[test]
    fn accepts_host_port_shapes() {
        for ok in [
            "127.0.0.1:19534",
            "127.0.0.1:0",
            "localhost:80",
            "[::1]:9000",
            "0.0.0.0:1",
            "no-such-host.invalid:80",
        ] {
            assert_eq!(addr(ok).ok().as_deref(), Some(ok), "{ok} should parse");
        }
    }

    #[test]
    fn rejects_what_is_not_host_port() {
        for bad in [
            "127.0.0.1",
            "19534",
            ":19534",
            "127.0.0.1:",
            "127.0.0.1:65536",
            "127.0.0.1:http",
            "::1:9000",
            "[::1]",
            "[::1:9000",
            "[1.2.3.4]:80",
            "a b:80",
        ] {
            let err = addr(bad).expect_err(bad);
            assert!(err.0.contains(bad), "{err} should name {bad}");
            assert!(!err.0.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn addr_only_defaults_and_refuses_extras() {
        let parse = |args: &[&str]| {
            parse_addr_only(Args::from_args("help", args.iter().copied()), "127.0.0.1:1")
        };
        assert_eq!(parse(&[]).ok().as_deref(), Some("127.0.0.1:1"));
        assert_eq!(parse(&["[::1]:2"]).ok().as_deref(), Some("[::1]:2"));
        assert!(parse(&["127.0.0.1:2", "127.0.0.1:3"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}
