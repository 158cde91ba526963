"""Signed webhooks: verifying inbound ones, signing and sending outbound callbacks."""
