"""Named clinical archetypes, and what each one's page must and must not hold.

Written from the clinical fact sheet (its sources are in content/sources.yaml): section 1
(red flags by urgency), section 2 (the classic pattern: legs brought on by standing and
walking, eased by sitting or bending forward; pain that walking does not bring on is less
typical; legs that ease by standing still point to circulation), section 3 (3-4 exercises,
strength 2-3 days a week, 150 minutes a week of aerobic work built up gradually, cycling when
walking is hard, supported balance work, no kneeling stretch for knees or balance problems,
drop back-arching work that brings on leg symptoms) and section 4 (posture buckets).

Each archetype is a profile plus expectations; tests/test_clinical_matrix.py builds the page
through the app and checks them. ``random_profiles`` draws realistic people for the coverage
figure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

WALKING_EXERCISES = {"paced-walking"}
KNEELING = {"bottom-to-heels", "four-point-reach", "half-kneeling-hip-flexor-stretch"}
EXTENSION = {"prone-press-up"}
FLEXION = {
    "knee-to-chest",
    "double-knees-to-chest",
    "pelvic-tilt",
    "seated-forward-bend",
    "bottom-to-heels",
}
LYING = {
    "knee-to-chest",
    "double-knees-to-chest",
    "pelvic-tilt",
    "abdominal-draw-in",
    "bridge",
    "knee-rolls",
    "lying-hip-flexor-stretch",
    "prone-press-up",
}
GENTLE = {
    "knee-to-chest",
    "pelvic-tilt",
    "seated-forward-bend",
    "knee-rolls",
    "abdominal-draw-in",
    "lying-hip-flexor-stretch",
    "bridge",
    "balance-stand",
    "standing-lean",
    "chin-tuck-chest-lift",
}
ONE_SIDED = {"side-leg-raise", "four-point-reach", "balance-stand"}
OURS = {"posture-assessment", "posture-therapy-programme"}

ANTERIOR = {"pelvic_tilt_deg": 26, "lumbar_lordosis_deg": 74}
MILD_ANTERIOR = {"pelvic_tilt_deg": 20, "lumbar_lordosis_deg": 64}
POSTERIOR_FLAT = {"pelvic_tilt_deg": -6, "lumbar_lordosis_deg": 24}
TYPICAL_POSTURE = {
    "pelvic_tilt_deg": 12,
    "lumbar_lordosis_deg": 50,
    "pelvic_obliquity_deg": 1,
    "thoracic_kyphosis_deg": 35,
    "forward_head_cm": 3,
}
ROUNDED = {"thoracic_kyphosis_deg": 58, "forward_head_cm": 7}
UNEVEN = {"pelvic_obliquity_deg": 6}

CLASSIC_WORSE = ("standing", "walking")
CLASSIC_EASED = ("sitting", "leaning_forward")


def profile(
    *,
    legs: str | None = "both",
    worse=CLASSIC_WORSE,
    eased=CLASSIC_EASED,
    walk: int | None = 10,
    numb: bool = False,
    weak: bool = False,
    pain: int | None = 5,
    align: dict | None = None,
    flags=(),
    minutes: int = 15,
    channel: str = "web",
) -> dict:
    symptoms = {"worse_with": list(worse), "eased_by": list(eased)}
    symptoms.update(numbness=numb, weakness=weak)
    if legs is not None:
        symptoms["legs"] = legs
    if walk is not None:
        symptoms["walking_tolerance_min"] = walk
    if pain is not None:
        symptoms["pain_score"] = pain
    body = {
        "symptoms": symptoms,
        "red_flags": list(flags),
        "context": {"channel": channel, "minutes_per_day": minutes},
    }
    if align:
        body["alignment"] = dict(align)
    return body


@dataclass
class Archetype:
    """A person and what their page must (and must not) hold.

    routine_any: at least one of these is in the routine; routine_none: none of these is;
    aerobic: the aerobic activity of the routine (None: no aerobic work); sections_first: the
    first section; sections / sections_none: these sections are (are not) on the page;
    ctas / ctas_none: likewise for calls to action; says / says_none: words that a reason
    (any block's ``why``) does or does not use; level: the triage level.
    """

    profile: dict
    why: str
    level: str = "none"
    routine_any: set = field(default_factory=set)
    routine_none: set = field(default_factory=set)
    aerobic: str | None | bool = False  # False: not checked
    sections_first: str | None = "what-is-stenosis"
    sections: set = field(default_factory=set)
    sections_none: set = field(default_factory=set)
    ctas: set = field(default_factory=set)
    ctas_none: set = field(default_factory=set)
    says: tuple = ()
    says_none: tuple = ()
    exercises: bool = True


A = Archetype
ARCHETYPES: dict[str, Archetype] = {
    # -- the classic pattern, at different severities --------------------------------------
    "classic-moderate": A(
        profile(align=MILD_ANTERIOR),
        "standing and walking bring both legs on, sitting eases: flexion bias, pacing, cycling",
        routine_any=FLEXION,
        routine_none=EXTENSION,
        sections={"flexion-vs-extension", "helps-positions"},
        says=("bending forward eases your legs",),
        says_none=("your symptoms in one leg",),
    ),
    "classic-flare-up-on-follow-up": A(
        {
            **profile(align=MILD_ANTERIOR),
            "follow_up": {
                "weeks_on_routine": 4,
                "routine_felt": "about_right",
                "flare_up": True,
                "stage": 2,
            },
        },
        "a flare-up since last week: the flare-up advice first, a lighter routine, no new work",
        sections_first="flare-ups",
        routine_none=EXTENSION,
    ),
    "classic-not-measured": A(
        profile(),
        "no measurement: offered a first assessment, routine from symptoms alone",
        routine_any=FLEXION,
        ctas={"posture-assessment"},
        ctas_none={"posture-therapy-programme"},
        sections_none={"posture-lever"},
        says=("your posture has not been measured yet",),
    ),
    "classic-mild-walks-far": A(
        profile(walk=60, pain=2, align=MILD_ANTERIOR, minutes=30),
        "low pain, walks an hour: walking is the aerobic work, firmer floor work is fine",
        aerobic="paced-walking",
        routine_any=KNEELING | {"double-knees-to-chest"},
        says_none=("early", "short way", "high"),
        sections={"faq-reversed-without-surgery"},
    ),
    "classic-short-walker": A(
        profile(walk=4, pain=5),
        "walks 4 minutes with the classic pattern: the bike, pacing, a rest stop",
        aerobic="stationary-bike",
        routine_any={"standing-lean"},
        sections={"helps-pacing-walking", "surgery"},
    ),
    "classic-14-minute-walker": A(
        profile(walk=14, pain=5),
        "walks 14 minutes: the pacing advice without the surgery section for short walkers",
        sections={"helps-pacing-walking"},
        sections_none={"surgery"},
    ),
    "classic-pain-7": A(
        profile(pain=7, walk=25),
        "pain 7: no sit-to-stand, gentle lying and seated work, medicines section",
        routine_none={"sit-to-stand"} | KNEELING,
        routine_any=GENTLE,
        sections={"helps-inflammation"},
        says=("while your pain is high right now",),
    ),
    "classic-pain-8-walk-2": A(
        profile(pain=8, walk=2, align=ANTERIOR),
        "pain 8 and 2 minutes of walking: gentle lying work, the bike, no kneeling",
        aerobic="stationary-bike",
        routine_none=KNEELING | {"sit-to-stand"},
        routine_any={"lying-hip-flexor-stretch"},
        sections={"helps-cycling", "helps-inflammation"},
        ctas={"find-a-clinician"},
    ),
    "classic-pain-9": A(
        profile(pain=9, walk=8, numb=True),
        "pain 9 with numbness: gentle work, balance held on to, no kneeling",
        routine_none=KNEELING | {"sit-to-stand"},
        routine_any={"balance-stand"},
        says=("less steady",),
    ),
    "cannot-walk": A(
        profile(walk=0, pain=6),
        "walking tolerance 0: no walking work at all, the bike instead",
        aerobic="stationary-bike",
        routine_none=WALKING_EXERCISES,
        sections={"helps-cycling"},
        sections_none={"helps-pacing-walking"},
        says=("while walking is not possible",),
    ),
    "walks-1-minute": A(
        profile(walk=1, pain=6),
        "one minute of walking: the bike is the aerobic work",
        aerobic="stationary-bike",
        sections={"helps-cycling"},
    ),
    "numb-and-weak": A(
        profile(numb=True, weak=True, pain=6, align=ANTERIOR),
        "numbness and weakness: supported balance kept, no kneeling, a clinician",
        routine_none=KNEELING,
        routine_any={"balance-stand"},
        sections={"when-to-see-doctor", "faq-worse-over-time"},
        ctas={"find-a-clinician"},
    ),
    "weakness-anterior": A(
        profile(weak=True, pain=4, align=ANTERIOR, minutes=30),
        "leg weakness with a forward-tipped pelvis: the lying stretch, never the kneeling one",
        routine_any={"lying-hip-flexor-stretch"},
        routine_none={"half-kneeling-hip-flexor-stretch"} | KNEELING,
        says=("weakness",),
    ),
    "numbness-only": A(
        profile(numb=True, pain=4),
        "numbness: balance practice, holding on",
        routine_any={"balance-stand"},
        says=("numbness can make you less steady",),
    ),
    # -- which legs -------------------------------------------------------------------------
    "no-leg-symptoms": A(
        profile(legs="none", align=MILD_ANTERIOR),
        "back only, no leg symptoms: 'your symptoms', never 'your legs ease'",
        says=("eases your symptoms",),
        says_none=("eases your legs", "brings on your legs"),
    ),
    "left-leg-only": A(
        profile(legs="left", align=UNEVEN),
        "one leg and uneven hips: one-sided work",
        routine_any={"side-leg-raise"},
        says=("one leg", "one hip sits higher"),
    ),
    "right-leg-only-level-hips": A(
        profile(legs="right"),
        "one leg, level hips: still one-sided work",
        routine_any={"side-leg-raise"},
        says=("one leg",),
    ),
    "both-legs-typical-posture": A(
        profile(legs="both", align=TYPICAL_POSTURE),
        "both legs, posture in the usual range: balance and the outlook question",
        routine_any={"balance-stand"},
        sections_none={"posture-lever"},
    ),
    # -- other patterns ---------------------------------------------------------------------
    "circulation-clue": A(
        profile(legs="right", worse=("walking",), eased=("standing",), walk=12),
        "calf symptoms easing by standing still: see the doctor about circulation",
        sections={"when-to-see-doctor", "faq-what-makes-worse"},
        sections_none={"helps-pacing-walking"},
        ctas={"find-a-clinician"},
        says=("circulation",),
    ),
    "less-typical-lying-sitting": A(
        profile(worse=("lying_down", "sitting"), eased=("walking",), walk=90, pain=5),
        "worse lying and sitting, eased by walking, walks 90 minutes: less typical, see doctor",
        sections={"when-to-see-doctor", "faq-what-makes-worse"},
        sections_none={"helps-positions", "helps-pacing-walking"},
        ctas={"find-a-clinician"},
        routine_none={"knee-to-chest", "pelvic-tilt", "seated-forward-bend"} | LYING,
        says=("less typical",),
        says_none=("bending forward eases", "walking brings on"),
    ),
    "rest-pain-lying": A(
        profile(worse=("lying_down",), eased=("sitting",), walk=40),
        "pain lying down: less typical, no lying exercises",
        routine_none=LYING,
        sections={"when-to-see-doctor"},
        says=("less typical",),
    ),
    "night-pain-steady": A(
        profile(worse=("standing", "walking", "lying_down"), walk=45, pain=2, minutes=30),
        "legs also ache lying down, low pain, walks well: no lying work, a kneeling stretch",
        routine_none=LYING,
        routine_any={"bottom-to-heels", "seated-forward-bend"},
        sections={"when-to-see-doctor"},
    ),
    "steady-walker-no-relief": A(
        profile(legs="left", eased=(), walk=60, pain=1, minutes=15),
        "low pain, walks an hour, nothing eases: firmer lying flexion, walking",
        aerobic="paced-walking",
        routine_any={"double-knees-to-chest", "four-point-reach"},
        routine_none={"stationary-bike"},
    ),
    "extension-relief": A(
        profile(worse=("bending_forward", "sitting", "walking"), eased=("lying_down",), walk=20),
        "bending forward and sitting bring it on: no flexion work, a back-arching move instead",
        routine_none=FLEXION,
        routine_any=EXTENSION,
        aerobic="paced-walking",
        sections={"flexion-vs-extension"},
    ),
    "arching-provoked": A(
        profile(worse=("arching_back", "walking"), eased=("leaning_forward",), walk=15),
        "arching back brings the legs on: never a back-arching move",
        routine_none=EXTENSION,
        sections={"flexion-vs-extension"},
    ),
    "everything-provokes": A(
        profile(
            worse=(
                "standing",
                "walking",
                "arching_back",
                "bending_forward",
                "sitting",
                "lying_down",
            ),
            eased=(),
            pain=9,
            weak=True,
            walk=3,
            align={"pelvic_tilt_deg": 30, "pelvic_obliquity_deg": -6},
        ),
        "everything brings it on, pain 9, weak: very little is safe; a clinician first",
        routine_none=FLEXION | LYING | KNEELING | EXTENSION | {"sit-to-stand"},
        ctas={"find-a-clinician"},
        sections={"when-to-see-doctor"},
    ),
    "nothing-reported": A(
        {},
        "an empty profile: the basics, the usual triggers, a first assessment",
        sections={"faq-what-makes-worse"},
        ctas={"posture-assessment"},
        routine_none=EXTENSION,
    ),
    "only-measured": A(
        {"alignment": ANTERIOR},
        "measured, no symptoms told: posture sections and the programme",
        sections={"posture-lever", "matched-routine"},
        ctas={"posture-therapy-programme"},
        says=("pelvis tips forward",),
    ),
    # -- posture ----------------------------------------------------------------------------
    "anterior-marked": A(
        profile(align=ANTERIOR, minutes=30),
        "forward-tipped pelvis and deep curve: hip flexor and flexion work",
        routine_any={"half-kneeling-hip-flexor-stretch", "lying-hip-flexor-stretch"},
        says=("pelvis tips forward more than most",),
        says_none=("anterior", "lordosis"),
    ),
    "posterior-flat-back": A(
        profile(worse=("walking",), eased=(), align=POSTERIOR_FLAT, walk=25, pain=3),
        "flat lower back, pelvis tipped back, no flexion relief: buttock and back strength",
        routine_any={"bridge", "four-point-reach", "prone-press-up"},
        says=("flatter than most",),
        says_none=("tips forward",),
    ),
    "rounded-upper-back": A(
        profile(align=ROUNDED),
        "rounded upper back and forward head: chin tuck and chest lift",
        routine_any={"chin-tuck-chest-lift"},
        says=("upper back is more rounded",),
    ),
    "uneven-hips-marked": A(
        profile(legs="both", align={"pelvic_obliquity_deg": -8}, minutes=30),
        "one hip clearly higher: side leg raise",
        routine_any={"side-leg-raise"},
        says=("one hip sits higher",),
    ),
    "typical-posture": A(
        profile(align=TYPICAL_POSTURE, numb=False, legs="left"),
        "measured, all in the usual range: no posture reasons",
        says_none=("than most", "tips", "higher than the other"),
    ),
    # -- budgets ----------------------------------------------------------------------------
    "budget-5": A(
        profile(minutes=5, align=MILD_ANTERIOR),
        "5 minutes: two or three short exercises, no aerobic work",
        aerobic=None,
    ),
    "budget-30": A(
        profile(minutes=30, walk=30, align=MILD_ANTERIOR),
        "30 minutes: four exercises and 18 minutes of walking",
        aerobic="paced-walking",
    ),
    "budget-60": A(
        profile(minutes=60, walk=30, align=MILD_ANTERIOR),
        "60 minutes: 30 minutes of walking on 5 days, the 150 a week",
        aerobic="paced-walking",
    ),
    # -- channels and offers ----------------------------------------------------------------
    "clinic-no-partner": A(
        profile(channel="clinic", align=MILD_ANTERIOR),
        "a clinic's embed without a partner: no offer of ours, not sent elsewhere",
        ctas_none=OURS | {"find-a-clinician"},
    ),
    "clinic-weakness": A(
        profile(channel="clinic", weak=True),
        "a clinic's own patient with weakness: still not sent to another clinician",
        ctas_none=OURS | {"find-a-clinician"},
        sections={"when-to-see-doctor"},
    ),
    "email-channel": A(
        profile(channel="email", align=MILD_ANTERIOR),
        "email: the same page as the web",
        ctas={"posture-therapy-programme"},
    ),
    # -- red flags --------------------------------------------------------------------------
    "assess-weight-loss": A(
        profile(flags=("unexplained_weight_loss",), align=MILD_ANTERIOR),
        "unexplained weight loss: assessment first, exercise allowed, no offer of ours",
        level="assess",
        ctas_none=OURS,
        sections={"when-to-see-doctor"},
        says=("weight loss",),
    ),
    "assess-cancer-history": A(
        profile(flags=("history_of_cancer",)),
        "past cancer, no new weakness or numbness: an assessment within days",
        level="assess",
        ctas_none=OURS,
    ),
    "urgent-cancer-numbness": A(
        profile(flags=("history_of_cancer",), numb=True),
        "past cancer with numbness: urgent, no exercise",
        level="urgent",
        exercises=False,
        sections_none={"helps-pacing-walking", "helps-cycling", "matched-routine"},
        ctas_none=OURS,
        sections_first=None,
    ),
    "urgent-fever": A(
        profile(flags=("fever",)),
        "back pain with fever: urgent, routine held, so no advice on exercise either",
        level="urgent",
        exercises=False,
        sections={"when-to-see-doctor"},
        sections_none={"helps-pacing-walking", "helps-cycling", "matched-routine"},
        ctas_none=OURS,
        sections_first=None,
        says=("infection",),
    ),
    "urgent-after-fall": A(
        profile(flags=("after_fall",), pain=8),
        "pain after a fall: urgent, possible fracture",
        level="urgent",
        exercises=False,
        sections_first=None,
        says=("broken bone",),
    ),
    "urgent-walking-decline": A(
        profile(flags=("walking_decline",), walk=3),
        "walking distance clearly shrinking: urgent review",
        level="urgent",
        exercises=False,
        sections_first=None,
    ),
    "emergency-saddle": A(
        profile(flags=("saddle_numbness",)),
        "saddle numbness: the emergency alert and nothing else",
        level="emergency",
        exercises=False,
        sections_first=None,
    ),
    "emergency-on-clinic": A(
        profile(flags=("sudden_leg_weakness",), channel="clinic"),
        "sudden leg weakness on a clinic page: emergency only",
        level="emergency",
        exercises=False,
        sections_first=None,
    ),
}


def random_profiles(n: int, seed: int = 12) -> list[dict]:
    """Realistic people with stenosis or suspected stenosis: mostly the classic pattern, some
    less typical, posture around the fact sheet's means, every budget and channel."""
    rng = random.Random(seed)
    worse_mixes = [
        ["standing", "walking"],
        ["walking"],
        ["standing", "walking", "arching_back"],
        ["standing"],
        ["bending_forward", "sitting"],
        ["lying_down", "sitting"],
        ["walking", "bending_forward"],
        ["standing", "walking", "lying_down"],
        [],
    ]
    eased_mixes = [
        ["sitting", "leaning_forward"],
        ["sitting"],
        ["leaning_forward", "lying_down"],
        ["standing"],
        ["walking"],
        ["lying_down"],
        [],
    ]
    people = []
    for _ in range(n):
        body: dict = {
            "context": {
                "channel": rng.choice(["web", "web", "web", "email", "clinic"]),
                "minutes_per_day": rng.choice([5, 10, 15, 15, 20, 30, 45, 60]),
            }
        }
        if rng.random() < 0.85:
            body["alignment"] = {
                "pelvic_tilt_deg": round(rng.gauss(13, 7), 1),
                "lumbar_lordosis_deg": round(min(100, max(0, rng.gauss(50, 12))), 1),
                "pelvic_obliquity_deg": round(max(-20, min(20, rng.gauss(0, 2.5))), 1),
                "thoracic_kyphosis_deg": round(min(100, max(0, rng.gauss(40, 10))), 1),
                "forward_head_cm": round(min(20, max(0, rng.gauss(3.5, 2))), 1),
            }
        if rng.random() < 0.95:
            weights = [40, 15, 12, 6, 6, 5, 6, 4, 10]
            body["symptoms"] = {
                "legs": rng.choice(["both", "both", "left", "right", "none"]),
                "worse_with": rng.choices(worse_mixes, weights)[0],
                "eased_by": rng.choices(eased_mixes, [45, 20, 10, 5, 5, 5, 10])[0],
                "walking_tolerance_min": int(min(600, rng.expovariate(1 / 20))),
                "numbness": rng.random() < 0.4,
                "weakness": rng.random() < 0.15,
                "pain_score": min(10, max(0, round(rng.gauss(5, 2.2)))),
            }
        flags = [
            f
            for f, p in (("walking_decline", 0.02), ("history_of_cancer", 0.03), ("fever", 0.01))
            if rng.random() < p
        ]
        body["red_flags"] = flags
        people.append(body)
    return people
