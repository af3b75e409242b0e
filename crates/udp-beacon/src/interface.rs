//! `--on IFACE` and `--count N`, the same for udp-beacon and udp-listen
//! (lesson 14; udp-listen includes this file). A group is sent from, and
//! joined on, one interface: IPv4 names it by its own address, IPv6 by its
//! index.

use std::net::Ipv4Addr;

use anyhow::Context;
use course::cli::Args;
use course::UsageError;

/// `--on` for IPv4: the interface's own IPv4 address.
pub fn v4(on: &str) -> Result<Ipv4Addr, UsageError> {
    on.parse().map_err(|_| {
        UsageError(format!(
            "invalid value {on:?} for --on: IPv4 needs the interface's own IPv4 \
             address, like 127.0.0.1"
        ))
    })
}

/// `--on` for IPv6: an interface index, or a name looked up in
/// /sys/class/net (Linux), where `ip link` finds it too.
pub fn v6(on: &str) -> anyhow::Result<u32> {
    if let Ok(index) = on.parse() {
        return Ok(index);
    }
    let path = format!("/sys/class/net/{on}/ifindex");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no interface named {on:?} (`ip link` lists them; --on also takes an index)"
        )
    })?;
    text.trim()
        .parse()
        .with_context(|| format!("{path} holds no interface index"))
}

/// The value of `--count`: 1 or more.
pub fn count(args: &mut Args) -> Result<u64, UsageError> {
    match args.value("--count")? {
        0 => Err(UsageError(
            "invalid value \"0\" for --count: expected 1 or more".into(),
        )),
        count => Ok(count),
    }
}
