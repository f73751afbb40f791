"""Audiences: contacts, consent, personal data, personas, segments and exports."""
