//! Errors as EKS sends them (status, `x-amzn-ErrorType`, `message`), with the exact texts
//! of `shared/REFERENCE.md` for the ones callers must recognise. No I/O.

/// An error as EKS sends it: status, `x-amzn-ErrorType` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksError {
    /// HTTP status code.
    pub status: u16,
    /// The `x-amzn-ErrorType` value, e.g. `ResourceNotFoundException`.
    pub kind: &'static str,
    /// The `message` of the JSON body.
    pub message: String,
}

impl EksError {
    /// Any error.
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        EksError {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 400 InvalidParameterException.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterException", message)
    }

    /// 400 InvalidRequestException.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message)
    }

    /// 404 ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", message)
    }

    /// 409 ResourceInUseException.
    pub fn in_use(message: impl Into<String>) -> Self {
        Self::new(409, "ResourceInUseException", message)
    }

    /// 500 ServerException.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(500, "ServerException", message)
    }

    /// 429 ThrottlingException.
    pub fn throttling() -> Self {
        Self::new(429, "ThrottlingException", "Rate exceeded")
    }

    /// 503 ServiceUnavailableException.
    pub fn unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailableException",
            "Service is unavailable. Try again later.",
        )
    }

    /// 404 for a cluster name EKS does not know.
    pub fn no_cluster(name: &str) -> Self {
        Self::not_found(format!("No cluster found for name: {name}."))
    }

    /// 404 for a principal without an access entry.
    pub fn no_entry() -> Self {
        Self::not_found(
            "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.",
        )
    }

    /// The error for a principal EKS will not take (unknown, path-less, assumed-role).
    pub fn invalid_principal() -> Self {
        Self::invalid_parameter("The specified principalArn is invalid: invalid principal.")
    }
}

/// The message of an access-entry call on a CONFIG_MAP cluster.
pub const CONFIG_MAP_MODE_MESSAGE: &str = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";
