//! The dashboard mounted in an actix-web application: `keyward_dashboard::actix::configure`.
