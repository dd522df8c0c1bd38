//! The `metrics!` macro.

/// Adds numbers to the current span: `metrics!(energy_pj = e, bytes = n)`.
///
/// Each `key = value` pair is converted to `f64` (any primitive numeric type or `bool` works) and
/// summed into the innermost span the profiler layer knows; a key given twice in one span adds up.
/// Outside any span the values are recorded as a standalone event named `metrics`.
///
/// Keys are identifiers, optionally dotted (`energy.adc_pj = x`). Units belong in the name.
///
/// ```
/// use profiler_runtime::{metrics, profile};
///
/// #[profile(kind = "hardware_access")]
/// fn program(cells: usize) {
///     metrics!(energy_pj = 12.5, bytes = cells * 8);
/// }
/// program(4);
/// ```
#[macro_export]
macro_rules! metrics {
    ($($($key:ident).+ = $value:expr),+ $(,)?) => {
        $crate::__macro_support::tracing::event!(
            target: "profiler::metrics",
            $crate::__macro_support::tracing::Level::TRACE,
            $($($key).+ = $crate::__macro_support::metric_value($value)),+
        )
    };
}
