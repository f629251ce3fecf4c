"""Topic relevance (placeholder until the relevance profile lands)."""


def parse_profile(table, key="relevance"):
    return None
