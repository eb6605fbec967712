//! darling structs for `#[osb(...)]` on offering and plan structs, plus the value types
//! that give the messages of wrong literals ("expected a boolean", ...).

use darling::ast::NestedMeta;
use darling::util::PathList;
use darling::{Error, FromDeriveInput, FromMeta, Result};
use syn::{Expr, Lit, LitInt, LitStr};

/// A string literal, span kept for later checks (non-empty, SemVer).
#[derive(Debug, Clone)]
pub(crate) struct Str(pub(crate) LitStr);

impl FromMeta for Str {
    fn from_value(value: &Lit) -> Result<Self> {
        match value {
            Lit::Str(s) => Ok(Self(s.clone())),
            other => Err(Error::custom("expected a string literal").with_span(other)),
        }
    }

    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            other => Err(Error::custom("expected a string literal").with_span(other)),
        }
    }
}

/// A boolean: the bare word (`bindable`) or `bindable = true|false`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flag(pub(crate) bool);

impl FromMeta for Flag {
    fn from_word() -> Result<Self> {
        Ok(Self(true))
    }

    fn from_value(value: &Lit) -> Result<Self> {
        match value {
            Lit::Bool(b) => Ok(Self(b.value)),
            other => Err(Error::custom(
                "expected a boolean: write the bare key, or `key = true` / `key = false`",
            )
            .with_span(other)),
        }
    }

    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            other => Err(Error::custom("expected a boolean").with_span(other)),
        }
    }
}

/// A non-negative integer literal.
#[derive(Debug, Clone)]
pub(crate) struct Int(pub(crate) LitInt);

impl FromMeta for Int {
    fn from_value(value: &Lit) -> Result<Self> {
        match value {
            Lit::Int(i) if i.base10_parse::<u32>().is_ok() => Ok(Self(i.clone())),
            Lit::Int(i) => Err(Error::custom("expected an integer between 0 and 4294967295").with_span(i)),
            other => Err(Error::custom("expected an integer").with_span(other)),
        }
    }

    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            other => Err(Error::custom("expected an integer").with_span(other)),
        }
    }
}

/// `key("a", "b")`.
#[derive(Debug, Clone, Default)]
pub(crate) struct StrList(pub(crate) Vec<LitStr>);

impl FromMeta for StrList {
    fn from_list(items: &[NestedMeta]) -> Result<Self> {
        let mut errors = Error::accumulator();
        let mut out = Vec::new();
        for item in items {
            match item {
                NestedMeta::Lit(Lit::Str(s)) => out.push(s.clone()),
                NestedMeta::Lit(other) => {
                    errors.push(Error::custom("expected a string literal").with_span(other));
                }
                NestedMeta::Meta(syn::Meta::Path(path)) => {
                    let word = path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    errors.push(
                        Error::custom(format!("expected a string literal: write `\"{word}\"`"))
                            .with_span(path),
                    );
                }
                NestedMeta::Meta(other) => {
                    errors.push(Error::custom("expected a string literal").with_span(other));
                }
            }
        }
        errors.finish_with(Self(out))
    }
}

/// `provision_params = MyParams`: a type path.
#[derive(Debug, Clone)]
pub(crate) struct TypeArg(pub(crate) syn::Path);

impl FromMeta for TypeArg {
    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Path(p) if p.qself.is_none() => Ok(Self(p.path.clone())),
            Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => {
                s.parse().map(Self).map_err(|e| Error::custom(e).with_span(s))
            }
            other => Err(
                Error::custom("expected a type path, e.g. `provision_params = MyParams`").with_span(other),
            ),
        }
    }
}

/// `cost(unit = "MONTHLY", amount(usd = 649.0, eur = 600))`.
#[derive(Debug, Clone)]
pub(crate) struct CostAttr {
    pub(crate) unit: LitStr,
    /// Currency code and amount literal (integer or float).
    pub(crate) amount: Vec<(String, Lit)>,
}

