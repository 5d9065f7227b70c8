//! [`CodegenError`]: why generating `luxcore-api` failed. Its own module, below the steps
//! that return it (`api_version`, `operations`, `redact`) and [`crate::codegen`] that runs them.

/// Why generation failed.
#[derive(Debug)]
pub enum CodegenError {
    /// The spec is not JSON or not an OpenAPI 3.0 document progenitor can read.
    InvalidSpec(String),
    /// progenitor rejected the spec.
    Generator(String),
    /// progenitor panicked; the operation(s) that trigger it, when they could be isolated.
    GeneratorPanic {
        message: String,
        operations: Vec<String>,
    },
    /// The output could not be formatted.
    Format(String),
}

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidSpec(m) => write!(f, "invalid spec: {m}"),
            Self::Generator(m) => write!(f, "progenitor rejected the spec: {m}"),
            Self::GeneratorPanic {
                message,
                operations,
            } if operations.is_empty() => {
                write!(
                    f,
                    "progenitor panicked ({message}); no single operation reproduces it"
                )
            }
            Self::GeneratorPanic {
                message,
                operations,
            } => write!(
                f,
                "progenitor panicked ({message}) on operation(s): {}. Common causes: two different \
                 success or error schemas on one operation, a body with two media types, a response \
                 with content but no schema",
                operations.join(", ")
            ),
            Self::Format(m) => write!(f, "formatting failed: {m}"),
        }
    }
}

impl std::error::Error for CodegenError {}
