//! `cargo xtask drift` classifies each change by its effect on the SDK's public Rust API and
//! proposes the version bump: one altered copy of the committed spec per class of change.

use std::process::Command;

use serde_json::{Value, json};
use xtask::drift::{Bump, DriftReport, Impact, next_version};
use xtask::regen;
use xtask::surface::Surface;

fn committed() -> Value {
    let path = regen::workspace_root().join("openapi.json");
    serde_json::from_slice(&std::fs::read(path).expect("openapi.json")).expect("json")
}

/// The report for `committed()` altered by `alter`; asserts every change has `impact`.
fn classify(alter: impl FnOnce(&mut Value), impact: Impact) -> DriftReport {
    let base = committed();
    let mut candidate = base.clone();
    alter(&mut candidate);
    let report = DriftReport::compare(&Surface::of(&base), &Surface::of(&candidate));
    assert!(!report.classified.is_empty(), "the alteration must show");
    for (got, line) in &report.classified {
        assert_eq!(*got, impact, "{line}");
    }
    report
}

fn schemas(spec: &mut Value) -> &mut Value {
    &mut spec["components"]["schemas"]
}

#[test]
fn an_operation_removed_is_breaking() {
    let report = classify(
        |s| {
            s["paths"]
                .as_object_mut()
                .expect("paths")
                .remove("/api/v1/balance/all");
        },
        Impact::Breaking,
    );
    assert_eq!(
        report.classified[0].1,
        "operation removed: getAllBalances (GET /api/v1/balance/all)"
    );
}

#[test]
fn a_field_removed_is_breaking() {
    let report = classify(
        |s| {
            schemas(s)["Payment"]["properties"]
                .as_object_mut()
                .expect("properties")
                .remove("fee");
        },
        Impact::Breaking,
    );
    assert_eq!(
        report.classified[0].1,
        "Payment.fee: field removed (was integer(int64))"
    );
}

#[test]
fn a_field_retyped_is_breaking() {
    classify(
        |s| schemas(s)["Payment"]["properties"]["amount"] = json!({"type": "string"}),
        Impact::Breaking,
    );
}

#[test]
fn a_new_required_request_field_is_breaking_even_when_nested() {
    classify(
        |s| {
            schemas(s)["PaymentCreateRequest"]["properties"]["country"] = json!({"type": "string"});
            schemas(s)["PaymentCreateRequest"]["required"]
                .as_array_mut()
                .expect("required")
                .push(json!("country"));
        },
        Impact::Breaking,
    );
    // Customer is only reached through PaymentCreateRequest.customer.
    classify(
        |s| {
            schemas(s)["Customer"]["properties"]["tax_id"] = json!({"type": "string"});
            schemas(s)["Customer"]["required"] = json!(["tax_id"]);
        },
        Impact::Breaking,
    );
}

#[test]
fn an_enum_value_removed_is_breaking() {
    classify(
        |s| {
            let values = schemas(s)["PaymentMethod"]["enum"]
                .as_array_mut()
                .expect("enum");
            values.retain(|v| v != "oxxo");
        },
        Impact::Breaking,
    );
}

#[test]
fn a_new_operation_is_additive() {
    classify(
        |s| {
            s["paths"]["/api/v1/payments/{id}/refund"] = json!({"post": {
                "operationId": "refundPayment", "tags": ["payments"], "summary": "Refund",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentResponse"}}}}}
            }});
        },
        Impact::Additive,
    );
}

#[test]
fn a_new_optional_field_or_a_new_required_response_field_is_additive() {
    classify(
        |s| schemas(s)["PaymentCreateRequest"]["properties"]["note"] = json!({"type": "string"}),
        Impact::Additive,
    );
    // Payment is only ever received: a new required field there breaks no caller.
    classify(
        |s| {
            schemas(s)["Payment"]["properties"]["region"] = json!({"type": "string"});
            schemas(s)["Payment"]["required"]
                .as_array_mut()
                .expect("required")
                .push(json!("region"));
        },
        Impact::Additive,
    );
}

#[test]
fn a_new_enum_value_is_additive_because_the_enums_are_open() {
    classify(
        |s| {
            schemas(s)["PaymentStatus"]["enum"]
                .as_array_mut()
                .expect("enum")
                .push(json!("on_hold"));
        },
        Impact::Additive,
    );
}

#[test]
fn the_bump_follows_cargo_semver_for_0x() {
    let breaking = classify(
        |s| {
            s["paths"]
                .as_object_mut()
                .expect("paths")
                .remove("/api/v1/balance/all");
        },
        Impact::Breaking,
    );
    assert_eq!(breaking.bump("0.1.0"), Bump::Minor);
    assert_eq!(breaking.bump("1.4.2"), Bump::Major);
    assert!(
        breaking
            .summary("0.1.0")
            .starts_with("Spec drift: 1 breaking, 0 additive change(s); proposed version 0.1.0 -> 0.2.0 (minor bump: breaking changes bump the minor version while the crate is 0.x)"),
        "{}",
        breaking.summary("0.1.0")
    );
    let additive = classify(
        |s| schemas(s)["Payment"]["properties"]["note"] = json!({"type": "string"}),
        Impact::Additive,
    );
    assert_eq!(additive.bump("0.1.0"), Bump::Patch);
    assert_eq!(additive.bump("1.4.2"), Bump::Minor);
    assert_eq!(next_version("0.1.9", Bump::Patch), "0.1.10");
    assert_eq!(next_version("1.4.2", Bump::Major), "2.0.0");
    let none = DriftReport::compare(&Surface::of(&committed()), &Surface::of(&committed()));
    assert_eq!(none.bump("0.1.0"), Bump::None);
}

#[test]
fn the_cli_prints_the_summary_first_and_writes_the_report_file() {
    let dir = std::env::temp_dir().join(format!("luxcore-drift-classes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut spec = committed();
    schemas(&mut spec)["PaymentStatus"]["enum"]
        .as_array_mut()
        .expect("enum")
        .push(json!("on_hold"));
    schemas(&mut spec)["Payment"]["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("fee");
    let candidate = dir.join("candidate.json");
    std::fs::write(&candidate, serde_json::to_vec(&spec).expect("json")).expect("write");
    let report_path = dir.join("report.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["drift", "--spec"])
        .arg(&candidate)
        .arg("--output")
        .arg(&report_path)
        .output()
        .expect("run xtask");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("Spec drift: 1 breaking, 1 additive change(s); proposed version"),
        "{stdout}"
    );
    assert!(
        stdout.contains("breaking (1):\n  Payment.fee: field removed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("additive (1):\n  PaymentStatus: enum value added: on_hold"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&report_path).expect("report written"),
        stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}
