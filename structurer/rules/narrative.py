"""Narrative facts (placeholder until implemented below)."""
def extract_narrative(layout, seg):
    return []
