//! A normalized, order-independent view of an OpenAPI document's surface: operations (method,
//! path, parameters, request and response schemas) and schemas (fields, types, enum values).
//! Used by the drift report and the insta snapshot in `tests/`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// The surface of a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Surface {
    /// Operations by operationId.
    pub operations: BTreeMap<String, Operation>,
    /// Schemas by name.
    pub schemas: BTreeMap<String, Schema>,
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Tags.
    pub tags: Vec<String>,
    /// `location name: type` (with `!` when required), sorted.
    pub parameters: Vec<String>,
    /// Request body type, if any (`!` when required).
    pub request: Option<String>,
    /// Response type per status code (`-` for no body).
    pub responses: BTreeMap<String, String>,
}

/// One schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// `object`, `enum`, `oneOf`, or the type.
    pub kind: String,
    /// Field → type (`!` suffix when required).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Enum values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

impl Surface {
    /// Builds the surface of a parsed spec.
    pub fn of(spec: &Value) -> Self {
        let mut surface = Surface::default();
        if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let shared: Vec<&Value> = item
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                for method in METHODS {
                    let Some(op) = item.get(method) else { continue };
                    let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                        || format!("{} {path}", method.to_uppercase()),
                        str::to_string,
                    );
                    surface
                        .operations
                        .insert(id, operation(spec, method, path, op, &shared));
                }
            }
        }
        if let Some(schemas) = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, schema) in schemas {
                surface.schemas.insert(name.clone(), schema_surface(schema));
            }
        }
        surface
    }
}

fn operation(spec: &Value, method: &str, path: &str, op: &Value, shared: &[&Value]) -> Operation {
    let own = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    let mut parameters: Vec<String> = shared
        .iter()
        .chain(own.iter())
        .map(|p| resolve(spec, p))
        .map(|p| {
            let required = if p.get("required").and_then(Value::as_bool) == Some(true) {
                "!"
            } else {
                ""
            };
            format!(
                "{} {}: {}{required}",
                p.get("in").and_then(Value::as_str).unwrap_or("?"),
                p.get("name").and_then(Value::as_str).unwrap_or("?"),
                p.get("schema").map_or_else(|| "?".to_string(), type_of)
            )
        })
        .collect();
    parameters.sort();
    let request = op.get("requestBody").map(|b| {
        let b = resolve(spec, b);
        let required = if b.get("required").and_then(Value::as_bool) == Some(true) {
            "!"
        } else {
            ""
        };
        format!("{}{required}", content_type(b))
    });
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .map(|(code, resp)| (code.clone(), content_type(resolve(spec, resp))))
                .collect()
        })
        .unwrap_or_default();
    Operation {
        method: method.to_uppercase(),
        path: path.to_string(),
        tags: op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        parameters,
        request,
        responses,
    }
}

/// `media-type type` for each content entry, joined; `-` for none.
fn content_type(holder: &Value) -> String {
    match holder.get("content").and_then(Value::as_object) {
        Some(content) if !content.is_empty() => content
            .iter()
            .map(|(media, m)| {
                format!(
                    "{media} {}",
                    m.get("schema").map_or_else(|| "?".to_string(), type_of)
                )
            })
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "-".to_string(),
    }
}

fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| spec.pointer(p))
            .unwrap_or(value),
        None => value,
    }
}

/// A short type expression: `Payment`, `string(date-time)`, `array<Currency>`, `integer(int64)?`.
pub fn type_of(schema: &Value) -> String {
    let base = if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        r.rsplit('/').next().unwrap_or(r).to_string()
    } else if let Some(variants) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        format!(
            "oneOf<{}>",
            variants.iter().map(type_of).collect::<Vec<_>>().join(", ")
        )
    } else {
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => format!(
                "array<{}>",
                schema.get("items").map_or_else(|| "?".into(), type_of)
            ),
            Some("object") if schema.get("properties").is_none() => {
                match schema.get("additionalProperties") {
                    Some(Value::Object(m)) if !m.is_empty() => {
                        format!("map<{}>", type_of(&Value::Object(m.clone())))
                    }
                    _ => "object".into(),
                }
            }
            Some(t) => match schema.get("format").and_then(Value::as_str) {
                Some(f) => format!("{t}({f})"),
                None => t.to_string(),
            },
            None => "any".into(),
        }
    };
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        format!("{base}?")
    } else {
        base
    }
}

fn schema_surface(schema: &Value) -> Schema {
    let values: Vec<String> = schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields: BTreeMap<String, String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .map(|(name, s)| {
                    (
                        name.clone(),
                        format!(
                            "{}{}",
                            type_of(s),
                            if required.contains(&name.as_str()) {
                                "!"
                            } else {
                                ""
                            }
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = if !values.is_empty() {
        "enum".to_string()
    } else if schema.get("properties").is_some() {
        "object".to_string()
    } else {
        type_of(schema)
    };
    Schema {
        kind,
        fields,
        values,
    }
}
