//! Checks of the `#[broker]` impl block: shape, operation names, `async`, `&self`, arity,
//! required operations. Every problem is reported in one run.

use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, Item, ItemImpl};

use super::model::{BrokerImpl, OpKind};
use crate::suggest::suggest;

fn push(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(e) => e.combine(error),
        None => *errors = Some(error),
    }
}

/// The item must be a non-generic inherent impl block.
pub(crate) fn check_item(item: Item) -> Result<ItemImpl, Box<(Item, syn::Error)>> {
    let item_impl = match item {
        Item::Impl(item_impl) => item_impl,
        other => {
            let err = syn::Error::new(
                first_token_span(&other),
                "expected an `impl` block: `#[broker]` goes on `impl MyBroker { .. }`",
            );
            return Err(Box::new((other, err)));
        }
    };
    if let Some((_, path, _)) = &item_impl.trait_ {
        let err = syn::Error::new_spanned(
            path,
            "expected an inherent impl (`impl MyBroker { .. }`); `#[broker]` writes the `Broker` impl itself",
        );
        return Err(Box::new((Item::Impl(item_impl), err)));
    }
    if !item_impl.generics.params.is_empty() || item_impl.generics.where_clause.is_some() {
        let err = syn::Error::new_spanned(
            &item_impl.generics,
            "`#[broker]` does not support generic impl blocks",
        );
        return Err(Box::new((Item::Impl(item_impl), err)));
    }
    Ok(item_impl)
}

fn first_token_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Fn(f) => f.sig.fn_token.span,
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Trait(t) => t.trait_token.span,
        Item::Mod(m) => m.mod_token.span,
        other => other.span(),
    }
}

