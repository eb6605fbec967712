//! The user's impl (verbatim) + `impl Broker` forwarding to it + catalog and plan policies.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ReturnType};

use super::args::BrokerArgs;
use super::model::{BrokerImpl, Op};
use crate::crate_path;

/// Emits the user's impl block and the generated `impl Broker`.
pub(crate) fn emit(args: &BrokerArgs, model: &BrokerImpl) -> TokenStream {
    let p = crate_path::private(args.krate.as_ref());
    let item = &model.item;
    let self_ty = &model.self_ty;
    let offerings: Vec<TokenStream> = args
        .catalog
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #p::Offering>::offering()))
        .collect();
    let policies: Vec<TokenStream> = args
        .catalog
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #p::Offering>::plan_policies()))
        .collect();
    let ops = model.ops.iter().map(|op| forward(&p, self_ty, op));
    quote! {
        #item

        const _: () = {
            #[automatically_derived]
            impl #p::Broker for #self_ty {
                fn catalog(&self) -> #p::Catalog {
                    #p::Catalog::new(::std::vec![#(#offerings),*])
                }

                fn plan_policy(
                    &self,
                    _offering: &#p::ServiceOffering,
                    plan: &#p::ServicePlan,
                ) -> #p::PlanPolicy {
                    #p::find_policy(&[#(#policies),*], plan)
                }

                #(#ops)*
            }
        };
    }
}

/// One trait method calling the inherent one. The arguments are spanned at the user's
/// parameter types and the call at the user's return type, so rustc's type errors point there.
fn forward(p: &TokenStream, self_ty: &syn::Type, op: &Op) -> TokenStream {
    let name = &op.sig.ident;
    let response = op.kind.response(p);
    let user_types: Vec<Span> = op
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => Some(t.ty.span()),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let span_of = |i: usize| user_types.get(i).copied().unwrap_or_else(Span::call_site);
    let ctx = format_ident!("__osb_ctx");
    let request = format_ident!("__osb_request");
    let ctx_arg = quote_spanned!(span_of(0)=> #ctx);
    let ret_span = match &op.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => op.sig.ident.span(),
    };
    let (params, call_args) = match op.kind.request() {
        Some(req) => {
            let req_ty = format_ident!("{}", req);
            let req_arg = quote_spanned!(span_of(1)=> #request);
            (
                quote!(#ctx: &#p::RequestContext, #request: #p::#req_ty),
                quote!(#ctx_arg, #req_arg),
            )
        }
        None => (quote!(#ctx: &#p::RequestContext), quote!(#ctx_arg)),
    };
    let call = quote_spanned!(ret_span=> <#self_ty>::#name(self, #call_args));
    let send_check = quote_spanned! {name.span()=>
        #[allow(unused)]
        fn __osb_future_is_send<T: #p::core::marker::Send>(future: T) -> T { future }
    };
    quote! {
        fn #name(
            &self,
            #params
        ) -> impl #p::core::future::Future<
            Output = #p::core::result::Result<#response, #p::BrokerError>,
        > + #p::core::marker::Send {
            #send_check
            __osb_future_is_send(#call)
        }
    }
}
