"""Offline LLM gateway: the sandbox mode used when no LiteLLM URL is configured."""