impl FromMeta for CostAttr {
    fn from_list(items: &[NestedMeta]) -> Result<Self> {
        let mut errors = Error::accumulator();
        let mut unit: Option<LitStr> = None;
        let mut amount = Vec::new();
        let mut saw_amount = false;
        for item in items {
            match item {
                NestedMeta::Meta(meta) if meta.path().is_ident("unit") => {
                    if unit.is_some() {
                        errors.push(Error::duplicate_field("unit").with_span(meta));
                    } else if let Some(s) = errors.handle(Str::from_meta(meta)) {
                        unit = Some(s.0);
                    }
                }
                NestedMeta::Meta(syn::Meta::List(list)) if list.path.is_ident("amount") => {
                    saw_amount = true;
                    let Some(nested) =
                        errors.handle(NestedMeta::parse_meta_list(list.tokens.clone()).map_err(Error::from))
                    else {
                        continue;
                    };
                    for n in nested {
                        match n {
                            NestedMeta::Meta(syn::Meta::NameValue(nv)) => match &nv.value {
                                Expr::Lit(syn::ExprLit {
                                    lit: lit @ (Lit::Int(_) | Lit::Float(_)),
                                    ..
                                }) => {
                                    let currency =
                                        nv.path.get_ident().map(ToString::to_string).unwrap_or_default();
                                    amount.push((currency, lit.clone()));
                                }
                                other => errors.push(
                                    Error::custom("expected a number, e.g. `usd = 9.99`").with_span(other),
                                ),
                            },
                            other => errors.push(
                                Error::custom("expected `currency = amount`, e.g. `usd = 9.99`")
                                    .with_span(&other),
                            ),
                        }
                    }
                }
                NestedMeta::Meta(meta) => errors.push(
                    Error::unknown_field_with_alts(
                        &meta
                            .path()
                            .get_ident()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        &["unit", "amount"],
                    )
                    .with_span(meta),
                ),
                NestedMeta::Lit(lit) => {
                    errors.push(Error::unsupported_format("literal").with_span(lit));
                }
            }
        }
        if unit.is_none() {
            errors.push(Error::missing_field("unit"));
        }
        if !saw_amount {
            errors.push(Error::missing_field("amount"));
        }
        errors.finish()?;
        Ok(Self {
            unit: unit.expect("checked above"),
            amount,
        })
    }
}

/// A literal of `metadata(extra(..))`, as the JSON value it becomes.
#[derive(Debug, Clone)]
pub(crate) enum ExtraValue {
    Str(LitStr),
    /// An integer, sign applied; `u64` when it does not fit `i64`.
    Int(i128),
    Float(f64),
    Bool(bool),
    List(Vec<ExtraValue>),
}

/// `extra(key = "value", count = 3, ratio = -0.5, on = true, regions("eu", "us"))` inside
/// `metadata(..)`: vendor keys the specification leaves open, in declaration order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtraAttrs(pub(crate) Vec<(syn::Ident, ExtraValue)>);

const EXTRA_VALUE: &str = "expected a string, number or boolean literal";

fn extra_literal(expr: &Expr) -> Result<ExtraValue> {
    let (negative, lit) = match expr {
        Expr::Lit(l) => (false, &l.lit),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(l) if matches!(l.lit, Lit::Int(_) | Lit::Float(_)) => (true, &l.lit),
            other => return Err(Error::custom(EXTRA_VALUE).with_span(other)),
        },
        Expr::Group(g) => return extra_literal(&g.expr),
        other => return Err(Error::custom(EXTRA_VALUE).with_span(other)),
    };
    let out_of_range = |span: &dyn quote::ToTokens| {
        Error::custom("integer out of range: a JSON number here fits in i64 or u64").with_span(&span)
    };
    match lit {
        Lit::Str(s) => Ok(ExtraValue::Str(s.clone())),
        Lit::Bool(b) => Ok(ExtraValue::Bool(b.value)),
        Lit::Int(i) => {
            // `-5` may arrive as one literal (syn folds the sign in) or as negation of `5`.
            let n = i.base10_parse::<i128>().map_err(|_| out_of_range(i))?;
            let n = if negative { -n } else { n };
            if n < i128::from(i64::MIN) || n > i128::from(u64::MAX) {
                return Err(out_of_range(i));
            }
            Ok(ExtraValue::Int(n))
        }
        Lit::Float(f) => match f.base10_parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(ExtraValue::Float(if negative { -x } else { x })),
            _ => Err(Error::custom("expected a finite number").with_span(f)),
        },
        other => Err(Error::custom(EXTRA_VALUE).with_span(other)),
    }
}

