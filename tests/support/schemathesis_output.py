"""Reading Schemathesis' console report: which errors it had of its own (not answers of
the service's, which it reports as failures)."""

import re

_SECTION = re.compile(r"^=+ ([A-Z]+) =+$", re.MULTILINE)
_OPERATION = re.compile(r"^_{3,} .+ _{3,}$", re.MULTILINE)
# CPython 3.11.7's ast.parse can raise "AST constructor recursion depth mismatch" deep in
# a stack (CPython gh-106905, fixed in later 3.11 releases); Hypothesis calls it to
# describe a filter while Schemathesis builds coverage cases. CPython has the same check,
# worded alike, in its AST validator and optimizer and its symtable.
KNOWN_TOOL_ERROR = re.compile(r"(AST \w+|symtable analysis) recursion depth mismatch")


def sections(output: str) -> dict[str, str]:
    """The report's `==== NAME ====` sections, by name."""
    heads = list(_SECTION.finditer(output))
    ends = [h.start() for h in heads[1:]] + [len(output)]
    return {h.group(1): output[h.end() : end] for h, end in zip(heads, ends, strict=True)}


def errors(output: str) -> list[str]:
    """One text per operation that errored (its kind first, then what the tool says)."""
    blocks = _OPERATION.split(sections(output).get("ERRORS", ""))
    return [block.strip() for block in blocks[1:]]


def only_known_tool_errors(output: str) -> bool:
    """The run errored, every error is a Runtime Error in CPython's AST recursion check
    (however Schemathesis words its headline: a plain error, or Hypothesis' "Inconsistent
    results" around it), and nothing failed."""
    found = errors(output)
    known = [e for e in found if e.startswith("Runtime Error") and KNOWN_TOOL_ERROR.search(e)]
    return bool(found) and len(known) == len(found) and "FAILURES" not in sections(output)
