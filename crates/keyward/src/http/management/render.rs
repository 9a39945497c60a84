//! Every answer of the management routes as an [`HttpResponse`]: JSON bodies, and each
//! [`ManageError`] as one status and error body.

use keyward_scope::UnknownCapabilities;
use serde::Serialize;

use super::shapes::ErrorBody;
use crate::AuthError;
use crate::error::ErrorCode;
use crate::http::render::message;
use crate::http::{HttpResponse, render};
use crate::manage::ManageError;

/// Most bytes of capability names an `unknown_capability` body lists, in each of its
/// two lists (the unknown names, the valid ones).
pub(crate) const MAX_ECHOED_INPUT: usize = 256;

/// Longest capability name listed, in bytes (a catalog's names are at most this long).
const MAX_ECHOED_NAME: usize = 64;

/// Renders `error` as the management API answers it:
///
/// | error | status | `error` |
/// |---|---|---|
/// | `NotFound` | 404 | `not_found` |
/// | `UnknownCapabilities` | 400 | `unknown_capability`, with `capabilities` and `more`, `valid` and `more_valid` (capped) |
/// | `InsufficientCapability` | 403 | `insufficient_capability`, exactly as [`render`] answers it |
/// | `InvalidRequest`, `InvalidName`, `GraceTooLong` | 400 | `invalid_request` |
/// | `NotActive`, `AlreadyRolled`, `NotOwner` | 409 | `conflict` |
/// | `TooManyKeys` | 409 | `too_many_keys` |
/// | `CallerRolled` | 403 | `key_rolled`, with an `insufficient_scope` challenge |
/// | `Store` | 503 | `auth_unavailable`, with `Retry-After: retry_after` |
/// | `Internal` | 500 | `internal_error` |
///
/// A store failure and an internal one are logged (target `keyward`); the client gets a
/// generic message. `realm` is that of the `WWW-Authenticate` challenge of a 403.
///
/// ```
/// use keyward::http::render_manage_error;
/// use keyward::manage::ManageError;
///
/// let response = render_manage_error(&ManageError::NotFound, "api", 1);
/// assert_eq!(response.status, 404);
/// assert_eq!(response.body, r#"{"error":"not_found","message":"no such key"}"#);
/// ```
pub fn render_manage_error(error: &ManageError, realm: &str, retry_after: u64) -> HttpResponse {
    match error {
        ManageError::NotFound => error_response(ErrorCode::NotFound, &error.to_string()),
        ManageError::UnknownCapabilities(unknown) => unknown_capability(unknown),
        ManageError::InsufficientCapability(denied) => {
            render(&AuthError::InsufficientCapability(denied.clone()), realm)
        }
        ManageError::InvalidRequest(_)
        | ManageError::InvalidName { .. }
        | ManageError::GraceTooLong { .. } => {
            error_response(ErrorCode::InvalidRequest, &error.to_string())
        }
        ManageError::NotActive(_) | ManageError::AlreadyRolled | ManageError::NotOwner => {
            error_response(ErrorCode::Conflict, &error.to_string())
        }
        ManageError::TooManyKeys { .. } => {
            error_response(ErrorCode::TooManyKeys, &error.to_string())
        }
        ManageError::CallerRolled => {
            let mut response = error_response(ErrorCode::KeyRolled, message(ErrorCode::KeyRolled));
            let challenge = format!(
                "Bearer realm={}, error=\"insufficient_scope\", error_description={}",
                crate::http::render::quoted(realm),
                crate::http::render::quoted(message(ErrorCode::KeyRolled)),
            );
            response.headers.insert(0, ("www-authenticate", challenge));
            response
        }
        ManageError::Store(store) => {
            tracing::error!(target: "keyward", error = %store, "key store failed during key management");
            render(&AuthError::Unavailable { retry_after }, realm)
        }
        ManageError::Internal(cause) => {
            tracing::error!(target: "keyward", error = %cause, "key management failed");
            error_response(ErrorCode::InternalError, message(ErrorCode::InternalError))
        }
    }
}

