//! The operation table (`luxcore-api/src/operations.rs`): one `Operation` constant per
//! operation of `openapi.json`, which the hand-written SDK uses instead of typing paths.
//!
//! Each entry has the operationId, the method, the path template and three derived columns:
//!
//! * **auth** — the operation's `security` (or the document's default): `ApiKeyAuth` →
//!   `Auth::ApiKey`, `HmacV2` → `Auth::HmacV2`. Any other scheme is an error.
//! * **retry class** — `GET`, `PUT`, `DELETE`, `HEAD`, `OPTIONS` → `Idempotent`; a `POST` whose
//!   JSON request body *requires* a `merchant_reference` → `DedupByReference` (LuxCore answers a
//!   repeated reference with the existing record, so resending is safe); any other method →
//!   `NotRetryableAfterSend` (retried only when the request provably never reached the server).
//! * **rate-limit bucket** — a `DedupByReference` `POST` whose path ends in `/payments` (payment
//!   creation, documented as the *creation* limit, 5000/min and 500/10 s) → `Create`; everything
//!   else → `Standard` (100/min).
//!
//! It also lists the API prefixes (`/api/v1`, `/api/v2`: the first two path segments) with the
//! authentication all of their operations share, so that a request to a path the table does
//! not know (the SDK's `signed_request`) is authenticated by its prefix.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::CodegenError;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

struct Row {
    id: String,
    method: String,
    path: String,
    auth: &'static str,
    retry: &'static str,
    bucket: &'static str,
}

/// `createPaymentV2` → `CREATE_PAYMENT_V2`.
pub fn const_name(operation_id: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in operation_id.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn auth_of(spec: &Value, op: &Value, id: &str) -> Result<&'static str, CodegenError> {
    let security = op.get("security").or_else(|| spec.get("security"));
    let schemes: Vec<&str> = security
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().map(String::as_str))
        .collect();
    match schemes.as_slice() {
        ["ApiKeyAuth"] => Ok("ApiKey"),
        ["HmacV2"] => Ok("HmacV2"),
        other => Err(CodegenError::InvalidSpec(format!(
            "operation {id}: security {other:?} is not one of ApiKeyAuth or HmacV2"
        ))),
    }
}

/// Resolves a local `$ref` (`#/components/schemas/X`).
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(spec, |v, key| &v[key]))
            .unwrap_or(schema),
        None => schema,
    }
}

fn body_requires_reference(spec: &Value, op: &Value) -> bool {
    let body = resolve(spec, &op["requestBody"]);
    let schema = resolve(spec, &body["content"]["application/json"]["schema"]);
    schema["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|f| f == "merchant_reference"))
}

fn rows(spec: &Value) -> Result<Vec<Row>, CodegenError> {
    let mut rows = Vec::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| CodegenError::InvalidSpec("no `paths`".into()))?;
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    CodegenError::InvalidSpec(format!("{method} {path}: no operationId"))
                })?;
            let retry = match method {
                "get" | "put" | "delete" | "head" | "options" => "Idempotent",
                "post" if body_requires_reference(spec, op) => "DedupByReference",
                _ => "NotRetryableAfterSend",
            };
            let bucket = if retry == "DedupByReference" && path.ends_with("/payments") {
                "Create"
            } else {
                "Standard"
            };
            rows.push(Row {
                id: id.to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                auth: auth_of(spec, op, id)?,
                retry,
                bucket,
            });
        }
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

/// `/api/v1/...` → `/api/v1`: the first two segments.
fn prefix(path: &str) -> String {
    path.split('/').take(3).collect::<Vec<_>>().join("/")
}

fn prefixes(rows: &[Row]) -> Result<BTreeMap<String, &'static str>, CodegenError> {
    let mut out = BTreeMap::new();
    for row in rows {
        let previous = out.insert(prefix(&row.path), row.auth);
        if previous.is_some_and(|p| p != row.auth) {
            return Err(CodegenError::InvalidSpec(format!(
                "operations under {} use different authentication",
                prefix(&row.path)
            )));
        }
    }
    Ok(out)
}

