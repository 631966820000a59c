"""Neutral plumbing every edge imports and no edge owns: settings, the service wiring, HTTP
helpers and error rendering, logs, metrics, operator auth and the message catalogue."""