/// 400 `unknown_capability` naming the unknown names and the catalog's valid ones, each
/// list capped alike: each name cut to [`MAX_ECHOED_NAME`] bytes and all of them to
/// [`MAX_ECHOED_INPUT`] bytes, with `more` (`more_valid`) counting the names left out.
pub(crate) fn unknown_capability(unknown: &UnknownCapabilities) -> HttpResponse {
    let mut body = ErrorBody::new(
        ErrorCode::UnknownCapability,
        message(ErrorCode::UnknownCapability),
    );
    let (shown, more) = capped(&unknown.capabilities);
    body.capabilities = Some(shown);
    body.more = more;
    let (valid, more_valid) = capped(&unknown.valid);
    body.valid = Some(valid);
    body.more_valid = more_valid;
    json(ErrorCode::UnknownCapability.status(), &body)
}

/// The first of `names` that fit in [`MAX_ECHOED_INPUT`] bytes, each cut to
/// [`MAX_ECHOED_NAME`], and how many were left out (`None` for none).
fn capped(names: &[String]) -> (Vec<String>, Option<u64>) {
    let mut echoed = 0;
    let mut shown = Vec::new();
    for name in names {
        let name = truncated(name, MAX_ECHOED_NAME);
        if echoed + name.len() > MAX_ECHOED_INPUT {
            break;
        }
        echoed += name.len();
        shown.push(name.to_owned());
    }
    let left_out = names.len() - shown.len();
    (shown, (left_out > 0).then_some(left_out as u64))
}

/// `{"error": code, "message": message}` with the code's status.
pub(crate) fn error_response(code: ErrorCode, message: &str) -> HttpResponse {
    json(code.status(), &ErrorBody::new(code, message))
}

