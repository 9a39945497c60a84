//! The dashboard over the test rig, driven through `Dashboard::handle` as a mount
//! drives it: the requests, the signed-in user and what the tests read off a page.

#![allow(dead_code)] // each test file uses part of it

use std::net::IpAddr;

use keyward::http::HttpResponse;
use keyward_dashboard::{Dashboard, DashboardRequest, SignedInUser};
use keyward_testing::rig::{Rig, catalog};

/// Where the tests mount the dashboard.
pub const MOUNT: &str = "/settings/api-keys";

/// The dashboard over the rig, on the rig's clock.
pub fn dashboard(rig: &Rig) -> Dashboard {
    Dashboard::new(&rig.keyward).clock(rig.clock.clone())
}

/// u_1 holds every capability of the catalog.
pub fn u1(session: &str) -> SignedInUser {
    SignedInUser::new(session, "u_1", catalog().all())
}

/// The value of header `name` (any case) in `response`.
pub fn header<'r>(response: &'r HttpResponse, name: &str) -> Option<&'r str> {
    response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// GET `path` (with its query, after `?`) for `user`.
pub async fn get(dashboard: &Dashboard, user: &SignedInUser, path: &str) -> HttpResponse {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let mut request = DashboardRequest::get(path);
    request.query = query;
    dashboard.handle(request, Some(user), MOUNT).await
}

/// POST `fields` as a form to `path` for `user`.
pub async fn post(
    dashboard: &Dashboard,
    user: &SignedInUser,
    path: &str,
    fields: &[(&str, &str)],
) -> HttpResponse {
    post_from(dashboard, user, path, fields, None).await
}

/// POST `fields` as a form to `path` for `user`, from `client` when given.
pub async fn post_from(
    dashboard: &Dashboard,
    user: &SignedInUser,
    path: &str,
    fields: &[(&str, &str)],
    client: Option<IpAddr>,
) -> HttpResponse {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let mut request = DashboardRequest::post_form(path, body.as_bytes());
    if let Some(client) = client {
        request = request.with_client_ip(client);
    }
    dashboard.handle(request, Some(user), MOUNT).await
}

/// The CSRF token in `page`.
pub fn csrf_in(page: &HttpResponse) -> String {
    let start = page
        .body
        .find(r#"name="csrf" value=""#)
        .expect("a csrf field")
        + 19;
    let len = page.body[start..].find('"').unwrap();
    page.body[start..start + len].to_string()
}

/// The CSRF token of `user`'s list page.
pub async fn csrf(dashboard: &Dashboard, user: &SignedInUser) -> String {
    csrf_in(&get(dashboard, user, "/").await)
}

/// The text of the `[data-testid=new-key]` element, if the page has one.
pub fn shown_key(body: &str) -> Option<&str> {
    let start = body.find(r#"data-testid="new-key">"#)? + 22;
    let len = body[start..].find("</code>")?;
    Some(&body[start..start + len])
}
