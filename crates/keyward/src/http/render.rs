use std::time::Duration;

use keyward_limit::{BudgetDecision, Decision, LimitScope, headers};
use serde_json::{Value, json};

use super::CredentialSources;
use crate::error::{AuthError, ErrorCode};

/// A refusal as HTTP: status, headers and a JSON body. Adapters copy it into their
/// framework's response type and change nothing.
///
/// Its `Debug` leaves out the body of an answer marked `Cache-Control: no-store` (the
/// answers that show a new key), so logging a response never logs a key.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
}

impl HttpResponse {
    /// Whether the answer must not be stored: it shows a secret.
    fn is_no_store(&self) -> bool {
        self.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("cache-control") && value.contains("no-store")
        })
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body: &dyn std::fmt::Debug = if self.is_no_store() {
            &"<redacted: shows a key>"
        } else {
            &self.body
        };
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", body)
            .finish()
    }
}

/// Renders `error` as keyward's HTTP contract: the status of its code, the
/// `WWW-Authenticate` challenge of RFC 6750 (with `error="invalid_token"`,
/// `"insufficient_scope"` and `scope`, or `"invalid_request"`), `Retry-After` and
/// rate-limit headers, and a body `{"error": code, "message": …}` with `required` and
/// `held` on a 403 and `retry_after` on a 429. Nothing the client sent is echoed.
///
/// The message of `invalid_request` is the error's reason; that of
/// `missing_credential` names every credential form (a [`Gate`](super::Gate) names
/// the forms its route accepts instead).
///
/// ```
/// use keyward::AuthError;
/// use keyward::http::render;
///
/// let response = render(&AuthError::TooManyFailedAttempts { retry_after: 42 }, "api");
/// assert_eq!(response.status, 429);
/// assert!(response.headers.contains(&("retry-after", "42".to_string())));
/// assert!(response.body.contains(r#""error":"too_many_failed_attempts""#));
/// ```
pub fn render(error: &AuthError, realm: &str) -> HttpResponse {
    match error {
        AuthError::MissingCredential => render_with_message(
            error,
            realm,
            &CredentialSources::default().missing_credential_message(false, false),
        ),
        AuthError::InvalidRequest(why) => render_with_message(error, realm, why),
        _ => render_with_message(error, realm, message(error.code())),
    }
}

/// [`render`] with `message` as the body's `message`.
pub(crate) fn render_with_message(error: &AuthError, realm: &str, message: &str) -> HttpResponse {
    let code = error.code();
    let realm = quoted(realm);
    let mut headers = Vec::with_capacity(4);
    let mut body = json!({ "error": code.as_str(), "message": message });
    match error {
        AuthError::MissingCredential => {
            headers.push(("www-authenticate", format!("Bearer realm={realm}")));
        }
        AuthError::InvalidKey(_)
        | AuthError::KeyRevoked
        | AuthError::KeyExpired
        | AuthError::KeyDisabled
        | AuthError::IpNotAllowed => {
            headers.push((
                "www-authenticate",
                format!(
                    "Bearer realm={realm}, error=\"invalid_token\", error_description={}",
                    quoted(self::message(code))
                ),
            ));
        }
        AuthError::InsufficientCapability(denied) => {
            headers.push((
                "www-authenticate",
                format!(
                    "Bearer realm={realm}, error=\"insufficient_scope\", scope={}",
                    quoted(&denied.scope())
                ),
            ));
            body["required"] = json!(denied.required);
            body["held"] = json!(denied.held);
        }
        AuthError::RateLimited {
            retry_after,
            limit,
            reset,
            scope,
            period,
        } => {
            headers.push((headers::RETRY_AFTER, retry_after.to_string()));
            headers.push((headers::RATELIMIT_LIMIT, limit.to_string()));
            headers.push((headers::RATELIMIT_REMAINING, "0".to_string()));
            headers.push((headers::RATELIMIT_RESET, reset.to_string()));
            headers.push((
                headers::RATELIMIT_POLICY,
                policy_field(*scope, *limit, *period).as_str().to_owned(),
            ));
            headers.push((
                headers::RATELIMIT,
                service_limit_field(*scope, 0, *retry_after)
                    .as_str()
                    .to_owned(),
            ));
            body["retry_after"] = Value::from(*retry_after);
            body["limit"] = Value::from(scope.as_str());
        }
        AuthError::TooManyFailedAttempts { retry_after } => {
            headers.push((headers::RETRY_AFTER, retry_after.to_string()));
            body["retry_after"] = Value::from(*retry_after);
        }
        AuthError::InvalidRequest(why) => {
            headers.push((
                "www-authenticate",
                format!(
                    "Bearer realm={realm}, error=\"invalid_request\", error_description={}",
                    quoted(why)
                ),
            ));
        }
        AuthError::Unavailable { retry_after } => {
            headers.push((headers::RETRY_AFTER, retry_after.to_string()));
        }
    }
    headers.push(("content-type", "application/json".to_string()));
    HttpResponse {
        status: code.status(),
        headers,
        body: body.to_string(),
    }
}

