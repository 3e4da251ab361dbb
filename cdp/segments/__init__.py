"""Segments: rules over a profile, evaluated per person and compiled for the whole base."""
