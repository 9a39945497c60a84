//! The key-management JSON API, framework-neutral: routes, request parsing (body limit,
//! content type, query), the rules of [`crate::manage`], response shapes and the
//! rendering of every [`ManageError`](crate::manage::ManageError). An adapter mounts
//! each [`ManagementRoute`] behind its requirement and calls
//! [`ManagementApi::handle`]; it holds no rule itself.

mod api;
mod openapi;

pub use api::{ManagementApi, ManagementRequest, ManagementRoute};
pub use openapi::openapi;