/// `status` with `body` as JSON.
pub(crate) fn json(status: u16, body: &impl Serialize) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type", "application/json".to_owned())],
        // Plain structs with string keys: serializing cannot fail.
        body: serde_json::to_string(body).unwrap_or_default(),
    }
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
    use keyward_scope::{Catalog, Denied};
    use keyward_store::{KeyState, StoreError};
    use serde_json::{Value, json};

    use super::*;
    use crate::error::{NameProblem, RequestProblem};

    fn body(response: &HttpResponse) -> Value {
        serde_json::from_str(&response.body).unwrap()
    }

    fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The error naming `names` unknown, in a catalog declaring `valid`.
    fn unknown(names: &[String], valid: &[String]) -> UnknownCapabilities {
        UnknownCapabilities {
            capabilities: names.to_vec(),
            valid: valid.to_vec(),
        }
    }

    #[test]
    fn a_few_short_names_come_back_whole_with_the_valid_ones() {
        let catalog = Catalog::builder()
            .capabilities(["jobs:read", "jobs:write", "kb:read"])
            .build()
            .unwrap();
        let error = catalog
            .set(["jobs:raed", "kb:wirte", "kb:read"])
            .unwrap_err();
        let r = unknown_capability(&error);
        assert_eq!(r.status, 400);
        assert_eq!(
            body(&r),
            json!({
                "error": "unknown_capability",
                "message": "the catalog declares no capability of these names",
                "capabilities": ["jobs:raed", "kb:wirte"],
                "valid": ["jobs:read", "jobs:write", "kb:read"],
            })
        );
    }

    #[test]
    fn long_names_and_long_lists_are_capped() {
        let huge = "x".repeat(1 << 20);
        let r = unknown_capability(&unknown(std::slice::from_ref(&huge), &[]));
        assert!(
            r.body.len() < MAX_ECHOED_INPUT + 200,
            "{} bytes",
            r.body.len()
        );
        assert_eq!(body(&r)["capabilities"][0], "x".repeat(MAX_ECHOED_NAME));
        assert!(body(&r).get("more").is_none());

        let many: Vec<String> = (0..10_000).map(|i| format!("name:{i:05}")).collect();
        let r = unknown_capability(&unknown(&many, &[]));
        let shown = body(&r)["capabilities"].as_array().unwrap().len();
        assert_eq!(shown, MAX_ECHOED_INPUT / "name:00000".len());
        assert_eq!(body(&r)["more"], 10_000 - shown);
        assert!(
            r.body.len() < 2 * MAX_ECHOED_INPUT + 100,
            "{} bytes",
            r.body.len()
        );

        // A multi-byte character is never split.
        let wide = "é".repeat(100);
        let r = unknown_capability(&unknown(&[wide], &[]));
        assert_eq!(body(&r)["capabilities"][0], "é".repeat(MAX_ECHOED_NAME / 2));
    }

    #[test]
    fn a_large_catalog_is_listed_capped() {
        // The most a catalog holds, each name as long as a name may be.
        let valid: Vec<String> = (0..256).map(|i| format!("r:{i:062}")).collect();
        let r = unknown_capability(&unknown(&["nope:nope".to_owned()], &valid));
        let listed = body(&r)["valid"].as_array().unwrap().len();
        assert_eq!(listed, MAX_ECHOED_INPUT / 64);
        assert_eq!(body(&r)["valid"][0], valid[0].as_str());
        assert_eq!(body(&r)["more_valid"], 256 - listed);
        assert!(body(&r).get("more").is_none());
        assert!(
            r.body.len() < 2 * MAX_ECHOED_INPUT + 200,
            "{} bytes",
            r.body.len()
        );

        let r = unknown_capability(&unknown(&["nope:nope".to_owned()], &valid[..2]));
        assert_eq!(body(&r)["valid"], json!([valid[0], valid[1]]));
        assert!(body(&r).get("more_valid").is_none());
    }

    #[test]
    fn every_manage_error_has_its_status_and_code() {
        let cases = [
            (ManageError::NotFound, 404, "not_found"),
            (
                ManageError::UnknownCapabilities(unknown(&["nope".into()], &[])),
                400,
                "unknown_capability",
            ),
            (
                ManageError::InvalidRequest(RequestProblem::ZeroExpiresIn),
                400,
                "invalid_request",
            ),
            (
                ManageError::InvalidName {
                    field: "name",
                    problem: NameProblem::Empty,
                },
                400,
                "invalid_request",
            ),
            (
                ManageError::GraceTooLong { max_seconds: 60 },
                400,
                "invalid_request",
            ),
            (ManageError::NotActive(KeyState::Revoked), 409, "conflict"),
            (ManageError::AlreadyRolled, 409, "conflict"),
            (ManageError::TooManyKeys { max: 3 }, 409, "too_many_keys"),
            (
                ManageError::Internal(crate::ServiceError::NotFound),
                500,
                "internal_error",
            ),
        ];
        for (error, status, code) in cases {
            let r = render_manage_error(&error, "api", 7);
            assert_eq!((r.status, body(&r)["error"].as_str()), (status, Some(code)));
            assert_eq!(header(&r, "content-type"), Some("application/json"));
            assert!(body(&r)["message"].is_string());
        }
        let r = render_manage_error(&ManageError::NotActive(KeyState::Revoked), "api", 7);
        assert_eq!(
            body(&r)["message"],
            "the key is revoked; only an active key can be rolled"
        );
        let r = render_manage_error(
            &ManageError::InvalidName {
                field: "name",
                problem: NameProblem::Empty,
            },
            "api",
            7,
        );
        assert_eq!(body(&r)["message"], "name is empty");
    }

    #[test]
    fn a_store_failure_is_503_with_retry_after_and_no_cause() {
        let store = StoreError::unavailable("connection refused to 10.0.0.1");
        let r = render_manage_error(&ManageError::Store(store), "api", 7);
        assert_eq!((r.status, header(&r, "retry-after")), (503, Some("7")));
        assert_eq!(body(&r)["error"], "auth_unavailable");
        assert!(!r.body.contains("10.0.0.1"), "{}", r.body);
    }

    #[test]
    fn a_denial_is_the_authentication_403() {
        let denied = Denied {
            required: vec!["jobs:write".into()],
            held: vec!["jobs:read".into()],
        };
        let r = render_manage_error(
            &ManageError::InsufficientCapability(denied.clone()),
            "realm",
            1,
        );
        assert_eq!(
            r,
            render(&AuthError::InsufficientCapability(denied), "realm")
        );
        assert_eq!(r.status, 403);
    }
}
