//! `#[broker]`: [`args`] → [`model`] → [`validate`] → [`expand`](mod@expand), or [`fallback`] on error.

pub(crate) mod args;
pub(crate) mod expand;
pub(crate) mod fallback;
pub(crate) mod model;
pub(crate) mod validate;

use proc_macro2::TokenStream;

use crate::crate_path;

/// Expands `#[broker(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let parsed = args::parse(args);
    let krate = parsed.krate.clone();
    let item: syn::Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(err) => {
            let err = err.to_compile_error();
            return quote::quote!(#item #err);
        }
    };
    let args = parsed.finish();
    let shaped = validate::check_item(item);
    let tokens = match (args, shaped) {
        (Ok(args), Ok(item_impl)) => {
            let model = model::BrokerImpl::from_item(item_impl);
            match validate::check(&model) {
                Ok(()) => expand::emit(&args, &model),
                Err(err) => fallback::emit(&syn::Item::Impl(model.item), krate.as_ref(), &err),
            }
        }
        (args, shaped) => {
            let (item, mut errors) = match shaped {
                Ok(item_impl) => {
                    let model = model::BrokerImpl::from_item(item_impl);
                    let err = validate::check(&model).err();
                    (syn::Item::Impl(model.item), err)
                }
                Err(boxed) => {
                    let (item, err) = *boxed;
                    (item, Some(err))
                }
            };
            if let Err(arg_err) = args {
                match &mut errors {
                    Some(e) => e.combine(arg_err),
                    None => errors = Some(arg_err),
                }
            }
            let errors = errors.expect("at least one error in this branch");
            fallback::emit(&item, krate.as_ref(), &errors)
        }
    };
    crate_path::debug_print("#[broker]", &tokens);
    tokens
}
