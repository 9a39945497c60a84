//! A failure of a command, with its exit code.

use std::process::ExitCode;

use keyward::ServiceError;

/// A failure, printed as one `error: …` line.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// Bad input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
        }
    }

    /// A runtime failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

/// A key-management failure: the caller's mistakes exit 2, the rest 1. `id` is the key
/// the command named, for a "no key with id" message.
pub(crate) fn service_error(e: ServiceError, id: Option<&str>) -> CliError {
    match (e, id) {
        (ServiceError::NotFound, Some(id)) => CliError::runtime(format!("no key with id `{id}`")),
        (ServiceError::UnknownCapabilities(unknown), _) => CliError::usage(format!(
            "{unknown}; the catalog declares: {}",
            unknown.valid.join(", ")
        )),
        (e @ (ServiceError::InvalidRequest(_) | ServiceError::InvalidName { .. }), _) => {
            CliError::usage(e.to_string())
        }
        (e, _) => CliError::runtime(e.to_string()),
    }
}
