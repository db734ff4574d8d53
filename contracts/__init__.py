"""The five bus message contracts: pydantic models, JSON Schemas, validation, dead letters."""
