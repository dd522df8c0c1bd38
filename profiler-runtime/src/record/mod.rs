//! The recorder: the hot path of a profiled call, from the layer's callbacks to the exact
//! aggregates.
//!
//! A sync span's life, in the order the files take it: `layer` (the `tracing` callbacks)
//! finds this thread's `slot` (no lock), pushes a `frame`, reads the `clock` and the
//! [`alloc`] counters at enter and exit, and at the outermost exit writes one `raw` event into
//! the thread's `stage`; a full stage moves, uncopied, into the bounded `ring` held by the
//! `collector`, and the `fold` worker folds it into per-operation `accum`ulators that never
//! lose data. `metrics` is how `metrics!` values and errors reach the open span.
//!
//! This folder imports only [`crate::model`], [`crate::contract`] and [`crate::error`].

pub(crate) mod accum;
pub mod alloc;
pub(crate) mod args;
pub(crate) mod clock;
pub(crate) mod collector;
pub(crate) mod fold;
pub(crate) mod frame;
pub mod heap;
pub(crate) mod ids;
pub(crate) mod layer;
pub(crate) mod metrics;
pub(crate) mod notes;
pub(crate) mod raw;
pub(crate) mod ring;
pub(crate) mod slot;
pub(crate) mod stage;
pub(crate) mod subscriber;
