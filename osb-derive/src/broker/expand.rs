//! The user's impl (verbatim) + `impl Broker` forwarding to it + catalog and plan policies.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ReturnType};

use super::args::BrokerArgs;
use super::model::{BrokerImpl, Op, TypedArg, type_name};
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
    let checks = model
        .ops
        .iter()
        .filter_map(|op| params_check(&p, &args.catalog, op));
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

            #(#checks)*
        };
    }
}

/// For a plain `params: T` argument: a `const` that fails to compile, with a message naming
/// the plan, when a plan of the catalog declares no type for these parameters
/// (`Plan::TYPED_PARAMS`, listed by `Offering::PLAN_PARAMS`). Spanned at the user's type.
fn params_check(p: &TokenStream, catalog: &[syn::Type], op: &Op) -> Option<TokenStream> {
    let TypedArg::Plain(ty) = op.typed_arg()? else {
        return None;
    };
    let (pat, _) = op.params_arg()?;
    let arg = match pat {
        syn::Pat::Ident(ident) => format!("the `{}` argument", ident.ident),
        _ => "the parameters argument".to_owned(),
    };
    let ty_name = type_name(ty);
    let kind = format_ident!("{}", op.kind.params_kind()?);
    let tables = catalog
        .iter()
        .map(|offering| quote_spanned!(offering.span()=> <#offering as #p::Offering>::PLAN_PARAMS));
    // Every token at the user's type: rustc reports the failed `const` there.
    let check = quote! {
        const _: () = {
            if let #p::core::option::Option::Some(message) =
                &#p::missing_params(&[#(#tables),*], #p::ParamsKind::#kind, #arg, #ty_name)
            {
                #p::core::panic!("{}", message.as_str());
            }
        };
    };
    Some(respan(check, ty.span()))
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
    let ctx_arg = respan(quote!(#ctx), span_of(0));
    let ret_span = match &op.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => op.sig.ident.span(),
    };
    let (params, call_args) = match op.kind.request() {
        Some(req) => {
            let req_ty = format_ident!("{}", req);
            let req_arg = respan(quote!(#request), span_of(1));
            (
                quote!(#ctx: &#p::RequestContext, #request: #p::#req_ty),
                quote!(#ctx_arg, #req_arg),
            )
        }
        None => (quote!(#ctx: &#p::RequestContext), quote!(#ctx_arg)),
    };
    let call = respan(quote!(<#self_ty>::#name), ret_span);
    let body = match op.typed_arg() {
        // Typed parameters: decoded (400 on failure) before the user's method is called;
        // `Option<T>`: `None` for a plan that declares no type for them.
        Some(typed_arg) => {
            let typed = format_ident!("__osb_params");
            let typed_arg_tokens = respan(quote!(#typed), span_of(2));
            let decode = match typed_arg {
                TypedArg::Plain(ty) => {
                    let decode = quote_spanned!(ty.span()=> #p::decode_params::<#ty>);
                    quote!(#decode(#request.parameters.as_ref()))
                }
                TypedArg::Optional(ty) => {
                    let kind = format_ident!("{}", op.kind.params_kind().unwrap_or("Provision"));
                    let decode = quote_spanned!(ty.span()=> #p::decode_params_for_plan::<#ty>);
                    quote!(#decode(#ctx, #p::ParamsKind::#kind, #request.parameters.as_ref()))
                }
            };
            let typed_arg = typed_arg_tokens;
            quote! {
                async move {
                    let #typed = match #decode {
                        #p::core::result::Result::Ok(params) => params,
                        #p::core::result::Result::Err(error) => {
                            return #p::core::result::Result::Err(error);
                        }
                    };
                    #call(self, #call_args, #typed_arg).await
                }
            }
        }
        None => quote!(#call(self, #call_args)),
    };
    // The return type is spanned at the method name: a non-`Send` future is reported there.
    let output = respan(
        quote! {
            impl #p::core::future::Future<
                Output = #p::core::result::Result<#response, #p::BrokerError>,
            > + #p::core::marker::Send
        },
        name.span(),
    );
    quote! {
        fn #name(&self, #params) -> #output {
            #body
        }
    }
}

/// Sets the span of every token, so rustc's errors about them point at user code.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tree = TokenTree::Group(new);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// Expansion snapshot ("everything on"): `tests/expand/broker.rs`.
    /// Re-bless with `OSB_BLESS=1 cargo test -p osb-derive --lib`.
    #[test]
    fn snapshot() {
        let args = quote!(catalog(Echo, other::Second), crate = "my::osb");
        let item = quote! {
            impl EchoBroker {
                async fn provision(&self, ctx: &RequestContext, req: ProvisionRequest) -> Result<Provisioned, BrokerError> {
                    Ok(Provisioned::done())
                }
                async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
                    Ok(Deprovisioned::done())
                }
                async fn fetch_instance(&self, _: &RequestContext) -> Result<Option<FetchInstanceResponse>, BrokerError> {
                    Ok(None)
                }
                async fn bind(&self, _: &RequestContext, _: BindRequest, params: BindParams) -> Result<Bound, BrokerError> {
                    Ok(Bound::credentials(params.into()))
                }
            }
        };
        let actual = crate::snapshot::pretty(super::super::expand(args, item));
        crate::snapshot::assert_snapshot("broker.rs", &actual);
    }
}
