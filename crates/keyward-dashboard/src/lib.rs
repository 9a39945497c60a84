#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "actix")]
pub mod actix;
mod assets;
#[cfg(feature = "axum")]
pub mod axum;
mod csrf;
mod dashboard;
mod form;
mod pages;
mod request;
mod response;
mod slots;
mod user;

pub use dashboard::Dashboard;
pub use request::{DashboardRequest, MAX_BODY_LEN};
pub use user::SignedInUser;

/// The guide `docs/dashboard.md`, compiled with the doctests so its examples keep working
/// (this crate's own tests turn both mounts on).
#[cfg(all(doctest, feature = "axum", feature = "actix"))]
#[doc = include_str!("../../../docs/dashboard.md")]
struct Guide;
