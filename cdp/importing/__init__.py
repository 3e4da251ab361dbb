"""Bulk import of event history from a file, through a running service's ``track``."""
