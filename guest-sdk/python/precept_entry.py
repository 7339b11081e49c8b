"""The module componentize-py loads: the plugin's own `Plugin` subclass
from `app.py`, under the name the generated bindings look for. Put beside
the plugin by `precept-build`; a plugin never imports it."""

import app
from precept_plugin import Plugin


def _plugin_class():
    named = getattr(app, "WitWorld", None)
    if isinstance(named, type):
        return named
    found = [
        value
        for value in vars(app).values()
        if isinstance(value, type) and issubclass(value, Plugin) and value is not Plugin
    ]
    if len(found) != 1:
        names = ", ".join(sorted(c.__name__ for c in found)) or "none"
        raise TypeError(f"app.py must define one subclass of precept_plugin.Plugin; found {names}")
    return found[0]


WitWorld = _plugin_class()
