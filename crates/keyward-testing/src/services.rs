//! The "services reachable or skip" check for tests that need PostgreSQL or Redis.
//!
//! A test asks for a service with [`reachable_or_skip`]. When the service answers, the
//! test runs. When it does not, the test prints `skipped: …` and returns, so a laptop
//! without the services still passes; with `KEYWARD_REQUIRE_SERVICES=1` (as CI sets it)
//! an unreachable service fails the test instead.

use std::fmt::Display;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The variable that turns an unreachable service from a skip into a failure.
pub const REQUIRE_SERVICES: &str = "KEYWARD_REQUIRE_SERVICES";

/// The variable naming the test PostgreSQL.
pub const DATABASE_URL_VAR: &str = "KEYWARD_TEST_DATABASE_URL";

/// The variable naming the test Redis.
pub const REDIS_URL_VAR: &str = "KEYWARD_TEST_REDIS_URL";

const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/test";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How long a TCP probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The test PostgreSQL: `KEYWARD_TEST_DATABASE_URL`, or the loopback default.
pub fn database_url() -> String {
    std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// The test Redis: `KEYWARD_TEST_REDIS_URL`, or the loopback default.
pub fn redis_url() -> String {
    std::env::var(REDIS_URL_VAR).unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// Whether `KEYWARD_REQUIRE_SERVICES=1`: an unreachable service is then a failure.
pub fn required() -> bool {
    std::env::var(REQUIRE_SERVICES).is_ok_and(|v| v == "1")
}

/// The value of a probe of `service` at `url`, or `None` after printing
/// `skipped: <service> unreachable at <url>: <error>` (the URL without its password).
///
/// # Panics
///
/// When the probe failed and [`required`] holds.
#[track_caller]
pub fn reachable_or_skip<T, E: Display>(
    service: &str,
    url: &str,
    probe: Result<T, E>,
) -> Option<T> {
    match probe {
        Ok(value) => Some(value),
        Err(e) => {
            let url = redact(url);
            assert!(
                !required(),
                "{service} unreachable at {url}: {e} ({REQUIRE_SERVICES}=1)"
            );
            println!("skipped: {service} unreachable at {url}: {e}");
            None
        }
    }
}

/// Opens and closes a TCP connection to the host and port of `url`, within 2 s.
///
/// # Errors
///
/// When the URL names no address, or nothing accepts a connection there.
pub fn tcp_probe(url: &str) -> std::io::Result<SocketAddr> {
    let addr = socket_addr(url).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no host:port in the URL")
    })?;
    TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
    Ok(addr)
}

/// The address of a `scheme://user:password@host:port/path` URL; without a port,
/// Redis's 6379 for `redis…` schemes and PostgreSQL's 5432 otherwise.
pub fn socket_addr(url: &str) -> Option<SocketAddr> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else if url.starts_with("redis") {
        format!("{host_port}:6379")
    } else {
        format!("{host_port}:5432")
    };
    with_port.to_socket_addrs().ok()?.next()
}

/// `url` with its host and port replaced by `addr` (a [`FaultProxy`]'s), keeping the
/// scheme, credentials, path and query.
///
/// [`FaultProxy`]: crate::fault_proxy::FaultProxy
///
/// # Panics
///
/// When `url` has no `://`.
pub fn url_via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let credentials = authority
        .rsplit_once('@')
        .map(|(c, _)| format!("{c}@"))
        .unwrap_or_default();
    format!("{scheme}://{credentials}{addr}{tail}")
}

/// `url` with its password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A name no other test uses, for a schema or a Redis namespace: `prefix`, the process
/// id and the clock's nanoseconds.
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_rewritten_to_a_proxy() {
        let proxy: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(
            url_via("postgres://postgres:pw@127.0.0.1:5432/test", proxy),
            "postgres://postgres:pw@127.0.0.1:4000/test"
        );
        assert_eq!(
            url_via("redis://127.0.0.1:6379", proxy),
            "redis://127.0.0.1:4000"
        );
        assert_eq!(
            socket_addr("redis://127.0.0.1"),
            Some("127.0.0.1:6379".parse().unwrap())
        );
        assert_eq!(
            socket_addr("postgres://u:p@127.0.0.1/db"),
            Some("127.0.0.1:5432".parse().unwrap())
        );
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact("postgres://postgres:secret@127.0.0.1:5432/test"),
            "postgres://postgres:***@127.0.0.1:5432/test"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn a_reachable_service_runs_and_an_unreachable_one_skips() {
        assert_eq!(
            reachable_or_skip("PostgreSQL", "postgres://x", Ok::<_, String>(7)),
            Some(7)
        );
        if !required() {
            assert_eq!(
                reachable_or_skip::<(), _>("Redis", "redis://x", Err("refused")),
                None
            );
        }
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        // Bind then drop: nothing listens on that port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        assert!(tcp_probe(&format!("redis://127.0.0.1:{port}")).is_err());
        assert!(tcp_probe("not a url").is_err());
    }
}
