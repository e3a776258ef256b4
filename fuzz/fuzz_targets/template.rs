//! Templates in the bounded environment, generated (first byte even) or
//! any text (first byte odd): each ends, within its budget.
#![no_main]

#[path = "../../tests/support/generate.rs"]
mod generate;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let source = if first % 2 == 0 {
        generate::template(rest)
    } else {
        String::from_utf8_lossy(rest).into_owned()
    };
    let env = tollgate::render::environment();
    let context = minijinja::context! {
        subject => minijinja::context! { title => "A title", slug => "f-1-a-title" },
        vars => minijinja::context! { a => "x" },
    };
    if let Ok(text) = env.render_str(&source, context.clone()) {
        assert!(text.len() as u64 <= tollgate::render::FUEL * 64);
    }
    let _ = env
        .compile_expression(&source)
        .and_then(|expression| expression.eval(&context));
});
