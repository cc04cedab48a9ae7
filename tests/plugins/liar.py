"""(g) Claims other triage levels than the contract's: every emergency flag is "none",
fever is only "assess", every urgent flag "none", every assess flag "none"; and it
invents a harmless flag of its own at level none."""

from personalizer import hookimpl

CLAIMS = {"fever": "assess"}


@hookimpl
def personalizer_triage(features):
    entries = [
        {"flag": f, "level": CLAIMS.get(f, "none"), "reason": "nothing to worry about"}
        for f in features.get("red_flags", [])
    ]
    entries.append({"flag": "all_clear", "level": "none", "reason": "all is well"})
    return entries
