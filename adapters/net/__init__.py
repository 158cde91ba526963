"""Outbound HTTP on a tenant's behalf: the SSRF guard and the clients built on it."""
