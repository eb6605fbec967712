//! The `#[broker]` impl block as the macro sees it: the self type and its operations.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, ItemImpl, Signature, Type};

/// One OSB operation of the `Broker` trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Provision,
    Update,
    Deprovision,
    FetchInstance,
    InstanceLastOperation,
    Bind,
    RotateBinding,
    Unbind,
    FetchBinding,
    BindingLastOperation,
    Resume,
}

impl OpKind {
    pub(crate) const ALL: [OpKind; 11] = [
        OpKind::Provision,
        OpKind::Update,
        OpKind::Deprovision,
        OpKind::FetchInstance,
        OpKind::InstanceLastOperation,
        OpKind::Bind,
        OpKind::RotateBinding,
        OpKind::Unbind,
        OpKind::FetchBinding,
        OpKind::BindingLastOperation,
        OpKind::Resume,
    ];

    /// Operations without a default body in the trait.
    pub(crate) const REQUIRED: [OpKind; 2] = [OpKind::Provision, OpKind::Deprovision];

    pub(crate) fn name(self) -> &'static str {
        match self {
            OpKind::Provision => "provision",
            OpKind::Update => "update",
            OpKind::Deprovision => "deprovision",
            OpKind::FetchInstance => "fetch_instance",
            OpKind::InstanceLastOperation => "instance_last_operation",
            OpKind::Bind => "bind",
            OpKind::RotateBinding => "rotate_binding",
            OpKind::Unbind => "unbind",
            OpKind::FetchBinding => "fetch_binding",
            OpKind::BindingLastOperation => "binding_last_operation",
            OpKind::Resume => "resume",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The request type name under `__private`, for operations that take one.
    pub(crate) fn request(self) -> Option<&'static str> {
        match self {
            OpKind::Provision => Some("ProvisionRequest"),
            OpKind::Update => Some("UpdateRequest"),
            OpKind::Deprovision => Some("DeprovisionRequest"),
            OpKind::Bind => Some("BindRequest"),
            OpKind::RotateBinding => Some("RotateBindingRequest"),
            OpKind::Unbind => Some("UnbindRequest"),
            OpKind::Resume => Some("Interrupted"),
            OpKind::FetchInstance
            | OpKind::InstanceLastOperation
            | OpKind::FetchBinding
            | OpKind::BindingLastOperation => None,
        }
    }

