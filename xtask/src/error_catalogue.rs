//! The error catalogue (`luxcore-api/src/errors.rs`): for every code of the spec's `ErrorCode`,
//! its HTTP status, what to do about it (a `Recovery` value in the generated code), the advice in
//! words and whether the docs name the code or the project assumed it.
//!
//! The data is in `openapi.json`, on the `ErrorCode` schema:
//!
//! * `x-luxcore-recovery`: an object `{ "RecoveryName": "what it means" }`, one generated
//!   `Recovery` variant per key, documented with its value;
//! * `x-luxcore-errors`: an array of `{ code, status, recovery, advice, source }`, `source` being
//!   `documented` or `assumed`; one entry per value of the enum, in the enum's order.
//!
//! Generation refuses a catalogue that does not match the enum (a code without an entry, an
//! entry for a code the enum lacks, a code twice), a recovery the extension does not define,
//! a status outside 100–599 or a source other than the two.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::CodegenError;

struct Entry {
    code: String,
    status: u16,
    recovery: String,
    advice: String,
    documented: bool,
}

fn invalid(message: impl Into<String>) -> CodegenError {
    CodegenError::InvalidSpec(format!("ErrorCode catalogue: {}", message.into()))
}

fn text<'a>(entry: &'a Value, field: &str, index: usize) -> Result<&'a str, CodegenError> {
    entry
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("x-luxcore-errors[{index}] has no string `{field}`")))
}

/// A recovery: its name and what it means.
type RecoveryDef = (String, String);

/// The recoveries and entries of the spec, checked against the enum.
fn read(spec: &Value) -> Result<(Vec<RecoveryDef>, Vec<Entry>), CodegenError> {
    let schema = spec
        .pointer("/components/schemas/ErrorCode")
        .ok_or_else(|| invalid("no components/schemas/ErrorCode"))?;
    let recoveries: Vec<RecoveryDef> = schema
        .get("x-luxcore-recovery")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("no `x-luxcore-recovery` object"))?
        .iter()
        .map(|(name, meaning)| {
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric());
            match meaning.as_str() {
                Some(meaning) if valid => Ok((name.clone(), meaning.to_owned())),
                _ => Err(invalid(format!(
                    "recovery `{name}` needs an UpperCamelCase name and a text"
                ))),
            }
        })
        .collect::<Result<_, _>>()?;
    let raw = schema
        .get("x-luxcore-errors")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no `x-luxcore-errors` array"))?;
    let mut entries = Vec::new();
    for (index, entry) in raw.iter().enumerate() {
        let status = entry
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| invalid(format!("x-luxcore-errors[{index}]: status not 100-599")))?;
        let recovery = text(entry, "recovery", index)?;
        if !recoveries.iter().any(|(name, _)| name == recovery) {
            return Err(invalid(format!(
                "x-luxcore-errors[{index}]: recovery `{recovery}` is not in x-luxcore-recovery"
            )));
        }
        let documented = match text(entry, "source", index)? {
            "documented" => true,
            "assumed" => false,
            other => {
                return Err(invalid(format!(
                    "x-luxcore-errors[{index}]: source `{other}` is neither documented nor assumed"
                )));
            }
        };
        entries.push(Entry {
            code: text(entry, "code", index)?.to_owned(),
            status,
            recovery: recovery.to_owned(),
            advice: text(entry, "advice", index)?.to_owned(),
            documented,
        });
    }
    let codes: Vec<&str> = schema
        .get("enum")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("ErrorCode has no `enum`"))?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let listed: Vec<&str> = entries.iter().map(|e| e.code.as_str()).collect();
    if listed.iter().collect::<BTreeSet<_>>().len() != listed.len() {
        return Err(invalid("a code is listed twice in x-luxcore-errors"));
    }
    if listed != codes {
        let missing: Vec<_> = codes.iter().filter(|c| !listed.contains(c)).collect();
        let extra: Vec<_> = listed.iter().filter(|c| !codes.contains(c)).collect();
        return Err(invalid(format!(
            "x-luxcore-errors must list the enum's codes in its order; without an entry: \
             {missing:?}, not in the enum: {extra:?}"
        )));
    }
    Ok((recoveries, entries))
}

