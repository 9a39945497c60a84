//! The key-management JSON API, framework-neutral: routes, request parsing (body limit,
//! content type, query), the rules of [`crate::manage`], response shapes and the
//! rendering of every [`ManageError`](crate::manage::ManageError). An adapter mounts
//! each [`ManagementRoute`] behind its requirement and calls
//! [`ManagementApi::handle`]; it holds no rule itself. [`openapi`] describes the routes
//! as an OpenAPI 3.1 document.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api_keys?limit=&after=` | 200, an array of [`ApiKey`]; `Link: <…?limit=…&after=…>; rel="next"` while more remain |
//! | `POST /api_keys` | 201, a [`CreatedApiKey`] (the only time the key is shown), `Cache-Control: no-store` |
//! | `GET /api_keys/{id}` | 200, an [`ApiKey`] |
//! | `GET /api_keys/{id}/usage` | 200, an [`ApiKeyUsage`]: granted, used and suggested capabilities |
//! | `GET /api_keys/{id}/events?limit=&after=` | 200, an array of [`AuditEvent`], the key's audit trail; `Link` while more remain (`after` is a `seq`) |
//! | `DELETE /api_keys/{id}` | 204; revoked (it stays listed), or deleted with `?permanent=true` |
//! | `POST /api_keys/{id}/roll` | 201, a [`RolledApiKey`], `Cache-Control: no-store` |
//! | `POST /api_keys/{id}/disable`, `…/enable` | 200, an [`ApiKey`] |
//!
//! Refusals are `{"error": code, "message": …}` ([`ErrorBody`]); another owner's key,
//! an unknown id and a malformed one are all 404 `not_found`.

mod api;
mod openapi;
mod render;
mod request;
mod shapes;

pub use api::{ManagementApi, ManagementRequest, ManagementRoute};
pub use openapi::openapi;
pub use render::render_manage_error;
pub use request::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, check_body};
pub use shapes::{
    ApiKey, ApiKeyExpiredReason, ApiKeyState, ApiKeyTenant, ApiKeyUsage, AuditActor, AuditEvent,
    CreateApiKeyRequest, CreatedApiKey, ErrorBody, RollApiKeyRequest, RolledApiKey, RolledFrom,
    SpentBudget,
};
