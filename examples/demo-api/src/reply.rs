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

/// An error that is not an authentication refusal: `{"error": code, "message": …}`.
pub(crate) fn error(status: u16, code: &str, message: impl std::fmt::Display) -> HttpResponse {
    json(
        status,
        &json!({"error": code, "message": message.to_string()}),
    )
}
