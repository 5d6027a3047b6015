"""The claims ledger: ``satisac claims`` judges every claim of ``../shared/spec/claims.md``."""
