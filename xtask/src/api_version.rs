//! progenitor builds an `api-version: <info.version>` header into every request. LuxCore
//! does not document such a header, so the generated operations do not send it: this pass
//! removes the `header_map.append(.. "api-version" ..)` statement from every `send()` of
//! the generated `builder` module and shrinks that header map's capacity to match (an
//! operation without header parameters then builds an empty map, which does not allocate).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, ImplItem, Item, Lit, Stmt};

use crate::error::CodegenError;

/// Removes the `api-version` header from every generated operation. Fails when the
/// generated code does not have the shape this pass expects (a progenitor upgrade changed
/// it), rather than leaving the header in silently.
pub fn strip(client: TokenStream) -> Result<TokenStream, CodegenError> {
    let unexpected = |what: &str| {
        CodegenError::Format(format!(
            "xtask api_version: {what} (did a progenitor upgrade change how it adds the api-version header?)"
        ))
    };
    let mut file: syn::File = syn::parse2(client)
        .map_err(|e| CodegenError::Format(format!("generated code does not parse: {e}")))?;
    let builders = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| unexpected("no `builder` module"))?;
    let mut stripped = 0usize;
    for item in builders.iter_mut() {
        let Item::Impl(block) = item else { continue };
        for member in &mut block.items {
            if let ImplItem::Fn(method) = member {
                stripped += strip_block(&mut method.block);
            }
        }
    }
    if stripped == 0 {
        return Err(unexpected("no api-version header found"));
    }
    let client = quote!(#file);
    if client.to_string().contains("\"api-version\"") {
        return Err(unexpected("an api-version header is left"));
    }
    Ok(client)
}

/// Removes the `api-version` appends of one function body and lowers the capacity of its
/// `header_map` by as many. Returns how many were removed.
fn strip_block(block: &mut syn::Block) -> usize {
    let before = block.stmts.len();
    block.stmts.retain(|stmt| !appends_api_version(stmt));
    let removed = before - block.stmts.len();
    if removed > 0 {
        for stmt in &mut block.stmts {
            lower_capacity(stmt, removed);
        }
    }
    removed
}

/// `header_map.append(HeaderName::from_static("api-version"), ..);`
fn appends_api_version(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    call.method == "append"
        && matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("header_map"))
        && call
            .args
            .first()
            .is_some_and(|name| quote!(#name).to_string().contains("\"api-version\""))
}

/// `let mut header_map = HeaderMap::with_capacity(N);` becomes `N - removed` (progenitor
/// counts one per header it appends), and loses its `mut` at 0: nothing is appended then.
fn lower_capacity(stmt: &mut Stmt, removed: usize) {
    let Stmt::Local(local) = stmt else { return };
    let syn::Pat::Ident(name) = &mut local.pat else {
        return;
    };
    if name.ident != "header_map" {
        return;
    }
    let Some(init) = &mut local.init else { return };
    let Expr::Call(call) = &mut *init.expr else {
        return;
    };
    let Some(Expr::Lit(capacity)) = call.args.first_mut() else {
        return;
    };
    if let Lit::Int(n) = &capacity.lit
        && let Ok(n) = n.base10_parse::<usize>()
    {
        let lowered = n.saturating_sub(removed);
        capacity.lit = Lit::Int(syn::LitInt::new(
            &format!("{lowered}usize"),
            proc_macro2::Span::call_site(),
        ));
        if lowered == 0 {
            name.mutability = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated `send()` with `headers` besides the api-version (progenitor's capacity:
    /// one per header).
    fn send(headers: TokenStream, capacity: usize) -> TokenStream {
        let capacity =
            syn::LitInt::new(&format!("{capacity}usize"), proc_macro2::Span::call_site());
        quote! {
            pub mod builder {
                impl<'a> GetThing<'a> {
                    pub async fn send(self) -> Result<(), ()> {
                        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(#capacity);
                        header_map.append(
                            ::reqwest::header::HeaderName::from_static("api-version"),
                            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                        );
                        #headers
                        let request = client.client.get(url).headers(header_map).build()?;
                        Ok(())
                    }
                }
            }
        }
    }

    #[test]
    fn removes_the_header_and_keeps_the_others() {
        let other = quote! { header_map.append("x-idempotency-key", key.to_string().try_into()?); };
        let out = strip(send(other, 2)).unwrap().to_string();
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains("\"x-idempotency-key\""), "{out}");
        assert!(out.contains("let mut header_map"), "{out}");
        assert!(out.contains("with_capacity (1usize)"), "{out}");
        assert!(out.contains(". headers (header_map)"), "{out}");
    }

    #[test]
    fn a_map_left_empty_is_not_mutable() {
        let out = strip(send(quote! {}, 1)).unwrap().to_string();
        assert!(
            out.contains(
                "let header_map = :: reqwest :: header :: HeaderMap :: with_capacity (0usize)"
            ),
            "{out}"
        );
    }

    #[test]
    fn code_of_another_shape_is_an_error() {
        let no_builder = quote! { pub mod types {} };
        assert!(
            strip(no_builder)
                .unwrap_err()
                .to_string()
                .contains("builder")
        );
        let no_header = quote! { pub mod builder { impl A { fn send(self) {} } } };
        assert!(
            strip(no_header)
                .unwrap_err()
                .to_string()
                .contains("no api-version")
        );
        let elsewhere = quote! {
            pub mod builder {
                impl A { fn send(self) {
                    header_map.append(HeaderName::from_static("api-version"), v);
                    let x = { header_map.append(HeaderName::from_static("api-version"), v); };
                } }
            }
        };
        assert!(
            strip(elsewhere)
                .unwrap_err()
                .to_string()
                .contains("is left")
        );
    }
}
