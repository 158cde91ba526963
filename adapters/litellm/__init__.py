"""LLM gateway adapter over the LiteLLM proxy HTTP API."""
