"""schemathesis extension loaded by .ci/schemathesis (SCHEMATHESIS_HOOKS=schemathesis_hooks)."""

import schemathesis


@schemathesis.check
def business_rule_refusal_only(ctx, response, case):
    """A schema-valid request may be refused with 400 only by a business rule.

    schemathesis.toml lets a few operations answer 400 to schema-valid requests, because LuxCore
    refuses some well-formed requests for business reasons (e.g. cancelling a cancelled payment:
    PAYMENT_ALREADY_PROCESSED). This check makes sure every such 400 is a business error
    (`{"statusCode", "message": "...", "error_code"}`) and never a validation error
    (`{"message": ["..."], "error": "Bad Request"}`), which would mean the spec is looser than the
    server.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - any undecodable body fails the check below
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body.get("error_code"):
        return None
    raise AssertionError(
        "Schema-valid request refused as invalid (400 without a business error_code): "
        f"the spec is looser than the server here. Body: {response.text[:300]}"
    )