/// The `RateLimit-*` headers of an allowed request, as numbers: every header crate
/// turns a `u64` into a header value without a `String` on the way.
pub fn rate_limit_headers(decision: &Decision) -> [(&'static str, u64); 3] {
    [
        (headers::RATELIMIT_LIMIT, u64::from(decision.limit())),
        (
            headers::RATELIMIT_REMAINING,
            u64::from(decision.remaining()),
        ),
        (headers::RATELIMIT_RESET, decision.reset_secs()),
    ]
}

/// The values of the `RateLimit-Policy` and `RateLimit` fields of
/// draft-ietf-httpapi-ratelimit-headers-11 for one decision, written on the stack (no
/// allocation; an adapter copies each into a header value):
///
/// - `RateLimit-Policy: "<budget>";q=<limit>;w=<period in seconds>`, where `<budget>`
///   is `key`, `owner` or `tenant` (whose budget the decision is about, as a 429's
///   `"limit"` names it) and `w` is left out when the period is not a whole number of
///   seconds (the draft has no sub-second windows);
/// - `RateLimit: "<budget>";r=<remaining>;t=<seconds>`, where `t` is
///   `RateLimit-Reset`'s value (seconds until the whole quota is back; spreading `r`
///   requests over `t` seconds never runs out) and, on a 429, `Retry-After`'s (`r=0`
///   until then), since the draft asks `Retry-After` to end no earlier than `t`.
///
/// ```
/// use std::time::Duration;
/// use keyward::http::rate_limit_fields;
/// use keyward::limit::{BudgetDecision, Decision, Quota};
///
/// let allowed = Decision::Allowed { limit: 60, remaining: 59, reset: Duration::from_secs(1) };
/// let fields = rate_limit_fields(&BudgetDecision::key(Quota::per_minute(60), allowed));
/// assert_eq!(fields.policy(), r#""key";q=60;w=60"#);
/// assert_eq!(fields.rate_limit(), r#""key";r=59;t=1"#);
/// ```
pub fn rate_limit_fields(budget: &BudgetDecision) -> RateLimitFields {
    RateLimitFields {
        policy: rate_limit_policy_field(budget),
        rate_limit: rate_limit_field(budget),
    }
}

/// The `RateLimit-Policy` value of [`rate_limit_fields`] alone. It depends only on the
/// budget's scope, its quota's period and the decision's limit, so an adapter may build
/// its header value once and reuse it for every response under the same quota.
///
/// ```
/// use std::time::Duration;
/// use keyward::http::rate_limit_policy_field;
/// use keyward::limit::{BudgetDecision, Decision, Quota};
///
/// let allowed = Decision::Allowed { limit: 60, remaining: 59, reset: Duration::from_secs(1) };
/// let policy = rate_limit_policy_field(&BudgetDecision::key(Quota::per_minute(60), allowed));
/// assert_eq!(policy.as_bytes(), br#""key";q=60;w=60"#);
/// ```
pub fn rate_limit_policy_field(budget: &BudgetDecision) -> FieldValue {
    policy_field(budget.scope, budget.decision.limit(), budget.quota.period())
}

/// The `RateLimit` value of [`rate_limit_fields`] alone: the part that changes with
/// every response.
///
/// ```
/// use std::time::Duration;
/// use keyward::http::rate_limit_field;
/// use keyward::limit::{BudgetDecision, Decision, Quota};
///
/// let allowed = Decision::Allowed { limit: 60, remaining: 59, reset: Duration::from_secs(1) };
/// let field = rate_limit_field(&BudgetDecision::key(Quota::per_minute(60), allowed));
/// assert_eq!(field.as_str(), r#""key";r=59;t=1"#);
/// ```
pub fn rate_limit_field(budget: &BudgetDecision) -> FieldValue {
    let (remaining, t) = rate_limit_numbers(budget);
    service_limit_field(budget.scope, remaining, t)
}

/// The two numbers of a `RateLimit` value: `r`, the requests left, and `t`, the seconds
/// until the budget refills (or, refused, until the next request may go).
pub(crate) fn rate_limit_numbers(budget: &BudgetDecision) -> (u32, u64) {
    let decision = &budget.decision;
    let t = decision
        .retry_after_secs()
        .unwrap_or_else(|| decision.reset_secs());
    (decision.remaining(), t)
}

/// The `RateLimit-Policy` and `RateLimit` values of one decision
/// ([`rate_limit_fields`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RateLimitFields {
    policy: FieldValue,
    rate_limit: FieldValue,
}

