//! The receiver mounted in an axum application: [`endpoint`].
//!
//! ```
//! use axum::Router;
//! use keyward_secret_scanning::{AlertReceiver, PublicKeys};
//!
//! # fn app(keyward: &keyward::Keyward, github_keys: &str) -> Result<Router, Box<dyn std::error::Error>> {
//! // The JSON of https://api.github.com/meta/public_keys/secret_scanning, saved.
//! let receiver = AlertReceiver::new(keyward, PublicKeys::parse(github_keys)?);
//! let app: Router = Router::new().route(
//!     "/github/secret-scanning",
//!     keyward_secret_scanning::axum::endpoint(receiver),
//! );
//! # Ok(app)
//! # }
//! ```

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use keyward::http::{HttpResponse, RequestError};

use crate::{AlertReceiver, AlertRequest, KEY_IDENTIFIER_HEADER, MAX_ALERT_LEN, SIGNATURE_HEADER};

/// `POST` answered by `receiver`, for [`Router::route`](axum::Router::route) at the path
/// registered with GitHub. The body is read up to [`MAX_ALERT_LEN`] (a longer one is
/// 413 without reading on); no API key is asked for: the signature is the credential.
pub fn endpoint<S>(receiver: AlertReceiver) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    post(move |request: Request| {
        let receiver = receiver.clone();
        async move { serve(&receiver, request).await }
    })
}

async fn serve(receiver: &AlertReceiver, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match read_bounded(&parts.headers, body).await {
        Ok(body) => body,
        Err(refused) => return into_axum(refused.render()),
    };
    let header = |name: &str| parts.headers.get(name).map(HeaderValue::as_bytes);
    let alert = AlertRequest {
        key_identifier: header(KEY_IDENTIFIER_HEADER),
        signature: header(SIGNATURE_HEADER),
        content_type: header(CONTENT_TYPE.as_str()),
        body: &body,
    };
    into_axum(receiver.handle(alert).await)
}

/// The body, or the refusal: 413 past [`MAX_ALERT_LEN`] (declared or found).
async fn read_bounded(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, RequestError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_ALERT_LEN as u64) {
        return Err(RequestError::PayloadTooLarge);
    }
    match Limited::new(body, MAX_ALERT_LEN).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) if e.is::<LengthLimitError>() => Err(RequestError::PayloadTooLarge),
        Err(_) => Err(RequestError::UnreadableBody),
    }
}

/// keyward's response as axum's.
fn into_axum(answer: HttpResponse) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