/// The body of `luxcore-api/src/errors.rs`.
pub fn generate(spec: &Value) -> Result<TokenStream, CodegenError> {
    let (recoveries, entries) = read(spec)?;
    let variants = recoveries.iter().map(|(name, meaning)| {
        let ident = format_ident!("{}", name);
        quote! { #[doc = #meaning] #ident, }
    });
    let names = recoveries.iter().map(|(name, _)| {
        let ident = format_ident!("{}", name);
        quote! { Recovery::#ident => #name, }
    });
    let meanings = recoveries.iter().map(|(name, meaning)| {
        let ident = format_ident!("{}", name);
        quote! { Recovery::#ident => #meaning, }
    });
    let rows = entries.iter().map(|e| {
        let (code, status, advice) = (&e.code, e.status, &e.advice);
        let recovery = format_ident!("{}", e.recovery);
        let source = if e.documented {
            quote!(Source::Documented)
        } else {
            quote!(Source::Assumed)
        };
        quote! {
            ErrorInfo { code: #code, status: #status, recovery: Recovery::#recovery, advice: #advice, source: #source },
        }
    });
    Ok(quote! {
        //! The error catalogue of `openapi.json` (`x-luxcore-errors` on `ErrorCode`): every code
        //! with its HTTP status, what to do about it and the advice in words (the rules are in
        //! `xtask/src/error_catalogue.rs`).

        use crate::enums::ErrorCode;

        /// What to do about an error: the docs' "Recoverable" advice as a value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Recovery {
            #(#variants)*
        }

        impl Recovery {
            /// The name, as in the spec's `x-luxcore-recovery`.
            pub const fn as_str(self) -> &'static str {
                match self { #(#names)* }
            }

            /// What the recovery means, in words.
            pub const fn description(self) -> &'static str {
                match self { #(#meanings)* }
            }
        }

        impl ::std::fmt::Display for Recovery {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Where a code's name comes from.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Source {
            /// The docs' error-code tables name it.
            Documented,
            /// The docs describe the situation (an HTTP status, a check) without naming a code;
            /// the name is the project's assumption.
            Assumed,
        }

        /// One code of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct ErrorInfo {
            /// The code, as sent on the wire.
            pub code: &'static str,
            /// The HTTP status LuxCore answers it with.
            pub status: u16,
            /// What to do about it.
            pub recovery: Recovery,
            /// The advice in words.
            pub advice: &'static str,
            /// Documented or assumed.
            pub source: Source,
        }

        /// Every code of `ErrorCode`, in the spec's order.
        pub const ERRORS: &[ErrorInfo] = &[#(#rows)*];

        /// The catalogue entry of a wire code, if it is known.
        pub fn find(code: &str) -> Option<&'static ErrorInfo> {
            ERRORS.iter().find(|info| info.code == code)
        }

        impl ErrorCode {
            /// This code's catalogue entry (status, recovery, advice); `None` for a code this
            /// version does not know (`Other`).
            pub fn info(&self) -> Option<&'static ErrorInfo> {
                find(self.as_str())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(errors: Value) -> Value {
        serde_json::json!({"components": {"schemas": {"ErrorCode": {
            "type": "string",
            "enum": ["A_CODE", "B_CODE"],
            "x-luxcore-recovery": {"Retry": "send again", "FixRequest": "fix it"},
            "x-luxcore-errors": errors,
        }}}})
    }

    fn entry(code: &str, status: u64, recovery: &str, source: &str) -> Value {
        serde_json::json!({"code": code, "status": status, "recovery": recovery,
                           "advice": "words", "source": source})
    }

    #[test]
    fn the_catalogue_must_match_the_enum() {
        let good = spec(serde_json::json!([
            entry("A_CODE", 400, "Retry", "documented"),
            entry("B_CODE", 500, "FixRequest", "assumed")
        ]));
        let (recoveries, entries) = read(&good).unwrap();
        assert_eq!(recoveries.len(), 2);
        assert_eq!((entries[1].status, entries[1].documented), (500, false));
        assert!(generate(&good).is_ok());

        let refused = [
            serde_json::json!([entry("A_CODE", 400, "Retry", "documented")]),
            serde_json::json!([
                entry("A_CODE", 400, "Retry", "documented"),
                entry("B_CODE", 400, "Panic", "documented")
            ]),
            serde_json::json!([
                entry("A_CODE", 99, "Retry", "documented"),
                entry("B_CODE", 400, "Retry", "documented")
            ]),
            serde_json::json!([
                entry("A_CODE", 400, "Retry", "rumoured"),
                entry("B_CODE", 400, "Retry", "documented")
            ]),
            serde_json::json!([
                entry("B_CODE", 400, "Retry", "documented"),
                entry("A_CODE", 400, "Retry", "documented")
            ]),
            serde_json::json!([
                entry("A_CODE", 400, "Retry", "documented"),
                entry("A_CODE", 400, "Retry", "documented")
            ]),
        ];
        for errors in refused {
            let message = read(&spec(errors.clone())).err().map(|e| e.to_string());
            assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.contains("ErrorCode catalogue")),
                "{errors} gave {message:?}"
            );
        }
    }

    #[test]
    fn the_workspace_spec_has_a_complete_catalogue() {
        let spec: Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        let (_, entries) = read(&spec).unwrap();
        let entry = |code: &str| entries.iter().find(|e| e.code == code).unwrap();
        assert_eq!(
            (
                entry("LOCK_TIMEOUT").status,
                entry("LOCK_TIMEOUT").recovery.as_str()
            ),
            (400, "Retry")
        );
        assert_eq!(entry("TIMEOUT").status, 504);
        assert!(entry("PAYMENT_ALREADY_EXISTS").documented);
        assert!(!entry("NOT_FOUND").documented);
        assert_eq!(entries.iter().filter(|e| e.documented).count(), 26);
    }
}
