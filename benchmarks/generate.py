"""Scale generator: synthetic data in the untoc-kg ontology, for benchmarks.

    python benchmarks/generate.py --triples 100k --out /tmp/untoc-100k [--seed 1]

writes DIR/*.ttl usable as ``untoc --data DIR``: a copy of the shipped ``data/*.ttl`` (so references
to existing passages, topics, places, actors and kinds resolve) plus ``gen-*.ttl`` files with
generated entities, until the data graph holds about the requested number of triples (shipped +
generated; at least one generated block is always written). ``DIR/GENERATED.json`` records the seed,
the target and the counts.

What is generated, in "families" (one per block): a conference of the parties with subsidiary bodies
(working groups, expert bodies, a bureau), its numbered sessions (dates, year, place), meetings of the
subsidiary bodies held during the sessions (dates within the session, ordinals unique per body),
decisions and resolutions adopted at the sessions (symbols ``N/M``, N = session ordinal) with their
operative acts, a treaty with articles, paragraphs and subparagraphs, recommendations of the meetings
(status; endorsements only by mandates of a later session), findings, and meeting reports (documents
with UN-style symbols). Every entity has an English and a Russian label and descriptions, and cites
passages of the source paper (``untoc:sourceParagraph``) or its report (``prov:wasDerivedFrom``); an
entity with several passages gets a reified ``rdf:Statement`` for each of its facts, as the modelling
guide requires.

Proportions are computed from the shipped ``data/*.ttl`` at run time: per session of the shipped
graph, how many meetings, mandates, acts, provisions, recommendations, findings, documents and bodies
there are; the share of entities citing several passages; the mix of recommendation statuses.

Only classes and properties of the shipped ontology (and the reused vocabularies the shipped data uses)
appear; :func:`check_vocabulary` verifies it. New IRIs are under ``https://w3id.org/untoc/id/`` with
slugs starting ``gen-`` so they never collide with shipped entities. The output is deterministic for a
given (seed, target).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DATA = ROOT / "data"
ONTOLOGY = ROOT / "ontology" / "untoc.ttl"

BASE = "https://w3id.org/untoc/"
PREFIXES = {
    "untoc": BASE + "ontology#",
    "body": BASE + "id/body/",
    "actor": BASE + "id/actor/",
    "session": BASE + "id/session/",
    "meeting": BASE + "id/meeting/",
    "decision": BASE + "id/decision/",
    "resolution": BASE + "id/resolution/",
    "action": BASE + "id/action/",
    "instrument": BASE + "id/instrument/",
    "rec": BASE + "id/recommendation/",
    "finding": BASE + "id/finding/",
    "doc": BASE + "id/document/",
    "para": BASE + "id/paper/",
    "place": BASE + "id/place/",
    "topic": BASE + "id/topic/",
    "kind": BASE + "id/kind/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
RDF_TYPE = PREFIXES["rdf"] + "type"
UNTOC = PREFIXES["untoc"]

# Facts that are not reified (modelling guide, "Provenance").
NOT_REIFIED = {"rdfs:label", "skos:altLabel", "untoc:sourceParagraph", "prov:wasDerivedFrom"}

FILES = ("bodies", "events", "mandates", "instruments", "recommendations", "findings", "documents")


def parse_size(text: str) -> int:
    """'10k' → 10000, '1M' → 1000000, '2500' → 2500."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 2k, 10k, 100k, 1M)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * factor)


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# ---------------------------------------------------------------------------------------------------
# What the shipped graph looks like
# ---------------------------------------------------------------------------------------------------

@dataclass
class Profile:
    """Counts and vocabularies read from the shipped data."""

    triples: int
    classes: Counter
    per_session: dict[str, float]
    multi_source_share: float
    statuses: list[tuple[str, int]]
    paragraphs: list[str]
    topics: list[str]
    actors: list[str]
    places: list[str]
    action_kinds: list[str]
    predicates: set[str] = field(default_factory=set)
    class_iris: set[str] = field(default_factory=set)


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def _curie(iri: str) -> str:
    for p, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{p}:{iri[len(ns):]}"
    return f"<{iri}>"


