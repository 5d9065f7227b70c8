//! The generated client's public surface (operation methods, their builder setters, type names)
//! as an insta snapshot, read from the committed source with syn.

use std::collections::BTreeMap;

use quote::ToTokens;

fn generated() -> syn::File {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../luxcore-api/src/lib.rs");
    syn::parse_file(&std::fs::read_to_string(path).expect("luxcore-api/src/lib.rs is readable"))
        .expect("generated code parses")
}

fn signature(sig: &syn::Signature) -> String {
    let inputs: Vec<String> = sig
        .inputs
        .iter()
        .map(|i| i.to_token_stream().to_string())
        .collect();
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => format!(" -> {}", ty.to_token_stream()),
    };
    let generics = sig.generics.to_token_stream().to_string();
    let bounds = sig
        .generics
        .where_clause
        .as_ref()
        .map(|w| format!(" {}", w.to_token_stream()))
        .unwrap_or_default();
    format!(
        "fn {}{generics}({}){output}{bounds}",
        sig.ident,
        inputs.join(", ")
    )
}

/// Client operation methods, each with the setters of its builder.
fn client_surface(file: &syn::File) -> BTreeMap<String, Vec<String>> {
    let mut methods = BTreeMap::new();
    let mut builders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in &file.items {
        match item {
            syn::Item::Impl(imp)
                if imp.trait_.is_none()
                    && imp.self_ty.to_token_stream().to_string() == "Client" =>
            {
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it
                        && matches!(f.vis, syn::Visibility::Public(_))
                        && f.sig
                            .output
                            .to_token_stream()
                            .to_string()
                            .contains("builder ::")
                    {
                        methods.insert(f.sig.ident.to_string(), signature(&f.sig));
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                for inner in m.content.iter().flat_map(|(_, items)| items) {
                    if let syn::Item::Impl(imp) = inner
                        && imp.trait_.is_none()
                    {
                        let name = imp
                            .self_ty
                            .to_token_stream()
                            .to_string()
                            .replace(" < 'a >", "");
                        let setters = imp
                            .items
                            .iter()
                            .filter_map(|it| match it {
                                syn::ImplItem::Fn(f)
                                    if matches!(f.vis, syn::Visibility::Public(_)) =>
                                {
                                    Some(signature(&f.sig))
                                }
                                _ => None,
                            })
                            .collect();
                        builders.insert(name, setters);
                    }
                }
            }
            _ => {}
        }
    }
    methods
        .into_iter()
        .map(|(name, sig)| {
            let builder = sig
                .rsplit("builder :: ")
                .next()
                .unwrap_or_default()
                .trim_end_matches(" < '_ >")
                .to_string();
            let mut lines = vec![sig];
            lines.extend(
                builders
                    .get(&builder)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| format!("  .{s}")),
            );
            (name, lines)
        })
        .collect()
}

fn type_names(file: &syn::File) -> Vec<String> {
    let mut names = Vec::new();
    for item in &file.items {
        if let syn::Item::Mod(m) = item
            && m.ident == "types"
        {
            for inner in m.content.iter().flat_map(|(_, items)| items) {
                match inner {
                    syn::Item::Struct(s) => names.push(format!("struct {}", s.ident)),
                    syn::Item::Enum(e) => names.push(format!("enum {}", e.ident)),
                    _ => {}
                }
            }
        }
    }
    names.sort();
    names
}

#[test]
fn generated_client_surface_snapshot() {
    let file = generated();
    let surface = client_surface(&file);
    assert_eq!(
        surface.len(),
        33,
        "one client method per operation: {:?}",
        surface.keys().collect::<Vec<_>>()
    );
    insta::assert_json_snapshot!("client_methods", surface);
    insta::assert_json_snapshot!("client_types", type_names(&file));
}

#[test]
fn open_enum_names_match_the_spec() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../luxcore-api/src/enums.rs"
    ))
    .expect("enums.rs");
    let file = syn::parse_file(&src).expect("enums.rs parses");
    let mut enums: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect();
    enums.sort();
    insta::assert_json_snapshot!("open_enums", enums);
}
