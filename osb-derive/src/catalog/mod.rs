//! `#[derive(Offering)]` and `#[derive(Plan)]`: darling parses `#[osb(...)]` ([`attrs`]),
//! [`model`] checks single-item rules, [`expand`] writes the trait impls.

pub(crate) mod attrs;
pub(crate) mod expand;
pub(crate) mod model;

use darling::FromDeriveInput;
use proc_macro2::TokenStream;
use quote::quote;

use crate::crate_path;

fn parse_input(input: TokenStream) -> darling::Result<syn::DeriveInput> {
    syn::parse2(input).map_err(darling::Error::from)
}

/// `crate = "…"` found by a tolerant scan of the `#[osb(...)]` attributes, for the fallback.
fn scan_crate_path(input: &syn::DeriveInput) -> Option<syn::Path> {
    use proc_macro2::TokenTree;
    input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("osb"))
        .filter_map(|a| a.meta.require_list().ok())
        .find_map(|list| {
            let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
            tokens.windows(3).find_map(|w| match w {
                [TokenTree::Ident(i), TokenTree::Punct(eq), TokenTree::Literal(lit)]
                    if i == "crate" && eq.as_char() == '=' =>
                {
                    let lit: syn::LitStr = syn::parse_str(&lit.to_string()).ok()?;
                    lit.parse().ok()
                }
                _ => None,
            })
        })
}

/// After an error in the attributes of a struct: a stub impl so that uses of the type
/// (`plans(..)`, `catalog(..)`) raise no second wave of errors.
fn stub(input: &syn::DeriveInput, derive: &str) -> TokenStream {
    let p = crate_path::private(scan_crate_path(input).as_ref());
    let ident = &input.ident;
    let body = if derive == "Offering" {
        quote! {
            impl #p::Offering for #ident {
                fn offering() -> #p::ServiceOffering { ::core::unimplemented!() }
                fn plan_policies() -> #p::Vec<(#p::PlanId, #p::PlanPolicy)> { ::core::unimplemented!() }
            }
        }
    } else {
        quote! {
            impl #p::Plan for #ident {
                const ID: &'static str = "";
                const NAME: &'static str = "";
                fn plan() -> #p::ServicePlan { ::core::unimplemented!() }
                fn policy() -> #p::PlanPolicy { ::core::unimplemented!() }
            }
        }
    };
    quote!(const _: () = { #body };)
}

/// Errors darling leaves unspanned (a missing key) point at the first `#[osb]` attribute
/// (or the struct's name when there is none) rather than at the derive.
fn at_attribute(input: &syn::DeriveInput, errors: darling::Error) -> darling::Error {
    let span = match input.attrs.iter().find(|a| a.path().is_ident("osb")) {
        Some(attr) => syn::spanned::Spanned::span(attr.path()),
        None => input.ident.span(),
    };
    let errors: Vec<darling::Error> = errors.into_iter().map(|e| e.with_span(&span)).collect();
    // A misspelt key is reported as unknown, with its suggestion; darling then also reports the
    // key it meant as missing. One mistake, one error: drop the second.
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let suggested = |key: &str| {
        messages
            .iter()
            .any(|m| m.ends_with(&format!("Did you mean `{key}`?")))
    };
    darling::Error::multiple(
        errors
            .into_iter()
            .filter(|e| {
                let message = e.to_string();
                let missing = message
                    .strip_prefix("Missing field `")
                    .and_then(|rest| rest.strip_suffix('`'));
                !missing.is_some_and(suggested)
            })
            .collect(),
    )
}

fn derive(
    input: TokenStream,
    derive: &str,
    expand: impl FnOnce(&syn::DeriveInput) -> darling::Result<TokenStream>,
) -> TokenStream {
    let tokens = match parse_input(input) {
        Err(e) => e.write_errors(),
        Ok(input) => match model::check_shape(&input, derive) {
            Err(e) => e.write_errors(),
            Ok(()) => expand(&input).unwrap_or_else(|e| {
                let errors = at_attribute(&input, e).write_errors();
                let stub = stub(&input, derive);
                quote!(#errors #stub)
            }),
        },
    };
    crate_path::debug_print(derive, &tokens);
    tokens
}

/// Expands `#[derive(Offering)]`.
pub(crate) fn derive_offering(input: TokenStream) -> TokenStream {
    derive(input, "Offering", |input| {
        let attrs = attrs::OfferingAttrs::from_derive_input(input)?;
        model::check_offering(&attrs)?;
        Ok(expand::offering(&attrs))
    })
}

/// Expands `#[derive(Plan)]`.
pub(crate) fn derive_plan(input: TokenStream) -> TokenStream {
    derive(input, "Plan", |input| {
        let attrs = attrs::PlanAttrs::from_derive_input(input)?;
        model::check_plan(&attrs)?;
        Ok(expand::plan(&attrs))
    })
}
