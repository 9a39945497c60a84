//! The OpenAPI 3.1 document of the management routes, built with utoipa from the
//! [`ManagementRoute`]s and the schemas the response and request types derive.

use std::borrow::Cow;

use keyward_format::ID_LEN;
use utoipa::ToSchema;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ComponentsBuilder, ObjectBuilder};
use utoipa::openapi::security::{
    ApiKey as ApiKeyScheme, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Content, InfoBuilder, OpenApiBuilder, Paths, Ref, RefOr, Required, Schema, Type,
};

use super::api::ManagementRoute;
use super::request::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use super::shapes::{
    ApiKey, ApiKeyExpiredReason, ApiKeyState, ApiKeyTenant, ApiKeyUsage, AuditActor, AuditEvent,
    CreateApiKeyRequest, CreatedApiKey, ErrorBody, RollApiKeyRequest, RolledApiKey, RolledFrom,
};
use crate::error::ErrorCode;
use crate::http::MAX_BODY_LEN;

const JSON: &str = "application/json";
const TAG: &str = "api_keys";
const BEARER: &str = "bearer";
const X_API_KEY: &str = "x_api_key";

/// The OpenAPI 3.1 document of the management routes mounted at `mount` (`"/v1"`; `""`
/// at the root), with every refusal the authentication in front of them answers.
///
/// Every route is there with its parameters, body and answers: the success with its
/// schema and headers (`Link` on a listing, `Cache-Control: no-store` where a key is
/// shown), and each refusal with the [`ErrorBody`] its codes share. A trailing `/` of
/// `mount` is dropped.
///
/// ```
/// let document: serde_json::Value =
///     serde_json::from_str(&keyward::http::management::openapi("/v1")).unwrap();
/// assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
/// assert!(document["paths"]["/v1/api_keys/{id}/roll"]["post"].is_object());
/// ```
pub fn openapi(mount: &str) -> String {
    document_value(mount).to_string()
}

/// The document as JSON, with what utoipa's attributes cannot say written in: the key
/// name's rule (see [`name_pattern`]).
fn document_value(mount: &str) -> serde_json::Value {
    let mut document = serde_json::to_value(document(mount)).unwrap_or_default();
    set(
        &mut document,
        "/components/schemas/CreateApiKeyRequest/properties/name",
        [
            ("pattern", serde_json::json!(name_pattern())),
            ("maxLength", serde_json::json!(crate::MAX_KEY_NAME_LEN)),
        ],
    );
    document
}

/// Sets `fields` on the schema object at `pointer` (left alone if there is none).
fn set<const N: usize>(
    document: &mut serde_json::Value,
    pointer: &str,
    fields: [(&str, serde_json::Value); N],
) {
    if let Some(schema) = document
        .pointer_mut(pointer)
        .and_then(|s| s.as_object_mut())
    {
        for (field, value) in fields {
            schema.insert(field.to_owned(), value);
        }
    }
}

/// The rule of a key name as a regular expression, built from the very table the route
/// checks names with (`service::unsuitable`) so the two cannot drift: no control,
/// invisible formatting or line-separator character anywhere, and at least one character
/// that is not whitespace. Characters are written `\uHHHH` (beyond the BMP: literally),
/// which both ECMA-262 and Python's `re` read.
fn name_pattern() -> String {
    let is_refused = |c: char| crate::service::unsuitable(c).is_some();
    let refused = ranges(&is_refused);
    let refused_or_space = ranges(&|c: char| is_refused(c) || c.is_whitespace());
    format!("^[^{refused}]*[^{refused_or_space}][^{refused}]*$")
}

/// Every character `keep` holds for, as the ranges of a regular-expression class.
fn ranges(keep: &dyn Fn(char) -> bool) -> String {
    let mut out = String::new();
    let mut run: Option<(char, char)> = None;
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        match (keep(c), run) {
            (true, Some((first, _))) => run = Some((first, c)),
            (true, None) => run = Some((c, c)),
            (false, Some((first, last))) => {
                push_range(&mut out, first, last);
                run = None;
            }
            (false, None) => {}
        }
    }
    if let Some((first, last)) = run {
        push_range(&mut out, first, last);
    }
    out
}

