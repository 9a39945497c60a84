//! JSON answers of the demo API, in the same [`HttpResponse`] shape keyward renders its
//! refusals in, so an adapter maps one type.

use keyward::http::HttpResponse;
use serde::Serialize;
use serde_json::json;

/// `status` with `body` as JSON.
pub(crate) fn json(status: u16, body: &impl Serialize) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type", "application/json".to_owned())],
        // Serializing plain data into a String cannot fail.
        body: serde_json::to_string(body).unwrap_or_default(),
    }
}

/// An empty answer (`204`, `202`).
pub(crate) fn empty(status: u16) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// An error that is not an authentication refusal: `{"error": code, "message": …}`.
pub(crate) fn error(status: u16, code: &str, message: impl std::fmt::Display) -> HttpResponse {
    json(
        status,
        &json!({"error": code, "message": message.to_string()}),
    )
}

/// Most bytes of client input an error body carries back.
pub(crate) const MAX_ECHOED_INPUT: usize = 256;

/// Longest capability name quoted back, in bytes (the catalog's names are far shorter).
const MAX_ECHOED_NAME: usize = 64;

/// 400 `unknown_capability` naming the unknown `names`, capped: each name cut to
/// [`MAX_ECHOED_NAME`] bytes and the list to [`MAX_ECHOED_INPUT`] bytes in all, with
/// `more` counting the names left out.
pub(crate) fn unknown_capability(names: &[String]) -> HttpResponse {
    let mut echoed = 0;
    let mut shown = Vec::new();
    for name in names {
        let name = truncated(name, MAX_ECHOED_NAME);
        if echoed + name.len() > MAX_ECHOED_INPUT {
            break;
        }
        echoed += name.len();
        shown.push(name);
    }
    let mut body = json!({"error": "unknown_capability", "capabilities": shown});
    if shown.len() < names.len() {
        body["more"] = json!(names.len() - shown.len());
    }
    json(400, &body)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncated(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn body(response: &HttpResponse) -> Value {
        serde_json::from_str(&response.body).unwrap()
    }

    #[test]
    fn a_few_short_names_come_back_whole() {
        let r = unknown_capability(&["jobs:raed".to_owned(), "kb:wirte".to_owned()]);
        assert_eq!(r.status, 400);
        assert_eq!(
            body(&r),
            json!({"error": "unknown_capability", "capabilities": ["jobs:raed", "kb:wirte"]})
        );
    }

    #[test]
    fn long_names_and_long_lists_are_capped() {
        let huge = "x".repeat(1 << 20);
        let r = unknown_capability(std::slice::from_ref(&huge));
        assert!(
            r.body.len() < MAX_ECHOED_INPUT + 100,
            "{} bytes",
            r.body.len()
        );
        assert_eq!(body(&r)["capabilities"][0], "x".repeat(MAX_ECHOED_NAME));
        assert!(body(&r).get("more").is_none());

        let many: Vec<String> = (0..10_000).map(|i| format!("name:{i:05}")).collect();
        let r = unknown_capability(&many);
        let shown = body(&r)["capabilities"].as_array().unwrap().len();
        assert_eq!(shown, MAX_ECHOED_INPUT / "name:00000".len());
        assert_eq!(body(&r)["more"], 10_000 - shown);
        assert!(
            r.body.len() < 2 * MAX_ECHOED_INPUT,
            "{} bytes",
            r.body.len()
        );

        // A multi-byte character is never split.
        let wide = "é".repeat(100);
        let r = unknown_capability(&[wide]);
        assert_eq!(body(&r)["capabilities"][0], "é".repeat(MAX_ECHOED_NAME / 2));
    }
}