/// The body of `luxcore-api/src/operations.rs`.
pub fn generate(spec: &Value) -> Result<TokenStream, CodegenError> {
    let rows = rows(spec)?;
    let prefixes = prefixes(&rows)?;
    let consts = rows.iter().map(|r| {
        let name = format_ident!("{}", const_name(&r.id));
        let doc = format!("`{} {}` (`{}`).", r.method, r.path, r.id);
        let (id, method, path) = (&r.id, &r.method, &r.path);
        let auth = format_ident!("{}", r.auth);
        let retry = format_ident!("{}", r.retry);
        let bucket = format_ident!("{}", r.bucket);
        quote! {
            #[doc = #doc]
            pub const #name: Operation = Operation {
                id: #id,
                method: #method,
                path: #path,
                auth: Auth::#auth,
                retry: RetryClass::#retry,
                bucket: RateLimitBucket::#bucket,
            };
        }
    });
    let names = rows.iter().map(|r| format_ident!("{}", const_name(&r.id)));
    let prefix_rows = prefixes.iter().map(|(p, auth)| {
        let auth = format_ident!("{}", auth);
        quote! { (#p, Auth::#auth) }
    });
    Ok(quote! {
        //! Every operation of `openapi.json` with its method, path template, authentication, retry
        //! class and rate-limit bucket (the rules are in `xtask/src/operations.rs`).

        /// How an operation's requests are authenticated.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Auth {
            /// `X-API-Key` header (API v1).
            ApiKey,
            /// HMAC-SHA256 request signature (API v2).
            HmacV2,
        }

        /// Whether a failed request of an operation may be sent again.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RetryClass {
            /// `GET`, `PUT`, `DELETE`: sending again has no further effect.
            Idempotent,
            /// A `POST` de-duplicated by its required `merchant_reference`: a repeat returns
            /// the existing record.
            DedupByReference,
            /// Any other `POST`: only safe to resend when it never reached the server.
            NotRetryableAfterSend,
        }

        /// The documented rate-limit bucket an operation counts against.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RateLimitBucket {
            /// Payment creation.
            Create,
            /// Every other operation.
            Standard,
        }

        /// One operation of the API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct Operation {
            /// The `operationId`.
            pub id: &'static str,
            /// HTTP method, upper case.
            pub method: &'static str,
            /// Path template, e.g. `/api/v1/payments/{id}`.
            pub path: &'static str,
            /// Authentication.
            pub auth: Auth,
            /// Retry class.
            pub retry: RetryClass,
            /// Rate-limit bucket.
            pub bucket: RateLimitBucket,
        }

        #(#consts)*

        /// Every operation, sorted by `operationId`.
        pub const ALL: &[Operation] = &[#(#names),*];

        /// API path prefixes and the authentication of every operation under them.
        pub const API_PREFIXES: &[(&str, Auth)] = &[#(#prefix_rows),*];

        impl Operation {
            /// Whether `path` (no query) matches this operation's template; `{param}` matches
            /// one non-empty segment.
            pub fn matches_path(&self, path: &str) -> bool {
                let mut template = self.path.split('/');
                let mut actual = path.trim_end_matches('/').split('/');
                loop {
                    match (template.next(), actual.next()) {
                        (None, None) => return true,
                        (Some(t), Some(a)) if t.starts_with('{') && !a.is_empty() => {}
                        (Some(t), Some(a)) if t == a => {}
                        _ => return false,
                    }
                }
            }

            /// The operation of a request, by method and path (no query). Literal segments
            /// win over `{param}` ones (`/payments/methods` is not `/payments/{id}`).
            pub fn find(method: &str, path: &str) -> Option<&'static Operation> {
                let literal = |op: &Operation| op.path.split('/').filter(|s| !s.starts_with('{')).count();
                ALL.iter()
                    .filter(|op| op.method.eq_ignore_ascii_case(method) && op.matches_path(path))
                    .max_by_key(|op| literal(op))
            }
        }

        /// The authentication of a path under one of the [`API_PREFIXES`], if any.
        pub fn auth_for_path(path: &str) -> Option<Auth> {
            API_PREFIXES.iter().find_map(|(prefix, auth)| {
                path.strip_prefix(prefix)
                    .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                    .map(|_| *auth)
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes() {
        assert_eq!(const_name("createPaymentV2"), "CREATE_PAYMENT_V2");
        assert_eq!(
            const_name("getMerchantAllBalances"),
            "GET_MERCHANT_ALL_BALANCES"
        );
        assert_eq!(prefix("/api/v2/balance/all"), "/api/v2");
    }

    #[test]
    fn derived_columns() {
        let spec: Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        let rows = rows(&spec).unwrap();
        let row = |id: &str| rows.iter().find(|r| r.id == id).unwrap();
        assert_eq!(
            (row("createPayment").retry, row("createPayment").bucket),
            ("DedupByReference", "Create")
        );
        assert_eq!(row("createPaymentV2").auth, "HmacV2");
        assert_eq!(row("cancelPayment").retry, "NotRetryableAfterSend");
        assert_eq!(row("getBalance").retry, "Idempotent");
        assert_eq!(row("createTicket").bucket, "Standard");
        assert_eq!(prefixes(&rows).unwrap().len(), 2);
    }
}