fn push_range(out: &mut String, first: char, last: char) {
    push_char(out, first);
    if last != first {
        out.push('-');
        push_char(out, last);
    }
}

fn push_char(out: &mut String, c: char) {
    if u32::from(c) <= 0xFFFF {
        out.push_str(&format!("\\u{:04X}", u32::from(c)));
    } else {
        out.push(c);
    }
}

/// What one instance accepts beyond what the types say: its catalog's names, its
/// longest roll grace and its longest key lifetime.
/// [`ManagementApi::openapi`](super::ManagementApi::openapi) writes them into the
/// document.
#[derive(Debug, Clone)]
pub(super) struct DocumentLimits {
    capability_names: Vec<String>,
    max_grace_seconds: u64,
    max_lifetime_seconds: Option<u64>,
}

impl DocumentLimits {
    pub(super) fn of(keyward: &crate::Keyward) -> DocumentLimits {
        let catalog = keyward.catalog();
        DocumentLimits {
            capability_names: catalog
                .names(&catalog.all())
                .into_iter()
                .map(str::to_owned)
                .collect(),
            max_grace_seconds: keyward.config().max_roll_grace.as_secs(),
            max_lifetime_seconds: keyward.config().max_lifetime.map(|d| d.as_secs()),
        }
    }
}

/// [`openapi`] with `limits` written into the request schemas.
pub(super) fn document_for(mount: &str, limits: &DocumentLimits) -> String {
    let mut document = document_value(mount);
    set(
        &mut document,
        "/components/schemas/CreateApiKeyRequest/properties/capabilities/items",
        [("enum", serde_json::json!(limits.capability_names))],
    );
    set(
        &mut document,
        "/components/schemas/RollApiKeyRequest/properties/grace_seconds",
        [("maximum", serde_json::json!(limits.max_grace_seconds))],
    );
    if let Some(max) = limits.max_lifetime_seconds {
        set(
            &mut document,
            "/components/schemas/CreateApiKeyRequest/properties/expires_in_seconds",
            [
                ("maximum", serde_json::json!(max)),
                (
                    "description",
                    serde_json::json!(format!(
                        "Expire the key this many seconds after it is minted, at most {max}; \
                         absent or `null`: {max}, the longest a key may live here."
                    )),
                ),
            ],
        );
    }
    document.to_string()
}

fn document(mount: &str) -> utoipa::openapi::OpenApi {
    let mount = mount.trim_end_matches('/');
    let mut paths = Paths::new();
    for route in ManagementRoute::ALL {
        paths.add_path_operation(
            format!("{mount}{}", route.path()),
            vec![http_method(route)],
            operation(route),
        );
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("API key management")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The calling key's own API keys (or, for a tenant admin, its tenant's): \
                     list, show, create, revoke or delete, roll, disable and enable, and \
                     read a key's audit trail and which of its capabilities it used. Nothing \
                     escalates: a new key holds at most what the calling key holds, and a \
                     key holding a capability the caller lacks cannot be changed. Another \
                     owner's key is answered as an unknown one (404).",
                )),
        )
        .paths(paths)
        .components(Some(components()))
        .security(Some([
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(X_API_KEY, Vec::<String>::new()),
        ]))
        .tags(Some([TagBuilder::new()
            .name(TAG)
            .description(Some("API keys"))
            .build()]))
        .build()
}

fn http_method(route: ManagementRoute) -> HttpMethod {
    match route.method() {
        "GET" => HttpMethod::Get,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Post,
    }
}

