//! What both framework adapters share: reading the credential from request headers and
//! rendering every refusal (status, headers, JSON body) exactly once.
//!
//! An adapter only maps its framework's header values in and an [`HttpResponse`] out;
//! it holds no policy.

mod extract;
mod gate;
mod render;

pub use extract::{CredentialSources, ExtractedCredential, MAX_CREDENTIAL_HEADER_LEN, extract};
pub use gate::{DEFAULT_REALM, Gate, RequestHeaders};
pub use render::{HttpResponse, rate_limit_headers, render};
