use std::fmt;

use serde_json::json;
use thiserror::Error;

use super::HttpResponse;
use crate::error::ErrorCode;

/// Longest request body a JSON route reads, in bytes. Both adapters stop reading there
/// and answer 413 `payload_too_large`; a management body is a few hundred bytes.
pub const MAX_BODY_LEN: usize = 16 * 1024;

/// A request body as an adapter read it: at most [`MAX_BODY_LEN`] bytes (longer is
/// [`RequestError::PayloadTooLarge`] before a handler runs), and the request's
/// `Content-Type` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestBody<'a> {
    /// The `Content-Type` header's value, `None` without one.
    pub content_type: Option<&'a [u8]>,
    /// The body's bytes.
    pub bytes: &'a [u8],
}

impl<'a> RequestBody<'a> {
    /// A JSON body, as a client sending `Content-Type: application/json` would.
    pub fn json(bytes: &'a [u8]) -> Self {
        RequestBody {
            content_type: Some(b"application/json"),
            bytes,
        }
    }

    /// The bytes to deserialize: `None` for an empty (or all-whitespace) body, which a
    /// route whose body is optional takes as its defaults. Otherwise the body must fit
    /// [`MAX_BODY_LEN`] (413) and be `application/json`, parameters such as
    /// `; charset=utf-8` allowed (415).
    pub fn json_bytes(&self) -> Result<Option<&'a [u8]>, RequestError> {
        if self.bytes.len() > MAX_BODY_LEN {
            return Err(RequestError::PayloadTooLarge);
        }
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if !self.content_type.is_some_and(is_json) {
            return Err(RequestError::UnsupportedMediaType);
        }
        Ok(Some(self.bytes))
    }
}

/// `application/json`, case-insensitively, with any parameters.
fn is_json(content_type: &[u8]) -> bool {
    let media_type = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    media_type.eq_ignore_ascii_case(b"application/json")
}

/// Parses a JSON route's body: the one place that checks its size, its content type and
/// its JSON, for both adapters and for fuzzing on arbitrary bytes.
///
/// `Ok(None)` for an empty body (a route whose body is optional takes its defaults;
/// one that needs a body answers [`RequestError::BodyRequired`]). A serde error becomes
/// [`RequestError::InvalidJson`], which keeps its category and position and drops
/// serde's message: that message quotes the input (an unknown field's name, a string of
/// the wrong type), and an error body never echoes input.
///
/// ```
/// use keyward::http::{RequestBody, RequestError, parse_json_body};
///
/// let parsed: Option<serde_json::Value> = parse_json_body(RequestBody::json(br#"{"a":1}"#))?;
/// assert_eq!(parsed.unwrap()["a"], 1);
/// let text = RequestBody { content_type: Some(b"text/plain"), bytes: b"{}" };
/// assert_eq!(
///     parse_json_body::<serde_json::Value>(text),
///     Err(RequestError::UnsupportedMediaType)
/// );
/// # Ok::<(), RequestError>(())
/// ```
pub fn parse_json_body<T: serde::de::DeserializeOwned>(
    body: RequestBody<'_>,
) -> Result<Option<T>, RequestError> {
    match body.json_bytes()? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(bytes)
            .map(Some)
            .map_err(RequestError::from),
    }
}

/// [`parse_json_body`] for routes that take a JSON object, as every key-management
/// route does. serde would also read a struct from an array of its fields in order
/// (`["ci"]` for `{"name": "ci"}`); this refuses anything but an object, so a body has
/// one documented shape.
///
/// ```
/// use keyward::http::{JsonErrorKind, RequestBody, RequestError, parse_json_object};
///
/// #[derive(serde::Deserialize)]
/// struct Create { name: String }
///
/// let created: Option<Create> = parse_json_object(RequestBody::json(br#"{"name": "ci"}"#))?;
/// assert_eq!(created.unwrap().name, "ci");
/// let refused = parse_json_object::<Create>(RequestBody::json(br#"["ci"]"#)).err().unwrap();
/// assert!(matches!(refused, RequestError::InvalidJson(e) if e.kind == JsonErrorKind::NotAnObject));
/// # Ok::<(), RequestError>(())
/// ```
pub fn parse_json_object<T: serde::de::DeserializeOwned>(
    body: RequestBody<'_>,
) -> Result<Option<T>, RequestError> {
    let Some(bytes) = body.json_bytes()? else {
        return Ok(None);
    };
    if let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace())
        && bytes[start] != b'{'
    {
        let before = &bytes[..start];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = start
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        return Err(RequestError::InvalidJson(JsonError {
            kind: JsonErrorKind::NotAnObject,
            line,
            column,
        }));
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(RequestError::from)
}

