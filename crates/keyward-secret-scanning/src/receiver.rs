//! [`AlertReceiver`]: GitHub's secret scanning partner alerts in, revocations and labels
//! out, framework-neutral.

use std::collections::HashMap;
use std::sync::Arc;

use keyward::Keyward;
use keyward::http::{HttpResponse, RequestError};
use keyward::store::Actor;
use serde_json::json;

use crate::PublicKeys;
use crate::alert::{Label, ReportedToken, TokenLabel, token_hash};
use crate::leak::{LeakCheck, Verdict};
use crate::signature::{SignatureError, verify_signature};

/// The longest alert body read, in bytes (1 MiB): GitHub may send every match of a
/// push in one alert, far more than the management API's 16 KiB. Longer is 413.
pub const MAX_ALERT_LEN: usize = 1024 * 1024;

/// The most tokens one alert may report. Each distinct token that parses as a key
/// costs a slow hash, so this bounds an alert's work; more is 413, nothing checked.
pub const MAX_ALERT_TOKENS: usize = 1000;

/// An alert as an adapter read it: the two signature headers, the content type and
/// the raw body (at most [`MAX_ALERT_LEN`] bytes; a longer one is 413).
///
/// Its `Debug` shows the body's length, never the body: it holds the reported tokens.
#[derive(Clone, Copy, Default)]
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

impl std::fmt::Debug for AlertRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn text(v: Option<&[u8]>) -> Option<std::borrow::Cow<'_, str>> {
            v.map(String::from_utf8_lossy)
        }
        f.debug_struct("AlertRequest")
            .field("key_identifier", &text(self.key_identifier))
            .field("signature", &text(self.signature))
            .field("content_type", &text(self.content_type))
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

/// The endpoint GitHub's secret scanning partner program posts to: every reported
/// token that is one of our keys is revoked at once.
///
/// [`handle`](Self::handle) answers, in order:
///
/// - 413 `payload_too_large` for a body over [`MAX_ALERT_LEN`];
/// - 401 `invalid_signature` unless `Github-Public-Key-Signature` is an ECDSA P-256
///   SHA-256 signature of the raw body by the key `Github-Public-Key-Identifier` names
///   among the configured [`PublicKeys`]; nothing is read or changed;
/// - 415 / 400 `invalid_request` for a body that is not a JSON array of
///   `{"token", "type", "url", "source"}`;
/// - 413 `payload_too_large` for more than [`MAX_ALERT_TOKENS`] tokens; none checked;
/// - 200 with a JSON array, one `{"token_hash", "token_type", "label"}` per reported
///   token, in order: `true_positive` for one of our keys (revoked now through
///   [`LeakCheck`], audited as `leaked` by [`Actor::Automatic`] with the `url` as note,
///   or revoked before), `false_positive` otherwise. Tokens are named by their
///   SHA-256, never echoed. A token reported twice is checked once, and tokens are
///   checked one after the other, so an alert holds one slow-hash slot at a time;
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
        if request.body.len() > MAX_ALERT_LEN {
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
        if reported.len() > MAX_ALERT_TOKENS {
            return too_many_tokens();
        }
        let mut labels = Vec::with_capacity(reported.len());
        let mut retry_after = None::<u64>;
        // A token reported twice in one alert is checked once.
        let mut decided: HashMap<String, Label> = HashMap::new();
        for token in &reported {
            let hash = token_hash(&token.token);
            let label = match decided.get(&hash) {
                Some(label) => *label,
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
                    decided.insert(hash, label);
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

/// The reported tokens: the body must be `application/json` (parameters allowed) and
/// a JSON array of the partner program's objects. A serde error keeps its position and
/// drops its message, which could quote a token.
fn parse(request: AlertRequest<'_>) -> Result<Vec<ReportedToken>, RequestError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::BodyRequired);
    }
    if !request.content_type.is_some_and(is_json) {
        return Err(RequestError::UnsupportedMediaType);
    }
    serde_json::from_slice(request.body).map_err(RequestError::from)
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

fn too_many_tokens() -> HttpResponse {
    HttpResponse {
        status: 413,
        headers: vec![("content-type", "application/json".to_owned())],
        body: json!({
            "error": "payload_too_large",
            "message": format!("an alert may report at most {MAX_ALERT_TOKENS} tokens"),
        })
        .to_string(),
    }
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