fn operation(route: ManagementRoute) -> Operation {
    let (id, summary) = match route {
        ManagementRoute::ListKeys => ("listApiKeys", "List the caller's keys, oldest first"),
        ManagementRoute::CreateKey => ("createApiKey", "Create a key, shown this once"),
        ManagementRoute::ShowKey => ("getApiKey", "Show one key"),
        ManagementRoute::KeyUsage => (
            "getApiKeyUsage",
            "Show the capabilities a key was granted and used, and the fewest that cover its use",
        ),
        ManagementRoute::KeyEvents => (
            "listApiKeyEvents",
            "List a key's audit trail (who changed it, when, from where), oldest first",
        ),
        ManagementRoute::RevokeKey => ("revokeApiKey", "Revoke a key, or delete it for good"),
        ManagementRoute::RollKey => (
            "rollApiKey",
            "Replace a key, the old one working for a grace period",
        ),
        ManagementRoute::DisableKey => ("disableApiKey", "Disable a key until it is enabled"),
        ManagementRoute::EnableKey => ("enableApiKey", "Enable a disabled key"),
    };
    let mut operation = OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag(TAG);
    if takes_id(route) {
        operation = operation.parameter(
            parameter("id", ParameterIn::Path, Required::True, key_id_schema()).description(Some(
                "The key's id; an unknown id is 404, as another owner's key is.",
            )),
        );
    }
    match route {
        ManagementRoute::ListKeys => {
            operation = operation
                .parameter(page_limit().description(Some("Keys per page.")))
                .parameter(
                    parameter(
                        "after",
                        ParameterIn::Query,
                        Required::False,
                        key_id_pattern(),
                    )
                    .description(Some(
                        "Start after this key: the `after` of the previous page's `Link`.",
                    )),
                );
        }
        ManagementRoute::KeyEvents => {
            operation = operation
                .parameter(page_limit().description(Some("Entries per page.")))
                .parameter(
                    parameter(
                        "after",
                        ParameterIn::Query,
                        Required::False,
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    )
                    .description(Some(
                        "Start after this entry's `seq`: the `after` of the previous page's \
                         `Link`.",
                    )),
                );
        }
        ManagementRoute::RevokeKey => {
            operation = operation.parameter(
                parameter(
                    "permanent",
                    ParameterIn::Query,
                    Required::False,
                    ObjectBuilder::new()
                        .schema_type(Type::Boolean)
                        .default(Some(false.into())),
                )
                .description(Some(
                    "`true` deletes the key's record for good; otherwise it is revoked and \
                     stays listed as revoked.",
                )),
            );
        }
        ManagementRoute::CreateKey => {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        JSON,
                        Content::new(Some(schema_ref::<CreateApiKeyRequest>())),
                    )
                    .build(),
            ));
        }
        ManagementRoute::RollKey => {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .description(Some("Optional: no body rolls with no grace period."))
                    .required(Some(Required::False))
                    .content(JSON, Content::new(Some(schema_ref::<RollApiKeyRequest>())))
                    .build(),
            ));
        }
        ManagementRoute::ShowKey
        | ManagementRoute::KeyUsage
        | ManagementRoute::DisableKey
        | ManagementRoute::EnableKey => {}
    }
    let (status, success) = success(route);
    operation = operation.response(status, success);
    for (status, refusal) in refusals(route) {
        operation = operation.response(status.to_string(), refusal);
    }
    operation.build()
}

/// `?limit=`: a page size of 1 ..= [`MAX_PAGE_LIMIT`].
fn page_limit() -> ParameterBuilder {
    parameter(
        "limit",
        ParameterIn::Query,
        Required::False,
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_PAGE_LIMIT))
            .default(Some(DEFAULT_PAGE_LIMIT.into())),
    )
}

fn takes_id(route: ManagementRoute) -> bool {
    route.path().contains("{id}")
}