    /// The success type, relative to the `__private` path `p`.
    pub(crate) fn response(self, p: &TokenStream) -> TokenStream {
        match self {
            OpKind::Provision => quote!(#p::Provisioned),
            OpKind::Update => quote!(#p::Updated),
            OpKind::Deprovision => quote!(#p::Deprovisioned),
            OpKind::Bind | OpKind::RotateBinding => quote!(#p::Bound),
            OpKind::Unbind => quote!(#p::Unbound),
            OpKind::Resume => quote!(#p::Resumed),
            OpKind::FetchInstance => {
                quote!(#p::core::option::Option<#p::FetchInstanceResponse>)
            }
            OpKind::FetchBinding => quote!(#p::core::option::Option<#p::FetchBindingResponse>),
            OpKind::InstanceLastOperation | OpKind::BindingLastOperation => {
                quote!(#p::core::option::Option<#p::LastOperationResponse>)
            }
        }
    }

    /// Where the request type is, for messages.
    pub(crate) fn request_path(self) -> Option<&'static str> {
        match self {
            OpKind::Provision => Some("osb_server_mini::types::ProvisionRequest"),
            OpKind::Update => Some("osb_server_mini::types::UpdateRequest"),
            OpKind::Deprovision => Some("osb_server_mini::request::DeprovisionRequest"),
            OpKind::Bind => Some("osb_server_mini::types::BindRequest"),
            OpKind::RotateBinding => Some("osb_server_mini::types::binding::RotateBindingRequest"),
            OpKind::Unbind => Some("osb_server_mini::request::UnbindRequest"),
            _ => None,
        }
    }

    /// The `ParamsKind` variant under `__private`, for operations that may take typed parameters.
    pub(crate) fn params_kind(self) -> Option<&'static str> {
        match self {
            OpKind::Provision => Some("Provision"),
            OpKind::Update => Some("Update"),
            OpKind::Bind => Some("Bind"),
            _ => None,
        }
    }

    /// Whether the request carries `parameters`, so the operation may take typed ones.
    pub(crate) fn takes_params(self) -> bool {
        matches!(self, OpKind::Provision | OpKind::Update | OpKind::Bind)
    }

    /// How the operation is declared, for messages.
    pub(crate) fn signature(self) -> String {
        let name = self.name();
        match self.request() {
            Some(request) => format!("async fn {name}(&self, ctx: &RequestContext, request: {request})"),
            None => format!("async fn {name}(&self, ctx: &RequestContext)"),
        }
    }

    /// The accepted declarations, for the wrong-arity message.
    pub(crate) fn signatures(self) -> String {
        let plain = self.signature();
        if self.takes_params() {
            let typed = plain.replace(')', ", params: MyParams)");
            format!("expected `{plain}`, or with typed parameters `{typed}`")
        } else {
            format!("expected `{plain}`")
        }
    }
}

/// The typed-parameters argument of an operation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TypedArg<'a> {
    /// `params: T`: decoded for every plan.
    Plain(&'a Type),
    /// `params: Option<T>`: `None` for plans that declare no type, else decoded into `T`.
    Optional(&'a Type),
}

/// `T` when `ty` is written `Option<T>` (or `std::option::Option<T>`, `core::option::Option<T>`).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let is_option = match segments.as_slice() {
        [one] => one == "Option",
        [krate, module, last] => {
            (krate == "std" || krate == "core") && module == "option" && last == "Option"
        }
        _ => false,
    };
    if !is_option {
        return None;
    }
    match &path.path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first()? {
            syn::GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// A type as the user wrote it, compactly (`my::Params`, `Option<P>`), for messages.
pub(crate) fn type_name(ty: &Type) -> String {
    let raw = quote!(#ty).to_string();
    let mut out = raw
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<");
    out = out.replace(" >", ">").replace(" ,", ",").replace("& ", "&");
    out
}

/// An operation found in the impl block.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub(crate) kind: OpKind,
    pub(crate) sig: Signature,
}

impl Op {
    /// The type of the typed-parameters argument (`params: MyParams`, after the request),
    /// when the operation declares one.
    pub(crate) fn params_type(&self) -> Option<&Type> {
        self.params_arg().map(|(_, ty)| ty)
    }

    /// The typed-parameters argument: its pattern and type.
    pub(crate) fn params_arg(&self) -> Option<(&syn::Pat, &Type)> {
        if !self.kind.takes_params() {
            return None;
        }
        match self.sig.inputs.iter().nth(3) {
            Some(syn::FnArg::Typed(t)) => Some((&t.pat, &t.ty)),
            _ => None,
        }
    }

    /// The typed-parameters argument, plain or `Option<T>`.
    pub(crate) fn typed_arg(&self) -> Option<TypedArg<'_>> {
        let ty = self.params_type()?;
        Some(match option_inner(ty) {
            Some(inner) => TypedArg::Optional(inner),
            None => TypedArg::Plain(ty),
        })
    }
}

/// The `#[broker]` impl block.
#[derive(Debug, Clone)]
pub(crate) struct BrokerImpl {
    pub(crate) item: ItemImpl,
    pub(crate) self_ty: Box<Type>,
    pub(crate) ops: Vec<Op>,
    /// Methods whose name is no operation (reported by `validate`).
    pub(crate) unknown: Vec<Signature>,
    /// Items that are not methods (reported by `validate`).
    pub(crate) others: Vec<ImplItem>,
}

impl BrokerImpl {
    /// Splits an impl block into operations; shape errors (not an inherent impl) are returned.
    pub(crate) fn from_item(item: ItemImpl) -> BrokerImpl {
        let mut ops = Vec::new();
        let mut unknown = Vec::new();
        let mut others = Vec::new();
        for impl_item in &item.items {
            match impl_item {
                ImplItem::Fn(f) => match OpKind::from_name(&f.sig.ident.to_string()) {
                    Some(kind) => ops.push(Op {
                        kind,
                        sig: f.sig.clone(),
                    }),
                    None => unknown.push(f.sig.clone()),
                },
                other => others.push(other.clone()),
            }
        }
        BrokerImpl {
            self_ty: item.self_ty.clone(),
            item,
            ops,
            unknown,
            others,
        }
    }

    /// The operation of this kind, if defined.
    pub(crate) fn op(&self, kind: OpKind) -> Option<&Op> {
        self.ops.iter().find(|op| op.kind == kind)
    }
}
