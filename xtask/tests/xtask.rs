//! The xtask pipeline: deterministic generation, `--check` catching stale or hand-edited code,
//! generator panics named by operation, `--fetch` failing cleanly, and the drift report against a
//! spec served over local HTTP.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use xtask::{codegen, regen};

fn root() -> PathBuf {
    regen::workspace_root()
}

fn committed_spec() -> Vec<u8> {
    std::fs::read(root().join("openapi.json")).expect("openapi.json")
}

/// Serves `body` with `content_type` to every request until the test process ends.
fn serve(body: Vec<u8>, content_type: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/api/v1/openapi.json")
}

fn xtask(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run xtask");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("luxcore-xtask-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(codegen::OUTPUT_DIR)).expect("temp dir");
    dir
}

fn copy_workspace_subset(to: &Path) {
    std::fs::copy(root().join("openapi.json"), to.join("openapi.json")).expect("copy spec");
    for entry in std::fs::read_dir(root().join(codegen::OUTPUT_DIR)).expect("luxcore-api/src") {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            to.join(codegen::OUTPUT_DIR).join(entry.file_name()),
        )
        .expect("copy");
    }
}

#[test]
fn generation_is_deterministic_and_headed_with_the_spec_hash() {
    let spec = committed_spec();
    let first = codegen::generate(&spec).expect("generates");
    let second = codegen::generate(&spec).expect("generates");
    assert_eq!(first, second);
    let hash = codegen::spec_sha256(&spec);
    for file in &first {
        assert!(
            file.content.starts_with("// @generated"),
            "{}",
            file.path.display()
        );
        assert!(
            file.content
                .lines()
                .next()
                .is_some_and(|l| l.contains(&hash)),
            "{} names the spec hash",
            file.path.display()
        );
    }
}

#[test]
fn committed_code_is_up_to_date() {
    assert_eq!(regen::check(&root()).expect("check runs"), None);
}

#[test]
fn check_reports_a_hand_edit_and_a_stray_file() {
    let dir = temp_dir("check");
    copy_workspace_subset(&dir);
    let lib = dir.join("luxcore-api/src/lib.rs");
    let edited = std::fs::read_to_string(&lib).expect("lib.rs").replacen(
        "pub mod enums;",
        "pub mod enums; // tweaked",
        1,
    );
    std::fs::write(&lib, edited).expect("write");
    std::fs::write(dir.join("luxcore-api/src/extra.rs"), "// hand-written\n").expect("write");
    let summary = regen::check(&dir)
        .expect("check runs")
        .expect("drift found");
    assert!(
        summary.contains("luxcore-api/src/lib.rs: stale or edited by hand"),
        "{summary}"
    );
    assert!(summary.contains("-1 +1 lines"), "{summary}");
    assert!(summary.contains("+ pub mod enums;"), "{summary}");
    assert!(
        summary.contains("luxcore-api/src/extra.rs: not produced by the generator"),
        "{summary}"
    );

    // regen repairs it: afterwards the check is clean again.
    regen::regen(&dir).expect("regen");
    assert_eq!(regen::check(&dir).expect("check runs"), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_change_makes_the_committed_code_stale() {
    let dir = temp_dir("stale");
    copy_workspace_subset(&dir);
    let mut spec: Value = serde_json::from_slice(&committed_spec()).expect("json");
    spec["components"]["schemas"]["Payment"]["properties"]["new_field"] =
        json!({"type": "string", "description": "New."});
    std::fs::write(
        dir.join("openapi.json"),
        serde_json::to_vec_pretty(&spec).expect("json"),
    )
    .expect("write");
    let summary = regen::check(&dir).expect("check runs").expect("stale");
    assert!(summary.contains("lib.rs: stale"), "{summary}");
    assert!(
        summary.contains("enums.rs: stale"),
        "the new hash changes every header: {summary}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_generator_panic_names_the_operation() {
    let mut spec: Value = serde_json::from_slice(&committed_spec()).expect("json");
    // Two different success schemas on one operation: progenitor panics on this.
    spec["paths"]["/api/v1/balance"]["get"]["responses"]["201"] = json!({"description": "x", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}});
    let err = codegen::generate(&serde_json::to_vec(&spec).expect("json")).expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains("progenitor panicked"), "{text}");
    assert!(text.contains("getBalance (GET /api/v1/balance)"), "{text}");
}

#[test]
fn unsupported_documents_are_rejected_with_a_clear_error() {
    let err = codegen::generate(b"<html>nope</html>").expect_err("not json");
    assert!(err.to_string().contains("not JSON"), "{err}");
    let err =
        codegen::generate(br#"{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{}}"#)
            .expect_err("3.1");
    assert!(err.to_string().contains("3.1.0 is not supported"), "{err}");
}

#[test]
fn fetch_offline_or_non_json_fails_and_leaves_the_spec_untouched() {
    let before = committed_spec();
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let (code, _, stderr) = xtask(&["regen", "--fetch", &format!("http://{closed}/openapi.json")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot download"), "{stderr}");

    let url = serve(
        b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        "text/html",
    );
    let (code, _, stderr) = xtask(&["regen", "--fetch", &url]);
    assert_ne!(code, 0);
    assert!(stderr.contains("not JSON"), "{stderr}");
    assert_eq!(committed_spec(), before, "openapi.json must stay untouched");
}

#[test]
fn drift_reports_an_added_operation_and_a_retyped_field() {
    let mut spec: Value = serde_json::from_slice(&committed_spec()).expect("json");
    spec["paths"]["/api/v1/payments/{id}/refund"] = json!({"post": {
        "operationId": "refundPayment", "tags": ["payments"], "summary": "Refund a payment",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentResponse"}}}}}
    }});
    spec["components"]["schemas"]["Payment"]["properties"]["amount"] =
        json!({"type": "string", "description": "Now a string."});
    spec["components"]["schemas"]["PaymentStatus"]["enum"]
        .as_array_mut()
        .expect("enum")
        .push(json!("on_hold"));
    let url = serve(serde_json::to_vec(&spec).expect("json"), "application/json");

    let (code, stdout, stderr) = xtask(&["drift", "--url", &url]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout
            .contains("Operations added (1):\n  refundPayment (POST /api/v1/payments/{id}/refund)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Payment.amount: retyped integer(int64)! -> string!"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PaymentStatus: enum value added: on_hold"),
        "{stdout}"
    );
    assert!(stderr.contains("spec drift detected"), "{stderr}");

    let same = serve(committed_spec(), "application/json");
    let (code, stdout, _) = xtask(&["drift", "--url", &same]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("No drift"), "{stdout}");
}

#[test]
fn drift_from_a_file() {
    let dir = temp_dir("drift-file");
    let mut spec: Value = serde_json::from_slice(&committed_spec()).expect("json");
    spec["paths"]
        .as_object_mut()
        .expect("paths")
        .remove("/api/v1/balance/all");
    let path = dir.join("candidate.json");
    std::fs::write(&path, serde_json::to_vec(&spec).expect("json")).expect("write");
    let (code, stdout, _) = xtask(&["drift", "--spec", path.to_str().expect("utf-8 path")]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("Operations removed (1):\n  getAllBalances (GET /api/v1/balance/all)"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
