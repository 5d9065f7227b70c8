//! The JSON Schema of the generated types (`schemars`, feature `schemars` of luxcore-api) compared
//! field by field with openapi.json's component schemas: names, required fields, types, formats,
//! enum values and nullability. A mismatch (say, progenitor mapping a type differently after an
//! upgrade) fails with one line per difference; the normalized Rust side is an insta snapshot.

use std::collections::{BTreeMap, BTreeSet};

use luxcore_api::{enums, types};
use schemars::r#gen::{SchemaGenerator, SchemaSettings};
use serde_json::Value;

/// Registers every component type with one generator; returns the names registered and the
/// schemas by name: the generator's definitions, plus the schemas schemars inlines rather than
/// names (transparent newtypes such as `Metadata`, a `serde_json::Map`).
macro_rules! definitions {
    (enums: [$($e:ident),* $(,)?], types: [$($t:ident),* $(,)?]) => {{
        let mut generator = SchemaGenerator::new(SchemaSettings::openapi3());
        let mut names = Vec::new();
        let mut inline = serde_json::Map::new();
        $(
            let schema = generator.subschema_for::<enums::$e>();
            names.push(stringify!($e));
            if !schema.is_ref() {
                inline.insert(stringify!($e).into(), serde_json::to_value(schema).expect("json"));
            }
        )*
        $(
            let schema = generator.subschema_for::<types::$t>();
            names.push(stringify!($t));
            if !schema.is_ref() {
                inline.insert(stringify!($t).into(), serde_json::to_value(schema).expect("json"));
            }
        )*
        let mut definitions = serde_json::to_value(generator.definitions()).expect("json");
        let inlined: BTreeSet<String> = inline.keys().cloned().collect();
        if let Value::Object(map) = &mut definitions {
            map.extend(inline);
        }
        (names, definitions, inlined)
    }};
}

fn rust_definitions() -> (Vec<&'static str>, Value, BTreeSet<String>) {
    definitions!(
        enums: [Currency, PaymentMethod, PaymentType, PaymentStatus, BalanceType, WebhookEventType,
            WebhookStatus, SignatureAlgorithm, WebhookDeliveryStatus, TicketStatus, TicketCategory,
            ErrorCode],
        types: [ErrorMessage, ErrorResponse, Pagination, Customer, Metadata, PayoutDetails,
            IpayOptions, PaymentCreateRequest, BankDetails, LegacyInstructions, IpayCheckout, Payment,
            PaymentResponse, PaymentList, PaymentMethodInfo, PaymentMethodList,
            PaymentMethodValidateRequest, PaymentMethodValidation, PaymentMethodValidationResponse,
            Balance, BalanceEntry, BalanceList, WebhookCreateRequest, WebhookUpdateRequest, Webhook,
            WebhookResponse, WebhookList, WebhookEvent, WebhookEventResponse, WebhookEventList,
            WebhookTestRequest, WebhookRetryRequest, WebhookRetryResult, WebhookRetryResponse,
            TicketCreateRequest, Attachment, Ticket, TicketResponse, TicketList,
            TicketCommentCreateRequest, TicketComment, TicketCommentResponse, TicketCommentList,
            UploadUrlRequest, UploadUrl, UploadUrlResponse]
    )
}

fn committed_spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("openapi.json")).expect("json")
}

/// Which document a schema comes from: the spec, or schemars' output for the Rust types.
#[derive(Clone, Copy)]
enum Side<'a> {
    /// The spec; `$ref`s to the components the Rust side inlines are followed too.
    Spec {
        schemas: &'a Value,
        inlined: &'a BTreeSet<String>,
    },
    /// schemars definitions; `$ref`s to a definition that is no spec component (typify's
    /// newtypes such as `TicketCreateRequestTitle`) are followed, since the spec inlines them.
    Rust {
        definitions: &'a Value,
        components: &'a BTreeSet<String>,
    },
}

/// A short type expression: `Payment`, `string(date-time)`, `array<Currency>`, `integer(int64)?`.
fn type_of(schema: &Value, side: Side<'_>) -> String {
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    let base = if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        match side {
            Side::Rust {
                definitions,
                components,
            } if !components.contains(name) => definitions
                .get(name)
                .map_or_else(|| format!("<unresolved {name}>"), |d| type_of(d, side)),
            Side::Spec { schemas, inlined } if inlined.contains(name) => schemas
                .get(name)
                .map_or_else(|| format!("<unresolved {name}>"), |d| type_of(d, side)),
            _ => name.to_string(),
        }
    } else if let Some([only]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        // schemars wraps a `$ref` in `allOf` to attach `nullable` or a description to it.
        type_of(only, side).trim_end_matches('?').to_string()
    } else if let Some(variants) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let mut names: Vec<String> = variants.iter().map(|v| type_of(v, side)).collect();
        names.sort();
        format!("oneOf<{}>", names.join(", "))
    } else {
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => format!(
                "array<{}>",
                schema
                    .get("items")
                    .map_or_else(|| "any".into(), |i| type_of(i, side))
            ),
            Some("object") if schema.get("properties").is_none() => {
                match schema.get("additionalProperties") {
                    Some(Value::Object(m)) if !m.is_empty() => {
                        format!("map<{}>", type_of(&Value::Object(m.clone()), side))
                    }
                    _ => "object".into(),
                }
            }
            Some(t) => match (t, schema.get("format").and_then(Value::as_str), side) {
                // typify turns `minimum: 1` into `NonZeroU64`: the spec's `int64` with that
                // minimum is the Rust side's `uint64`.
                ("integer", Some(f), Side::Spec { .. })
                    if f.starts_with("int")
                        && schema.get("minimum").and_then(Value::as_f64) >= Some(1.0) =>
                {
                    format!("integer(u{f})")
                }
                // `uri` only validates: typify keeps a `String`, which has no format to show.
                ("string", Some("uri"), Side::Spec { .. }) => "string".into(),
                (t, Some(f), _) => format!("{t}({f})"),
                (t, None, _) => t.to_string(),
            },
            None => "any".into(),
        }
    };
    if nullable { format!("{base}?") } else { base }
}

