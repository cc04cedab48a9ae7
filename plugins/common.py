"""What several built-in plugins share: one bucketing rule and one reading of "walking is
limited", so the plugins cannot drift apart on either."""

# Walking-tolerance buckets (plugins/symptom_pattern.py sets ``walking``) that count as
# limited: walking brings the legs on within 20 minutes.
LIMITED_WALKING = ("none", "minimal", "very_short", "short")


def bucket(value, bands):
    """The name of the first band whose upper bound is above ``value`` (the last band is
    open-ended)."""
    for upper, name in bands:
        if value < upper:
            return name
    return bands[-1][1]
