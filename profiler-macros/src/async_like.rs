//! Functions that are async in all but name: what `#[async_trait]` (>= 0.1.44) makes of an
//! `async fn` when it expands before `#[profile]`. Their body ends in `Box::pin(async move {..})`
//! (or a bare `async move {..}`); the future, not its construction, is what must be profiled,
//! so that block is instrumented as an `async fn` body would be (as tracing-attributes does).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Expr, ExprAsync, Signature, Stmt};

use crate::attr::ProfileArgs;
use crate::expand::{gen_span, gen_wrapped};
use crate::support::Support;

/// A body ending in an async block: the statements before it, the block, and whether it is
/// inside `Box::pin(..)`.
pub(crate) struct AsyncTail<'a> {
    init: &'a [Stmt],
    block: &'a ExprAsync,
    pinned: bool,
}

/// The async block the body ends in, if it does.
pub(crate) fn find(stmts: &[Stmt]) -> Option<AsyncTail<'_>> {
    let (Stmt::Expr(last, None), init) = stmts.split_last()? else {
        return None;
    };
    let (block, pinned) = match last {
        Expr::Async(a) => (a, false),
        Expr::Call(call) => {
            let Expr::Path(func) = &*call.func else {
                return None;
            };
            let segs: Vec<_> = func.path.segments.iter().map(|s| &s.ident).collect();
            let is_box_pin =
                segs.len() >= 2 && segs[segs.len() - 2] == "Box" && segs[segs.len() - 1] == "pin";
            match (is_box_pin, call.args.len(), call.args.first()) {
                (true, 1, Some(Expr::Async(a))) => (a, true),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(AsyncTail {
        init,
        block,
        pinned,
    })
}

/// The body with its final async block instrumented as an `async fn` body would be.
pub(crate) fn instrument(
    tail: &AsyncTail<'_>,
    sig: &Signature,
    args: &ProfileArgs,
    name: &str,
    rt: &Support,
) -> TokenStream {
    let span = gen_span(sig, args, name, true, rt).expr();
    let block = tail.block.block.to_token_stream();
    // The block's output type is not spelt anywhere: `ret` logs it in its `Debug`/`Display`
    // form only.
    let inner = gen_wrapped(args, span, block, true, None, rt);
    let attrs = &tail.block.attrs;
    let future = quote!(#(#attrs)* async move { #inner });
    let last = if tail.pinned {
        quote!(::std::boxed::Box::pin(#future))
    } else {
        future
    };
    let init = tail.init;
    quote!(#(#init)* #last)
}
