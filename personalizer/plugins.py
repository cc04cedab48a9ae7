"""The one plugin manager: built-ins and third-party plugins, loaded the same way.

Plugins are found through the entry-point group ``personalizer``; the built-ins are declared
there by this project's own pyproject.toml. Each entry point is loaded on its own, so a
plugin that fails to import or to validate is reported (``/v1/plugins``, the log) and the
service still starts. ``STRICT_PLUGINS`` re-raises instead, for plugin development.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from personalizer import hookspecs

log = logging.getLogger(__name__)

GROUP = "personalizer"

DEFAULT_PLUGINS = (
    "personalizer_plugins.red_flags",
    "personalizer_plugins.symptom_pattern",
    "personalizer_plugins.alignment",
    "personalizer_plugins.education",
    "personalizer_plugins.calls_to_action",
    "personalizer_plugins.routine",
    "personalizer_plugins.progression",
)


class PluginError(Exception):
    """A plugin that cannot be used as it is; the message says why."""


@dataclass
class PluginInfo:
    name: str
    source: str  # "built-in" or "package"
    package: str | None = None
    version: str | None = None
    enabled: bool = True
    error: str | None = None
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "package": self.package,
            "hooks": self.hooks,
            "enabled": self.enabled,
            "error": self.error,
        }


class PluginHost:
    """A pluggy manager plus what we know about each plugin we tried to load."""

    def __init__(self):
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}

    def register(self, plugin, info: PluginInfo, strict: bool = False) -> None:
        try:
            hash(plugin)  # pluggy keeps plugins in sets: an unhashable one breaks it later
        except TypeError:
            self._failed(info, PluginError("the plugin object is not hashable"), strict)
            return
        try:
            self.pm.register(plugin, name=info.name)
        except Exception as exc:
            self._failed(info, exc, strict)
            return
        wrappers = sorted(
            caller.name
            for caller in self.pm.get_hookcallers(plugin) or ()
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)
        )
        if wrappers:
            self.pm.unregister(name=info.name)
            error = PluginError(f"wrapper hookimpls are not supported ({', '.join(wrappers)})")
            self._failed(info, error, strict)
            return
        try:
            self.pm.check_pending()
        except Exception as exc:
            self.pm.unregister(name=info.name)
            self._failed(info, exc, strict)
            return
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ())
        self.infos[info.name] = info

    def disable(self, name: str, exc: Exception, strict: bool = False) -> None:
        """Take out a plugin that failed at start-up (for example in its content hook)."""
        self.pm.unregister(name=name)
        self._failed(self.infos[name], exc, strict)

    def _failed(self, info: PluginInfo, exc: Exception, strict: bool) -> None:
        info.enabled = False
        info.error = f"{type(exc).__name__}: {exc}"
        self.infos[info.name] = info
        log.error("plugin %s could not be loaded: %s", info.name, info.error)
        if strict:
            raise exc

    def load(self, allow=None, deny=(), extra=(), strict: bool = False) -> None:
        """Load entry-point plugins, then ``extra`` (name, object) pairs given by the app.

        ``allow``: when not None, only these names load; ``deny``: these names never load.
        Both are reported in the listing as disabled.
        """
        found = set()
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            if ep.name in found:
                continue
            found.add(ep.name)
            builtin = ep.value in DEFAULT_PLUGINS
            info = PluginInfo(
                name=ep.name,
                source="built-in" if builtin else "package",
                package=ep.dist.name if ep.dist else None,
                version=ep.dist.version if ep.dist else None,
            )
            if not self._wanted(info, allow, deny):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._failed(info, exc, strict)
                continue
            self.register(plugin, info, strict)
        # A source checkout that was never pip-installed has no entry points: the built-ins
        # still load, directly by module name.
        for module_name in DEFAULT_PLUGINS:
            name = module_name.rpartition(".")[2]
            if name in found:
                continue
            info = PluginInfo(name=name, source="built-in", package="personalizer")
            if self._wanted(info, allow, deny):
                self.register(importlib.import_module(module_name), info, strict)
        for name, plugin in extra:
            if self.pm.get_plugin(name) is plugin:
                continue  # installed and given in config: the same plugin, loaded once
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)  # configuration overrides an installed plugin
            info = PluginInfo(name=name, source="config", version=getattr(plugin, "VERSION", None))
            if self._wanted(info, allow, deny):
                self.register(plugin, info, strict)

    def _wanted(self, info: PluginInfo, allow, deny) -> bool:
        if (allow is not None and info.name not in allow) or info.name in deny:
            info.enabled = False
            self.infos[info.name] = info
            return False
        return True

    def impls(self, hook_name: str):
        """(plugin name, HookImpl) of every enabled implementation, in pluggy's call order."""
        caller = getattr(self.pm.hook, hook_name)
        return [(impl.plugin_name, impl) for impl in reversed(caller.get_hookimpls())]

    def feature_reads(self) -> set[str] | None:
        """The features the decision hooks read, or None when a plugin does not say.

        A plugin with hooks beyond ``features`` and ``content`` declares what it reads in a
        ``READS_FEATURES`` attribute; when all do, other features stay out of the decision key
        (and out of the hooks), so a feature no plugin reads cannot split the cache.
        """
        reads: set[str] = set()
        for plugin in self.pm.get_plugins():
            hooks = {caller.name for caller in self.pm.get_hookcallers(plugin) or ()}
            if hooks <= {"personalizer_features", "personalizer_content"}:
                continue
            declared = getattr(plugin, "READS_FEATURES", None)
            if declared is None:
                return None
            reads.update(declared)
        return reads

    def signature(self) -> str:
        """Names and versions of the enabled plugins: part of every decision key."""
        return ",".join(
            f"{i.name}={i.version or ''}"
            for i in sorted(self.infos.values(), key=lambda i: i.name)
            if i.enabled
        )

    def listing(self) -> list[dict]:
        return [self.infos[name].as_dict() for name in sorted(self.infos)]