impl RateLimitFields {
    /// The `RateLimit-Policy` value, e.g. `"key";q=60;w=60`.
    pub fn policy(&self) -> &str {
        self.policy.as_str()
    }

    /// The `RateLimit` value, e.g. `"key";r=59;t=1`.
    pub fn rate_limit(&self) -> &str {
        self.rate_limit.as_str()
    }
}

impl std::fmt::Debug for RateLimitFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitFields")
            .field("policy", &self.policy())
            .field("rate_limit", &self.rate_limit())
            .finish()
    }
}

/// `"<scope>";q=<limit>;w=<seconds>`, `w` only for a whole number of seconds.
fn policy_field(scope: LimitScope, limit: u32, period: Duration) -> FieldValue {
    let mut field = FieldValue::item(scope);
    field.push(b";q=");
    field.push_number(u64::from(limit));
    if period.subsec_nanos() == 0 && period.as_secs() > 0 {
        field.push(b";w=");
        field.push_number(period.as_secs());
    }
    field
}

/// `"<scope>";r=<remaining>;t=<seconds>`.
pub(crate) fn service_limit_field(scope: LimitScope, remaining: u32, t: u64) -> FieldValue {
    let mut field = FieldValue::item(scope);
    field.push(b";r=");
    field.push_number(u64::from(remaining));
    field.push(b";t=");
    field.push_number(t);
    field
}

/// A `RateLimit-Policy` or `RateLimit` field value: visible ASCII on the stack, at most
/// 48 bytes (the longest written, `"tenant";q=4294967295;w=18446744073709551615`, is 44).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FieldValue {
    bytes: [u8; FIELD_LEN],
    len: usize,
}

const FIELD_LEN: usize = 48;

impl FieldValue {
    /// The value as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The value's bytes, for a header value made without checking them for UTF-8 again.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// `"<scope>"`: the item, a Structured Fields string.
    fn item(scope: LimitScope) -> Self {
        let mut field = FieldValue {
            bytes: [0; FIELD_LEN],
            len: 0,
        };
        field.push(b"\"");
        field.push(scope.as_str().as_bytes());
        field.push(b"\"");
        field
    }

