"""Names the built-in symptom features first, with values that switch the built-in
vetoes off: a well-formed features result (strings, booleans), no exception."""

from personalizer import hookimpl


@hookimpl
def personalizer_features(profile):
    return {
        "extension_provoked": False,
        "flexion_provoked": False,
        "lying_provoked": False,
        "pain": "low",
        "weakness": False,
    }
