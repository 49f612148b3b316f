"""Pages that show what several capabilities offer (the home page's offers, a product page's 立即投保 or
继续投保) compose parts those capabilities register, so the page's own capability never imports them.

A part is a template and a function giving its context, or None when it has nothing to show. The page
passes ``parts(slot, …)`` to its template, which includes each in turn.
"""
from dataclasses import dataclass
from typing import Callable

from flask import current_app


@dataclass(frozen=True)
class Part:
    template: str
    load: Callable


def register(blueprint, slot, template):
    """Decorator: ``load(**page_arguments)`` becomes a part of ``slot`` in every app the blueprint is in."""
    def decorate(load):
        blueprint.record_once(lambda state: state.app.extensions.setdefault("page_parts", {})
                              .setdefault(slot, []).append(Part(template, load)))
        return load
    return decorate


def parts(slot, **arguments):
    """[(template, context)] of the parts registered for ``slot`` that have something to show."""
    shown = []
    for part in current_app.extensions.get("page_parts", {}).get(slot, ()):
        context = part.load(**arguments)
        if context is not None:
            shown.append((part.template, context))
    return shown