/// The answer when the route does what it was asked.
fn success(route: ManagementRoute) -> (&'static str, Response) {
    let key = || Content::new(Some(schema_ref::<ApiKey>()));
    match route {
        ManagementRoute::ListKeys => (
            "200",
            metered(
                ResponseBuilder::new()
                    .description("A page of keys, oldest first, revoked ones included.")
                    .content(
                        JSON,
                        Content::new(Some(ArrayBuilder::new().items(schema_ref::<ApiKey>()))),
                    )
                    .header(
                        "Link",
                        header(
                            Type::String,
                            false,
                            "While more keys remain: `<{path}?limit={limit}&after={id}>; \
                             rel=\"next\"` (RFC 8288).",
                        ),
                    ),
            ),
        ),
        ManagementRoute::KeyEvents => (
            "200",
            metered(
                ResponseBuilder::new()
                    .description(
                        "A page of the key's audit trail, oldest first: every change to \
                         it, and the roll that made it when it is a replacement.",
                    )
                    .content(
                        JSON,
                        Content::new(Some(ArrayBuilder::new().items(schema_ref::<AuditEvent>()))),
                    )
                    .header(
                        "Link",
                        header(
                            Type::String,
                            false,
                            "While more entries remain: `<{path}?limit={limit}&after={seq}>; \
                             rel=\"next\"` (RFC 8288).",
                        ),
                    ),
            ),
        ),
        ManagementRoute::CreateKey => (
            "201",
            shown_once(
                ResponseBuilder::new()
                    .description("The new key. `key` is shown this once and cannot be recovered.")
                    .content(JSON, Content::new(Some(schema_ref::<CreatedApiKey>()))),
            ),
        ),
        ManagementRoute::RollKey => (
            "201",
            shown_once(
                ResponseBuilder::new()
                    .description(
                        "The replacement, shown this once, and the key it replaces, which \
                         works until `rolled_from.expires_at`.",
                    )
                    .content(JSON, Content::new(Some(schema_ref::<RolledApiKey>()))),
            ),
        ),
        ManagementRoute::RevokeKey => (
            "204",
            metered(ResponseBuilder::new().description(
                "Revoked (the next request with it is 401 `key_revoked`), or with \
                 `permanent=true` deleted (401 `invalid_key`).",
            )),
        ),
        ManagementRoute::ShowKey => (
            "200",
            metered(
                ResponseBuilder::new()
                    .description("The key.")
                    .content(JSON, key()),
            ),
        ),
        ManagementRoute::KeyUsage => (
            "200",
            metered(
                ResponseBuilder::new()
                    .description(
                        "What the key was granted, which of its capabilities its requests \
                         used since `since`, and `suggested`: the fewest grants covering \
                         that use, to roll the key to.",
                    )
                    .content(JSON, Content::new(Some(schema_ref::<ApiKeyUsage>()))),
            ),
        ),
        ManagementRoute::DisableKey => (
            "200",
            metered(
                ResponseBuilder::new()
                    .description("The key, disabled: it is 401 `key_disabled` until enabled.")
                    .content(JSON, key()),
            ),
        ),
        ManagementRoute::EnableKey => (
            "200",
            metered(
                ResponseBuilder::new()
                    .description("The key, enabled (a revoked key stays revoked).")
                    .content(JSON, key()),
            ),
        ),
    }
}

/// A response that shows a plaintext key: `Cache-Control: no-store`.
fn shown_once(response: ResponseBuilder) -> Response {
    let no_store = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["no-store"])),
        ))
        .description(Some("No cache may keep the key."))
        .extensions(Some(required()))
        .build();
    metered(response.header("Cache-Control", no_store))
}

/// A response to a request the rate limit let through: its `RateLimit-*` headers.
fn metered(response: ResponseBuilder) -> Response {
    response
        .header(
            "RateLimit-Limit",
            header(
                Type::Integer,
                false,
                "The key's quota per period, and its burst.",
            ),
        )
        .header(
            "RateLimit-Remaining",
            header(Type::Integer, false, "Requests that would pass right now."),
        )
        .header(
            "RateLimit-Reset",
            header(
                Type::Integer,
                false,
                "Seconds until the full burst is available again.",
            ),
        )
        .header("RateLimit-Policy", rate_limit_policy())
        .header("RateLimit", rate_limit_field())
        .build()
}

/// Every refusal `route` can answer, its own and those of the authentication in front.
fn refusals(route: ManagementRoute) -> Vec<(u16, Response)> {
    let mut statuses = vec![400, 401, 403];
    if takes_id(route) {
        statuses.push(404);
    }
    if matches!(route, ManagementRoute::CreateKey | ManagementRoute::RollKey) {
        statuses.push(409);
    }
    statuses.push(413);
    if matches!(route, ManagementRoute::CreateKey | ManagementRoute::RollKey) {
        statuses.push(415);
    }
    statuses.push(429);
    if matches!(route, ManagementRoute::CreateKey | ManagementRoute::RollKey) {
        statuses.push(500);
    }
    statuses.push(503);
    statuses
        .into_iter()
        .map(|status| (status, refusal(route, status)))
        .collect()
}