impl FromMeta for ExtraAttrs {
    fn from_list(items: &[NestedMeta]) -> Result<Self> {
        let mut errors = Error::accumulator();
        let mut out: Vec<(syn::Ident, ExtraValue)> = Vec::new();
        for item in items {
            let NestedMeta::Meta(meta) = item else {
                errors.push(
                    Error::custom("expected `key = value`, e.g. `extra(region = \"eu\")`").with_span(item),
                );
                continue;
            };
            let Some(key) = meta.path().get_ident() else {
                errors.push(Error::custom("expected a key name, e.g. `region`").with_span(meta.path()));
                continue;
            };
            let value = match meta {
                syn::Meta::NameValue(nv) => errors.handle(extra_literal(&nv.value)),
                syn::Meta::List(list) => errors
                    .handle(NestedMeta::parse_meta_list(list.tokens.clone()).map_err(Error::from))
                    .and_then(|nested| {
                        let mut values = Vec::new();
                        for n in nested {
                            let value = match n {
                                NestedMeta::Lit(lit) => extra_literal(&Expr::Lit(syn::ExprLit {
                                    attrs: Vec::new(),
                                    lit,
                                })),
                                NestedMeta::Meta(m) => Err(Error::custom(EXTRA_VALUE).with_span(&m)),
                            };
                            values.push(errors.handle(value)?);
                        }
                        Some(ExtraValue::List(values))
                    }),
                syn::Meta::Path(p) => {
                    errors.push(
                        Error::custom(format!("expected a value: `{key} = \"..\"`, `{key} = true`, .."))
                            .with_span(p),
                    );
                    None
                }
            };
            let Some(value) = value else { continue };
            if out.iter().any(|(k, _)| k == key) {
                errors.push(Error::duplicate_field(&key.to_string()).with_span(key));
                continue;
            }
            out.push((key.clone(), value));
        }
        errors.finish_with(Self(out))
    }
}

/// `metadata(...)` of an offering.
#[derive(Debug, Clone, FromMeta)]
pub(crate) struct OfferingMetadataAttrs {
    pub(crate) display_name: Option<Str>,
    pub(crate) image_url: Option<Str>,
    pub(crate) long_description: Option<Str>,
    pub(crate) provider_display_name: Option<Str>,
    pub(crate) documentation_url: Option<Str>,
    pub(crate) support_url: Option<Str>,
    pub(crate) shareable: Option<Flag>,
    pub(crate) extra: Option<ExtraAttrs>,
}

/// `dashboard_client(...)` of an offering.
#[derive(Debug, Clone, FromMeta)]
pub(crate) struct DashboardClientAttrs {
    pub(crate) id: Str,
    pub(crate) secret: Str,
    pub(crate) redirect_uri: Option<Str>,
}

/// `#[osb(...)]` on a `#[derive(Offering)]` struct.
#[derive(Debug, FromDeriveInput)]
#[darling(attributes(osb))]
pub(crate) struct OfferingAttrs {
    pub(crate) ident: syn::Ident,
    pub(crate) id: Str,
    pub(crate) name: Str,
    pub(crate) description: Str,
    pub(crate) tags: Option<StrList>,
    pub(crate) requires: Option<StrList>,
    pub(crate) bindable: Option<Flag>,
    pub(crate) instances_retrievable: Option<Flag>,
    pub(crate) bindings_retrievable: Option<Flag>,
    pub(crate) allow_context_updates: Option<Flag>,
    pub(crate) plan_updateable: Option<Flag>,
    pub(crate) metadata: Option<OfferingMetadataAttrs>,
    pub(crate) dashboard_client: Option<DashboardClientAttrs>,
    #[darling(default)]
    pub(crate) plans: PathList,
    #[darling(rename = "crate")]
    pub(crate) krate: Option<syn::Path>,
}

