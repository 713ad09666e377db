def extract_performance(layout, seg):
    return []
