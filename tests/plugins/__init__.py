"""Adversarial plugins for the safety tests, one module each, and ``oracle``: the safety
contract (DESIGN section 4) restated independently of the engine, as assertions.

None of these modules is registered anywhere: a test installs one with
``create_app(base_config(EXTRA_PLUGINS=[(name, plugin)], LOAD_PLUGINS=BUILTINS + [name]))``.
"""
