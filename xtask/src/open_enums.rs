//! Open string enums: a typed variant per documented value plus `Other(String)` for values the
//! API adds later, so one new status or event name never fails a whole response.
//!
//! typify's own enums are closed; every string enum under `components/schemas` is emitted here
//! instead and wired into progenitor with `with_replacement`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use serde_json::Value;

/// A string enum found in the spec's components.
#[derive(Debug, Clone)]
pub struct OpenEnum {
    /// Schema name (also the Rust type name).
    pub name: String,
    /// Schema description.
    pub description: String,
    /// Documented values, in spec order.
    pub values: Vec<String>,
}

/// Every `type: string` schema with an `enum` under `components/schemas`, in name order.
pub fn find(spec: &Value) -> Vec<OpenEnum> {
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut found: Vec<OpenEnum> = schemas
        .iter()
        .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("string"))
        .filter_map(|(name, s)| {
            let values = s.get("enum")?.as_array()?;
            Some(OpenEnum {
                name: name.clone(),
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                values: values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Rust variant name for a wire value: `bank_transfer` → `BankTransfer`, `payment.created` →
/// `PaymentCreated`, `INVALID_API_KEY` → `InvalidApiKey`; short all-caps codes (`ARS`) stay as they are.
pub fn variant_name(value: &str) -> String {
    if value.len() <= 4 && value.chars().all(|c| c.is_ascii_uppercase()) {
        return value.to_string();
    }
    let mut out = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Other" {
        // `Other(String)` is the catch-all; a documented `other` value gets a distinct name.
        out.push_str("Value");
    }
    out
}

/// The Rust source of all open enums.
pub fn generate(enums: &[OpenEnum]) -> TokenStream {
    let items = enums.iter().map(generate_one);
    quote! {
        //! Open string enums of the LuxCore API: each documented value is a variant, and
        //! `Other(String)` keeps any value this version of the SDK does not know yet.
        #![allow(clippy::upper_case_acronyms)]
        #(#items)*
    }
}

fn generate_one(e: &OpenEnum) -> TokenStream {
    let name = Ident::new(&e.name, Span::call_site());
    let doc = if e.description.is_empty() {
        format!("`{}` values.", e.name)
    } else {
        e.description.clone()
    };
    let variants: Vec<Ident> = e
        .values
        .iter()
        .map(|v| Ident::new(&variant_name(v), Span::call_site()))
        .collect();
    let values = &e.values;
    let name_str = &e.name;
    let variant_docs = values.iter().map(|v| format!("`{v}`"));
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #variants, )*
            /// A value not known to this version of the SDK, kept verbatim.
            Other(String),
        }

        impl #name {
            /// Every documented value, as sent on the wire.
            pub const KNOWN: &'static [&'static str] = &[#(#values),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Other(value) => value.as_str(),
                }
            }

            /// `false` for a value this SDK version does not know (`Other`).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl From<String> for #name {
            fn from(value: String) -> Self {
                match Self::from(value.as_str()) {
                    Self::Other(_) => Self::Other(value),
                    known => known,
                }
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }

        /// A string: `anyOf` the documented values (first branch, `enum`) or any other string,
        /// because the enum is open (an unknown value is kept, so it must validate too).
        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> String {
                #name_str.to_owned()
            }

            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                use ::schemars::schema::{InstanceType, Metadata, SchemaObject, SubschemaValidation};
                let string = || SchemaObject {
                    instance_type: Some(InstanceType::String.into()),
                    ..Default::default()
                };
                let known = SchemaObject {
                    enum_values: Some(Self::KNOWN.iter().map(|v| ::serde_json::Value::from(*v)).collect()),
                    ..string()
                };
                SchemaObject {
                    metadata: Some(Box::new(Metadata {
                        description: Some(#doc.to_owned()),
                        ..Default::default()
                    })),
                    subschemas: Some(Box::new(SubschemaValidation {
                        any_of: Some(vec![known.into(), string().into()]),
                        ..Default::default()
                    })),
                    ..string()
                }
                .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("bank_transfer"), "BankTransfer");
        assert_eq!(variant_name("payment.comment_added"), "PaymentCommentAdded");
        assert_eq!(variant_name("INVALID_API_KEY"), "InvalidApiKey");
        assert_eq!(variant_name("ARS"), "ARS");
        assert_eq!(variant_name("3ds"), "V3ds");
        assert_eq!(variant_name("other"), "OtherValue");
    }
}