    fn push(&mut self, text: &[u8]) {
        let end = (self.len + text.len()).min(FIELD_LEN);
        self.bytes[self.len..end].copy_from_slice(&text[..end - self.len]);
        self.len = end;
    }

    fn push_number(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[at..]);
    }
}

impl std::fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Numbers below this have static decimal text ([`static_decimal`]).
const STATIC_DECIMALS: u64 = 10_000;

/// The decimal text of 0 to 9,999, back to back: 10 one-digit numbers, then 90 of two
/// digits, 900 of three and 9,000 of four.
static DECIMAL_BYTES: [u8; 38_890] = {
    let mut out = [0u8; 38_890];
    let (mut n, mut at) = (0u64, 0usize);
    while n < STATIC_DECIMALS {
        let width = decimal_width(n);
        let (mut left, mut value) = (width, n);
        while left > 0 {
            left -= 1;
            out[at + left] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        at += width;
        n += 1;
    }
    out
};

static DECIMALS: &str = match std::str::from_utf8(&DECIMAL_BYTES) {
    Ok(text) => text,
    Err(_) => panic!("decimal digits are ASCII"),
};

const fn decimal_width(n: u64) -> usize {
    match n {
        0..10 => 1,
        10..100 => 2,
        100..1_000 => 3,
        _ => 4,
    }
}

/// The decimal text of `n` from a table built at compile time when `n` is below
/// 10,000, as `RateLimit-*` and `Retry-After` values usually are: an adapter makes a
/// header value of it without allocating (`HeaderValue::from_static`), where formatting
/// an integer allocates one buffer per value. `None` for larger numbers.
///
/// ```
/// use keyward::http::static_decimal;
///
/// assert_eq!(static_decimal(0), Some("0"));
/// assert_eq!(static_decimal(60), Some("60"));
/// assert_eq!(static_decimal(9_999), Some("9999"));
/// assert_eq!(static_decimal(10_000), None);
/// ```
#[inline]
pub fn static_decimal(n: u64) -> Option<&'static str> {
    let start = match n {
        0..10 => n,
        10..100 => 10 + 2 * (n - 10),
        100..1_000 => 190 + 3 * (n - 100),
        1_000..STATIC_DECIMALS => 2_890 + 4 * (n - 1_000),
        _ => return None,
    } as usize;
    DECIMALS.get(start..start + decimal_width(n))
}

/// The fixed message of `code`.
pub(crate) fn message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::MissingCredential => "an API key is required",
        ErrorCode::InvalidKey => "the API key is invalid",
        ErrorCode::KeyRevoked => "the API key has been revoked",
        ErrorCode::KeyExpired => "the API key has expired",
        ErrorCode::KeyDisabled => "the API key is disabled",
        ErrorCode::IpNotAllowed => "the API key may not be used from this IP address",
        ErrorCode::InsufficientCapability => "the API key lacks a required capability",
        ErrorCode::KeyRolled => {
            "this key was rolled; it manages no keys until its grace ends: use its replacement"
        }
        ErrorCode::RateLimited => "rate limit exceeded",
        ErrorCode::TooManyFailedAttempts => "too many failed attempts from this IP address",
        ErrorCode::InvalidRequest => "the authentication request is malformed",
        ErrorCode::AuthUnavailable => "authentication is temporarily unavailable",
        ErrorCode::NotFound => "no such route",
        ErrorCode::MethodNotAllowed => "this route does not take this method; see Allow",
        ErrorCode::PayloadTooLarge => "the request body is too large",
        ErrorCode::UnsupportedMediaType => "send the body as Content-Type: application/json",
        ErrorCode::UnknownCapability => "the catalog declares no capability of these names",
        ErrorCode::Conflict => "the key's state does not allow this",
        ErrorCode::TooManyKeys => "the owner already has the maximum of live keys",
        ErrorCode::InternalError => "the server failed; try again later",
    }
}

