//! Every answer's headers: the security headers on all of them, `no-store` on pages.

use keyward::http::HttpResponse;
use maud::Markup;

/// No inline script or style anywhere: the pages load `dashboard.css` and
/// `dashboard.js` from the mount, and forms post only to it.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The headers every answer carries, pages and assets alike.
fn security_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "content-security-policy",
            CONTENT_SECURITY_POLICY.to_string(),
        ),
        ("x-frame-options", "DENY".to_string()),
        ("referrer-policy", "no-referrer".to_string()),
        ("x-content-type-options", "nosniff".to_string()),
    ]
}

/// An HTML page: never stored, since pages show key details and, once, a key.
pub(crate) fn page(status: u16, markup: Markup) -> HttpResponse {
    let mut headers = security_headers();
    headers.push(("content-type", "text/html; charset=utf-8".to_string()));
    headers.push(("cache-control", "no-store".to_string()));
    HttpResponse {
        status,
        headers,
        body: markup.into_string(),
    }
}

/// A page answered with extra headers (`Allow` on a 405, `Retry-After` on a 503).
pub(crate) fn page_with(
    status: u16,
    markup: Markup,
    extra: impl IntoIterator<Item = (&'static str, String)>,
) -> HttpResponse {
    let mut response = page(status, markup);
    response.headers.extend(extra);
    response
}

/// `303 See Other` to `location`, which the dashboard built (its mount, or the host's
/// login path).
pub(crate) fn see_other(location: String) -> HttpResponse {
    let mut headers = security_headers();
    headers.push(("location", location));
    headers.push(("content-type", "text/html; charset=utf-8".to_string()));
    headers.push(("cache-control", "no-store".to_string()));
    HttpResponse {
        status: 303,
        headers,
        body: String::new(),
    }
}

/// A static asset: its URL carries a hash of its content, so it may be cached for good.
pub(crate) fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    let mut headers = security_headers();
    headers.push(("content-type", content_type.to_string()));
    headers.push((
        "cache-control",
        "public, max-age=31536000, immutable".to_string(),
    ));
    HttpResponse {
        status: 200,
        headers,
        body: body.to_string(),
    }
}
