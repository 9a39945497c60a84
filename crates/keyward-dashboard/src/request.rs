//! One request to the dashboard, as any web framework can describe it.

use std::net::IpAddr;

/// The largest form body the dashboard reads, in bytes; a larger one is answered 413.
/// Mounts stop reading a body past it.
pub const MAX_BODY_LEN: usize = 16 * 1024;

/// One request, relative to where the dashboard is mounted.
///
/// ```
/// use keyward_dashboard::DashboardRequest;
///
/// let list = DashboardRequest::get("/");
/// let revoke = DashboardRequest::post_form("/AbCdEfGhIjKlMnOp/revoke", b"csrf=...");
/// # let _ = (list, revoke);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardRequest<'a> {
    /// The HTTP method, upper case (`GET`, `POST`).
    pub method: &'a str,
    /// The path below the mount: `/` or the empty string for the list, `/new`,
    /// `/{id}/revoke`, …
    pub path: &'a str,
    /// The query string, without the `?`.
    pub query: Option<&'a str>,
    /// The `Content-Type` header's value, as sent.
    pub content_type: Option<&'a [u8]>,
    /// The body: a form (`application/x-www-form-urlencoded`) of at most
    /// [`MAX_BODY_LEN`] bytes.
    pub body: &'a [u8],
    /// The client address, when known: changes are audited with it. The mounts set it
    /// with [`crate::Dashboard::resolve_client_ip`].
    pub client_ip: Option<IpAddr>,
}

impl<'a> DashboardRequest<'a> {
    /// A `GET` of `path`, with no query.
    pub fn get(path: &'a str) -> Self {
        DashboardRequest {
            method: "GET",
            path,
            query: None,
            content_type: None,
            body: b"",
            client_ip: None,
        }
    }

    /// A `POST` of the form `body` to `path`.
    pub fn post_form(path: &'a str, body: &'a [u8]) -> Self {
        DashboardRequest {
            method: "POST",
            path,
            query: None,
            content_type: Some(b"application/x-www-form-urlencoded"),
            body,
            client_ip: None,
        }
    }

    /// The same request with `query` (no `?`).
    #[must_use]
    pub fn with_query(mut self, query: &'a str) -> Self {
        self.query = Some(query);
        self
    }

    /// The same request from the client address `ip`.
    #[must_use]
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
}
