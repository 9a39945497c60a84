//! JSON answers of the demo API, in the same [`HttpResponse`] shape keyward renders its
//! refusals in, so an adapter maps one type.

use keyward::http::HttpResponse;
use serde_json::{Value, json};

/// `status` with `body` as JSON.
pub(crate) fn json(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type", "application/json".to_owned())],
        body: body.to_string(),
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