/// An RFC 7230 quoted-string: backslash-escapes `"` and `\`, drops control bytes.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use keyward_format::ParseError;
    use keyward_scope::Denied;

    use super::*;
    use crate::error::InvalidKeyReason;

    fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn body(r: &HttpResponse) -> Value {
        serde_json::from_str(&r.body).unwrap()
    }

    #[test]
    fn every_row_of_the_contract() {
        let r = render(&AuthError::MissingCredential, "api");
        assert_eq!(
            (r.status, header(&r, "www-authenticate")),
            (401, Some("Bearer realm=\"api\""))
        );
        assert_eq!(body(&r)["error"], "missing_credential");

        for (e, code) in [
            (
                AuthError::InvalidKey(InvalidKeyReason::WrongSecret),
                "invalid_key",
            ),
            (
                AuthError::InvalidKey(InvalidKeyReason::UnknownKey),
                "invalid_key",
            ),
            (
                AuthError::InvalidKey(InvalidKeyReason::Malformed(ParseError::ChecksumMismatch)),
                "invalid_key",
            ),
            (AuthError::KeyRevoked, "key_revoked"),
            (AuthError::KeyExpired, "key_expired"),
            (AuthError::KeyDisabled, "key_disabled"),
        ] {
            let r = render(&e, "api");
            assert_eq!(r.status, 401);
            assert!(
                header(&r, "www-authenticate")
                    .unwrap()
                    .contains("error=\"invalid_token\"")
            );
            assert_eq!(body(&r)["error"], code);
        }
        // Unknown id and wrong secret are byte-for-byte the same answer.
        assert_eq!(
            render(&AuthError::InvalidKey(InvalidKeyReason::WrongSecret), "api"),
            render(&AuthError::InvalidKey(InvalidKeyReason::UnknownKey), "api")
        );

        let r = render(&AuthError::IpNotAllowed, "api");
        assert_eq!(
            (r.status, body(&r)["error"].as_str()),
            (403, Some("ip_not_allowed"))
        );

        let denied = Denied {
            required: vec!["jobs:write".into()],
            held: vec!["jobs:read".into()],
        };
        let r = render(&AuthError::InsufficientCapability(denied), "api");
        assert_eq!(r.status, 403);
        assert_eq!(
            header(&r, "www-authenticate"),
            Some("Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"jobs:write\"")
        );
        assert_eq!(body(&r)["required"], json!(["jobs:write"]));
        assert_eq!(body(&r)["held"], json!(["jobs:read"]));

        let r = render(
            &AuthError::RateLimited {
                retry_after: 3,
                limit: 60,
                reset: 60,
                scope: LimitScope::Owner,
                period: Duration::from_secs(60),
            },
            "api",
        );
        assert_eq!((r.status, header(&r, "retry-after")), (429, Some("3")));
        assert_eq!(header(&r, "ratelimit-remaining"), Some("0"));
        assert_eq!(header(&r, "ratelimit-policy"), Some(r#""owner";q=60;w=60"#));
        assert_eq!(header(&r, "ratelimit"), Some(r#""owner";r=0;t=3"#));
        assert_eq!(body(&r)["retry_after"], 3);
        assert_eq!(body(&r)["limit"], "owner");
        assert_eq!(body(&r)["error"], "rate_limited");

        let r = render(&AuthError::TooManyFailedAttempts { retry_after: 60 }, "api");
        assert_eq!((r.status, header(&r, "retry-after")), (429, Some("60")));
        assert_eq!(body(&r)["error"], "too_many_failed_attempts");

        let r = render(&AuthError::InvalidRequest("x"), "api");
        assert_eq!(r.status, 400);
        assert!(
            header(&r, "www-authenticate")
                .unwrap()
                .contains("error=\"invalid_request\"")
        );
        assert_eq!(body(&r)["error"], "invalid_request");

        let r = render(&AuthError::Unavailable { retry_after: 1 }, "api");
        assert_eq!((r.status, header(&r, "retry-after")), (503, Some("1")));
        assert_eq!(body(&r)["error"], "auth_unavailable");
    }

    #[test]
    fn messages_say_what_to_do_and_quote_nothing() {
        let r = render(&AuthError::MissingCredential, "api");
        let message = body(&r)["message"].as_str().unwrap().to_owned();
        for form in ["Authorization: Bearer <key>", "x-api-key: <key>", "Basic"] {
            assert!(message.contains(form), "{message}");
        }
        let r = render(
            &AuthError::InvalidRequest("two different credentials"),
            "api",
        );
        assert_eq!(body(&r)["message"], "two different credentials");
        assert!(
            header(&r, "www-authenticate")
                .unwrap()
                .contains("error_description=\"two different credentials\"")
        );
    }

    #[test]
    fn debug_never_shows_an_answer_that_shows_a_key() {
        let shown = HttpResponse {
            status: 201,
            headers: vec![("cache-control", "no-store".to_owned())],
            body: r#"{"key":"sk_live_secret"}"#.to_owned(),
        };
        let printed = format!("{shown:?}");
        assert!(!printed.contains("sk_live_secret"), "{printed}");
        assert!(printed.contains("201"));
        let refusal = render(&AuthError::MissingCredential, "api");
        assert!(format!("{refusal:?}").contains("missing_credential"));
    }

    #[test]
    fn static_decimals_are_the_numbers_themselves() {
        for n in 0..STATIC_DECIMALS {
            assert_eq!(static_decimal(n), Some(n.to_string().as_str()));
        }
        for n in [STATIC_DECIMALS, 123_456, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(static_decimal(n), None);
        }
    }

    #[test]
    fn rate_limit_fields_follow_the_draft() {
        use keyward_limit::Quota;

        let limited = Decision::Limited {
            limit: 10,
            retry_after: 7,
            reset: Duration::from_secs(60),
        };
        let tenant = BudgetDecision {
            scope: LimitScope::Tenant,
            quota: Quota::new(10, Duration::from_secs(60)).unwrap(),
            decision: limited,
        };
        let fields = rate_limit_fields(&tenant);
        assert_eq!(fields.policy(), r#""tenant";q=10;w=60"#);
        assert_eq!(fields.rate_limit(), r#""tenant";r=0;t=7"#);

        // A period that is not whole seconds has no window.
        let half = Quota::new(5, Duration::from_millis(500)).unwrap();
        let allowed = Decision::Allowed {
            limit: 5,
            remaining: 4,
            reset: Duration::from_millis(100),
        };
        let fields = rate_limit_fields(&BudgetDecision::key(half, allowed));
        assert_eq!(fields.policy(), r#""key";q=5"#);
        assert_eq!(fields.rate_limit(), r#""key";r=4;t=1"#);

        // The largest numbers fit.
        let most = Quota::new(u32::MAX, Duration::from_secs(u64::MAX / 1_000_000_000)).unwrap();
        let allowed = Decision::Allowed {
            limit: u32::MAX,
            remaining: u32::MAX,
            reset: Duration::from_secs(u64::MAX / 1_000_000_000),
        };
        let budget = BudgetDecision {
            scope: LimitScope::Tenant,
            quota: most,
            decision: allowed,
        };
        let fields = rate_limit_fields(&budget);
        assert_eq!(
            fields.policy(),
            format!("\"tenant\";q={};w={}", u32::MAX, u64::MAX / 1_000_000_000)
        );
        assert!(
            fields
                .rate_limit()
                .ends_with(&format!(";t={}", u64::MAX / 1_000_000_000))
        );
    }

    #[test]
    fn realms_are_quoted_safely() {
        let r = render(&AuthError::MissingCredential, "a\"b\\c\r\n");
        assert_eq!(
            header(&r, "www-authenticate"),
            Some("Bearer realm=\"a\\\"b\\\\c\"")
        );
    }
}