def read_profile(data_dir: Path = SHIPPED_DATA) -> Profile:
    triples = []
    for path in sorted(data_dir.glob("*.ttl")):
        triples += [q for q in ox.parse(path=str(path))]
    types: dict[str, set[str]] = {}
    classes: Counter = Counter()
    sources: Counter = Counter()
    statuses: Counter = Counter()
    schemes: dict[str, str] = {}
    predicates, class_iris = set(), set()
    for t in triples:
        p = t.predicate.value
        predicates.add(p)
        if p == RDF_TYPE:
            class_iris.add(t.object.value)
        if not isinstance(t.subject, ox.NamedNode):
            continue
        s = t.subject.value
        if p == RDF_TYPE:
            classes[_local(t.object.value)] += 1
            types.setdefault(s, set()).add(t.object.value)
        elif p == UNTOC + "sourceParagraph":
            sources[s] += 1
        elif p == UNTOC + "recommendationStatus":
            statuses[_curie(t.object.value)] += 1
        elif p == PREFIXES["skos"] + "inScheme":
            schemes[s] = t.object.value

    def of_class(*names):
        return sorted(_curie(s) for s, ts in types.items() if any(_local(c) in names for c in ts))

    sessions = max(classes["Session"], 1)
    groups = {
        "meetings": ("Meeting", "JointMeeting"),
        "mandates": ("Decision", "Resolution"),
        "actions": ("MandateAction",),
        "articles": ("Article",),
        "paragraphs": ("ArticleParagraph",),
        "subparagraphs": ("Subparagraph",),
        "recommendations": ("Recommendation",),
        "findings": ("Finding",),
        "documents": ("Document",),
        "bodies": ("ConferenceOfParties", "WorkingGroup", "ExpertBody", "Commission", "PrincipalOrgan",
                   "Office", "Bureau", "RegionalGroup", "Network", "IntergovernmentalOrganization"),
    }
    per_session = {k: sum(classes[c] for c in v) / sessions for k, v in groups.items()}
    with_source = [n for n in sources.values() if n]
    action_kinds = sorted(_curie(s) for s, sch in schemes.items() if sch.endswith("/action-kinds"))
    return Profile(
        triples=len(triples), classes=classes, per_session=per_session,
        multi_source_share=sum(1 for n in with_source if n > 1) / max(len(with_source), 1),
        statuses=sorted(statuses.items()),
        paragraphs=of_class("NumberedParagraph", "SubItem"),
        topics=[c for c in of_class("Concept") if c.startswith("topic:")],
        actors=of_class("ActorGroup"), places=of_class("Place"),
        action_kinds=[k for k in action_kinds if k not in ("kind:establishes", "kind:endorses")],
        predicates=predicates,
        class_iris=class_iris,
    )


# ---------------------------------------------------------------------------------------------------
# Writing Turtle
# ---------------------------------------------------------------------------------------------------

