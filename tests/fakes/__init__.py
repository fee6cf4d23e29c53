"""Fakes of external things (LLM providers), reusable by tests and by evals in CI."""
