//! Request input: JSON bodies parsed from raw bytes with NestJS-style validation
//! messages, and query strings.

use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::page::{DateRange, Page};

/// Largest accepted `amount` (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_AMOUNT: i64 = 9_007_199_254_740_991;

/// Parses a JSON object body. An empty body is an empty object; a body sent with a
/// non-JSON `Content-Type`, malformed JSON or a non-object is a validation error.
pub(crate) fn json_object(headers: &HeaderMap, body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::validation(vec![
                "Content-Type must be application/json".to_owned(),
            ]));
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::validation(vec![
            "request body must be a JSON object".to_owned(),
        ])),
        Err(e) => Err(ApiError::validation(vec![format!(
            "Unexpected token in JSON body: {e}"
        )])),
    }
}

/// Collects field validation messages over a JSON object.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            errors: Vec::new(),
        }
    }

    /// The field as sent. An explicit `null` is kept: no request field is nullable in the
    /// spec, so `null` fails the type check like any other wrong type.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name)
    }

    /// Adds a message.
    pub(crate) fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// Required non-empty string.
    pub(crate) fn required_string(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => {
                self.error(format!("{name} should not be empty"));
                self.error(format!("{name} must be a string"));
                None
            }
            // `@IsNotEmpty` rejects only "", as the spec's `minLength: 1` does.
            Some(Value::String(s)) if s.is_empty() => {
                self.error(format!("{name} should not be empty"));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(format!("{name} must be a string"));
                None
            }
        }
    }

    /// Optional string.
    pub(crate) fn optional_string(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(format!("{name} must be a string"));
                None
            }
        }
    }

    /// Checks the maximum length (in characters) of a string already read.
    pub(crate) fn max_len(&mut self, name: &str, value: Option<&String>, max: usize) {
        if value.is_some_and(|v| v.chars().count() > max) {
            self.error(format!(
                "{name} must be shorter than or equal to {max} characters"
            ));
        }
    }

    /// Optional boolean.
    pub(crate) fn optional_bool(&mut self, name: &str) -> Option<bool> {
        match self.get(name) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(format!("{name} must be a boolean value"));
                None
            }
        }
    }

    /// Optional JSON object.
    pub(crate) fn optional_object(&mut self, name: &str) -> Option<Map<String, Value>> {
        match self.get(name) {
            None => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => {
                self.error(format!("{name} must be an object"));
                None
            }
        }
    }

    /// Optional array of strings (`None` when absent).
    pub(crate) fn optional_string_array(&mut self, name: &str) -> Option<Vec<String>> {
        match self.get(name) {
            None => None,
            Some(Value::Array(items)) => {
                let strings: Vec<String> = items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                if strings.len() == items.len() {
                    Some(strings)
                } else {
                    self.error(format!("each value in {name} must be a string"));
                    None
                }
            }
            Some(_) => {
                self.error(format!("{name} must be an array"));
                None
            }
        }
    }

    /// Integer amount in minor units, `1..=MAX_AMOUNT`.
    pub(crate) fn amount(&mut self, name: &str, required: bool) -> Option<i64> {
        let Some(value) = self.get(name) else {
            if required {
                self.error(format!("{name} must be an integer number"));
                self.error(format!("{name} must not be less than 1"));
            }
            return None;
        };
        let Value::Number(number) = value else {
            self.error(format!("{name} must be an integer number"));
            return None;
        };
        if let Some(n) = number.as_i64() {
            if n < 1 {
                self.error(format!("{name} must not be less than 1"));
                None
            } else if n > MAX_AMOUNT {
                self.error(format!("{name} must not be greater than {MAX_AMOUNT}"));
                None
            } else {
                Some(n)
            }
        } else if number.as_u64().is_some() {
            self.error(format!("{name} must not be greater than {MAX_AMOUNT}"));
            None
        } else {
            self.error(format!("{name} must be an integer number"));
            if number.as_f64().is_some_and(|f| f < 1.0) {
                self.error(format!("{name} must not be less than 1"));
            }
            None
        }
    }

    /// Object of optional string fields (e.g. `customer`).
    pub(crate) fn string_fields(
        &mut self,
        name: &str,
        fields: &[&str],
    ) -> Option<Map<String, Value>> {
        let object = self.optional_object(name)?;
        let mut ok = true;
        for field in fields {
            if object.get(*field).is_some_and(|v| !v.is_string()) {
                self.error(format!("{name}.{field} must be a string"));
                ok = false;
            }
        }
        ok.then_some(object)
    }

    /// `Err` with all messages, if any.
    pub(crate) fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

/// Message for a value outside an enumeration.
pub(crate) fn one_of(name: &str, values: &[&str]) -> String {
    format!(
        "{name} must be one of the following values: {}",
        values.join(", ")
    )
}

/// A parsed query string (repeated keys kept in order).
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
    errors: Vec<String>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            pairs,
            errors: Vec::new(),
        }
    }

    /// First value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of `name` (also accepts `name[]`).
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[]");
        self.pairs
            .iter()
            .filter(|(k, _)| *k == name || *k == bracketed)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Adds a message.
    pub(crate) fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    fn integer(&mut self, name: &str, default: i64, min: i64, max: i64) -> i64 {
        let Some(raw) = self.get(name).map(str::to_owned) else {
            return default;
        };
        let digits = raw.strip_prefix('-').unwrap_or(&raw);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            self.error(format!("{name} must be an integer number"));
            return default;
        }
        let value = raw.parse::<i64>().unwrap_or(if raw.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
        if value < min {
            self.error(format!("{name} must not be less than {min}"));
            default
        } else if value > max {
            self.error(format!("{name} must not be greater than {max}"));
            default
        } else {
            value
        }
    }

    /// `limit` (1–100, default 20) and `offset` (>= 0, default 0).
    pub(crate) fn page(&mut self) -> Page {
        let limit = self.integer("limit", 20, 1, 100);
        let offset = self.integer("offset", 0, 0, i64::from(i32::MAX));
        Page {
            limit: usize::try_from(limit).unwrap_or(20),
            offset: usize::try_from(offset).unwrap_or(0),
        }
    }

    /// An ISO 8601 / RFC 3339 date-time (a bare date means midnight UTC).
    pub(crate) fn date(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let raw = self.get(name)?.to_owned();
        if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
            return Some(t.with_timezone(&Utc));
        }
        if let Some(t) = chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
        {
            return Some(t.and_utc());
        }
        self.error(format!("{name} must be a valid ISO 8601 date string"));
        None
    }

    /// The date range of two date parameters (`created_at_from`, `created_at_to`).
    pub(crate) fn date_range(&mut self, from: &str, to: &str) -> DateRange {
        DateRange {
            from: self.date(from),
            to: self.date(to),
        }
    }

    /// A value restricted to `allowed`.
    pub(crate) fn enumerated(&mut self, name: &str, allowed: &[&str]) -> Option<String> {
        let raw = self.get(name)?.to_owned();
        if allowed.contains(&raw.as_str()) {
            Some(raw)
        } else {
            self.error(one_of(name, allowed));
            None
        }
    }

    /// `Err` with all messages, if any.
    pub(crate) fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::query(self.errors))
        }
    }
}
