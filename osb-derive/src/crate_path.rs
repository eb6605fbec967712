//! The path generated code uses to reach the runtime: `::osb_server_mini` unless overridden
//! with `crate = "…"` (serde's and kube's convention).

use proc_macro2::TokenStream;
use quote::quote;

/// Tokens naming the runtime's hidden module, `<crate>::__private`.
pub(crate) fn private(krate: Option<&syn::Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::osb_server_mini::__private),
    }
}

/// Prints the expansion to stderr when `OSB_MACROS_DEBUG` is set (axum's `AXUM_MACROS_DEBUG`).
pub(crate) fn debug_print(what: &str, tokens: &TokenStream) {
    if std::env::var_os("OSB_MACROS_DEBUG").is_some() {
        eprintln!("---- osb-derive: {what} ----\n{tokens}");
    }
}