def lit(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    esc = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if lang:
        return f'"{esc}"@{lang}'
    if datatype:
        return f'"{esc}"^^{datatype}'
    return f'"{esc}"'


def date(d: dt.date) -> str:
    return lit(d.isoformat(), datatype="xsd:date")


def pint(n: int) -> str:
    return lit(str(n), datatype="xsd:positiveInteger")


@dataclass
class Entity:
    iri: str
    cls: str
    en: str
    ru: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    file: str = "bodies"

    def add(self, pred: str, obj: str) -> None:
        self.facts.append((pred, obj))


class Output:
    """One Turtle file per kind of entity, triples counted as written."""

    def __init__(self, out_dir: Path):
        self.triples = 0
        self.statements = 0
        self.classes: Counter = Counter()
        self.predicates: set[str] = set()
        self.handles = {}
        header = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
        for name in FILES:
            fh = open(out_dir / f"gen-{name}.ttl", "w", encoding="utf-8")
            fh.write("# Generated by benchmarks/generate.py: synthetic data for benchmarks only.\n")
            fh.write(header + "\n")
            self.handles[name] = fh

    def close(self) -> None:
        for fh in self.handles.values():
            fh.close()

    def write(self, e: Entity, rng: random.Random) -> None:
        lines = [f"{e.iri} a {e.cls} ;", f"    rdfs:label {lit(e.en, 'en')} , {lit(e.ru, 'ru')}"]
        n = 3
        by_pred: dict[str, list[str]] = {}
        for p, o in e.facts:
            by_pred.setdefault(p, []).append(o)
        for p, objs in by_pred.items():
            lines.append(f"    {p} {' , '.join(objs)}")
            n += len(objs)
            self.predicates.add(p)
        if e.sources:
            lines.append(f"    untoc:sourceParagraph {' , '.join(e.sources)}")
            n += len(e.sources)
        if e.derived:
            lines.append(f"    prov:wasDerivedFrom {' , '.join(e.derived)}")
            n += len(e.derived)
        text = " ;\n".join(lines) + " .\n"
        # An entity citing several passages records the passage of each fact (modelling guide).
        if len(e.sources) > 1:
            for p, o in e.facts:
                if p in NOT_REIFIED:
                    continue
                src = "untoc:sourceParagraph " + " , ".join(
                    sorted(rng.sample(e.sources, 1 + (p == "dcterms:description"))))
                text += (f"[] a rdf:Statement ;\n    rdf:subject {e.iri} ;\n    rdf:predicate {p} ;\n"
                         f"    rdf:object {o} ;\n    {src} .\n")
                n += 4 + src.count(",") + 1
                self.statements += 1
        self.handles[e.file].write(text + "\n")
        self.triples += n
        self.classes[e.cls] += 1


# ---------------------------------------------------------------------------------------------------
# Generating one family (a conference, its bodies, sessions, meetings, mandates, ...)
# ---------------------------------------------------------------------------------------------------

ORD_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
          "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
          "seventeenth", "eighteenth", "nineteenth", "twentieth"]
ORD_RU = ["первая", "вторая", "третья", "четвертая", "пятая", "шестая", "седьмая", "восьмая", "девятая",
          "десятая", "одиннадцатая", "двенадцатая", "тринадцатая", "четырнадцатая", "пятнадцатая",
          "шестнадцатая", "семнадцатая", "восемнадцатая", "девятнадцатая", "двадцатая"]
THEMES_EN = ["extradition requests", "mutual legal assistance", "confiscation of proceeds",
             "central authorities", "joint investigations", "electronic evidence", "witness protection",
             "transfer of proceedings", "asset recovery", "training of practitioners", "regional networks",
             "videoconferencing", "special investigative techniques", "cultural property"]
THEMES_RU = ["запросы о выдаче", "взаимная правовая помощь", "конфискация доходов", "центральные органы",
             "совместные расследования", "электронные доказательства", "защита свидетелей",
             "передача производства", "возвращение активов", "подготовка специалистов",
             "региональные сети", "видеоконференции", "специальные методы расследования",
             "культурные ценности"]
BODY_KINDS = [("untoc:WorkingGroup", "Working Group", "Рабочая группа"),
              ("untoc:ExpertBody", "Expert Group", "Группа экспертов"),
              ("untoc:Bureau", "Extended Bureau", "Расширенное бюро"),
              ("untoc:Network", "Network of practitioners", "Сеть специалистов"),
              ("untoc:RegionalGroup", "Regional group", "Региональная группа"),
              ("untoc:Office", "Secretariat unit", "Подразделение секретариата")]
MEETING_BODIES = ("untoc:WorkingGroup", "untoc:ExpertBody")


def _stoch(rng: random.Random, x: float) -> int:
    """x rounded up or down at random so that the mean is x."""
    base = int(x)
    return base + (rng.random() < x - base)


def _themes(rng: random.Random, k: int = 2) -> tuple[str, str]:
    idx = rng.sample(range(len(THEMES_EN)), k)
    return " and ".join(THEMES_EN[i] for i in idx), " и ".join(THEMES_RU[i] for i in idx)