fn refusal(route: ManagementRoute, status: u16) -> Response {
    let description: Cow<'static, str> = match status {
        400 => match route {
            ManagementRoute::ListKeys => {
                "`invalid_request`: malformed credential headers, or a `limit` or `after` \
                 the listing cannot take."
                    .into()
            }
            ManagementRoute::KeyEvents => {
                "`invalid_request`: malformed credential headers, or a `limit` or `after` \
                 (a sequence number) the listing cannot take."
                    .into()
            }
            ManagementRoute::RevokeKey => {
                "`invalid_request`: malformed credential headers, or a `permanent` other \
                 than `true` or `false`."
                    .into()
            }
            ManagementRoute::CreateKey => {
                "`invalid_request`: malformed credential headers, a body that is not the \
                 JSON object this route takes, an invalid name, an expiry in the past or \
                 beyond the longest lifetime the server allows; \
                 `unknown_capability`: names the catalog does not declare, in \
                 `capabilities` and counted in `more`, with the names it does declare in \
                 `valid` and counted in `more_valid`."
                    .into()
            }
            ManagementRoute::RollKey => {
                "`invalid_request`: malformed credential headers, a body that is not the \
                 JSON object this route takes, or a grace period over the server's maximum."
                    .into()
            }
            _ => "`invalid_request`: malformed credential headers.".into(),
        },
        401 => "No credential, or one that does not authenticate: `missing_credential`, \
                `invalid_key`, `key_revoked`, `key_expired`, `key_disabled`."
            .into(),
        403 => "`ip_not_allowed`: the key is used from outside its allowlist; \
                `insufficient_capability`: the key lacks what the route requires, or what \
                the key it would create or change holds (`required`, `held`); `key_rolled`: \
                the calling key was rolled and manages no keys until its grace ends."
            .into(),
        404 => "`not_found`: no key with this id that the caller may see.".into(),
        409 => match route {
            ManagementRoute::RollKey => {
                "`conflict`: the key is revoked, disabled or expired, was already rolled \
                 (roll its replacement), or belongs to another owner (a tenant admin may \
                 revoke or disable it, not roll it); `too_many_keys`: too many of the \
                 owner's keys are in a roll's grace."
                    .into()
            }
            _ => "`too_many_keys`: the owner already holds the maximum of live keys.".into(),
        },
        413 => format!("`payload_too_large`: a body over {MAX_BODY_LEN} bytes.").into(),
        415 => "`unsupported_media_type`: a body that is not `application/json`.".into(),
        429 => "`rate_limited`: the key's quota is spent; `too_many_failed_attempts`: the \
                client address is locked out after repeated failures."
            .into(),
        500 => "`internal_error`: minting the key failed inside the server.".into(),
        _ => "`auth_unavailable`: the key store or another backend cannot answer.".into(),
    };
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(JSON, Content::new(Some(error_schema(status))));
    match status {
        401 | 403 => {
            response = response.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("The RFC 6750 Bearer challenge."))
                    .extensions(Some(required()))
                    .build(),
            );
        }
        400 => {
            response = response.header(
                "WWW-Authenticate",
                header(
                    Type::String,
                    false,
                    "With `error=\"invalid_request\"` when the credential headers were at fault.",
                ),
            );
        }
        429 => {
            response = response
                .header("Retry-After", retry_after())
                .header(
                    "RateLimit-Limit",
                    header(Type::Integer, false, "On `rate_limited`: the key's quota."),
                )
                .header(
                    "RateLimit-Remaining",
                    header(Type::Integer, false, "On `rate_limited`: 0."),
                )
                .header(
                    "RateLimit-Reset",
                    header(
                        Type::Integer,
                        false,
                        "On `rate_limited`: seconds until the full burst is available again.",
                    ),
                )
                .header("RateLimit-Policy", rate_limit_policy())
                .header("RateLimit", rate_limit_field());
        }
        503 => response = response.header("Retry-After", retry_after()),
        _ => {}
    }
    response.build()
}

/// [`ErrorBody`] with `error` narrowed to the codes answered with `status`.
fn error_schema(status: u16) -> RefOr<Schema> {
    let codes: Vec<&str> = ErrorCode::ALL
        .into_iter()
        .filter(|code| code.status() == status)
        .map(ErrorCode::as_str)
        .collect();
    AllOfBuilder::new()
        .item(schema_ref::<ErrorBody>())
        .item(
            ObjectBuilder::new().property(
                "error",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(codes)),
            ),
        )
        .into()
}

