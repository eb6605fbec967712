//! `#[derive(Offering)]` and `#[derive(Plan)]`: darling parses `#[osb(...)]` ([`attrs`]),
//! [`model`] checks single-item rules, [`expand`] writes the trait impls.

pub(crate) mod attrs;
pub(crate) mod expand;
pub(crate) mod model;

use darling::FromDeriveInput;
use proc_macro2::TokenStream;

use crate::crate_path;

fn parse_input(input: TokenStream) -> darling::Result<syn::DeriveInput> {
    syn::parse2(input).map_err(darling::Error::from)
}

/// Expands `#[derive(Offering)]`.
pub(crate) fn derive_offering(input: TokenStream) -> TokenStream {
    let result = parse_input(input).and_then(|input| {
        model::check_shape(&input, "Offering")?;
        let attrs = attrs::OfferingAttrs::from_derive_input(&input)?;
        model::check_offering(&attrs)?;
        Ok(expand::offering(&attrs))
    });
    let tokens = result.unwrap_or_else(|e| e.write_errors());
    crate_path::debug_print("derive(Offering)", &tokens);
    tokens
}

/// Expands `#[derive(Plan)]`.
pub(crate) fn derive_plan(input: TokenStream) -> TokenStream {
    let result = parse_input(input).and_then(|input| {
        model::check_shape(&input, "Plan")?;
        let attrs = attrs::PlanAttrs::from_derive_input(&input)?;
        model::check_plan(&attrs)?;
        Ok(expand::plan(&attrs))
    });
    let tokens = result.unwrap_or_else(|e| e.write_errors());
    crate_path::debug_print("derive(Plan)", &tokens);
    tokens
}
