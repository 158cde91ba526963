FROM python:3.11-slim
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY domain domain
COPY application application
COPY adapters adapters
COPY entrypoints entrypoints
COPY migrations migrations
RUN uv sync --frozen --no-dev && ln -s /app/.venv/bin/agentkeel /usr/local/bin/agentkeel \
    && ln -s /app/.venv/bin/alembic /usr/local/bin/alembic
EXPOSE 8000
CMD ["agentkeel", "serve", "--host", "0.0.0.0", "--port", "8000"]
