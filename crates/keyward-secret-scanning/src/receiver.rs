//! [`AlertReceiver`]: GitHub's secret scanning partner alerts in, revocations and labels
//! out, framework-neutral.

use std::sync::Arc;

use keyward::Keyward;
use keyward::http::{HttpResponse, MAX_BODY_LEN, RequestBody, RequestError};
use keyward::store::Actor;
use serde_json::json;

use crate::PublicKeys;
use crate::alert::{Label, ReportedToken, TokenLabel, token_hash};
use crate::leak::{LeakCheck, Verdict};
use crate::signature::{SignatureError, verify_signature};

/// An alert as an adapter read it: the two signature headers, the content type and
/// the raw body (at most [`MAX_BODY_LEN`] bytes; a longer one is 413).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertRequest<'a> {
    /// The `Github-Public-Key-Identifier` header's value.
    pub key_identifier: Option<&'a [u8]>,
    /// The `Github-Public-Key-Signature` header's value.
    pub signature: Option<&'a [u8]>,
    /// The `Content-Type` header's value.
    pub content_type: Option<&'a [u8]>,
    /// The body, exactly as received.
    pub body: &'a [u8],
}

/// The endpoint GitHub's secret scanning partner program posts to: every reported
/// token that is one of our keys is revoked at once.
///
/// [`handle`](Self::handle) answers, in order:
///
/// - 413 `payload_too_large` for a body over [`MAX_BODY_LEN`] (the management API's);
/// - 401 `invalid_signature` unless `Github-Public-Key-Signature` is an ECDSA P-256
///   SHA-256 signature of the raw body by the key `Github-Public-Key-Identifier` names
///   among the configured [`PublicKeys`]; nothing is read or changed;
/// - 415 / 400 `invalid_request` for a body that is not a JSON array of
///   `{"token", "type", "url", "source"}`;
/// - 200 with a JSON array, one `{"token_hash", "token_type", "label"}` per reported
///   token, in order: `true_positive` for one of our keys (revoked now through
///   [`LeakCheck`], audited as `leaked` by [`Actor::Automatic`] with the `url` as note,
///   or revoked before), `false_positive` otherwise. Tokens are named by their
///   SHA-256, never echoed;
/// - 503 `auth_unavailable` with `Retry-After` when some token could not be decided now
///   (see [`Verdict::Undecided`]); the keys decided are revoked all the same, and
///   sending the alert again decides the rest.
///
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct AlertReceiver {
    keys: Arc<PublicKeys>,
    check: LeakCheck,
}

impl AlertReceiver {
    /// A receiver revoking `keyward`'s keys, trusting alerts signed by `keys`.
    pub fn new(keyward: &Keyward, keys: PublicKeys) -> AlertReceiver {
        AlertReceiver {
            keys: Arc::new(keys),
            check: LeakCheck::new(keyward, Actor::Automatic),
        }
    }

    /// Answers one alert (see the type's documentation).
    pub async fn handle(&self, request: AlertRequest<'_>) -> HttpResponse {
        if request.body.len() > MAX_BODY_LEN {
            return RequestError::PayloadTooLarge.render();
        }
        if let Err(e) = verify_signature(
            &self.keys,
            request.key_identifier,
            request.signature,
            request.body,
        ) {
            return refuse_signature(e);
        }
        let reported = match parse(request) {
            Ok(reported) => reported,
            Err(e) => return e.render(),
        };
        let mut labels = Vec::with_capacity(reported.len());
        let mut retry_after = None::<u64>;
        // A token reported twice in one alert is checked once.
        let mut decided: Vec<(String, Label)> = Vec::new();
        for token in &reported {
            let hash = token_hash(&token.token);
            let label = match decided.iter().find(|(h, _)| *h == hash) {
                Some((_, label)) => *label,
                None => {
                    let verdict = self.check.check(&token.token, token.url.as_deref()).await;
                    if let Verdict::Undecided { retry_after: wait } = verdict {
                        retry_after = Some(retry_after.map_or(wait, |w| w.max(wait)));
                        continue;
                    }
                    let label = if verdict.is_ours() {
                        Label::TruePositive
                    } else {
                        Label::FalsePositive
                    };
                    decided.push((hash, label));
                    label
                }
            };
            labels.push(TokenLabel::new(token, label));
        }
        if let Some(retry_after) = retry_after {
            return HttpResponse {
                status: 503,
                headers: vec![
                    ("content-type", "application/json".to_owned()),
                    ("retry-after", retry_after.to_string()),
                ],
                body: json!({
                    "error": "auth_unavailable",
                    "message": "some reported tokens could not be checked now; send the alert again",
                })
                .to_string(),
            };
        }
        HttpResponse {
            status: 200,
            headers: vec![("content-type", "application/json".to_owned())],
            body: serde_json::to_string(&labels).unwrap_or_else(|_| "[]".to_owned()),
        }
    }
}

fn parse(request: AlertRequest<'_>) -> Result<Vec<ReportedToken>, RequestError> {
    let body = RequestBody {
        content_type: request.content_type,
        bytes: request.body,
    };
    let bytes = body.json_bytes()?.ok_or(RequestError::BodyRequired)?;
    serde_json::from_slice(bytes).map_err(RequestError::from)
}

fn refuse_signature(e: SignatureError) -> HttpResponse {
    tracing::warn!(target: "keyward", reason = %e, "secret scanning alert refused");
    HttpResponse {
        status: 401,
        headers: vec![("content-type", "application/json".to_owned())],
        body: json!({
            "error": "invalid_signature",
            "message": "the alert is not signed by a configured GitHub secret scanning key",
        })
        .to_string(),
    }
}
