"""The one interface every answering engine has, and the choice between them.

An engine answers one question about the platform's own material and nothing else. ``stream`` yields events
as the answer is made, so the page can show it as it grows:

- ``Event("text", chunk)``: more of the answer (Markdown; never HTML: the page renders it through
  markdown-it with HTML off, and sanitises what comes out);
- ``Event("reset", None)``: the text shown so far is withdrawn (the model failed): what follows replaces it;
- ``Event("done", answer)``: the whole Answer, with its citations.

``Answer.refused`` is set when the question is outside the platform's products (another insurer, medical or
legal advice, anything else): the text is then a polite refusal that points to a person (转人工). An engine
never invents a product, a price or a clause: a price comes from the calculator (app.catalog.services), a
statement from a passage it cites.
"""
from dataclasses import dataclass, field
from typing import Iterator, Protocol


@dataclass(frozen=True)
class Passage:
    """A piece of the platform's material: a document's section, a plan's coverage, an FAQ, a price."""
    id: str  # stable across index rebuilds: "doc:<product>:<kind>:<n>", "faq:<product>:<n>", …
    kind: str  # document | coverage | faq | price | product
    product: str  # the product's slug ("" for material of no one product)
    title: str  # what a citation shows: 《安心百万医疗2026 保险条款》第三条
    url: str  # where it is on the site
    text: str


@dataclass
class Answer:
    text: str  # Markdown
    citations: list[Passage] = field(default_factory=list)
    engine: str = "embedded"  # a key of models.ENGINES
    refused: bool = False
    note: str = ""  # e.g. why the embedded engine answered instead of the model


@dataclass(frozen=True)
class Event:
    kind: str  # text | done
    value: object


class Engine(Protocol):
    name: str

    def stream(self, question: str, *, product=None, history=()) -> Iterator[Event]:
        ...