class Family:
    def __init__(self, b: int, profile: Profile, rng: random.Random, max_sessions: int = 14):
        self.b, self.p, self.rng = b, profile, rng
        self.max_sessions = max(2, max_sessions)
        self.entities: list[Entity] = []

    def sources(self, e: Entity, report: str | None = None) -> Entity:
        rng = self.rng
        if rng.random() < self.p.multi_source_share:
            e.sources = sorted(rng.sample(self.p.paragraphs, rng.choice((2, 2, 3))))
        else:
            e.sources = [rng.choice(self.p.paragraphs)]
        if report and rng.random() < 0.3:
            e.derived = [report]
        return e

    def topics(self, e: Entity, k: int) -> None:
        for t in sorted(self.rng.sample(self.p.topics, k)):
            e.add("untoc:hasTopic", t)

    def describe(self, e: Entity, en: str, ru: str) -> None:
        e.add("dcterms:description", lit(en, "en"))
        e.add("dcterms:description", lit(ru, "ru"))

    def build(self) -> list[Entity]:
        rng, p, b = self.rng, self.p, self.b
        tag = f"gen-{b}"
        n_sessions = min(rng.randint(6, 14), self.max_sessions)
        self.sessions = n_sessions
        first_year = 2024 - 2 * (n_sessions - 1) - rng.randint(0, 8)
        E = self.entities

        # --- bodies -----------------------------------------------------------------------------
        cop = Entity(f"body:{tag}-cop", "untoc:ConferenceOfParties",
                     f"Conference of the Parties, synthetic family {b}",
                     f"Конференция участников, синтетическая группа {b}")
        self.describe(cop, f"Synthetic conference of the parties number {b}, generated for benchmarks; "
                           f"it meets every two years from {first_year}.",
                      f"Синтетическая конференция участников номер {b}, созданная для замеров; "
                      f"собирается раз в два года начиная с {first_year} года.")
        self.topics(cop, 2)
        E.append(self.sources(cop))
        n_bodies = max(2, _stoch(rng, p.per_session["bodies"] * n_sessions))
        subsidiaries = []
        for k in range(1, n_bodies):
            cls, en, ru = BODY_KINDS[min(k - 1, 1)] if k <= 2 else rng.choice(BODY_KINDS)
            th_en, th_ru = _themes(rng, 1)
            body = Entity(f"body:{tag}-sub-{k}", cls, f"{en} on {th_en} ({b}.{k})",
                          f"{ru} по теме «{th_ru}» ({b}.{k})")
            body.add("org:subOrganizationOf", cop.iri)
            if cls in MEETING_BODIES:
                body.add("untoc:openEnded", "true")
            self.describe(body, f"Subsidiary body {k} of synthetic conference {b}, dealing with {th_en}.",
                          f"Вспомогательный орган {k} синтетической конференции {b} по теме «{th_ru}».")
            self.topics(body, 1)
            subsidiaries.append(body)
            E.append(self.sources(body))
        meeting_bodies = [s for s in subsidiaries if s.cls in MEETING_BODIES]
        # the first working group and expert group hold most meetings, as in the shipped graph
        body_weights = [1 / (i + 1) ** 2 for i in range(len(meeting_bodies))]

        # --- sessions ---------------------------------------------------------------------------
        sessions = []
        for n in range(1, n_sessions + 1):
            year = first_year + 2 * (n - 1)
            start = dt.date(year, rng.randint(1, 11), rng.randint(1, 20))
            s = Entity(f"session:{tag}-{n}", "untoc:Session",
                       f"{ORD_EN[n - 1].capitalize()} session of the Conference of the Parties, synthetic family {b}",
                       f"{ORD_RU[n - 1].capitalize()} сессия Конференции участников, синтетическая группа {b}",
                       file="events")
            s.add("untoc:meetingOf", cop.iri)
            s.add("untoc:ordinal", pint(n))
            s.add("schema:startDate", date(start))
            s.add("schema:endDate", date(start + dt.timedelta(days=4)))
            s.add("untoc:year", lit(str(year), datatype="xsd:gYear"))
            s.add("schema:location", rng.choice(p.places))
            th_en, th_ru = _themes(rng)
            self.describe(s, f"Session {n} of synthetic conference {b}, held in {year}; it took up {th_en}.",
                          f"Сессия {n} синтетической конференции {b}, {year} год; рассмотрены темы: {th_ru}.")
            s.start, s.year = start, year
            sessions.append(s)
            E.append(self.sources(s))

        # --- treaty and provisions --------------------------------------------------------------
        treaty = Entity(f"instrument:{tag}-convention", "untoc:Treaty",
                        f"Convention of synthetic family {b}", f"Конвенция синтетической группы {b}",
                        file="instruments")
        self.describe(treaty, f"The treaty whose parties form synthetic conference {b}.",
                      f"Договор, участники которого образуют синтетическую конференцию {b}.")
        E.append(self.sources(treaty))
        provisions: list[Entity] = []
        articles = []
        for a in range(1, max(1, _stoch(rng, p.per_session["articles"] * n_sessions)) + 1):
            art = Entity(f"instrument:{tag}-art-{a}", "untoc:Article",
                         f"Article {a} of the convention of synthetic family {b}",
                         f"Статья {a} конвенции синтетической группы {b}", file="instruments")
            art.add("dcterms:isPartOf", treaty.iri)
            art.add("untoc:ofTreaty", treaty.iri)
            art.add("untoc:provisionNumber", lit(str(a)))
            th_en, th_ru = _themes(rng, 1)
            self.describe(art, f"Article on {th_en}.", f"Статья о теме «{th_ru}».")
            self.topics(art, 1)
            art.parts = 0
            articles.append(art)
            provisions.append(art)
            E.append(self.sources(art))
        paragraphs = []
        for _ in range(_stoch(rng, p.per_session["paragraphs"] * n_sessions)):
            art = rng.choice(articles)
            art.parts += 1
            num = art.parts
            par = Entity(f"{art.iri}-{num}", "untoc:ArticleParagraph",
                         f"Article {art.iri.rsplit('-', 1)[1]}({num}) of the convention of synthetic family {b}",
                         f"пункт {num} статьи {art.iri.rsplit('-', 1)[1]} конвенции синтетической группы {b}",
                         file="instruments")
            par.add("dcterms:isPartOf", art.iri)
            par.add("untoc:ofTreaty", treaty.iri)
            par.add("untoc:provisionNumber", lit(str(num)))
            par.parts = 0
            paragraphs.append(par)
            provisions.append(par)
            E.append(self.sources(par))
        for _ in range(_stoch(rng, p.per_session["subparagraphs"] * n_sessions) if paragraphs else 0):
            par = rng.choice(paragraphs)
            if par.parts >= 26:
                continue
            letter = "abcdefghijklmnopqrstuvwxyz"[par.parts]
            par.parts += 1
            sub = Entity(f"{par.iri}-{letter}", "untoc:Subparagraph",
                         f"Subparagraph ({letter}) of {par.en}", f"подпункт {letter}) — {par.ru}",
                         file="instruments")
            sub.add("dcterms:isPartOf", par.iri)
            sub.add("untoc:ofTreaty", treaty.iri)
            sub.add("untoc:provisionNumber", lit(letter))
            provisions.append(sub)
            E.append(self.sources(sub))

        # --- mandates and their acts ------------------------------------------------------------
        mandates_at: dict[int, list[Entity]] = {n: [] for n in range(1, n_sessions + 1)}
        n_mandates = max(1, _stoch(rng, p.per_session["mandates"] * n_sessions))
        at_sessions = sorted([1] + [rng.randint(1, n_sessions) for _ in range(n_mandates - 1)])
        actions_per_mandate = p.per_session["actions"] / max(p.per_session["mandates"], 1e-9)

        def new_mandate(n: int) -> Entity:
            j = len(mandates_at[n]) + 1
            decision = n == 1 and j == 1 or rng.random() < 0.3
            prefix, cls, en, ru = (("decision", "untoc:Decision", "decision", "решение") if decision else
                                   ("resolution", "untoc:Resolution", "resolution", "резолюция"))
            m = Entity(f"{prefix}:{tag}-{n}-{j}", cls,
                       f"Conference of the Parties (synthetic family {b}) {en} {n}/{j}",
                       f"{ru} {n}/{j} Конференции участников (синтетическая группа {b})", file="mandates")
            m.add("untoc:symbol", lit(f"{n}/{j}"))
            m.add("untoc:adoptedBy", cop.iri)
            m.add("untoc:adoptedAtSession", sessions[n - 1].iri)
            th_en, th_ru = _themes(rng)
            self.describe(m, f"{en.capitalize()} {n}/{j} of synthetic conference {b} on {th_en}.",
                          f"{ru.capitalize()} {n}/{j} синтетической конференции {b}: {th_ru}.")
            self.topics(m, 1)
            m.n, m.j, m.acts = n, j, 0
            mandates_at[n].append(m)
            E.append(self.sources(m))
            return m

        def new_action(m: Entity, kind: str, regarding: str | None, addressee: str | None) -> Entity:
            m.acts += 1
            a = Entity(f"action:{tag}-{m.n}-{m.j}-{m.acts}", "untoc:MandateAction",
                       f"{m.cls.split(':')[1]} {m.n}/{m.j} of synthetic family {b}: act {m.acts} "
                       f"({kind.split(':')[1]})",
                       f"Мандат {m.n}/{m.j} синтетической группы {b}: действие {m.acts}", file="mandates")
            a.add("untoc:actionKind", kind)
            a.add("untoc:actionOf", m.iri)
            if addressee:
                a.add("untoc:addressee", addressee)
            if regarding:
                a.add("untoc:regarding", regarding)
            th_en, th_ru = _themes(rng, 1)
            self.describe(a, f"Operative act {m.acts} of mandate {m.n}/{m.j} of family {b}, about {th_en}.",
                          f"Постановляющее действие {m.acts} мандата {m.n}/{m.j} группы {b}: {th_ru}.")
            m.add("untoc:hasAction", a.iri)
            E.append(self.sources(a))
            return a

        founding = None
        for n in at_sessions:
            m = new_mandate(n)
            if founding is None:
                founding = m
                for body in subsidiaries:
                    body.add("untoc:establishedBy", m.iri)
                    body.add("untoc:establishedAtSession", sessions[0].iri)
                    new_action(m, "kind:establishes", body.iri, None)
                continue
            for _ in range(max(1, _stoch(rng, actions_per_mandate))):
                new_action(m, rng.choice(p.action_kinds), rng.choice(subsidiaries).iri,
                           rng.choice(p.actors) if rng.random() < 0.6 else None)

        # --- meetings ---------------------------------------------------------------------------
        plans = sorted((rng.randint(1, n_sessions), rng.randint(0, 3), i)
                       for i in range(max(1, _stoch(rng, p.per_session["meetings"] * n_sessions))))
        ordinals: Counter = Counter()
        meetings = []
        reports = 0
        statuses = [s for s, _ in p.statuses]
        weights = [w for _, w in p.statuses]
        recs_per_meeting = p.per_session["recommendations"] / max(p.per_session["meetings"], 1e-9)
        findings_per_meeting = p.per_session["findings"] / max(p.per_session["meetings"], 1e-9)
        docs_per_meeting = p.per_session["documents"] / max(p.per_session["meetings"], 1e-9)
        for n, offset, _ in plans:
            session = sessions[n - 1]
            body = rng.choices(meeting_bodies, body_weights)[0]
            k = int(body.iri.rsplit("-", 1)[1])
            ordinals[body.iri] += 1
            o = ordinals[body.iri]
            start = session.start + dt.timedelta(days=offset)
            end = start + dt.timedelta(days=rng.randint(0, 4 - offset))
            mt = Entity(f"meeting:{tag}-sub-{k}-{o}", "untoc:Meeting", f"Meeting {o} of the {body.en}",
                        f"Совещание {o} органа «{body.ru}»", file="events")
            mt.add("untoc:meetingOf", body.iri)
            mt.add("untoc:ordinal", pint(o))
            mt.add("schema:startDate", date(start))
            mt.add("schema:endDate", date(end))
            mt.add("schema:location", rng.choice(p.places))
            mt.add("untoc:heldDuring", session.iri)
            if provisions and rng.random() < 0.5:
                mt.add("untoc:concernsProvision", rng.choice(provisions).iri)
            self.topics(mt, rng.randint(1, 3))
            th_en, th_ru = _themes(rng)
            self.describe(mt, f"Meeting {o} of subsidiary body {b}.{k}, {start:%d %B %Y}, during session {n}; "
                              f"discussed {th_en}.",
                          f"Совещание {o} вспомогательного органа {b}.{k}, {start.isoformat()}, в ходе сессии {n}; "
                          f"обсуждались {th_ru}.")
            report = None
            if rng.random() < docs_per_meeting:
                reports += 1
                symbol = f"GEN/COP.{b}/WG.{k}/{start.year}/{o}"
                report = Entity(f"doc:gen-cop.{b}-wg.{k}-{start.year}-{o}", "untoc:Document",
                                f"Report on meeting {o} of body {b}.{k} ({symbol})",
                                f"Доклад о совещании {o} органа {b}.{k} ({symbol})", file="documents")
                report.add("untoc:symbol", lit(symbol))
                report.add("untoc:documentKind", "kind:report")
                report.add("untoc:reportOf", mt.iri)
                report.add("dcterms:issued", lit(str(start.year), datatype="xsd:gYear"))
                report.add("untoc:url", lit(f"https://example.org/untoc-benchmark/{symbol}",
                                            datatype="xsd:anyURI"))
                self.describe(report, f"Synthetic report on meeting {o} of body {b}.{k}.",
                              f"Синтетический доклад о совещании {o} органа {b}.{k}.")
                mt.add("untoc:reportDocument", report.iri)
                E.append(self.sources(report))
            E.append(self.sources(mt, report.iri if report else None))
            mt.session_n, mt.body = n, body
            meetings.append(mt)

            # recommendations of the meeting
            for r in range(min(26, _stoch(rng, recs_per_meeting))):
                letter = "abcdefghijklmnopqrstuvwxyz"[r]
                rec = Entity(f"rec:{tag}-sub-{k}-{o}-{letter}", "untoc:Recommendation",
                             f"Recommendation ({letter}) of meeting {o} of body {b}.{k}",
                             f"Рекомендация {letter}) совещания {o} органа {b}.{k}", file="recommendations")
                rec.add("prov:wasGeneratedBy", mt.iri)
                rec.add("prov:wasAttributedTo", body.iri)
                rec.add("untoc:addressee", rng.choice(p.actors))
                rec.add("untoc:itemLetter", lit(letter))
                if provisions and rng.random() < 0.6:
                    rec.add("untoc:concernsProvision", rng.choice(provisions).iri)
                self.topics(rec, rng.randint(1, 2))
                th_en, th_ru = _themes(rng)
                self.describe(rec, f"The body should consider {th_en} (recommendation {letter} of meeting {o}).",
                              f"Органу следует рассмотреть вопросы: {th_ru} (рекомендация {letter}) совещания {o}).")
                status = rng.choices(statuses, weights)[0]
                later = [m for later_n in range(n + 1, n_sessions + 1) for m in mandates_at[later_n]]
                if status == "kind:status-endorsed" and not later:
                    status = "kind:status-made"
                if status == "kind:status-submitted" and n == n_sessions:
                    status = "kind:status-made"
                rec.add("untoc:recommendationStatus", status)
                if status == "kind:status-endorsed":
                    endorser = later[0]  # the first mandate adopted after the meeting
                    rec.add("untoc:endorsedBy", endorser.iri)
                    endorser.add("untoc:endorses", rec.iri)
                elif status == "kind:status-submitted":
                    rec.add("untoc:submittedTo", sessions[n].iri)
                E.append(self.sources(rec, report.iri if report else None))

            # findings of the meeting
            for f in range(_stoch(rng, findings_per_meeting)):
                fd = Entity(f"finding:{tag}-sub-{k}-{o}-{f + 1}", "untoc:Finding",
                            f"Finding {f + 1} of meeting {o} of body {b}.{k}",
                            f"Вывод {f + 1} совещания {o} органа {b}.{k}", file="findings")
                fd.add("prov:wasGeneratedBy", mt.iri)
                fd.add("prov:wasAttributedTo", body.iri)
                if provisions and rng.random() < 0.4:
                    fd.add("untoc:concernsProvision", rng.choice(provisions).iri)
                self.topics(fd, 1)
                th_en, th_ru = _themes(rng)
                self.describe(fd, f"The meeting observed that {th_en} deserve further attention.",
                              f"Совещание отметило, что вопросы «{th_ru}» требуют дальнейшего внимания.")
                E.append(self.sources(fd, report.iri if report else None))
        return E