/// Checks every operation and the required ones.
pub(crate) fn check(model: &BrokerImpl) -> Result<(), syn::Error> {
    let mut errors = None;
    let names: Vec<&str> = OpKind::ALL.iter().map(|op| op.name()).collect();
    for sig in &model.unknown {
        let name = sig.ident.to_string();
        let message = match suggest(&name, &names) {
            Some(candidate) => format!("unknown broker operation `{name}`; did you mean `{candidate}`?"),
            None => format!(
                "unknown broker operation `{name}`: every method of a `#[broker]` impl is an operation (expected one of {}); move helpers to a separate `impl` block",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        push(&mut errors, syn::Error::new_spanned(&sig.ident, message));
    }
    for other in &model.others {
        let span = match other {
            ImplItem::Const(c) => c.const_token.span,
            ImplItem::Type(t) => t.type_token.span,
            other => other.span(),
        };
        push(
            &mut errors,
            syn::Error::new(
                span,
                "a `#[broker]` impl holds only operations (`async fn`); move other items to a separate `impl` block",
            ),
        );
    }
    for op in &model.ops {
        let sig = &op.sig;
        if sig.asyncness.is_none() {
            push(
                &mut errors,
                syn::Error::new(sig.fn_token.span, "broker operations must be `async fn`"),
            );
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            push(
                &mut errors,
                syn::Error::new_spanned(&sig.generics, "broker operations cannot be generic"),
            );
        }
        let receiver_ok = matches!(
            sig.inputs.first(),
            Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none()
        );
        if !receiver_ok {
            let error = match sig.inputs.first() {
                Some(FnArg::Receiver(r)) => syn::Error::new_spanned(r, "broker operations take `&self`"),
                _ => syn::Error::new_spanned(&sig.ident, "broker operations take `&self`"),
            };
            push(&mut errors, error);
        } else {
            let expected = if op.kind.request().is_some() { 3 } else { 2 };
            let typed = op.kind.takes_params() && sig.inputs.len() == expected + 1;
            if sig.inputs.len() != expected && !typed {
                push(
                    &mut errors,
                    syn::Error::new(sig.paren_token.span.join(), op.kind.signatures()),
                );
            } else {
                check_arg_types(op.kind, sig, &mut errors);
            }
        }
        if sig.variadic.is_some() {
            push(
                &mut errors,
                syn::Error::new_spanned(&sig.variadic, "broker operations cannot be variadic"),
            );
        }
    }
    for required in OpKind::REQUIRED {
        if model.op(required).is_none() {
            push(
                &mut errors,
                syn::Error::new_spanned(
                    &model.self_ty,
                    format!(
                        "missing broker operation `{}`: add `{}`",
                        required.name(),
                        required.signature()
                    ),
                ),
            );
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The request types of the operations, by the name users write.
const REQUEST_NAMES: [&str; 6] = [
    "ProvisionRequest",
    "UpdateRequest",
    "DeprovisionRequest",
    "BindRequest",
    "RotateBindingRequest",
    "UnbindRequest",
];

/// The last identifier of a plain path type (`a::b::BindRequest` → `BindRequest`).
fn last_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|s| s.ident.to_string())
        }
        syn::Type::Paren(inner) => last_ident(&inner.elem),
        syn::Type::Group(inner) => last_ident(&inner.elem),
        _ => None,
    }
}

/// Argument types that visibly name the wrong OSB type: another operation's request, or a
/// request or context taken the wrong way (by reference / by value). Reported here, in the
/// user's terms ("the second argument of `unbind` is `UnbindRequest`"), because rustc's
/// mismatch reads backwards from the user's side (``expected `BindRequest`, found
/// `UnbindRequest` ``). Types the macro cannot recognise (aliases) are left to rustc.
fn check_arg_types(kind: OpKind, sig: &syn::Signature, errors: &mut Option<syn::Error>) {
    let name = kind.name();
    let typed: Vec<&syn::Type> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => Some(&*t.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if let Some(ctx) = typed.first() {
        let message = match ctx {
            syn::Type::Reference(r) => match last_ident(&r.elem) {
                Some(found) if REQUEST_NAMES.contains(&found.as_str()) => Some(found_message(
                    "first",
                    name,
                    "&RequestContext",
                    "osb_server_mini::RequestContext",
                    ctx,
                )),
                _ => None,
            },
            other => match last_ident(other) {
                Some(found) if found == "RequestContext" || REQUEST_NAMES.contains(&found.as_str()) => {
                    Some(found_message(
                        "first",
                        name,
                        "&RequestContext",
                        "osb_server_mini::RequestContext",
                        ctx,
                    ))
                }
                _ => None,
            },
        };
        if let Some(message) = message {
            push(errors, syn::Error::new_spanned(ctx, message));
        }
    }
    let (Some(expected), Some(path)) = (kind.request(), kind.request_path()) else {
        return;
    };
    let Some(request) = typed.get(1) else { return };
    let wrong = match request {
        syn::Type::Reference(r) => last_ident(&r.elem)
            .is_some_and(|found| found == "RequestContext" || REQUEST_NAMES.contains(&found.as_str())),
        other => last_ident(other).is_some_and(|found| {
            found != expected && (found == "RequestContext" || REQUEST_NAMES.contains(&found.as_str()))
        }),
    };
    if wrong {
        push(
            errors,
            syn::Error::new_spanned(request, found_message("second", name, expected, path, request)),
        );
    }
}

fn found_message(nth: &str, op: &str, expected: &str, path: &str, found: &syn::Type) -> String {
    let found = super::model::type_name(found);
    format!("the {nth} argument of `{op}` is `{expected}` (`{path}`), not `{found}`")
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn errors(item: proc_macro2::TokenStream) -> Vec<String> {
        let item = check_item(syn::parse2(item).unwrap()).unwrap();
        match check(&BrokerImpl::from_item(item)) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn accumulates_every_problem() {
        let messages = errors(quote! {
            impl B {
                fn provision(&mut self, ctx: &RequestContext, r: ProvisionRequest) -> R { todo!() }
                async fn bnd(&self, ctx: &RequestContext, r: BindRequest) -> R { todo!() }
                async fn fetch_instance(&self) -> R { todo!() }
                const X: u8 = 1;
            }
        });
        assert_eq!(
            messages,
            [
                "unknown broker operation `bnd`; did you mean `bind`?",
                "a `#[broker]` impl holds only operations (`async fn`); move other items to a separate `impl` block",
                "broker operations must be `async fn`",
                "broker operations take `&self`",
                "expected `async fn fetch_instance(&self, ctx: &RequestContext)`",
                "missing broker operation `deprovision`: add `async fn deprovision(&self, ctx: &RequestContext, request: DeprovisionRequest)`",
            ]
        );
    }

    #[test]
    fn accepts_a_complete_impl() {
        let messages = errors(quote! {
            impl B {
                async fn provision(&self, ctx: &RequestContext, r: ProvisionRequest) -> R { todo!() }
                async fn deprovision(&self, ctx: &RequestContext, r: DeprovisionRequest) -> R { todo!() }
                async fn binding_last_operation(&self, ctx: &RequestContext) -> R { todo!() }
            }
        });
        assert!(messages.is_empty(), "{messages:?}");
    }

    #[test]
    fn typed_parameters_only_where_the_request_has_parameters() {
        let messages = errors(quote! {
            impl B {
                async fn provision(&self, ctx: &RequestContext, r: ProvisionRequest, p: P) -> R { todo!() }
                async fn update(&self, ctx: &RequestContext, r: UpdateRequest, p: P) -> R { todo!() }
                async fn bind(&self, ctx: &RequestContext, r: BindRequest, p: P) -> R { todo!() }
                async fn deprovision(&self, ctx: &RequestContext, r: DeprovisionRequest, p: P) -> R { todo!() }
                async fn unbind(&self, ctx: &RequestContext, r: UnbindRequest, p: P, q: Q) -> R { todo!() }
            }
        });
        assert_eq!(
            messages,
            [
                "expected `async fn deprovision(&self, ctx: &RequestContext, request: DeprovisionRequest)`",
                "expected `async fn unbind(&self, ctx: &RequestContext, request: UnbindRequest)`",
            ]
        );
        let bind = errors(quote! {
            impl B {
                async fn provision(&self, ctx: &RequestContext, r: ProvisionRequest) -> R { todo!() }
                async fn deprovision(&self, ctx: &RequestContext, r: DeprovisionRequest) -> R { todo!() }
                async fn bind(&self, ctx: &RequestContext, r: BindRequest, p: P, q: Q) -> R { todo!() }
            }
        });
        assert_eq!(
            bind,
            [
                "expected `async fn bind(&self, ctx: &RequestContext, request: BindRequest)`, or with typed parameters `async fn bind(&self, ctx: &RequestContext, request: BindRequest, params: MyParams)`"
            ]
        );
    }

    #[test]
    fn argument_types_are_named_in_the_users_terms() {
        let messages = errors(quote! {
            impl B {
                async fn provision(&self, ctx: &RequestContext, r: osb::types::ProvisionRequest) -> R { todo!() }
                async fn deprovision(&self, ctx: &RequestContext, r: &DeprovisionRequest) -> R { todo!() }
                async fn unbind(&self, ctx: &RequestContext, r: BindRequest) -> R { todo!() }
                async fn bind(&self, ctx: RequestContext, r: BindRequest) -> R { todo!() }
                async fn update(&self, ctx: &UpdateRequest, r: UpdateRequest) -> R { todo!() }
                async fn rotate_binding(&self, ctx: &RequestContext, r: MyAlias) -> R { todo!() }
            }
        });
        assert_eq!(
            messages,
            [
                "the second argument of `deprovision` is `DeprovisionRequest` (`osb_server_mini::request::DeprovisionRequest`), not `&DeprovisionRequest`",
                "the second argument of `unbind` is `UnbindRequest` (`osb_server_mini::request::UnbindRequest`), not `BindRequest`",
                "the first argument of `bind` is `&RequestContext` (`osb_server_mini::RequestContext`), not `RequestContext`",
                "the first argument of `update` is `&RequestContext` (`osb_server_mini::RequestContext`), not `&UpdateRequest`",
            ]
        );
    }

    #[test]
    fn rejects_shapes() {
        let trait_impl = check_item(syn::parse2(quote!(impl Broker for B {})).unwrap());
        assert!(
            trait_impl
                .unwrap_err()
                .1
                .to_string()
                .starts_with("expected an inherent impl")
        );
        let generic = check_item(
            syn::parse2(quote!(
                impl<T> B<T> {}
            ))
            .unwrap(),
        );
        assert_eq!(
            generic.unwrap_err().1.to_string(),
            "`#[broker]` does not support generic impl blocks"
        );
    }
}
