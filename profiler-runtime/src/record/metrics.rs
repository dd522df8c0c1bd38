//! How `metrics!` values reach the current span: a direct call into the profiler's layer, not a
//! `tracing` event.
//!
//! An event would be subject to every filter in the subscriber (an `EnvFilter` at `info`, a
//! `LevelFilter`, tracing's `max_level_*` features anywhere in the dependency graph) and would
//! silently vanish where the spans around it survive. The call instead finds the
//! [`ProfilerLayer`] of the current dispatcher (`Dispatch::downcast_ref`, which sees through
//! `Layered`, `Filtered` and boxed layers) and adds the values to the innermost span entered on
//! this thread: a sync span's frame on the thread's stack, or another span's frame in the
//! registry's extensions. With no profiler in the dispatcher it costs one dispatcher lookup and
//! evaluates none of the values.

use std::borrow::Cow;

use tracing::Dispatch;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Registry;

use crate::record::alloc::OwnAllocations;
use crate::record::frame::Frame;
use crate::record::ids::SpanKey;
use crate::record::layer::ProfilerLayer;
use crate::record::slot::with_slot_leaf;
use crate::record::subscriber::ProfilerSubscriber;

/// Whether the current dispatcher has a profiler layer (so `metrics!` evaluates its values).
#[inline]
pub fn metrics_enabled() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<ProfilerLayer>())
}

/// Adds `pairs` to the innermost span entered on this thread, in the current dispatcher's
/// profiler (the first, if it has several); outside any span, records them as a standalone
/// event named `metrics`. A key given twice adds up.
#[inline]
pub fn add_metrics(pairs: &[(&'static str, f64)]) {
    tracing::dispatcher::get_default(|d| {
        if let Some(layer) = d.downcast_ref::<ProfilerLayer>() {
            layer.add_metrics(d, pairs);
        }
    });
}

/// Sets the error text of the innermost span entered on this thread, in the current
/// dispatcher's profiler (`#[profile(err)]` on an `Err` return). Like [`add_metrics`] it goes
/// straight to the profiler's layer, so no filter can drop the error while its span survives;
/// with no profiler in the dispatcher `error` is not even formatted. Outside any span it does
/// nothing.
#[inline]
pub fn record_error(error: &dyn std::fmt::Display) {
    tracing::dispatcher::get_default(|d| {
        if let Some(layer) = d.downcast_ref::<ProfilerLayer>() {
            layer.set_error(d, error);
        }
    });
}

/// [`record_error`] with the error's `Debug` form (`#[profile(err(Debug))]`).
#[inline]
pub fn record_error_debug(error: &dyn std::fmt::Debug) {
    struct AsDisplay<'a>(&'a dyn std::fmt::Debug);
    impl std::fmt::Display for AsDisplay<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            std::fmt::Debug::fmt(self.0, f)
        }
    }
    record_error(&AsDisplay(error));
}

impl ProfilerLayer {
    /// Formats `error` (user code: run with the slot marked busy, so a `Display` that logs or
    /// profiles cannot re-enter) and stores it on the innermost entered span.
    fn set_error(&self, dispatch: &Dispatch, error: &dyn std::fmt::Display) {
        let c = &self.collector;
        crate::record::slot::with_slot(c, |slot| {
            let _own = OwnAllocations::begin();
            let text: Box<str> = error.to_string().into();
            let span = slot.current_span();
            if let Some(f) = slot.frame_mut(span) {
                f.error = Some(text);
                return;
            }
            if !span.is_none() {
                in_extensions(dispatch, span, |f| f.error = Some(text));
            }
        });
    }

    fn add_metrics(&self, dispatch: &Dispatch, pairs: &[(&'static str, f64)]) {
        let c = &self.collector;
        // A leaf: the values were computed before the call; nothing here runs user code.
        with_slot_leaf(self.id, c, |slot| {
            let _own = OwnAllocations::begin();
            let span = slot.current_span();
            let add = |f: &mut Frame| {
                for &(k, v) in pairs {
                    f.add_metric(Cow::Borrowed(k), v);
                }
            };
            if let Some(f) = slot.frame_mut(span) {
                return add(f);
            }
            if !span.is_none() && in_extensions(dispatch, span, add) {
                return;
            }
            slot.close_standalone_metrics(c, add);
        });
    }
}

/// Runs `add` on the frame of `span` kept in the registry's extensions, or in the shared table
/// of the profiler's own subscriber (a span that may move between threads); `false` where there
/// is none (or the subscriber is neither).
#[cold]
fn in_extensions(dispatch: &Dispatch, span: SpanKey, add: impl FnOnce(&mut Frame)) -> bool {
    if let Some(own) = dispatch.downcast_ref::<ProfilerSubscriber>() {
        return own.with_shared_frame(span, add).is_some();
    }
    let Some(registry) = dispatch.downcast_ref::<Registry>() else {
        return false;
    };
    let Some(data) = span.registry_id().and_then(|id| registry.span(&id)) else {
        return false;
    };
    let mut ext = data.extensions_mut();
    match ext.get_mut::<Frame>() {
        Some(f) => {
            add(f);
            true
        }
        None => false,
    }
}