# ---------------------------------------------------------------------------------------------------

def check_vocabulary(out: Output, profile: Profile) -> list[str]:
    """Classes and properties used by generated data that neither the ontology nor the shipped data know."""
    store = ox.Store()
    store.load(path=str(ONTOLOGY))
    declared = {str(t[0].value) for t in store.query(
        "SELECT ?x WHERE { ?x a ?k FILTER(?k IN (<http://www.w3.org/2002/07/owl#Class>,"
        " <http://www.w3.org/2002/07/owl#ObjectProperty>, <http://www.w3.org/2002/07/owl#DatatypeProperty>,"
        " <http://www.w3.org/2002/07/owl#AnnotationProperty>, <http://www.w3.org/2002/07/owl#SymmetricProperty>,"
        " <http://www.w3.org/2002/07/owl#TransitiveProperty>, <http://www.w3.org/2002/07/owl#FunctionalProperty>)) }")}
    known = declared | profile.predicates | profile.class_iris

    def expand(curie: str) -> str:
        p, local = curie.split(":", 1)
        return PREFIXES[p] + local

    used = {expand(c) for c in out.classes} | {expand(p) for p in out.predicates}
    used |= {PREFIXES["rdfs"] + "label", UNTOC + "sourceParagraph", PREFIXES["prov"] + "wasDerivedFrom",
             PREFIXES["rdf"] + "Statement", PREFIXES["rdf"] + "subject", PREFIXES["rdf"] + "predicate",
             PREFIXES["rdf"] + "object"}
    return sorted(u for u in used if u not in known)


