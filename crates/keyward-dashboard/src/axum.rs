//! The dashboard mounted in an axum application: `keyward_dashboard::axum::router`.