/// The normalized form of one component schema: `kind`, `field: type` (`!` when required) and
/// the documented enum values. An open enum (the Rust side's `anyOf: [enum, string]`) counts as
/// `enum` with the values of its first branch.
fn normalize(schema: &Value, side: Side<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let open_enum_values = schema
        .get("anyOf")
        .and_then(|a| a.get(0))
        .and_then(|first| first.get("enum"));
    if let Some(values) = schema.get("enum").or(open_enum_values) {
        out.insert("kind".into(), "enum".into());
        let mut values: Vec<String> = values
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        values.sort();
        out.insert("values".into(), values.join(", "));
        return out;
    }
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    match schema.get("properties").and_then(Value::as_object) {
        Some(properties) => {
            out.insert("kind".into(), "object".into());
            for (name, property) in properties {
                let ty = type_of(property, side);
                let entry = if required.contains(name.as_str()) {
                    format!("{ty}!")
                } else {
                    // An optional field is an `Option` in Rust, which also reads `null`: whether
                    // the spec allows `null` there is not visible on the Rust side, so
                    // nullability is compared on required fields only.
                    ty.trim_end_matches('?').to_string()
                };
                out.insert(format!(".{name}"), entry);
            }
        }
        None => {
            out.insert("kind".into(), type_of(schema, side));
        }
    }
    out
}

type Normalized = BTreeMap<String, BTreeMap<String, String>>;

fn normalize_spec(spec: &Value, inlined: &BTreeSet<String>) -> Normalized {
    let schemas = spec.pointer("/components/schemas").unwrap_or(&Value::Null);
    let side = Side::Spec { schemas, inlined };
    schemas
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.clone(), normalize(schema, side)))
        .collect()
}

fn normalize_rust(definitions: &Value, components: &BTreeSet<String>) -> Normalized {
    let side = Side::Rust {
        definitions,
        components,
    };
    components
        .iter()
        .filter_map(|name| {
            definitions
                .get(name)
                .map(|schema| (name.clone(), normalize(schema, side)))
        })
        .collect()
}

/// One line per difference, `Schema.field: spec X, Rust Y`; empty when they agree.
fn compare(spec: &Normalized, rust: &Normalized) -> Vec<String> {
    let mut diff = Vec::new();
    for name in spec.keys().chain(rust.keys()).collect::<BTreeSet<_>>() {
        let (Some(s), Some(r)) = (spec.get(name), rust.get(name)) else {
            let side = if spec.contains_key(name) {
                "Rust"
            } else {
                "the spec"
            };
            diff.push(format!("{name}: missing from {side}"));
            continue;
        };
        for key in s.keys().chain(r.keys()).collect::<BTreeSet<_>>() {
            let (a, b) = (s.get(key), r.get(key));
            if a != b {
                let show = |v: Option<&String>| v.map_or("(absent)".to_string(), |v| v.clone());
                let key = if key.starts_with('.') {
                    key.clone()
                } else {
                    format!(" {key}")
                };
                diff.push(format!("{name}{key}: spec {}, Rust {}", show(a), show(b)));
            }
        }
    }
    diff
}

fn components(spec: &Value) -> BTreeSet<String> {
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_component_type_is_registered() {
    let (names, _, _) = rust_definitions();
    let registered: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        registered,
        components(&committed_spec()),
        "the list in rust_definitions() must name every component schema of openapi.json"
    );
}

#[test]
fn generated_json_schema_matches_the_spec_field_by_field() {
    let spec = committed_spec();
    let components = components(&spec);
    let (_, definitions, inlined) = rust_definitions();
    let rust = normalize_rust(&definitions, &components);
    let diff = compare(&normalize_spec(&spec, &inlined), &rust);
    assert!(
        diff.is_empty(),
        "the generated types' JSON Schema differs from openapi.json:\n  {}",
        diff.join("\n  ")
    );
    insta::assert_json_snapshot!("json_schema", rust);
}

#[test]
fn an_altered_spec_is_reported_field_by_field() {
    let mut spec = committed_spec();
    let components = components(&spec);
    let (_, definitions, inlined) = rust_definitions();
    let rust = normalize_rust(&definitions, &components);
    let schemas = &mut spec["components"]["schemas"];
    schemas["Payment"]["properties"]["amount"]["format"] = "int32".into();
    schemas["Payment"]["required"]
        .as_array_mut()
        .expect("required")
        .push("method".into());
    schemas["Ticket"]["properties"]["title"]["nullable"] = true.into();
    schemas["PaymentStatus"]["enum"]
        .as_array_mut()
        .expect("enum")
        .push("on_hold".into());
    schemas["Webhook"]["properties"]["url"]["type"] = "integer".into();
    schemas["Extra"] = serde_json::json!({"type": "object", "properties": {}});
    let diff = compare(&normalize_spec(&spec, &inlined), &rust);
    assert_eq!(
        diff,
        [
            "Extra: missing from Rust",
            "Payment.amount: spec integer(int32)!, Rust integer(int64)!",
            "Payment.method: spec PaymentMethod?!, Rust PaymentMethod",
            "PaymentStatus values: spec cancelled, completed, expired, failed, on_hold, \
             partial_refund, pending, processing, refunded, Rust cancelled, completed, expired, \
             failed, partial_refund, pending, processing, refunded",
            "Ticket.title: spec string?!, Rust string!",
            "Webhook.url: spec integer!, Rust string!",
        ]
    );
}
