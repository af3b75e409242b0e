//! Lesson 10, exercise 2: http-server with a `--cors` option. With it,
//! every response to a request says `Access-Control-Allow-Origin: *`, so a
//! page from another origin (another port is one) may `fetch` the files, and
//! a preflight `OPTIONS` request is answered 204 with what may follow it.
//!
//! The server is lesson 10's (its library, and `examples/server/` for what
//! its main.rs does): only [`cors`] is new, given to it as the response
//! hook. Start it, then look at the headers:
//!
//! ```text
//! cargo run -p http-server --example answer-10-2 -- --dir notes --cors
//! curl -i http://127.0.0.1:8000/README.md
//! ```

use std::cell::Cell;
use std::process::ExitCode;

use http_server::head::Request;
use http_server::serve::{self, Body, Response};

mod server;

const HELP: &str = "\
answer-10-2: http-server with --cors (lesson 10, exercise 2)

Usage: answer-10-2 [ADDR] [OPTIONS]

http-server's arguments and options (see http-server --help), and:
      --cors    let pages from any origin fetch the files: every response
                says Access-Control-Allow-Origin: *, and OPTIONS (a CORS
                preflight) is answered 204

Example:
  answer-10-2 --dir notes --cors
  curl -i http://127.0.0.1:8000/README.md     (in another terminal)
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let cors_asked = Cell::new(false);
    let flags = |flag: &str| {
        let known = flag == "cors";
        cors_asked.set(cors_asked.get() || known);
        known
    };
    // The one change to http-server: with --cors, each response goes
    // through `cors` on its way out.
    let hook = || {
        if cors_asked.get() {
            cors
        } else {
            serve::no_change
        }
    };
    server::run(HELP, flags, hook)
}

// ANCHOR: cors
/// Allows every origin to read every response. A preflight (`OPTIONS`, sent
/// by a browser before a request that a plain `<img>` or form could not
/// make) is answered 204: GET and HEAD may follow, with a `Range` header,
/// and the browser may remember that for a day. Without `--cors`, `OPTIONS`
/// stays 501 like any other method the server does not serve.
fn cors(request: &Request, response: &mut Response) {
    if request.method == "OPTIONS" {
        *response = Response {
            status: 204,
            headers: vec![
                ("Allow", "GET, HEAD, OPTIONS".into()),
                ("Access-Control-Allow-Methods", "GET, HEAD".into()),
                ("Access-Control-Allow-Headers", "Range".into()),
                ("Access-Control-Max-Age", "86400".into()),
            ],
            body: Body::Nothing,
        };
    }
    // `*`: any origin, without cookies, which a static folder does not use.
    response
        .headers
        .push(("Access-Control-Allow-Origin", "*".into()));
}
// ANCHOR_END: cors