/// The IETF draft's policy field: `"key";q=60;w=60` (the budget the answer describes).
fn rate_limit_policy() -> Header {
    header(
        Type::String,
        false,
        "The budget the answer describes, as a Structured Field: `\"key\";q=60;w=60` \
         (`\"owner\"`/`\"tenant\"` for the shared budgets).",
    )
}

/// The IETF draft's state field: `"key";r=59;t=1`.
fn rate_limit_field() -> Header {
    header(
        Type::String,
        false,
        "That budget's state, as a Structured Field: `\"key\";r=59;t=1` (requests left, \
         seconds until it is whole again; on a 429, `t` equals `Retry-After`).",
    )
}

fn retry_after() -> Header {
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        ))
        .description(Some("Whole seconds to wait before retrying."))
        .extensions(Some(required()))
        .build()
}

fn header(schema_type: Type, required_: bool, description: &str) -> Header {
    let mut schema = ObjectBuilder::new().schema_type(schema_type.clone());
    if schema_type == Type::Integer {
        schema = schema.minimum(Some(0));
    }
    let header = HeaderBuilder::new()
        .schema(Some(schema))
        .description(Some(description));
    if required_ {
        header.extensions(Some(required())).build()
    } else {
        header.build()
    }
}

/// `"required": true` on a header object. OpenAPI's header object has the field (as a
/// parameter does); utoipa's `Header` type lacks it, so it goes in the flattened
/// extensions map, which serializes its keys as given.
fn required() -> Extensions {
    Extensions::from_iter([("required", true)])
}

fn parameter(
    name: &str,
    location: ParameterIn,
    required: Required,
    schema: impl Into<RefOr<Schema>>,
) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(location)
        .required(required)
        .schema(Some(schema))
}

/// A key id: [`ID_LEN`] base62 characters.
fn key_id_pattern() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[0-9A-Za-z]{{{ID_LEN}}}$")))
}

/// [`key_id_pattern`] with an example; not on `after`, which refuses an id that names
/// no key.
fn key_id_schema() -> ObjectBuilder {
    key_id_pattern().examples(["AbCd12345678"])
}

fn schema_ref<T: ToSchema>() -> Ref {
    Ref::from_schema_name(T::name())
}

fn components() -> utoipa::openapi::Components {
    let mut components = ComponentsBuilder::new();
    components = register::<ApiKey>(components);
    components = register::<ApiKeyTenant>(components);
    components = register::<ApiKeyState>(components);
    components = register::<ApiKeyExpiredReason>(components);
    components = register::<AuditEvent>(components);
    components = register::<ApiKeyUsage>(components);
    components = register::<AuditActor>(components);
    components = register::<CreatedApiKey>(components);
    components = register::<RolledApiKey>(components);
    components = register::<RolledFrom>(components);
    components = register::<CreateApiKeyRequest>(components);
    components = register::<RollApiKeyRequest>(components);
    components = register::<ErrorBody>(components);
    components
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Authorization: Bearer <key>`"))
                    .build(),
            ),
        )
        .security_scheme(
            X_API_KEY,
            SecurityScheme::ApiKey(ApiKeyScheme::Header(ApiKeyValue::with_description(
                "x-api-key",
                "`x-api-key: <key>`, where the server accepts it",
            ))),
        )
        .build()
}

/// Adds `T`'s schema and those it refers to.
fn register<T: ToSchema>(components: ComponentsBuilder) -> ComponentsBuilder {
    let mut schemas = Vec::new();
    T::schemas(&mut schemas);
    components.schema_from::<T>().schemas_from_iter(schemas)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn the_mount_prefixes_every_path() {
        for (mount, prefix) in [("", ""), ("/", ""), ("/v1", "/v1"), ("/v1/", "/v1")] {
            let document: Value = serde_json::from_str(&openapi(mount)).unwrap();
            for route in ManagementRoute::ALL {
                let path = format!("{prefix}{}", route.path());
                let method = route.method().to_ascii_lowercase();
                assert!(
                    document["paths"][&path][&method].is_object(),
                    "{method} {path} under {mount:?}"
                );
            }
        }
    }
}
