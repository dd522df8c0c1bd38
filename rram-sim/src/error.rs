//! The simulator's error type: every refusal names the input and why.

/// Everything `rram-sim` can refuse. Each message names the offending input and what was expected.
#[derive(Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A matrix that must be square is not.
    #[error("`{input}` must be square, but it is {rows}x{cols}")]
    NotSquare {
        /// Which input.
        input: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
    },
    /// Two inputs whose shapes do not fit together.
    #[error("`{input}` has {found} entries but {expected} are required ({why})")]
    ShapeMismatch {
        /// Which input.
        input: &'static str,
        /// Its length (or rows/columns).
        found: usize,
        /// What fits.
        expected: usize,
        /// The relation that fails.
        why: &'static str,
    },
    /// An input that is empty where at least one entry is needed.
    #[error("`{input}` is empty; at least a 1x1 system is required")]
    Empty {
        /// Which input.
        input: &'static str,
    },
    /// NaN or infinity in an input.
    #[error("`{input}` contains a non-finite value ({value}) at index {index}")]
    NonFinite {
        /// Which input.
        input: &'static str,
        /// Linear (column-major) index of the first bad entry.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A matrix (or its quantised image on the array) that cannot be inverted.
    #[error("`{input}` is singular: {why}")]
    Singular {
        /// Which input.
        input: &'static str,
        /// Why, for example which approximation lost rank.
        why: String,
    },
    /// The all-zero right-hand side or matrix where a scale is needed.
    #[error("`{input}` is all zeros: {why}")]
    Zero {
        /// Which input.
        input: &'static str,
        /// Why that cannot work.
        why: &'static str,
    },
    /// Iterative refinement cannot converge: the iteration matrix has spectral radius >= 1.
    #[error("{solver} diverges: spectral radius of I - G M^-1 is {spectral_radius:.3} (>= 1), so the error grows each iteration; `g` is too ill-conditioned for its {bits}-bit approximation on the array (raise bits or precondition)")]
    Divergence {
        /// Which solver.
        solver: &'static str,
        /// The estimate of rho(I - G M^-1).
        spectral_radius: f64,
        /// Bits per cell of the low-precision inverse.
        bits: u32,
    },
    /// A configuration or parameter value outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {why}")]
    InvalidParameter {
        /// The parameter's name (field path).
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// The valid range.
        why: &'static str,
    },
    /// Zero bits requested somewhere bits are counted.
    #[error("`{name}` is 0 bits; at least 1 bit is required")]
    ZeroBits {
        /// The parameter's name.
        name: &'static str,
    },
    /// A BlockAMC tile larger than the matrix it tiles.
    #[error("tile_size {tile} is larger than `g` ({n}x{n}); use a tile of at most {n}, or hp_inv for one array")]
    TileTooLarge {
        /// The tile size.
        tile: usize,
        /// The matrix order.
        n: usize,
    },
    /// A matrix larger than the crossbar it is written to.
    #[error("`{input}` is {rows}x{cols} but the crossbar has {array_rows}x{array_cols} cells")]
    DoesNotFit {
        /// Which input.
        input: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
        /// Crossbar rows.
        array_rows: usize,
        /// Crossbar columns.
        array_cols: usize,
    },
    /// A closed analogue loop (the INV circuit, or a BlockAMC loop) with an eigenvalue of
    /// non-positive real part: the op-amps rail instead of settling, so there is no answer to
    /// read. See [`crate::dynamics`] for how to make such a matrix solvable (sign flips,
    /// preconditioning).
    #[error("the analogue INV loop on `{input}` is unstable: its loop matrix D^-1 G (normalised by each node's total conductance) has the eigenvalue {re:.4e} {im:+.4e}i, whose real part is not positive, so the op-amps rail instead of settling; {hint}")]
    Unstable {
        /// Which matrix (or block) the loop holds.
        input: String,
        /// Real part of the eigenvalue with the smallest real part.
        re: f64,
        /// Its imaginary part.
        im: f64,
        /// What the user can do.
        hint: &'static str,
    },
    /// An input whose magnitude the simulator cannot compute with in f64.
    #[error("`{input}` cannot be solved at its scale (largest magnitude {largest:e}): {why}; rescale it by a power of two (the solution scales with it) and scale the answer back")]
    BadScale {
        /// Which input.
        input: &'static str,
        /// Its largest magnitude.
        largest: f64,
        /// What goes wrong at this scale.
        why: String,
    },
    /// A computation that produced NaN or infinity although the inputs were finite.
    #[error("{solver} produced a non-finite {what}: {why}")]
    NonFiniteResult {
        /// Which solver or operation.
        solver: &'static str,
        /// What came out non-finite.
        what: &'static str,
        /// What happened, and what to do.
        why: String,
    },
    /// A problem whose matrices cannot fit the memory available, refused before allocating.
    #[error("`{input}` of order {n} needs about {needed_bytes} bytes of matrices but only {available_bytes} bytes are available ({limit}); use a smaller system or BlockAMC tiles")]
    TooLarge {
        /// Which input.
        input: &'static str,
        /// The matrix order.
        n: usize,
        /// Bytes the solve would allocate for its matrices (a lower bound).
        needed_bytes: u64,
        /// Bytes available.
        available_bytes: u64,
        /// Which limit applies (MemAvailable or RLIMIT_AS).
        limit: &'static str,
    },
    /// An operation on a crossbar that holds no matrix yet.
    #[error("the crossbar holds no matrix: call write_matrix first")]
    NotProgrammed,
}

/// Checks every entry of a slice is finite.
pub(crate) fn check_finite(input: &'static str, values: &[f64]) -> Result<(), SimError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(SimError::NonFinite {
            input,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks a parameter lies in a range (inclusive), naming it otherwise.
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    why: &'static str,
) -> Result<(), SimError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(SimError::InvalidParameter {
            name,
            value: format!("{value}"),
            why,
        })
    }
}

/// Prints the same one-line message as `Display`, so `.unwrap()` and `.expect()` on a result
/// show what went wrong in words (for example "no profiling session named `never` is running")
/// rather than the variant's fields.
impl std::fmt::Debug for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
