//! Reading a management request: its query string and its JSON body, each refused with
//! the answer the route gives before it touches the store.

use keyward_format::KeyId;
use keyward_scope::Catalog;

use super::ManagementRoute;
use super::render::{error_response, unknown_capability};
use super::shapes::{CreateApiKeyRequest, RollApiKeyRequest};
use crate::error::ErrorCode;
use crate::http::{HttpResponse, RequestBody, RequestError, parse_json_object};

/// The page size of `GET /api_keys` without `?limit=`.
pub const DEFAULT_PAGE_LIMIT: u32 = 100;

/// The largest `?limit=` of `GET /api_keys`; more is 400 `invalid_request`.
pub const MAX_PAGE_LIMIT: u32 = 100;

/// The query of `GET /api_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub(crate) limit: u32,
    pub(crate) after: Option<KeyId>,
}

/// The query of `GET /api_keys/{id}/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventsQuery {
    pub(crate) limit: u32,
    /// The sequence number the page starts after.
    pub(crate) after: Option<u64>,
}

/// A query parameter the route cannot take. Messages name the parameter and never
/// repeat its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryProblem {
    #[error("limit must be an integer from 1 to {MAX_PAGE_LIMIT}")]
    Limit,
    #[error("after must be the id of a key in this listing, as the next link gives it")]
    After,
    #[error("after must be an event's seq, as the next link gives it")]
    AfterSeq,
    #[error("permanent must be true or false")]
    Permanent,
    #[error("{0} is given more than once")]
    Repeated(&'static str),
}

impl QueryProblem {
    pub(crate) fn render(self) -> HttpResponse {
        error_response(ErrorCode::InvalidRequest, &self.to_string())
    }
}

/// The one value of each of `names` in `query`; other parameters are ignored.
fn parameters<const N: usize>(
    query: Option<&str>,
    names: [&'static str; N],
) -> Result<[Option<String>; N], QueryProblem> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    // `application/x-www-form-urlencoded` pairs: decoding is lossy, never an error.
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    for (name, value) in pairs {
        if let Some(i) = names.iter().position(|n| *n == name) {
            if values[i].is_some() {
                return Err(QueryProblem::Repeated(names[i]));
            }
            values[i] = Some(value);
        }
    }
    Ok(values)
}

/// `?limit=&after=` of `GET /api_keys`: `limit` in 1 ..= [`MAX_PAGE_LIMIT`] (default
/// [`DEFAULT_PAGE_LIMIT`]), `after` a well-formed key id.
pub(crate) fn list_query(query: Option<&str>) -> Result<ListQuery, QueryProblem> {
    let [limit, after] = parameters(query, ["limit", "after"])?;
    let limit = page_limit(limit)?;
    let after = match after {
        None => None,
        Some(text) => Some(KeyId::parse(&text).map_err(|_| QueryProblem::After)?),
    };
    Ok(ListQuery { limit, after })
}

/// `?limit=&after=` of `GET /api_keys/{id}/events`: `limit` as the listing's, `after`
/// a sequence number.
pub(crate) fn events_query(query: Option<&str>) -> Result<EventsQuery, QueryProblem> {
    let [limit, after] = parameters(query, ["limit", "after"])?;
    let limit = page_limit(limit)?;
    let after = match after {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| QueryProblem::AfterSeq)?),
    };
    Ok(EventsQuery { limit, after })
}

/// `limit` in 1 ..= [`MAX_PAGE_LIMIT`], [`DEFAULT_PAGE_LIMIT`] when absent.
fn page_limit(limit: Option<String>) -> Result<u32, QueryProblem> {
    match limit {
        None => Ok(DEFAULT_PAGE_LIMIT),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => Ok(n),
            _ => Err(QueryProblem::Limit),
        },
    }
}

/// `?permanent=` of `DELETE /api_keys/{id}`: `true` deletes, `false` (the default)
/// revokes.
pub(crate) fn permanent(query: Option<&str>) -> Result<bool, QueryProblem> {
    let [permanent] = parameters(query, ["permanent"])?;
    match permanent.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(QueryProblem::Permanent),
    }
}

/// The body of `POST /api_keys`, which is required.
pub(crate) fn create_body(body: RequestBody<'_>) -> Result<CreateApiKeyRequest, HttpResponse> {
    match parse_json_object(body) {
        Ok(Some(request)) => Ok(request),
        Ok(None) => Err(RequestError::BodyRequired.render()),
        Err(refused) => Err(refused.render()),
    }
}

/// The body of `POST /api_keys/{id}/roll`; an empty one is the defaults.
pub(crate) fn roll_body(body: RequestBody<'_>) -> Result<RollApiKeyRequest, HttpResponse> {
    match parse_json_object(body) {
        Ok(request) => Ok(request.unwrap_or_default()),
        Err(refused) => Err(refused.render()),
    }
}

