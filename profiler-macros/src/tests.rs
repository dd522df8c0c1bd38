//! Expansion tests on token strings (the compile-level tests are the trybuild ones in
//! `profiler-macros/tests/macro_ui.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand;

/// The runtime's support module, as the expansion in this crate's tests finds it (through the
/// dev-dependency on `profiler-runtime`).
const RT: &str = "::profiler_runtime::__macro_support";

/// The expansion as a string with all whitespace removed, for `contains` checks.
fn expanded(attr: TokenStream, item: TokenStream) -> String {
    expand(attr, item).to_string().replace(' ', "")
}

fn error_of(attr: TokenStream, item: TokenStream) -> String {
    match crate::try_expand(attr, item) {
        Ok(tokens) => panic!("expected an error, got {tokens}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn sync_fn_has_kind_sync_and_numeric_args() {
    let out = expanded(
        quote!(kind = "hardware_access"),
        quote!(
            fn f(n: usize, r: &f64, s: &str, (a, b): (u32, u32)) -> u64 {
                0
            }
        ),
    );
    // The one marker field is named by the runtime's `const fn`, never spelt here, after the
    // recorded arguments.
    let marker = format!(
        "n=n,r=r,{{{RT}::contract::span_marker({RT}::contract::EventKind::HardwareAccess,\
         {RT}::contract::MARKER_SYNC)}}={RT}::tracing::field::Empty"
    );
    assert!(out.contains(&marker), "{out}");
    assert_eq!(out.matches("span_marker").count(), 1, "{out}");
    assert!(!out.contains("profile."), "{out}");
    // Recorded as themselves, so other layers see an integer, a float, a bool.
    assert!(out.contains("n=n,"), "{out}");
    assert!(out.contains("r=r,"), "{out}");
    assert!(!out.contains("s=s"), "{out}");
    assert!(!out.contains("a=a"), "{out}");
    // An enabled sync span stages its first two recorded arguments for the profiler, a
    // reference read through.
    assert!(
        out.contains(&format!(
            "else{{{RT}::stage_args(&__profile_span,[{RT}::metric_value(n),{RT}::metric_value(&*r)]);}}"
        )),
        "{out}"
    );
    assert_eq!(out.matches("stage_args").count(), 1, "{out}");
    assert!(out.contains("\"f\""), "{out}");
    assert!(out.contains("Level::INFO"), "{out}");
    assert!(!out.contains("||"), "no closure without err/ret: {out}");
}

#[test]
fn default_kind_is_function_call() {
    let out = expanded(
        quote!(),
        quote!(
            fn f() {}
        ),
    );
    assert!(
        out.contains("contract::span_marker(::profiler_runtime::__macro_support::contract::EventKind::FunctionCall,"),
        "{out}"
    );
}

#[test]
fn async_fn_has_no_sync_field_and_is_instrumented() {
    let out = expanded(
        quote!(level = "debug"),
        quote!(
            async fn f(&self, k: u32) -> u32 {
                k
            }
        ),
    );
    assert!(!out.contains("MARKER_SYNC"), "{out}");
    assert!(out.contains("Instrument::instrument("), "{out}");
    assert!(out.contains("Level::DEBUG"), "{out}");
    assert!(out.contains("k=k,"), "{out}");
}

#[test]
fn skip_and_skip_all_and_field_override() {
    let item = quote!(
        fn f(a: u32, b: u32, c: u32) {}
    );
    let out = expanded(quote!(skip(a), fields(b = 2 * b, m.n = %c)), item.clone());
    assert!(!out.contains("a=a"), "{out}");
    assert!(out.contains("b=2*b"), "{out}");
    assert!(!out.contains("b=b"), "{out}");
    assert!(out.contains("c=c"), "{out}");
    assert!(out.contains("m.n=%c"), "{out}");
    let out = expanded(quote!(skip_all), item);
    assert!(
        !out.contains("a=a") && !out.contains("b=b") && !out.contains("c=c"),
        "{out}"
    );
}

#[test]
fn err_and_ret_go_to_the_profiler_and_log_with_the_functions_target() {
    let out = expanded(
        quote!(err(Debug), ret),
        quote!(
            fn f() -> Result<u32, String> {
                Ok(1)
            }
        ),
    );
    // The error is set on the span directly, then logged with the function's own target.
    assert!(
        out.contains(&format!("{RT}::record_error_debug(&__profile_error)")),
        "{out}"
    );
    let log = "target:::core::module_path!(),::profiler_runtime::__macro_support::tracing::Level::ERROR,error=?__profile_error";
    assert!(out.contains(log), "{out}");
    assert!(!out.contains("profiler::"), "no reserved target: {out}");
    // The `Ok` value is a number: the metric `return`, straight to the profiler; the log event
    // has the function's target and the span's level.
    let metric = format!(
        "{RT}::add_metrics(&[({RT}::contract::RETURN,{RT}::metric_value(&__profile_value))])"
    );
    assert!(out.contains(&metric), "{out}");
    let ret =
        format!("target:::core::module_path!(),{RT}::tracing::Level::INFO,return=?__profile_value");
    assert!(out.contains(&ret), "{out}");
    // Anything else is only logged, in its `Debug` form.
    for ret_ty in [
        quote!(String),
        quote!(Result<u32, String>),
        quote!(Vec<u32>),
        quote!(my::u32),
    ] {
        let out = expanded(quote!(ret), quote!(fn f() -> #ret_ty { make() }));
        assert!(out.contains("return=?"), "{out}");
        assert!(!out.contains("add_metrics"), "{out}");
    }
    for ret_ty in [
        quote!(f64),
        quote!(core::primitive::usize),
        quote!(bool),
        quote!(u128),
        quote!(i128),
    ] {
        let out = expanded(quote!(ret), quote!(fn f() -> #ret_ty { make() }));
        assert!(out.contains("metric_value(&__profile_value)"), "{out}");
    }
    let out = expanded(
        quote!(ret),
        quote!(
            fn f(x: &mut u8) -> &mut u8 {
                x
            }
        ),
    );
    assert!(out.contains("metric_value(&*__profile_value)"), "{out}");
    let out = expanded(
        quote!(ret(Display)),
        quote!(
            fn f() -> i64 {
                1
            }
        ),
    );
    assert!(out.contains("return=%__profile_value"), "{out}");
    let out = expanded(
        quote!(err),
        quote!(
            fn f() -> Result<u32, String> {
                Ok(1)
            }
        ),
    );
    assert!(
        out.contains(&format!("{RT}::record_error(&__profile_error)")),
        "{out}"
    );
    assert!(out.contains("error=%__profile_error"), "{out}");
    assert!(
        !out.contains("add_metrics"),
        "err alone reports no return: {out}"
    );
}

#[test]
fn impl_block_names_methods_after_the_type() {
    let out = expanded(
        quote!(kind = "computation"),
        quote!(
            impl<T> Tr for a::Crossbar<T> {
                fn one(&self) {}
                #[profile(kind = "io_operation")]
                fn two(&self) {}
                const fn three() {}
            }
        ),
    );
    assert!(
        out.contains(&format!(
            "\"Crossbar::one\",{{{RT}::contract::span_marker({RT}::contract::EventKind::Computation,"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\"Crossbar::two\",{{{RT}::contract::span_marker({RT}::contract::EventKind::IoOperation,"
        )),
        "{out}"
    );
    assert!(!out.contains("#[profile"), "{out}");
    assert!(!out.contains("Crossbar::three"), "{out}");
}

#[test]
fn misuse_is_an_error() {
    let f = quote!(
        fn f(a: u32) {}
    );
    let e = error_of(quote!(kind = "bogus"), f.clone());
    assert!(e.contains("unknown profile kind \"bogus\""), "{e}");
    assert!(e.contains("\"algorithm_step\""), "{e}");
    let e = error_of(quote!(colour = 1), f.clone());
    assert!(
        e.contains("unknown option `colour`") && e.contains("`skip_all`"),
        "{e}"
    );
    let e = error_of(quote!(skip(b)), f.clone());
    assert!(e.contains("no argument named `b`"), "{e}");
    let e = error_of(quote!(ret, ret), f.clone());
    assert!(e.contains("duplicate option `ret`"), "{e}");
    let e = error_of(quote!(level = "loud"), f.clone());
    assert!(e.contains("unknown level"), "{e}");
    let e = error_of(quote!(skip(a), skip_all), f);
    assert!(e.contains("not both"), "{e}");
    let e = error_of(
        quote!(),
        quote!(
            const fn f() {}
        ),
    );
    assert!(e.contains("const fn"), "{e}");
    let e = error_of(
        quote!(),
        quote!(
            struct S;
        ),
    );
    assert!(e.contains("can only be applied"), "{e}");
    let e = error_of(quote!(name = "x"), quote!(impl S { fn f() {} }));
    assert!(
        e.contains("`name` cannot be given on an `impl` block"),
        "{e}"
    );
    let e = error_of(quote!(skip(zz)), quote!(impl S { fn f(a: u8) {} }));
    assert!(e.contains("no method in this `impl` block"), "{e}");
    let e = error_of(
        quote!(fields(profile.kind = 1)),
        quote!(
            fn f() {}
        ),
    );
    assert!(e.contains("reserved"), "{e}");
}

#[test]
fn error_keeps_the_item() {
    let out = expanded(
        quote!(kind = "bogus"),
        quote!(
            fn keep_me() {}
        ),
    );
    assert!(out.contains("compile_error!"), "{out}");
    assert!(out.contains("fnkeep_me()"), "{out}");
}

#[test]
fn async_trait_output_is_instrumented_as_async() {
    let out = expanded(
        quote!(),
        quote!(
            fn f(&self, k: u32) -> Pin<Box<dyn Future<Output = u32> + Send + 'async_trait>> {
                Box::pin(async move {
                    let __self = self;
                    k
                })
            }
        ),
    );
    assert!(!out.contains("MARKER_SYNC"), "{out}");
    assert!(
        out.contains("::std::boxed::Box::pin(asyncmove{let__profile_span="),
        "{out}"
    );
    assert!(out.contains("Instrument::instrument("), "{out}");
}

#[test]
fn only_a_function_whose_every_argument_is_recorded_gets_the_arguments_marker() {
    let marker = format!("{RT}::contract::MARKER_ARGS_RECORDED)}}={RT}::tracing::field::Empty");
    let has = |attr: TokenStream, f: TokenStream| expanded(attr, f).contains(&marker);
    assert!(has(
        quote!(),
        quote!(
            fn f(n: usize, tol: f64) {}
        )
    ));
    assert!(has(
        quote!(),
        quote!(
            fn f() {}
        )
    ));
    // Skipped, unrecordable, replaced by a field of the same name, or a receiver: not all.
    assert!(!has(
        quote!(skip(tol)),
        quote!(
            fn f(n: usize, tol: f64) {}
        )
    ));
    assert!(!has(
        quote!(skip_all),
        quote!(
            fn f(n: usize) {}
        )
    ));
    assert!(!has(
        quote!(),
        quote!(
            fn f(n: usize, g: &Matrix) {}
        )
    ));
    assert!(!has(
        quote!(fields(n = 3)),
        quote!(
            fn f(n: usize) {}
        )
    ));
    assert!(!has(
        quote!(),
        quote!(
            fn f(&self, n: usize) {}
        )
    ));
    assert!(!has(
        quote!(),
        quote!(
            fn f(_n: usize) {}
        )
    ));
}

#[test]
fn alloc_process_adds_its_marker() {
    let f = quote!(
        fn f() {}
    );
    let out = expanded(quote!(alloc = "process"), f.clone());
    let marker = format!(
        "{RT}::contract::MARKER_SYNC|{RT}::contract::MARKER_PROCESS_ALLOC|\
         {RT}::contract::MARKER_ARGS_RECORDED)}}={RT}::tracing::field::Empty"
    );
    assert!(out.contains(&marker), "{out}");
    for thread in [quote!(alloc = "thread"), quote!(alloc = thread), quote!()] {
        let out = expanded(thread, f.clone());
        assert!(!out.contains("MARKER_PROCESS_ALLOC"), "{out}");
    }
    let e = error_of(quote!(alloc = "global"), f);
    assert!(
        e.contains("unknown `alloc` mode \"global\"; expected one of \"thread\", \"process\""),
        "{e}"
    );
}

#[test]
fn skip_fn_leaves_a_method_as_written() {
    let out = expanded(
        quote!(kind = "computation"),
        quote!(
            impl S {
                fn kept(&self) {}
                #[profile(skip_fn)]
                fn left(&self) -> u32 {
                    1
                }
                #[profile(skip_fn)]
                const fn konst() {}
            }
        ),
    );
    assert!(out.contains("\"S::kept\""), "{out}");
    assert!(!out.contains("\"S::left\""), "{out}");
    assert!(out.contains("fnleft(&self)->u32{1}"), "{out}");
    assert!(out.contains("constfnkonst(){}"), "{out}");
    assert!(!out.contains("skip_fn"), "the attribute is removed: {out}");

    let f = quote!(
        fn f() {}
    );
    let e = error_of(quote!(skip_fn), f.clone());
    assert!(
        e.contains("only goes on a method inside an `impl` block"),
        "{e}"
    );
    let e = error_of(quote!(skip_fn), quote!(impl S { fn f() {} }));
    assert!(
        e.contains("only goes on a method inside an `impl` block"),
        "{e}"
    );
    let e = error_of(quote!(skip_fn, kind = "computation"), f);
    assert!(e.contains("takes no other option (`kind` here)"), "{e}");
    let e = error_of(
        quote!(),
        quote!(impl S {
            #[profile(ret, skip_fn)]
            fn f() {}
        }),
    );
    assert!(e.contains("takes no other option (`ret` here)"), "{e}");
}

#[test]
fn crate_names_the_runtime() {
    let f = quote!(
        fn f() {}
    );
    let out = expanded(quote!(crate = "my::reexports::rt"), f.clone());
    assert!(
        out.contains("my::reexports::rt::__macro_support::tracing::span!("),
        "{out}"
    );
    assert!(!out.contains("profiler_runtime"), "{out}");
    // A method's own options keep the block's `crate`.
    let out = expanded(
        quote!(crate = "rt"),
        quote!(impl S {
            #[profile(ret)]
            fn f() {}
        }),
    );
    assert!(!out.contains("profiler_runtime"), "{out}");
    let e = error_of(quote!(crate = "not a path"), f);
    assert!(e.contains("\"not a path\" is not a path"), "{e}");
}

fn scope(input: TokenStream) -> String {
    crate::expand_scope(input).to_string().replace(' ', "")
}

#[test]
fn profile_scope_is_a_sync_span_entered_to_the_end_of_the_block() {
    let out = scope(quote!(
        "solve.factorise",
        kind = "computation",
        fields(n = 3)
    ));
    assert!(
        out.starts_with(&format!("let__profile_scope_span={RT}::tracing::span!(")),
        "{out}"
    );
    assert!(
        out.contains("DisabledNote::new(\"solve.factorise\")"),
        "{out}"
    );
    assert!(out.contains("\"solve.factorise\""), "{out}");
    assert!(out.contains("contract::EventKind::Computation,"), "{out}");
    assert!(out.contains("contract::MARKER_SYNC)"), "{out}");
    assert!(out.contains("n=3"), "{out}");
    assert!(
        out.ends_with("let__profile_scope=__profile_scope_span.entered();"),
        "{out}"
    );
    let out = scope(quote!("x"));
    assert!(out.contains("contract::EventKind::FunctionCall,"), "{out}");
    assert!(out.contains("Level::INFO"), "{out}");
    let out = scope(quote!("x", level = debug, alloc = "process",));
    assert!(out.contains("Level::DEBUG"), "{out}");
    assert!(out.contains("MARKER_PROCESS_ALLOC"), "{out}");

    for (input, message) in [
        (quote!(), "needs the span's name"),
        (quote!(""), "must not be empty"),
        (quote!("x", kind = "bogus"), "unknown profile kind \"bogus\""),
        (
            quote!("x", skip_all),
            "unknown option `skip_all`; expected one of `kind`, `level`, `fields(..)`, `alloc`, `crate`",
        ),
        (quote!("x", kind = "computation", kind = "io_operation"), "duplicate option `kind`"),
    ] {
        let out = scope(input);
        assert!(out.starts_with("::core::compile_error!"), "{out}");
        // The message is a string literal in `compile_error!`: its quotes are escaped.
        let message_in_literal = message.replace(' ', "").replace('"', "\\\"");
        assert!(out.contains(&message_in_literal), "{message}: {out}");
    }
}

#[test]
fn a_sync_span_stages_at_most_two_arguments_and_pads_one() {
    let out = expanded(
        quote!(),
        quote!(
            fn f(a: u8, b: bool, c: i64) {}
        ),
    );
    assert!(
        out.contains(&format!("[{RT}::metric_value(a),{RT}::metric_value(b)]")),
        "{out}"
    );
    assert!(!out.contains(&format!("{RT}::metric_value(c)")), "{out}");
    let out = expanded(
        quote!(),
        quote!(
            fn f(x: &mut u64) {}
        ),
    );
    assert!(
        out.contains(&format!("[{RT}::metric_value(&*x),0.0]")),
        "{out}"
    );
}

#[test]
fn only_a_sync_span_with_recorded_arguments_stages_them() {
    // Async: its first enter may come after other spans staged theirs.
    let out = expanded(
        quote!(),
        quote!(
            async fn f(a: u8) {}
        ),
    );
    assert!(!out.contains("stage_args"), "{out}");
    for item in [
        quote!(
            fn f() {}
        ),
        quote!(
            fn f(s: &str) {}
        ),
    ] {
        let out = expanded(quote!(), item);
        assert!(!out.contains("stage_args"), "{out}");
    }
    let out = expanded(
        quote!(skip_all),
        quote!(
            fn f(a: u8) {}
        ),
    );
    assert!(!out.contains("stage_args"), "{out}");
    let out = expanded(
        quote!(skip(a)),
        quote!(
            fn f(a: u8, b: u16) {}
        ),
    );
    assert!(
        out.contains(&format!("[{RT}::metric_value(b),0.0]")),
        "{out}"
    );
}
