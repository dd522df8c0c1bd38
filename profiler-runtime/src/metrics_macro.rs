//! The `metrics!` macro.

/// Adds numbers to the current span: `metrics!(energy_pj = e, bytes = n)`.
///
/// Each `key = value` pair is converted to `f64` (any primitive numeric type or `bool` works) and
/// summed into the innermost span the profiler layer knows; a key given twice in one span adds up.
/// Outside any span the values are recorded as a standalone event named `metrics`.
///
/// The values go straight to the profiler's layer in the current dispatcher, not through a
/// `tracing` event, so no level filter or `max_level_*` feature can drop them while the span
/// survives; with no profiler installed nothing is evaluated. Where one dispatcher holds several
/// profiler layers, the first one gets the values.
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
        if $crate::__macro_support::metrics_enabled() {
            $crate::__macro_support::add_metrics(&[$((
                $crate::__metric_key!($($key).+),
                $crate::__macro_support::metric_value($value),
            )),+]);
        }
    };
}

/// The key of a `metrics!` pair as a string: `energy.adc_pj` -> `"energy.adc_pj"`.
#[doc(hidden)]
#[macro_export]
macro_rules! __metric_key {
    ($first:ident $(. $rest:ident)*) => {
        ::core::concat!(::core::stringify!($first) $(, ".", ::core::stringify!($rest))*)
    };
}