/// A request refused for its shape rather than its credential: no such route or
/// method, or a body that is not the JSON its route takes. [`render`](Self::render)
/// gives the answer both adapters send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No route for this path (404 `not_found`).
    #[error("no such route")]
    NotFound,
    /// The path exists, the method does not (405 `method_not_allowed`). The framework
    /// adds the `Allow` header.
    #[error("this route does not take this method; see the Allow header")]
    MethodNotAllowed,
    /// The body is longer than [`MAX_BODY_LEN`] (413 `payload_too_large`).
    #[error("the request body is longer than {MAX_BODY_LEN} bytes")]
    PayloadTooLarge,
    /// A body that is not `application/json` (415 `unsupported_media_type`).
    #[error("the body must be sent as Content-Type: application/json")]
    UnsupportedMediaType,
    /// The route needs a body and got none (400 `invalid_request`).
    #[error("a JSON body is required")]
    BodyRequired,
    /// The body could not be read off the connection (400 `invalid_request`).
    #[error("the request body could not be read")]
    UnreadableBody,
    /// The body is not the JSON the route takes (400 `invalid_request`).
    #[error("invalid JSON body: {0}")]
    InvalidJson(JsonError),
}

impl RequestError {
    /// The contract's error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestError::NotFound => ErrorCode::NotFound,
            RequestError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            RequestError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            RequestError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            RequestError::BodyRequired
            | RequestError::UnreadableBody
            | RequestError::InvalidJson(_) => ErrorCode::InvalidRequest,
        }
    }

    /// The answer: the code's status, `Content-Type: application/json` and
    /// `{"error": code, "message": …}`, the message quoting no input.
    ///
    /// ```
    /// use keyward::http::RequestError;
    ///
    /// let response = RequestError::PayloadTooLarge.render();
    /// assert_eq!(response.status, 413);
    /// assert!(response.body.starts_with(r#"{"error":"payload_too_large","#));
    /// ```
    pub fn render(&self) -> HttpResponse {
        let code = self.code();
        HttpResponse {
            status: code.status(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: json!({ "error": code.as_str(), "message": self.to_string() }).to_string(),
        }
    }
}

/// Where and how a body failed to parse as JSON: serde's category and position,
/// without its message (which quotes the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// What kind of failure.
    pub kind: JsonErrorKind,
    /// 1-based line of the failure.
    pub line: usize,
    /// 1-based column of the failure.
    pub column: usize,
}

/// The category of a [`JsonError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// Not JSON.
    Syntax,
    /// The body ends inside a JSON value.
    Eof,
    /// JSON, but not the fields and types the route takes (an unknown or missing
    /// field, a wrong type).
    Data,
    /// JSON, but not an object where the route takes one.
    NotAnObject,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            JsonErrorKind::Syntax => "not valid JSON",
            JsonErrorKind::Eof => "the body ends inside a JSON value",
            JsonErrorKind::Data => "not the fields and types this route takes",
            JsonErrorKind::NotAnObject => "not a JSON object",
        };
        write!(f, "{what} at line {}, column {}", self.line, self.column)
    }
}

