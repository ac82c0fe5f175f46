"""Helpers and hypothesis strategies of the codec-semantics tests (grammar, letters, receipts)."""