/// Checks `body` as `route` does before it touches the store: its size (413), its
/// content type (415), its JSON (400 `invalid_request`: a JSON object with the route's
/// fields only), and for a new key, its capability names against `catalog` (400
/// `unknown_capability`). `Ok(())` when the route would go on, or the refusal it would
/// answer. Routes that take no body ignore one.
///
/// Takes any bytes and never panics: a fuzz target calls it. A refusal quotes at most
/// 256 bytes of the body, and its message none.
///
/// ```
/// use keyward::http::RequestBody;
/// use keyward::http::management::{ManagementRoute, check_body};
/// use keyward::scope::Catalog;
///
/// let catalog = Catalog::builder().capability("jobs:read").build()?;
/// let create = RequestBody::json(br#"{"name": "CI", "capabilities": ["jobs:read"]}"#);
/// assert!(check_body(ManagementRoute::CreateKey, create, &catalog).is_ok());
/// assert!(check_body(ManagementRoute::RollKey, RequestBody::default(), &catalog).is_ok());
///
/// let text = RequestBody { content_type: Some(b"text/plain"), bytes: b"{}" };
/// assert_eq!(check_body(ManagementRoute::CreateKey, text, &catalog).unwrap_err().status, 415);
/// let unknown = RequestBody::json(br#"{"name": "CI", "capabilities": ["jobs:raed"]}"#);
/// assert_eq!(check_body(ManagementRoute::CreateKey, unknown, &catalog).unwrap_err().status, 400);
/// # Ok::<(), keyward::scope::CatalogError>(())
/// ```
pub fn check_body(
    route: ManagementRoute,
    body: RequestBody<'_>,
    catalog: &Catalog,
) -> Result<(), HttpResponse> {
    match route {
        ManagementRoute::CreateKey => {
            let request = create_body(body)?;
            match &request.capabilities {
                Some(names) => catalog
                    .set(names)
                    .map(drop)
                    .map_err(|unknown| unknown_capability(&unknown)),
                None => Ok(()),
            }
        }
        ManagementRoute::RollKey => roll_body(body).map(drop),
        ManagementRoute::ListKeys
        | ManagementRoute::KeyEvents
        | ManagementRoute::KeyUsage
        | ManagementRoute::ShowKey
        | ManagementRoute::RevokeKey
        | ManagementRoute::DisableKey
        | ManagementRoute::EnableKey => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_defaults_bounds_and_ignores_others() {
        assert_eq!(
            list_query(None),
            Ok(ListQuery {
                limit: DEFAULT_PAGE_LIMIT,
                after: None
            })
        );
        assert_eq!(list_query(Some("limit=7&utm=x")).map(|q| q.limit), Ok(7));
        assert_eq!(
            list_query(Some("after=AbCd12345678"))
                .unwrap()
                .after
                .map(|id| id.as_str().to_owned()),
            Some("AbCd12345678".to_owned())
        );
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "limit=",
            "limit=-1",
            "limit=1.5",
        ] {
            assert_eq!(list_query(Some(bad)), Err(QueryProblem::Limit), "{bad}");
        }
        for bad in [
            "after=",
            "after=short",
            "after=AbCd1234567!",
            "after=%FF%FE",
        ] {
            assert_eq!(list_query(Some(bad)), Err(QueryProblem::After), "{bad}");
        }
        assert_eq!(
            list_query(Some("limit=1&limit=2")),
            Err(QueryProblem::Repeated("limit"))
        );
    }

    #[test]
    fn events_query_takes_a_sequence_number() {
        assert_eq!(
            events_query(None),
            Ok(EventsQuery {
                limit: DEFAULT_PAGE_LIMIT,
                after: None
            })
        );
        assert_eq!(
            events_query(Some("limit=2&after=17")),
            Ok(EventsQuery {
                limit: 2,
                after: Some(17)
            })
        );
        for bad in ["after=", "after=-1", "after=x", "after=AbCd12345678"] {
            assert_eq!(
                events_query(Some(bad)),
                Err(QueryProblem::AfterSeq),
                "{bad}"
            );
        }
        assert_eq!(events_query(Some("limit=101")), Err(QueryProblem::Limit));
    }

    #[test]
    fn permanent_is_true_or_false() {
        assert_eq!(permanent(None), Ok(false));
        assert_eq!(permanent(Some("permanent=false")), Ok(false));
        assert_eq!(permanent(Some("permanent=true&x=1")), Ok(true));
        for bad in ["permanent=1", "permanent=TRUE", "permanent=", "permanent"] {
            assert_eq!(permanent(Some(bad)), Err(QueryProblem::Permanent), "{bad}");
        }
    }

    #[test]
    fn seconds_are_whole_numbers_as_json_schema_counts_them() {
        let expires = |json: &str| {
            create_body(RequestBody::json(
                format!(r#"{{"name": "x", "expires_in_seconds": {json}}}"#).as_bytes(),
            ))
            .map(|body| body.expires_in_seconds)
            .map_err(|refused| refused.status)
        };
        assert_eq!(expires("60"), Ok(Some(60)));
        assert_eq!(expires("60.0"), Ok(Some(60)));
        assert_eq!(expires("6e1"), Ok(Some(60)));
        assert_eq!(expires("null"), Ok(None));
        assert_eq!(expires("18446744073709551615"), Ok(Some(u64::MAX)));
        // Past u64::MAX: the far future all the same.
        assert_eq!(expires("18446744073709551616"), Ok(Some(u64::MAX)));
        for refused in ["-1", "1.5", "-0.5", "\"60\"", "true", "[60]", "1e400"] {
            assert_eq!(expires(refused), Err(400), "{refused}");
        }
        let grace = |json: &[u8]| roll_body(RequestBody::json(json)).map(|b| b.grace_seconds);
        assert_eq!(grace(br#"{"grace_seconds": 30.0}"#), Ok(30));
        assert_eq!(grace(b"{}"), Ok(0));
        assert_eq!(grace(b""), Ok(0));
        assert!(grace(br#"{"grace_seconds": null}"#).is_err());
    }

    #[test]
    fn messages_name_the_parameter_and_quote_nothing() {
        let secret = "s".repeat(300);
        for query in [format!("limit={secret}"), format!("after={secret}")] {
            let problem = list_query(Some(&query)).unwrap_err();
            let response = problem.render();
            assert_eq!(response.status, 400);
            assert!(!response.body.contains("sss"), "{}", response.body);
        }
    }
}
