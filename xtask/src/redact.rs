//! Personal and bank data never shows in `Debug`: for the schemas below, the generated types
//! lose their derived `Debug` and get one that prints the listed fields as `[redacted]` (the
//! field name stays, and an absent optional value still prints `None`). Their typify builders
//! (`types::builder::X`) print no field at all. Types that merely contain one of these (a
//! `Payment` with a `customer`) stay derived: the inner value redacts itself.
//!
//! Every listed schema and field must exist in the spec, so a renamed field fails generation
//! instead of leaking silently.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::punctuated::Punctuated;
use syn::{Fields, Item, ItemStruct, Token};

use crate::error::CodegenError;

/// Schema name and its sensitive fields (`None`: every field; a free-form map as a whole).
pub const SENSITIVE: &[(&str, Option<&[&str]>)] = &[
    // name, email, phone, identity document
    ("Customer", None),
    // recipient account of a withdrawal (CBU, CLABE, wallet, PayID...)
    ("PayoutDetails", None),
    ("BankDetails", Some(&["account_holder", "account_number"])),
    ("LegacyInstructions", Some(&["cbu", "alias", "beneficiary"])),
    // the webhook signing secret, shown once on creation
    ("Webhook", Some(&["secret"])),
];

fn sensitive(name: &str) -> Option<Option<&'static [&'static str]>> {
    SENSITIVE.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Checks that every listed schema and field is in the spec.
fn check(spec: &Value) -> Result<(), CodegenError> {
    for (schema, fields) in SENSITIVE {
        let Some(found) = spec["components"]["schemas"].get(*schema) else {
            return Err(CodegenError::InvalidSpec(format!(
                "xtask redact: schema {schema} is not in the spec"
            )));
        };
        for field in fields.iter().flat_map(|f| f.iter()) {
            if found["properties"].get(*field).is_none() {
                return Err(CodegenError::InvalidSpec(format!(
                    "xtask redact: {schema}.{field} is not in the spec"
                )));
            }
        }
    }
    Ok(())
}

/// Removes `Debug` from the struct's derives.
fn drop_debug_derive(item: &mut ItemStruct) {
    for attr in &mut item.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        else {
            continue;
        };
        let kept: Vec<&syn::Path> = paths
            .iter()
            .filter(|p| p.segments.last().is_none_or(|s| s.ident != "Debug"))
            .collect();
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
}

fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// A `Debug` impl for a type of `mod types`.
fn type_debug(item: &ItemStruct, fields: Option<&[&str]>) -> TokenStream {
    let name = &item.ident;
    let label = name.to_string();
    let body = match &item.fields {
        Fields::Named(named) => {
            let entries = named.named.iter().map(|field| {
                let ident = field.ident.as_ref().expect("named field");
                let key = ident.to_string();
                let secret = fields.is_none_or(|list| list.contains(&key.as_str()));
                let value = match (secret, is_option(&field.ty)) {
                    (false, _) => quote!(&self.#ident),
                    (true, true) => quote!(&self.#ident.as_ref().map(|_| Redacted)),
                    (true, false) => quote!(&Redacted),
                };
                quote!(.field(#key, #value))
            });
            quote!(f.debug_struct(#label) #(#entries)* .finish())
        }
        _ => quote!(f.debug_tuple(#label).field(&Redacted).finish()),
    };
    quote! {
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #body
            }
        }
    }
}

/// A `Debug` impl for a typify builder: no field values at all.
fn builder_debug(item: &ItemStruct) -> TokenStream {
    let name = &item.ident;
    let label = format!("builder::{name}");
    quote! {
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#label).finish_non_exhaustive()
            }
        }
    }
}

/// Rewrites the structs of one module; returns the impls to append.
fn rewrite(items: &mut [Item], builder: bool) -> Vec<Item> {
    let mut impls = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let Some(fields) = sensitive(&s.ident.to_string()) else {
            continue;
        };
        drop_debug_derive(s);
        let tokens = if builder {
            builder_debug(s)
        } else {
            type_debug(s, fields)
        };
        impls.push(syn::parse2(tokens).expect("generated impl parses"));
    }
    impls
}

fn module<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// Applies the redaction to the generated client.
pub fn apply(client: TokenStream, spec: &Value) -> Result<TokenStream, CodegenError> {
    check(spec)?;
    let mut file: syn::File = syn::parse2(client)
        .map_err(|e| CodegenError::Format(format!("generated code does not parse: {e}")))?;
    let types = module(&mut file.items, "types")
        .ok_or_else(|| CodegenError::Format("no `types` module in the generated code".into()))?;
    if let Some(builders) = module(types, "builder") {
        let impls = rewrite(builders, true);
        builders.extend(impls);
    }
    let impls = rewrite(types, false);
    types.extend(impls);
    let marker = format_ident!("Redacted");
    types.push(syn::parse_quote! {
        /// Stands in for personal or bank data in `Debug` output.
        struct #marker;
    });
    types.push(syn::parse_quote! {
        impl ::std::fmt::Debug for #marker {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("[redacted]")
            }
        }
    });
    Ok(quote!(#file))
}