def generate(target: int, out_dir: str | Path, seed: int = 1) -> dict:
    """Write shipped data + generated families to ``out_dir`` until about ``target`` data triples."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.ttl"):
        old.unlink()
    for path in sorted(SHIPPED_DATA.glob("*.ttl")):
        shutil.copyfile(path, out_dir / path.name)
    profile = read_profile()
    rng = random.Random(seed)
    out = Output(out_dir)
    families = sessions = 0
    # triples per session of a family: the shipped graph's until a family has been written
    per_session = profile.triples / max(profile.classes["Session"], 1)
    try:
        while families == 0 or profile.triples + out.triples < target:
            families += 1
            remaining = target - profile.triples - out.triples
            family = Family(families, profile, rng, max_sessions=round(remaining / per_session))
            for e in family.build():
                out.write(e, rng)
            sessions += family.sessions
            per_session = out.triples / sessions
    finally:
        out.close()
    unknown = check_vocabulary(out, profile)
    if unknown:
        raise RuntimeError(f"generated data uses terms the ontology does not declare: {unknown}")
    manifest = {
        "seed": seed, "target": target, "families": families,
        "shipped_triples": profile.triples, "generated_triples": out.triples,
        "total_triples": profile.triples + out.triples,
        "generated_statements": out.statements,
        "generated_classes": dict(sorted(out.classes.items())),
        "shipped_per_session": {k: round(v, 3) for k, v in profile.per_session.items()},
        "multi_source_share": round(profile.multi_source_share, 3),
    }
    (out_dir / "GENERATED.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", required=True, help="target size of the data graph: 2k, 10k, 100k, 1M, 10M")
    ap.add_argument("--out", required=True, help="output directory (its *.ttl files are replaced)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    manifest = generate(parse_size(args.triples), args.out, args.seed)
    print(json.dumps({k: manifest[k] for k in ("seed", "target", "families", "shipped_triples",
                                                "generated_triples", "total_triples")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
