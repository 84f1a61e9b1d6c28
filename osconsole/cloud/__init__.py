"""Talking to OpenStack: auth, HTTP and one module per service."""
