//! The settings of one parse of a profile file, and what it hands back besides the profile:
//! serde's entry points take no arguments, so the loader sets them for the duration of the
//! parse in a thread-local ([`with_context`]).

use std::cell::RefCell;
use std::path::PathBuf;

use serde::de;

use super::consistency::Tally;
use crate::error::ProfileError;

/// How the loader that runs a parse on this thread wants the events read, and what it gets
/// back besides the profile. Set for the duration of one parse (the serde entry points take no
/// arguments): see [`with_context`].
pub(super) struct ParseContext {
    /// Keep the events (else count and check them only).
    pub keep_events: bool,
    /// Repair inconsistencies instead of refusing them.
    pub lenient: bool,
    /// The file, for errors.
    pub path: PathBuf,
    /// A typed error raised inside the parse (memory), which wins over serde's.
    pub failure: Option<ProfileError>,
    /// The checks of the events, once read.
    pub tally: Option<Tally>,
}

thread_local! {
    pub(super) static CONTEXT: RefCell<Option<ParseContext>> = const { RefCell::new(None) };
}

/// Runs `parse` with `ctx` as this thread's parse context, and returns the context after.
pub(super) fn with_context<R>(ctx: ParseContext, parse: impl FnOnce() -> R) -> (R, ParseContext) {
    let prev = CONTEXT.with(|c| c.borrow_mut().replace(ctx));
    let r = parse();
    let ctx = CONTEXT
        .with(|c| std::mem::replace(&mut *c.borrow_mut(), prev))
        .unwrap_or_else(|| ParseContext {
            keep_events: true,
            lenient: false,
            path: PathBuf::new(),
            failure: None,
            tally: None,
        });
    (r, ctx)
}

/// The settings of the current parse: (keep events, lenient, path).
pub(super) fn settings() -> (bool, bool, PathBuf) {
    CONTEXT.with(|c| match &*c.borrow() {
        Some(ctx) => (ctx.keep_events, ctx.lenient, ctx.path.clone()),
        None => (true, false, PathBuf::new()),
    })
}

pub(super) fn fail<E: de::Error>(e: ProfileError) -> E {
    let msg = e.to_string();
    CONTEXT.with(|c| {
        if let Some(ctx) = &mut *c.borrow_mut() {
            ctx.failure.get_or_insert(e);
        }
    });
    E::custom(msg)
}