impl From<serde_json::Error> for RequestError {
    fn from(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match e.classify() {
            Category::Syntax => JsonErrorKind::Syntax,
            Category::Eof => JsonErrorKind::Eof,
            Category::Data => JsonErrorKind::Data,
            // Reading a slice does no I/O.
            Category::Io => return RequestError::UnreadableBody,
        };
        RequestError::InvalidJson(JsonError {
            kind,
            line: e.line(),
            column: e.column(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn body(response: &HttpResponse) -> Value {
        serde_json::from_str(&response.body).unwrap()
    }

    #[test]
    fn content_type_must_be_json_when_there_is_a_body() {
        for ok in [
            &b"application/json"[..],
            b"Application/JSON",
            b"application/json; charset=utf-8",
            b" application/json ;charset=UTF-8",
        ] {
            let parsed = RequestBody {
                content_type: Some(ok),
                bytes: b"{}",
            }
            .json_bytes();
            assert_eq!(parsed, Ok(Some(&b"{}"[..])), "{ok:?}");
        }
        for refused in [
            None,
            Some(&b"text/plain"[..]),
            Some(b"application/jsonx"),
            Some(b"application/x-www-form-urlencoded"),
            Some(b"application/problem+json"),
            Some(b""),
        ] {
            let parsed = RequestBody {
                content_type: refused,
                bytes: b"{}",
            }
            .json_bytes();
            assert_eq!(
                parsed,
                Err(RequestError::UnsupportedMediaType),
                "{refused:?}"
            );
        }
        // No body: nothing to misread, whatever the content type says.
        for empty in [&b""[..], b" \r\n"] {
            let parsed = RequestBody {
                content_type: Some(b"text/plain"),
                bytes: empty,
            }
            .json_bytes();
            assert_eq!(parsed, Ok(None));
        }
    }

    #[test]
    fn a_body_over_the_limit_is_413_whatever_its_type() {
        let long = vec![b' '; MAX_BODY_LEN + 1];
        for content_type in [None, Some(&b"application/json"[..])] {
            let parsed = RequestBody {
                content_type,
                bytes: &long,
            }
            .json_bytes();
            assert_eq!(parsed, Err(RequestError::PayloadTooLarge));
        }
        let at_limit = vec![b' '; MAX_BODY_LEN];
        assert_eq!(RequestBody::json(&at_limit).json_bytes(), Ok(None));
    }

    #[test]
    fn serde_errors_keep_their_position_and_drop_the_input() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Named {
            name: String,
        }
        let secret = "s".repeat(4000);
        for (input, kind) in [
            (format!(r#"{{"{secret}": 1}}"#), JsonErrorKind::Data),
            (format!(r#"{{"name": ["{secret}"]}}"#), JsonErrorKind::Data),
            (secret.clone(), JsonErrorKind::Syntax),
            (format!(r#"{{"name": "{secret}"#), JsonErrorKind::Eof),
        ] {
            let e = parse_json_body::<Named>(RequestBody::json(input.as_bytes())).unwrap_err();
            let RequestError::InvalidJson(json) = e else {
                panic!("{e:?}")
            };
            assert_eq!(json.kind, kind, "{input:.40}");
            let rendered = e.render();
            assert_eq!(rendered.status, 400);
            assert!(!rendered.body.contains("sss"), "{}", rendered.body);
            assert!(rendered.body.len() < 200, "{}", rendered.body);
            assert_eq!(body(&rendered)["error"], "invalid_request");
        }
        let e = parse_json_body::<Named>(RequestBody::json(b"{\n  \"name\": 1}")).unwrap_err();
        assert_eq!(
            body(&e.render())["message"],
            "invalid JSON body: not the fields and types this route takes at line 2, column 11"
        );
    }

    #[test]
    fn every_refusal_renders_its_code_as_json() {
        for (e, status, code) in [
            (RequestError::NotFound, 404, "not_found"),
            (RequestError::MethodNotAllowed, 405, "method_not_allowed"),
            (RequestError::PayloadTooLarge, 413, "payload_too_large"),
            (
                RequestError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (RequestError::BodyRequired, 400, "invalid_request"),
            (RequestError::UnreadableBody, 400, "invalid_request"),
        ] {
            let r = e.render();
            assert_eq!(r.status, status);
            assert_eq!(
                r.headers,
                vec![("content-type", "application/json".to_owned())]
            );
            assert_eq!(body(&r)["error"], code);
            assert_eq!(body(&r)["message"], e.to_string());
        }
    }
}