/// `maintenance_info(...)` of a plan.
#[derive(Debug, Clone, FromMeta)]
pub(crate) struct MaintenanceInfoAttrs {
    pub(crate) version: Str,
    pub(crate) description: Option<Str>,
}

/// `metadata(...)` of a plan.
#[derive(Debug, Clone, FromMeta)]
pub(crate) struct PlanMetadataAttrs {
    pub(crate) bullets: Option<StrList>,
    pub(crate) display_name: Option<Str>,
    #[darling(multiple)]
    pub(crate) cost: Vec<CostAttr>,
    pub(crate) extra: Option<ExtraAttrs>,
}

/// `#[osb(...)]` on a `#[derive(Plan)]` struct.
#[derive(Debug, FromDeriveInput)]
#[darling(attributes(osb))]
pub(crate) struct PlanAttrs {
    pub(crate) ident: syn::Ident,
    pub(crate) id: Str,
    pub(crate) name: Str,
    pub(crate) description: Str,
    pub(crate) free: Option<Flag>,
    pub(crate) bindable: Option<Flag>,
    pub(crate) binding_rotatable: Option<Flag>,
    pub(crate) plan_updateable: Option<Flag>,
    pub(crate) maximum_polling_duration: Option<Int>,
    pub(crate) maintenance_info: Option<MaintenanceInfoAttrs>,
    pub(crate) metadata: Option<PlanMetadataAttrs>,
    pub(crate) async_only: Option<Flag>,
    pub(crate) retry_after_secs: Option<Int>,
    pub(crate) provision_params: Option<TypeArg>,
    pub(crate) update_params: Option<TypeArg>,
    pub(crate) bind_params: Option<TypeArg>,
    #[darling(rename = "crate")]
    pub(crate) krate: Option<syn::Path>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn input(tokens: proc_macro2::TokenStream) -> syn::DeriveInput {
        syn::parse2(tokens).unwrap()
    }

    #[test]
    fn parses_offering() {
        let attrs = OfferingAttrs::from_derive_input(&input(quote! {
            #[osb(id = "svc", name = "echo", description = "Echoes", bindable,
                  tags("a", "b"), metadata(display_name = "Echo", shareable = false),
                  plans(Small, Large))]
            struct Echo;
        }))
        .unwrap();
        assert_eq!(attrs.id.0.value(), "svc");
        assert!(attrs.bindable.unwrap().0);
        assert_eq!(attrs.tags.unwrap().0.len(), 2);
        assert!(!attrs.metadata.unwrap().shareable.unwrap().0);
        assert_eq!(attrs.plans.len(), 2);
        assert!(attrs.instances_retrievable.is_none());
    }

    #[test]
    fn parses_plan() {
        let attrs = PlanAttrs::from_derive_input(&input(quote! {
            #[osb(id = "p", name = "small", description = "Small", free = false,
                  maintenance_info(version = "1.2.3"), async_only, retry_after_secs = 5,
                  metadata(bullets("x"), cost(unit = "MONTHLY", amount(usd = 9.5))),
                  provision_params = my::Params)]
            struct Small;
        }))
        .unwrap();
        assert!(!attrs.free.unwrap().0);
        assert_eq!(attrs.maintenance_info.unwrap().version.0.value(), "1.2.3");
        let meta = attrs.metadata.unwrap();
        assert_eq!(meta.cost[0].unit.value(), "MONTHLY");
        assert_eq!(meta.cost[0].amount[0].0, "usd");
        assert!(attrs.provision_params.is_some());
    }

    #[test]
    fn wrong_literal_type() {
        let err = PlanAttrs::from_derive_input(&input(quote! {
            #[osb(id = "p", name = "n", description = "d", free = "yes")]
            struct Small;
        }))
        .unwrap_err();
        assert!(err.to_string().contains("expected a boolean"), "{err}");
    }
}
