//! The receiver mounted in an actix-web application: [`route`].
//!
//! ```
//! use actix_web::{App, web};
//! use keyward_secret_scanning::{AlertReceiver, PublicKeys};
//!
//! # fn app(keyward: &keyward::Keyward, github_keys: &str) -> Result<(), Box<dyn std::error::Error>> {
//! // The JSON of https://api.github.com/meta/public_keys/secret_scanning, saved.
//! let receiver = AlertReceiver::new(keyward, PublicKeys::parse(github_keys)?);
//! let _app = App::new().service(
//!     web::resource("/github/secret-scanning")
//!         .route(keyward_secret_scanning::actix::route(receiver.clone())),
//! );
//! # Ok(())
//! # }
//! ```

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::{self, Payload};
use actix_web::{HttpRequest, HttpResponse, Route};
use keyward::http::RequestError;

use crate::{AlertReceiver, AlertRequest, KEY_IDENTIFIER_HEADER, MAX_ALERT_LEN, SIGNATURE_HEADER};

/// `POST` answered by `receiver`, for the `web::resource` at the path registered with
/// GitHub. The body is read up to [`MAX_ALERT_LEN`] (a longer one is 413 without reading
/// on); no API key is asked for: the signature is the credential.
pub fn route(receiver: AlertReceiver) -> Route {
    web::post().to(move |request: HttpRequest, payload: Payload| {
        let receiver = receiver.clone();
        async move { serve(&receiver, &request, payload).await }
    })
}

async fn serve(receiver: &AlertReceiver, request: &HttpRequest, payload: Payload) -> HttpResponse {
    let body = match read_bounded(request, payload).await {
        Ok(body) => body,
        Err(refused) => return into_actix(refused.render()),
    };
    let header = |name: &str| request.headers().get(name).map(HeaderValue::as_bytes);
    let alert = AlertRequest {
        key_identifier: header(KEY_IDENTIFIER_HEADER),
        signature: header(SIGNATURE_HEADER),
        content_type: header(header::CONTENT_TYPE.as_str()),
        body: &body,
    };
    into_actix(receiver.handle(alert).await)
}

/// The body, or the refusal: 413 past [`MAX_ALERT_LEN`] (declared or found).
async fn read_bounded(request: &HttpRequest, payload: Payload) -> Result<web::Bytes, RequestError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_ALERT_LEN as u64) {
        return Err(RequestError::PayloadTooLarge);
    }
    match payload.to_bytes_limited(MAX_ALERT_LEN).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(RequestError::UnreadableBody),
        Err(_) => Err(RequestError::PayloadTooLarge),
    }
}

/// keyward's response as actix-web's.
fn into_actix(answer: keyward::http::HttpResponse) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            response.append_header((name, value));
        }
    }
    response.body(answer.body)
}
