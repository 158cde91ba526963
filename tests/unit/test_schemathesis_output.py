"""The Schemathesis test tolerates only CPython's AST recursion error inside the tool, in
whichever form Schemathesis reports it (tests/support/schemathesis_output.py)."""

from tests.support.schemathesis_output import errors, only_known_tool_errors

BAR = "=" * 20


def _report(*blocks: str, failures: bool = False) -> str:
    parts = ["Schemathesis v4", ""]
    if failures:
        parts += [f"{BAR} FAILURES {BAR}", "_____ GET /api/agents _____", "Server error", ""]
    if blocks:
        parts += [f"{BAR} ERRORS {BAR}"]
        for n, block in enumerate(blocks):
            parts += [f"_____ POST /v{n}/chat/completions _____", block, ""]
    parts += [f"{BAR} WARNINGS {BAR}", "Missing test data", f"{BAR} SUMMARY {BAR}"]
    parts += ["Errors:", "  🚫 Runtime Error: 1", "Tested: 43"]
    return "\n".join(parts)


PLAIN = "Runtime Error\n\nAST constructor recursion depth mismatch (before=66, after=99)"
# Hypothesis' FlakyFailure: the headline does not name the error, the traceback does.
FLAKY = (
    "Runtime Error\n\nInconsistent results: A test case failed on the first run but now "
    "succeeds (1 sub-exception)\n  | Traceback (most recent call last):\n"
    "  | SystemError: AST constructor recursion depth mismatch (before=246, after=114)"
)


def test_the_ast_error_is_tolerated_however_it_is_headlined() -> None:
    assert only_known_tool_errors(_report(FLAKY))
    assert only_known_tool_errors(_report(PLAIN, FLAKY))
    assert errors(_report(PLAIN, FLAKY)) == [PLAIN, FLAKY]


def test_any_other_error_is_not() -> None:
    other = "Runtime Error\n\nKeyError: 'schema'"
    assert not only_known_tool_errors(_report(other))
    assert not only_known_tool_errors(_report(FLAKY, other))
    network = "Network Error\n\nConnection refused (AST constructor recursion depth mismatch)"
    assert not only_known_tool_errors(_report(network))


def test_a_run_without_errors_or_with_failures_is_not() -> None:
    assert not only_known_tool_errors(_report())
    assert not only_known_tool_errors(_report(FLAKY, failures=True))
