//! PostgreSQL key store (work in progress).
