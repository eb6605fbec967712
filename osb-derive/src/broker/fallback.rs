//! On error: the user's item verbatim, the errors, and (for an inherent impl) a stub
//! `impl Broker`, so code using the broker raises no second wave of errors (thiserror).

use proc_macro2::TokenStream;
use quote::quote;
use syn::Item;

use crate::crate_path;

/// Emits `item` unchanged (but for C-variadic `...`, already reported, which rustc would
/// report again), the `compile_error!`s, and a stub `impl Broker` when possible.
pub(crate) fn emit(item: &Item, krate: Option<&syn::Path>, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let mut item = item.clone();
    if let Item::Impl(i) = &mut item {
        for impl_item in &mut i.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                f.sig.variadic = None;
            }
        }
    }
    let item = &item;
    let stub = match item {
        Item::Impl(i) if i.trait_.is_none() && i.generics.params.is_empty() => {
            let p = crate_path::private(krate);
            let self_ty = &i.self_ty;
            quote! {
                const _: () = {
                    #[automatically_derived]
                    impl #p::Broker for #self_ty {
                        fn catalog(&self) -> #p::Catalog {
                            ::core::unimplemented!()
                        }
                        #[allow(unreachable_code)]
                        async fn provision(
                            &self,
                            _: &#p::RequestContext,
                            _: #p::ProvisionRequest,
                        ) -> #p::core::result::Result<#p::Provisioned, #p::BrokerError> {
                            ::core::unimplemented!()
                        }
                        #[allow(unreachable_code)]
                        async fn deprovision(
                            &self,
                            _: &#p::RequestContext,
                            _: #p::DeprovisionRequest,
                        ) -> #p::core::result::Result<#p::Deprovisioned, #p::BrokerError> {
                            ::core::unimplemented!()
                        }
                    }
                };
            }
        }
        _ => TokenStream::new(),
    };
    quote! {
        #item
        #errors
        #stub
    }
}
