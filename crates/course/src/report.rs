//! How a program ends: exit codes and the one-line error report.

use std::io;
use std::process::ExitCode;

use crate::cli::UsageError;

/// Runs a lesson program and reports how it ended.
///
/// - `Ok(())`: exit code 0.
/// - a [`UsageError`] anywhere in the error chain: one line naming the bad
///   value, exit code 2.
/// - any other error: `<program>: error: <cause chain>` on one line, a hint
///   on the next where one helps, exit code 1.
///
/// No backtrace is ever printed: these messages are for students.
pub fn main(run: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    let Err(err) = run() else {
        return ExitCode::SUCCESS;
    };
    let program = program_name();
    if let Some(usage) = err.downcast_ref::<UsageError>() {
        eprintln!("{program}: {usage} (see {program} --help)");
        return ExitCode::from(2);
    }
    // `{:#}` prints the whole chain on one line: "cannot listen on ...: Address in use".
    eprintln!("{program}: error: {err:#}");
    if let Some(hint) = hint_for(&err) {
        eprintln!("{program}: hint: {hint}");
    }
    ExitCode::FAILURE
}

/// The name this program was started as, without its directory.
fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|path| path.file_stem())
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "program".to_string())
}

/// A hint for the errors a beginner meets most, found by the kind of the
/// first I/O error in the chain.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    let io_err = err.chain().find_map(|e| e.downcast_ref::<io::Error>())?;
    let hint = match io_err.kind() {
        io::ErrorKind::AddrInUse => {
            "another program (maybe an earlier run) is listening on that port: \
             stop it, or pass another ADDR (port 0 picks a free port)"
        }
        io::ErrorKind::ConnectionRefused => {
            "nothing is listening there: start the server first, in another \
             terminal, and check the port"
        }
        io::ErrorKind::AddrNotAvailable => {
            "that address does not belong to this machine: use 127.0.0.1 to stay on it"
        }
        io::ErrorKind::PermissionDenied => {
            "ports below 1024 need administrator rights: use a port above 1024"
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            "the other side did not answer in time: is it running and reachable?"
        }
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            "the other side closed the connection abruptly"
        }
        // Name lookup failures have no stable kind of their own.
        _ if io_err.to_string().contains("lookup") => {
            "check the host name: 127.0.0.1 or localhost means this machine"
        }
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn hints_follow_the_io_error_under_the_context() {
        let err = Err::<(), _>(io::Error::from(io::ErrorKind::AddrInUse))
            .context("cannot listen on 127.0.0.1:1")
            .expect_err("an error");
        assert!(hint_for(&err).is_some_and(|h| h.contains("port")));
        let plain = anyhow::anyhow!("something else");
        assert_eq!(hint_for(&plain), None);
    }
}
