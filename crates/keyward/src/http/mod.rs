//! What both framework adapters share: reading the credential from request headers,
//! bounding and parsing JSON bodies, and rendering every refusal (status, headers, JSON
//! body) exactly once.
//!
//! An adapter only maps its framework's header values and body in and an
//! [`HttpResponse`] out; it holds no policy.
//!
//! What follows is the contract as a client sees it (`docs/http-contract.md` in the
//! repository).
//!
#![doc = include_str!("../../../../docs/http-contract.md")]

mod body;
mod extract;
mod field_cache;
mod gate;
pub mod management;
mod render;

pub use body::{JsonError, JsonErrorKind, MAX_BODY_LEN, RequestBody, RequestError};
pub use body::{parse_json_body, parse_json_object};
pub use extract::{CredentialSources, ExtractedCredential, MAX_CREDENTIAL_HEADER_LEN, extract};
pub use field_cache::FieldCache;
pub use gate::{DEFAULT_REALM, Gate, RequestHeaders};
pub use management::render_manage_error;
pub use render::{
    FieldValue, HttpResponse, RateLimitFields, rate_limit_field, rate_limit_fields,
    rate_limit_headers, rate_limit_policy_field, render, static_decimal,
};
