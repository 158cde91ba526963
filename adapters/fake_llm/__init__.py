"""Test double of the LLM gateway port, for unit tests."""
