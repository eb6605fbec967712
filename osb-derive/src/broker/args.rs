//! `#[broker(catalog(A, B), crate = "…")]`, parsed by hand with `custom_keyword!`
//! (few arguments, precise messages).

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Token, Type, parenthesized};

mod kw {
    syn::custom_keyword!(catalog);
}

/// The parsed arguments.
#[derive(Debug)]
pub(crate) struct BrokerArgs {
    /// The offering types of `catalog(...)`.
    pub(crate) catalog: Vec<Type>,
    /// `crate = "…"`, the path of `osb_server_mini`.
    pub(crate) krate: Option<syn::Path>,
}

/// Arguments as far as they parsed, and every error found.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) catalog: Option<Vec<Type>>,
    pub(crate) krate: Option<syn::Path>,
    pub(crate) errors: Option<syn::Error>,
}

fn push(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(e) => e.combine(error),
        None => *errors = Some(error),
    }
}

fn skip_to_comma(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn parse_inner(input: ParseStream<'_>, out: &mut Parsed) -> syn::Result<()> {
    while !input.is_empty() {
        if input.peek(kw::catalog) {
            let key = input.parse::<kw::catalog>()?;
            if !input.peek(syn::token::Paren) {
                push(
                    &mut out.errors,
                    syn::Error::new(key.span, "expected `catalog(MyOffering, ..)`"),
                );
                skip_to_comma(input)?;
            } else {
                let content;
                parenthesized!(content in input);
                let types = Punctuated::<Type, Token![,]>::parse_terminated(&content)?;
                if out.catalog.is_some() {
                    push(
                        &mut out.errors,
                        syn::Error::new(key.span, "`catalog` specified more than once"),
                    );
                } else {
                    out.catalog = Some(types.into_iter().collect());
                }
            }
        } else if input.peek(Token![crate]) {
            let key = input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            let lit = input.parse::<syn::LitStr>()?;
            let path = lit.parse::<syn::Path>()?;
            if out.krate.is_some() {
                push(
                    &mut out.errors,
                    syn::Error::new(key.span, "`crate` specified more than once"),
                );
            } else {
                out.krate = Some(path);
            }
        } else {
            let span = input.span();
            push(
                &mut out.errors,
                syn::Error::new(span, "unknown argument: expected `catalog` or `crate`"),
            );
            skip_to_comma(input)?;
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Parses the attribute arguments, accumulating errors.
pub(crate) fn parse(args: TokenStream) -> Parsed {
    let mut out = Parsed::default();
    let result = (|input: ParseStream<'_>| parse_inner(input, &mut out)).parse2(args);
    if let Err(e) = result {
        push(&mut out.errors, e);
    }
    out
}

impl Parsed {
    /// The arguments, or every error (including a missing `catalog`).
    pub(crate) fn finish(self) -> Result<BrokerArgs, syn::Error> {
        let mut errors = self.errors;
        if self.catalog.is_none() && errors.is_none() {
            push(
                &mut errors,
                syn::Error::new(
                    Span::call_site(),
                    "missing `catalog(...)`: list the offerings, e.g. `#[broker(catalog(MyOffering))]`",
                ),
            );
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(BrokerArgs {
                catalog: self.catalog.unwrap_or_default(),
                krate: self.krate,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_catalog_and_crate() {
        let args = parse(quote!(catalog(A, b::B), crate = "my::osb"))
            .finish()
            .unwrap();
        assert_eq!(args.catalog.len(), 2);
        assert!(args.krate.is_some());
    }

    #[test]
    fn reports_every_error() {
        let err = parse(quote!(catlog(A), catalog(A), catalog(B)))
            .finish()
            .unwrap_err();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            [
                "unknown argument: expected `catalog` or `crate`",
                "`catalog` specified more than once"
            ]
        );
    }

    #[test]
    fn missing_catalog() {
        let err = parse(quote!()).finish().unwrap_err();
        assert!(err.to_string().starts_with("missing `catalog(...)`"));
    }
}
