//! Code generation for `#[derive(Offering)]` and `#[derive(Plan)]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::attrs::{CostAttr, ExtraAttrs, ExtraValue, Flag, OfferingAttrs, PlanAttrs, Str, StrList, TypeArg};
use crate::crate_path;

fn string(p: &TokenStream, s: &Str) -> TokenStream {
    let lit = &s.0;
    let _ = p;
    quote!(::std::string::String::from(#lit))
}

fn opt_string(p: &TokenStream, s: Option<&Str>) -> TokenStream {
    match s {
        Some(s) => {
            let s = string(p, s);
            quote!(#p::core::option::Option::Some(#s))
        }
        None => quote!(#p::core::option::Option::None),
    }
}

fn opt_flag(p: &TokenStream, f: Option<Flag>) -> TokenStream {
    match f {
        Some(Flag(b)) => quote!(#p::core::option::Option::Some(#b)),
        None => quote!(#p::core::option::Option::None),
    }
}

fn opt_list(p: &TokenStream, l: Option<&StrList>) -> TokenStream {
    match l {
        Some(StrList(items)) => {
            quote!(#p::core::option::Option::Some(::std::vec![#(::std::string::String::from(#items)),*]))
        }
        None => quote!(#p::core::option::Option::None),
    }
}

fn extra_value(p: &TokenStream, value: &ExtraValue) -> TokenStream {
    match value {
        ExtraValue::Str(s) => quote!(#p::serde_json::Value::from(#s)),
        ExtraValue::Bool(b) => quote!(#p::serde_json::Value::Bool(#b)),
        ExtraValue::Int(n) => match i64::try_from(*n) {
            Ok(n) => {
                let lit = proc_macro2::Literal::i64_suffixed(n);
                quote!(#p::serde_json::Value::from(#lit))
            }
            Err(_) => {
                let lit = proc_macro2::Literal::u64_suffixed(u64::try_from(*n).unwrap_or(u64::MAX));
                quote!(#p::serde_json::Value::from(#lit))
            }
        },
        ExtraValue::Float(x) => {
            let lit = proc_macro2::Literal::f64_suffixed(*x);
            quote!(#p::serde_json::Value::from(#lit))
        }
        ExtraValue::List(items) => {
            let items = items.iter().map(|v| extra_value(p, v));
            quote!(#p::serde_json::Value::Array(::std::vec![#(#items),*]))
        }
    }
}

/// `extra: <map>,` for a metadata struct literal, when `extra(..)` is given.
fn extra(p: &TokenStream, extra: Option<&ExtraAttrs>) -> TokenStream {
    use syn::ext::IdentExt;
    let Some(ExtraAttrs(entries)) = extra else {
        return TokenStream::new();
    };
    let entries = entries.iter().map(|(key, value)| {
        let key = key.unraw().to_string();
        let value = extra_value(p, value);
        quote!((::std::string::String::from(#key), #value))
    });
    quote! {
        extra: ::std::iter::Iterator::collect(::std::iter::IntoIterator::into_iter([#(#entries),*])),
    }
}

/// `impl Offering for X`.
pub(crate) fn offering(attrs: &OfferingAttrs) -> TokenStream {
    let p = crate_path::private(attrs.krate.as_ref());
    let ident = &attrs.ident;
    let id = &attrs.id.0;
    let name = string(&p, &attrs.name);
    let description = string(&p, &attrs.description);
    let tags = opt_list(&p, attrs.tags.as_ref());
    let requires = opt_list(&p, attrs.requires.as_ref());
    let bindable = attrs.bindable.is_some_and(|f| f.0);
    let instances_retrievable = opt_flag(&p, attrs.instances_retrievable);
    let bindings_retrievable = opt_flag(&p, attrs.bindings_retrievable);
    let allow_context_updates = opt_flag(&p, attrs.allow_context_updates);
    let plan_updateable = opt_flag(&p, attrs.plan_updateable);
    let metadata = match &attrs.metadata {
        Some(m) => {
            let display_name = opt_string(&p, m.display_name.as_ref());
            let image_url = opt_string(&p, m.image_url.as_ref());
            let long_description = opt_string(&p, m.long_description.as_ref());
            let provider_display_name = opt_string(&p, m.provider_display_name.as_ref());
            let documentation_url = opt_string(&p, m.documentation_url.as_ref());
            let support_url = opt_string(&p, m.support_url.as_ref());
            let shareable = opt_flag(&p, m.shareable);
            let extra = extra(&p, m.extra.as_ref());
            quote!(#p::core::option::Option::Some(#p::OfferingMetadata {
                display_name: #display_name,
                image_url: #image_url,
                long_description: #long_description,
                provider_display_name: #provider_display_name,
                documentation_url: #documentation_url,
                support_url: #support_url,
                shareable: #shareable,
                #extra
                ..#p::core::default::Default::default()
            }))
        }
        None => quote!(#p::core::option::Option::None),
    };
    let dashboard_client = match &attrs.dashboard_client {
        Some(c) => {
            let id = string(&p, &c.id);
            let secret = string(&p, &c.secret);
            let redirect_uri = opt_string(&p, c.redirect_uri.as_ref());
            quote!(#p::core::option::Option::Some(#p::DashboardClient {
                id: #id,
                secret: #secret,
                redirect_uri: #redirect_uri,
                ..#p::core::default::Default::default()
            }))
        }
        None => quote!(#p::core::option::Option::None),
    };
    let plans: Vec<TokenStream> = attrs
        .plans
        .iter()
        .map(|plan| quote_spanned!(plan.span()=> <#plan as #p::Plan>::plan()))
        .collect();
    let policies: Vec<TokenStream> = attrs
        .plans
        .iter()
        .map(|plan| {
            quote_spanned!(plan.span()=>
                (#p::PlanId::from(<#plan as #p::Plan>::ID), <#plan as #p::Plan>::policy()))
        })
        .collect();
    let offering_name = &attrs.name.0;
    let plan_params: Vec<TokenStream> = attrs
        .plans
        .iter()
        .map(|plan| {
            quote_spanned!(plan.span()=>
                #p::PlanParams::new(#offering_name, <#plan as #p::Plan>::NAME, <#plan as #p::Plan>::TYPED_PARAMS))
        })
        .collect();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::Offering for #ident {
                const PLAN_PARAMS: &'static [#p::PlanParams] = &[#(#plan_params),*];

                fn offering() -> #p::ServiceOffering {
                    #p::ServiceOffering {
                        id: #p::ServiceId::from(#id),
                        name: #name,
                        description: #description,
                        tags: #tags,
                        requires: #requires,
                        bindable: #bindable,
                        instances_retrievable: #instances_retrievable,
                        bindings_retrievable: #bindings_retrievable,
                        allow_context_updates: #allow_context_updates,
                        metadata: #metadata,
                        dashboard_client: #dashboard_client,
                        plan_updateable: #plan_updateable,
                        plans: ::std::vec![#(#plans),*],
                        ..#p::core::default::Default::default()
                    }
                }

                fn plan_policies() -> #p::Vec<(#p::PlanId, #p::PlanPolicy)> {
                    ::std::vec![#(#policies),*]
                }
            }
        };
    }
}

fn cost(p: &TokenStream, cost: &CostAttr) -> TokenStream {
    let unit = &cost.unit;
    let amounts = cost.amount.iter().map(|(currency, lit)| {
        let number = match lit {
            syn::Lit::Float(_) => {
                quote!(#p::serde_json::Number::from_f64(#lit).expect("a finite literal"))
            }
            _ => quote!(#p::serde_json::Number::from(#lit)),
        };
        quote!((::std::string::String::from(#currency), #number))
    });
    quote!(#p::Cost {
        amount: ::std::iter::Iterator::collect(::std::iter::IntoIterator::into_iter([#(#amounts),*])),
        unit: ::std::string::String::from(#unit),
        ..#p::core::default::Default::default()
    })
}

fn schema(p: &TokenStream, ty: Option<&TypeArg>) -> TokenStream {
    match ty {
        Some(TypeArg(ty)) => quote_spanned! {ty.span()=>
            #p::core::option::Option::Some(#p::InputParametersSchema::new(#p::osb_types::schema::draft04(
                #p::schemars::schema_for!(#ty).to_value()
            )))
        },
        None => quote!(#p::core::option::Option::None),
    }
}

/// `impl Plan for X`.
pub(crate) fn plan(attrs: &PlanAttrs) -> TokenStream {
    let p = crate_path::private(attrs.krate.as_ref());
    let ident = &attrs.ident;
    let id = &attrs.id.0;
    let name = &attrs.name.0;
    let description = string(&p, &attrs.description);
    let free = opt_flag(&p, attrs.free);
    let bindable = opt_flag(&p, attrs.bindable);
    let binding_rotatable = opt_flag(&p, attrs.binding_rotatable);
    let plan_updateable = opt_flag(&p, attrs.plan_updateable);
    let maximum_polling_duration = match &attrs.maximum_polling_duration {
        Some(secs) => {
            let secs = secs.0.base10_parse::<u32>().map(i64::from).unwrap_or_default();
            quote!(#p::core::option::Option::Some(#secs))
        }
        None => quote!(#p::core::option::Option::None),
    };
    let maintenance_info = match &attrs.maintenance_info {
        Some(info) => {
            let version = string(&p, &info.version);
            let description = opt_string(&p, info.description.as_ref());
            quote!(#p::core::option::Option::Some(#p::MaintenanceInfo {
                version: #p::core::option::Option::Some(#version),
                description: #description,
                ..#p::core::default::Default::default()
            }))
        }
        None => quote!(#p::core::option::Option::None),
    };
    let metadata = match &attrs.metadata {
        Some(m) => {
            let bullets = opt_list(&p, m.bullets.as_ref());
            let display_name = opt_string(&p, m.display_name.as_ref());
            let costs = if m.cost.is_empty() {
                quote!(#p::core::option::Option::None)
            } else {
                let costs = m.cost.iter().map(|c| cost(&p, c));
                quote!(#p::core::option::Option::Some(::std::vec![#(#costs),*]))
            };
            let extra = extra(&p, m.extra.as_ref());
            quote!(#p::core::option::Option::Some(#p::PlanMetadata {
                bullets: #bullets,
                costs: #costs,
                display_name: #display_name,
                #extra
                ..#p::core::default::Default::default()
            }))
        }
        None => quote!(#p::core::option::Option::None),
    };
    let typed = [&attrs.provision_params, &attrs.update_params, &attrs.bind_params];
    let [provision_typed, update_typed, bind_typed] = typed.map(Option::is_some);
    let schemas = if typed.iter().all(|t| t.is_none()) {
        quote!(#p::core::option::Option::None)
    } else {
        let create = schema(&p, attrs.provision_params.as_ref());
        let update = schema(&p, attrs.update_params.as_ref());
        let bind = schema(&p, attrs.bind_params.as_ref());
        let instance = if attrs.provision_params.is_some() || attrs.update_params.is_some() {
            quote!(#p::core::option::Option::Some(#p::ServiceInstanceSchema {
                create: #create,
                update: #update,
                ..#p::core::default::Default::default()
            }))
        } else {
            quote!(#p::core::option::Option::None)
        };
        let binding = if attrs.bind_params.is_some() {
            quote!(#p::core::option::Option::Some(#p::ServiceBindingSchema {
                create: #bind,
                ..#p::core::default::Default::default()
            }))
        } else {
            quote!(#p::core::option::Option::None)
        };
        quote!(#p::core::option::Option::Some(#p::Schemas {
            service_instance: #instance,
            service_binding: #binding,
            ..#p::core::default::Default::default()
        }))
    };
    let deserialize_checks = typed
        .into_iter()
        .flatten()
        .map(|TypeArg(ty)| quote_spanned!(ty.span()=> __osb_assert_params::<#ty>();));
    let mut policy = if attrs.async_only.is_some_and(|f| f.0) {
        quote!(#p::PlanPolicy::async_only())
    } else {
        quote!(<#p::PlanPolicy as #p::core::default::Default>::default())
    };
    if let Some(secs) = &attrs.retry_after_secs {
        let secs = secs.0.base10_parse::<u32>().map(u64::from).unwrap_or_default();
        policy = quote!(#policy.retry_after(#p::Duration::from_secs(#secs)));
    }
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::Plan for #ident {
                const ID: &'static str = #id;
                const NAME: &'static str = #name;
                const TYPED_PARAMS: #p::core::option::Option<#p::TypedParams> =
                    #p::core::option::Option::Some(#p::TypedParams {
                        provision: #provision_typed,
                        update: #update_typed,
                        bind: #bind_typed,
                    });

                fn plan() -> #p::ServicePlan {
                    fn __osb_assert_params<T: #p::serde::de::DeserializeOwned>() {}
                    #(#deserialize_checks)*
                    #p::ServicePlan {
                        id: #p::PlanId::from(<Self as #p::Plan>::ID),
                        name: ::std::string::String::from(<Self as #p::Plan>::NAME),
                        description: #description,
                        metadata: #metadata,
                        free: #free,
                        bindable: #bindable,
                        binding_rotatable: #binding_rotatable,
                        plan_updateable: #plan_updateable,
                        schemas: #schemas,
                        maximum_polling_duration: #maximum_polling_duration,
                        maintenance_info: #maintenance_info,
                        ..#p::core::default::Default::default()
                    }
                }

                fn policy() -> #p::PlanPolicy {
                    #policy
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// Expansion snapshot ("everything on"): `tests/expand/catalog.rs`.
    /// Re-bless with `OSB_BLESS=1 cargo test -p osb-derive --lib`.
    #[test]
    fn snapshot() {
        let offering = super::super::derive_offering(quote! {
            #[osb(id = "svc", name = "echo", description = "Echoes", tags("a"), requires("syslog_drain"),
                  bindable, instances_retrievable, bindings_retrievable, allow_context_updates,
                  plan_updateable = false,
                  metadata(display_name = "Echo", image_url = "https://i", long_description = "L",
                           provider_display_name = "P", documentation_url = "https://d",
                           support_url = "https://s", shareable,
                           extra(vendor = "acme", tier = 2, r#type = "db", ratio = -0.5, beta = false,
                                 regions("eu", "us"))),
                  dashboard_client(id = "c", secret = "s", redirect_uri = "https://r"),
                  plans(Small, Large))]
            struct Echo;
        });
        let plan = super::super::derive_plan(quote! {
            #[osb(id = "p", name = "large", description = "Large", free = false, bindable,
                  binding_rotatable, plan_updateable, maximum_polling_duration = 600,
                  maintenance_info(version = "1.0.0", description = "M"),
                  metadata(bullets("b"), display_name = "Large",
                           cost(unit = "MONTHLY", amount(usd = 1.5, eur = 2)),
                           extra(quota = 18446744073709551615, floor = -9223372036854775808)),
                  async_only, retry_after_secs = 3,
                  provision_params = P, update_params = P, bind_params = B)]
            struct Large;
        });
        let actual = crate::snapshot::pretty(quote!(#offering #plan));
        crate::snapshot::assert_snapshot("catalog.rs", &actual);
    }
}
