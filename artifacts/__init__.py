"""Typed, versioned gate artifacts: models, JSON Schemas, atomic validated writes, hashing."""
