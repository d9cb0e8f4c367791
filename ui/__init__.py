"""Presentation helpers shared by the pages: session state, filters, formatting and charts. No SQL here."""
