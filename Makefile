# Every target sets up .venv on first use (uv, with the lock file; the system Python 3.11).
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test check bench clean

$(PY): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet --user uv
	"$(UV)" sync --frozen --python "$$(command -v python3.11 || command -v python3)"
	@touch $(PY)

install: $(PY)

run: $(PY)
	.venv/bin/agentkeel serve --host $(HOST) --port $(PORT)

test: $(PY)
	$(PY) -m pytest -q

check: $(PY)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

bench: $(PY)
	$(PY) -m bench.run

clean:
	rm -rf .venv .agentkeel .mypy_cache .pytest_cache .ruff_cache
