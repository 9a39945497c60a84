//! Redis rate limiter and failure guard (work in progress).
