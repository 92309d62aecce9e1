//! The one error type of the crate.

/// What can go wrong in `peapod-spec`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A quantity was the empty string.
    #[error("quantity is empty")]
    EmptyQuantity,
    /// A quantity did not follow Kubernetes' syntax.
    #[error(
        "{0:?} is not a quantity: expected a number with an optional suffix (500m, 128Mi, 1.5Gi, 2e3)"
    )]
    QuantitySyntax(String),
    /// A quantity too large to hold exactly.
    #[error("quantity {0:?} is too large")]
    QuantityTooLarge(String),
    /// A duration did not follow Go's syntax (`1h2m3.5s`).
    #[error("{0:?} is not a duration: expected a number and a unit (300ms, 1.5s, 2m, 1h30m)")]
    DurationSyntax(String),
    /// `explain` was asked about a field that does not exist.
    #[error("{path}: no such field{hint}")]
    UnknownExplainPath {
        /// The path asked about.
        path: String,
        /// A `; did you mean "x"?` hint, or empty.
        hint: String,
    },
    /// A value could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Serialize(String),
}
