# Every target sets up .venv on first use (uv, with the lock file; the system Python 3.11).
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY := .venv/bin/python
# What make compares with the lock file: not $(PY), a symlink to the system Python that
# every venv on the machine shares (touching it would date them all).
VENV := .venv/.synced
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test check bench clean

# Byte-code compiled at install: where PYTHONDONTWRITEBYTECODE is set (CI here), every
# process would otherwise compile every import again (seconds per `serve` worker).
$(VENV): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet --user uv
	"$(UV)" sync --frozen --compile-bytecode --python "$$(command -v python3.11 || command -v python3)"
	@touch $@

# A real LiteLLM proxy for the gateway adapter's tests, kept out of the project's own
# environment (it brings hundreds of MB and its own pins). Pinned for repeatable tests.
LITELLM_VERSION ?= 1.108.7
LITELLM := .venv-litellm/bin/litellm
$(LITELLM):
	"$(UV)" venv --quiet --python "$$(command -v python3.11 || command -v python3)" .venv-litellm
	VIRTUAL_ENV=.venv-litellm "$(UV)" pip install --quiet --compile-bytecode "litellm[proxy]==$(LITELLM_VERSION)"

install: $(VENV) $(LITELLM)

run: $(VENV)
	.venv/bin/agentkeel serve --host $(HOST) --port $(PORT)

test: $(VENV) $(LITELLM)
	$(PY) -m pytest -q

check: $(VENV)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

bench: $(VENV)
	$(PY) -m bench.run

clean:
	rm -rf .venv .venv-litellm .agentkeel .mypy_cache .pytest_cache .ruff_cache
