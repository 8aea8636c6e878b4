"""English prose for the synthetic world, and the genre engine shared with the Chinese renderer.

A tiny model only learns a fact if it sees it many times, but near-duplicate detection must not
mistake two documents about the same person for copies. So every fact has many phrasings, documents
mix genres (encyclopedia, story, dialogue, letter, diary, town guide) and each template is used at
most once per document. The engine is data-driven: a language supplies tables of templates whose
placeholders name roles (P protagonist, F friend, A animal, T home town, ...), see `Renderer`.
"""

from __future__ import annotations

import re
from typing import Any

from zerollm.collect.synthetic.world import SPECIES, VENUE_TYPES, Entity, Fact, World

_ROLE_RE = re.compile(r"\{([A-Z])([a-z]*)\}")
# role-slot suffix -> the fact attribute a template states by using it
# fmt: off
_SLOT_ATTR = {
    "age": "age", "ageord": "age", "job": "job", "ajob": "job", "home": "home", "food": "food", "colour": "colour",
    "hobby": "hobby", "work": "workplace", "kind": "kind", "akind": "kind", "known": "known_for", "river": "river",
    "door": "door", "lm": "next_to", "opened": "opened", "made": "made_in", "mat": "material", "madj": "material",
    "amadj": "material", "acol": "colour", "town": "town", "owner": "owner", "pet": "pet",
}
# fmt: on
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# fmt: off
_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
]
# fmt: on
_SEASONS = ["spring", "summer", "autumn", "winter"]
# fmt: off
_NTH = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
    "twentieth", "twenty-first", "twenty-second", "twenty-third", "twenty-fourth", "twenty-fifth", "twenty-sixth",
    "twenty-seventh", "twenty-eighth",
]
# fmt: on


def art(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def ordinal(n: int) -> str:
    suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suf}"


# ---------------------------------------------------------------------------------------------
# Plot step constructors (used by both languages' tables)


def S(alts: list[str], subj: str | None = None, need: str = "", orelse: list[str] | None = None) -> tuple:
    """Say one of `alts` (roles in `need` must exist, else say one of `orelse` if given)."""
    return ("s", alts, subj, need, orelse)


def F(role: str, lo: int, hi: int | None = None, prefer: tuple = ()) -> tuple:
    """State lo..hi facts about the entity playing `role`."""
    return ("f", role, lo, hi if hi is not None else lo, prefer)


PARA = ("p",)
OPEN = ("open",)
CLOSE = ("close",)


class Doc:
    __slots__ = ("paras", "cur", "used", "mentioned", "last", "stated", "closed")

    def __init__(self):
        self.paras: list[str] = []
        self.cur: list[str] = []
        self.used: set = set()
        self.mentioned: set[str] = set()
        self.last: str | None = None
        self.stated: set[str] = set()
        self.closed = False  # signed off (letters, diaries): nothing may be appended


class Renderer:
    """Genre engine. Subclasses provide the language: tables (class attributes) and slot builders."""

    SEP = " "
    PARA_SEP = "\n\n"
    MIN_CHARS = 850
    MAX_CHARS = 2900
    EXTRA_FACTS = 1  # added to the upper bound of every "state n facts" step
    DIALOGUE_LINES = False  # one line per speaker turn (script style) instead of quoted speech
    GENRES = {
        "person": [("encyclopedia", 22), ("story", 32), ("dialogue", 18), ("letter", 14), ("diary", 14)],
        "animal": [("encyclopedia", 28), ("story", 36), ("dialogue", 20), ("diary", 16)],
        "town": [("guide", 34), ("encyclopedia", 22), ("story", 28), ("letter", 16)],
        "venue": [("encyclopedia", 28), ("story", 36), ("dialogue", 20), ("diary", 16)],
        "object": [("encyclopedia", 34), ("story", 36), ("dialogue", 30)],
    }
    # language tables, filled by subclasses
    FACT_T: dict[str, list[str]] = {}
    FP_T: dict[str, list[str]] = {}
    INTRO_T: dict[str, list[tuple]] = {}
    PLOTS: dict[str, dict] = {}
    T: dict[str, Any] = {}

    def __init__(self, world: World, rng):
        self.w = world
        self.rng = rng
        self.people = world.kind("person")
        self.residents: dict[str, list[Entity]] = {t.id: [] for t in world.kind("town")}
        self.workers: dict[str, list[Entity]] = {v.id: [] for v in world.kind("venue")}
        for p in self.people:
            self.residents[p.attrs["home"]].append(p)
            if "workplace" in p.attrs:
                self.workers[p.attrs["workplace"]].append(p)
        self.venues_in: dict[str, list[Entity]] = {t.id: [] for t in world.kind("town")}
        for v in world.kind("venue"):
            self.venues_in[v.attrs["town"]].append(v)
        self._role_cache: dict[str, dict[str, str]] = {}
        self._roles_in: dict[str, list[str]] = {}

    # ----------------------------------------------------------------- basics
    def cap(self, s: str) -> str:
        return s

    def pick(self, doc: Doc, options: list) -> Any:
        n = len(options)
        start = self.rng.randrange(n)
        key = (n, str(options[0]))  # identifies the list by content: id() would depend on memory layout
        for k in range(n):
            i = (start + k) % n
            if (key, i) not in doc.used:
                break
        else:
            i = start
        doc.used.add((key, i))
        return options[i]

    def add(self, doc: Doc, sentence: str) -> None:
        doc.cur.append(self.cap(sentence))

    def para(self, doc: Doc) -> None:
        if doc.cur:
            doc.paras.append(self.SEP.join(doc.cur))
            doc.cur = []

    def finish(self, doc: Doc) -> str:
        self.para(doc)
        return self.PARA_SEP.join(doc.paras)

    def say(self, doc: Doc, options: list[str], slots: dict, subj: Entity | None = None) -> None:
        tpl = self.pick(doc, options)
        text = tpl.format_map(slots)
        roles = self._roles_in.get(tpl)
        if roles is None:
            roles = self._roles_in[tpl] = [
                (r, _SLOT_ATTR.get(suf, "")) for r, suf in _ROLE_RE.findall(tpl) if suf == "" or suf in _SLOT_ATTR
            ]
        for r, attr in roles:
            eid = slots.get("@" + r)
            if eid:
                if attr:
                    doc.stated.add(f"{eid}.{attr}")
                else:
                    doc.mentioned.add(eid)
        self.add(doc, text)
        doc.last = subj.id if subj is not None else None

    # ----------------------------------------------------------------- slots
    def role_slots(self, e: Entity) -> dict[str, str]:
        raise NotImplementedError

    def slots(self, roles: dict[str, Entity | None]) -> dict[str, str]:
        out = dict(self.common_slots())
        for letter, e in roles.items():
            if e is None:
                continue
            base = self._role_cache.get(e.id)
            if base is None:
                base = self._role_cache[e.id] = self.role_slots(e)
            for k, v in base.items():
                out[letter + k] = v
            out["@" + letter] = e.id
        return out

    def common_slots(self) -> dict[str, str]:
        r = self.rng
        return {"day": r.choice(_DAYS), "month": r.choice(_MONTHS), "season": r.choice(_SEASONS), "nth": r.choice(_NTH)}

    # ----------------------------------------------------------------- facts
    def subject_ref(self, doc: Doc, e: Entity, force_full: bool = False) -> dict[str, str]:
        raise NotImplementedError

    def value_slots(self, doc: Doc, e: Entity, f: Fact) -> dict[str, str]:
        raise NotImplementedError

    def fact_sentence(self, doc: Doc, f: Fact, first_person: bool = False, full: bool = False) -> str:
        e = self.w.get(f.subject)
        if first_person:
            slots = self.value_slots(doc, e, f)
            tpl = self.pick(doc, self.FP_T[f.attr])
        else:
            slots = self.subject_ref(doc, e, force_full=full)
            slots.update(self.value_slots(doc, e, f))
            tpl = self.pick(doc, self.FACT_T[f"{e.kind}.{f.attr}"])
        doc.stated.add(f.fid)
        doc.mentioned.add(e.id)
        doc.last = e.id
        return self.cap(tpl.format_map(slots))

    def fact(self, doc: Doc, f: Fact, first_person: bool = False) -> None:
        doc.cur.append(self.fact_sentence(doc, f, first_person))

    def facts(
        self,
        doc: Doc,
        e: Entity | None,
        lo: int,
        hi: int | None = None,
        prefer=(),
        first_person: bool = False,
        only=None,
        skip=(),
        back: tuple[str, ...] = (),
    ) -> int:
        if e is None:
            return 0
        n = self.rng.randint(lo, (hi if hi is not None else lo) + self.EXTRA_FACTS)
        cand = [
            f for f in self.w.facts_of(e.id) if f.fid not in doc.stated and f.attr not in skip and f.value not in back
        ]
        if only is not None:
            cand = [f for f in cand if f.attr in only]
        if first_person:
            cand = [f for f in cand if f.attr in self.FP_T]
        self.rng.shuffle(cand)
        cand.sort(key=lambda f: 0 if f.attr in prefer else 1)
        for f in cand[:n]:
            self.fact(doc, f, first_person)
        return min(n, len(cand))

    def fact_of(self, e: Entity | None, attr: str) -> Fact | None:
        if e is None:
            return None
        for f in self.w.facts_of(e.id):
            if f.attr == attr:
                return f
        return None

    # ----------------------------------------------------------------- roles
    def get_attr_entity(self, e: Entity | None, attr: str) -> Entity | None:
        if e is None or attr not in e.attrs:
            return None
        return self.w.get(e.attrs[attr])

    def companion(self, p: Entity) -> tuple[Entity, str]:
        """A second person for p and what they are to p: best friend, sibling, or an old friend."""
        fr = self.get_attr_entity(p, "friend")
        sib = self.get_attr_entity(p, "sibling")
        if fr is not None and (sib is None or self.rng.random() < 0.7):
            return fr, "friend"
        if sib is not None:
            return sib, "sibling"
        others = [q for q in self.people if q.id != p.id]
        return self.rng.choice(others), "other"

    def other_person(self, *exclude: Entity | None, prefer: list[Entity] | None = None) -> Entity | None:
        ids = {e.id for e in exclude if e is not None}
        pool = [q for q in (prefer or []) if q.id not in ids] or [q for q in self.people if q.id not in ids]
        return self.rng.choice(pool) if pool else None

    def roles_for(self, p: Entity) -> dict[str, Entity | None]:
        comp, rel = self.companion(p)
        home = self.w.get(p.attrs["home"])
        neigh = self.get_attr_entity(home, "neighbour")
        venue = self.get_attr_entity(p, "workplace")
        colleagues = [q for q in self.workers[venue.id] if q.id != p.id] if venue else []
        colleague = self.rng.choice(colleagues) if colleagues else None
        r_pool = self.residents.get(neigh.id, []) if neigh else []
        return {
            "P": p,
            "F": comp,
            "S": self.get_attr_entity(p, "sibling"),
            "A": self.get_attr_entity(p, "pet"),
            "O": self.get_attr_entity(p, "object"),
            "V": venue,
            "T": home,
            "N": neigh,
            "R": self.other_person(p, comp, prefer=r_pool),
            "C": colleague,
            "_rel": rel,
        }

    def protagonist(self, focus: Entity) -> Entity:
        if focus.kind == "person":
            return focus
        if focus.kind in ("animal", "object"):
            return self.w.get(focus.attrs["owner"])
        if focus.kind == "venue":
            pool = self.workers[focus.id] or self.residents[focus.attrs["town"]] or self.people
            return self.rng.choice(pool)
        pool = self.residents[focus.id] or self.people
        return self.rng.choice(pool)

    def rel_slots(self, rel: str, comp: Entity, p: Entity) -> dict[str, str]:
        raise NotImplementedError

    # ----------------------------------------------------------------- document
    def document(self, focus: Entity) -> str:
        genres = self.GENRES[focus.kind]
        total = sum(w for _, w in genres)
        x = self.rng.random() * total
        for genre, wgt in genres:
            x -= wgt
            if x < 0:
                break
        doc = Doc()
        getattr(self, genre)(doc, focus)
        self.para(doc)
        if not doc.closed:
            p = self.protagonist(focus)
            self.pad(
                doc,
                [focus, p, self.w.get(p.attrs["home"])] + [self.get_attr_entity(p, a) for a in ("friend", "sibling")],
            )
        while len(doc.paras) > 2 and sum(len(p) for p in doc.paras) > self.MAX_CHARS:
            doc.paras.pop()
        return self.finish(doc)

    def pad(
        self, doc: Doc, pool: list[Entity | None], lead: str = "more", reserve: int = 0, exclude: tuple[str, ...] = ()
    ) -> None:
        """Add paragraphs about entities of `pool` until the document reaches MIN_CHARS.

        Entities in `exclude` (the writer of a letter, say) are neither described nor named as values."""
        seen: list[Entity] = []
        for x in pool:
            if x is not None and x.id not in exclude and all(x.id != y.id for y in seen):
                seen.append(x)
        self.para(doc)
        extra = 0
        while sum(len(x) for x in doc.paras) + reserve < self.MIN_CHARS and extra < 6:
            extra += 1
            left = [
                x
                for x in seen
                if any(f.fid not in doc.stated and f.value not in exclude for f in self.w.facts_of(x.id))
            ]
            if not left:
                break
            if extra == 1 and left[0] is seen[0]:
                x = left[0]
            else:
                x = self.rng.choice([y for y in left if y.id != doc.last] or left)
            self.say(doc, self.T[lead], self.slots({"X": x}))
            self.facts(doc, x, 2, 3, back=exclude)
            self.para(doc)

    # ----------------------------------------------------------------- genres
    def run_steps(self, doc: Doc, steps: list[tuple], roles: dict, slots: dict) -> None:
        for st in steps:
            tag = st[0]
            if tag == "p":
                self.para(doc)
            elif tag == "s":
                _, alts, subj, need, orelse = st
                if all(roles.get(r) is not None for r in need):
                    self.say(doc, alts, slots, roles.get(subj) if subj else None)
                elif orelse:
                    self.say(doc, orelse, slots, roles.get(subj) if subj else None)
                if subj == "P" and roles["P"].id in doc.mentioned and self.rng.random() < 0.25:
                    # small asides keep retellings of one plot apart
                    self.say(doc, self.T["asides"], slots)
            elif tag == "f":
                _, role, lo, hi, prefer = st
                self.facts(doc, roles.get(role), lo, hi, prefer)
            elif tag == "open":
                self.say(
                    doc,
                    self.T["open_fmt"],
                    {
                        **slots,
                        "time": self.pick(doc, self.T["open_time"]).format_map(slots),
                        "scene": self.pick(doc, self.T["open_scene"]).format_map(slots),
                    },
                )
            elif tag == "close":
                self.say(doc, self.T["closers"], slots)

    def story(self, doc: Doc, focus: Entity) -> None:
        p = self.protagonist(focus)
        roles = self.roles_for(p)
        if focus.kind == "venue":
            roles["V"] = focus
            roles["C"] = None
        if focus.kind == "town" and focus.id != roles["T"].id:
            roles["T"] = focus
            roles["N"] = self.get_attr_entity(focus, "neighbour")
        if focus.kind == "town" and self.rng.random() < 0.4:  # a visitor from next door
            neigh = self.get_attr_entity(focus, "neighbour")
            visitors = self.residents.get(neigh.id, []) if neigh else []
            if visitors:
                roles = self.roles_for(self.rng.choice(visitors))
                p = roles["P"]
        cands = []
        for name, plot in self.PLOTS.items():
            if focus.kind not in plot["focus"]:
                continue
            if focus.kind == "town" and focus.id not in (roles["T"].id, getattr(roles["N"], "id", None)):
                continue
            if focus.kind == "town" and focus.id != roles["T"].id and "N" not in plot["needs"]:
                continue
            if any(roles.get(r) is None for r in plot["needs"]):
                continue
            if focus.kind == "venue" and "workday" == name and focus.id != (p.attrs.get("workplace")):
                continue
            cands.append(name)
        if not cands:
            self.encyclopedia(doc, focus)
            return
        plot = self.PLOTS[self.rng.choice(cands)]
        slots = self.slots({k: v for k, v in roles.items() if not k.startswith("_")})
        slots.update(self.rel_slots(roles["_rel"], roles["F"], p))
        doc.mentioned.discard(p.id)
        self.run_steps(doc, plot["steps"], roles, slots)
        if self.rng.random() < 0.6:  # an epilogue: more about someone or something in the story
            self.para(doc)
            cast = [roles[k] for k in ("P", "F", "A", "V", "T", "O") if roles.get(k) is not None]
            x = focus if focus.kind != "person" and self.rng.random() < 0.5 else self.rng.choice(cast)
            self.say(doc, self.T["epilogue"], {**slots, **self.slots({"X": x})})
            self.facts(doc, x, 2, 3)

    def encyclopedia(self, doc: Doc, e: Entity) -> None:
        T = self.T
        slots = self.slots({"X": e})
        lead = T["ency_lead"].get(e.kind)
        home = None
        if e.kind == "person":
            home = self.w.get(e.attrs["home"])
            slots.update(self.slots({"H": home}))
        if lead and self.rng.random() < 0.35:
            self.say(doc, lead, slots)
        intros = [(a, t) for a, t in self.INTRO_T[e.kind] if all(x in e.attrs for x in a)]
        attrs, tpl = self.pick(doc, intros)
        self.say(doc, [tpl], slots, e)
        doc.mentioned.add(e.id)
        for a in attrs:
            doc.stated.add(f"{e.id}.{a}")
        if e.kind == "person":
            self.facts(doc, e, 3, 4, only=("age", "job", "home", "food", "colour", "hobby"))
            self.para(doc)
            rels = [a for a in ("friend", "sibling", "workplace", "pet") if a in e.attrs]
            self.rng.shuffle(rels)
            for a in rels:
                f = self.fact_of(e, a)
                if f.fid not in doc.stated:
                    self.fact(doc, f)
                other = self.w.get(e.attrs[a])
                self.facts(doc, other, 1, 1 if len(rels) > 2 else 2, back=(e.id,))
            if "object" in e.attrs:
                self.facts(doc, self.w.get(e.attrs["object"]), 1, 2)
            self.para(doc)
            self.facts(doc, e, 1, 3)
            self.facts(doc, home, 1, 2)
            self.say(doc, T["ency_close"]["person"], slots)
        elif e.kind == "town":
            self.facts(doc, e, 2, 3)
            self.para(doc)
            for v in self.venues_in[e.id][:3]:
                self.facts(doc, v, 1, 2, prefer=("town",))
            res = self.residents[e.id][:]
            self.rng.shuffle(res)
            if res:
                self.say(doc, T["ency_residents"], slots)
            for p in res[:3]:
                self.facts(doc, p, 1, 2, prefer=("home",))
            self.para(doc)
            self.facts(doc, e, 1, 2)
            self.say(doc, T["ency_close"]["town"], slots)
        else:
            self.facts(doc, e, 2, 4)
            self.para(doc)
            related: list[Entity] = []
            if e.kind == "venue":
                related = self.workers[e.id][:3] + [self.w.get(e.attrs["town"])]
            elif e.kind in ("animal", "object"):
                owner = self.w.get(e.attrs["owner"])
                related = [owner]
                if e.kind == "object":
                    related.append(self.w.get(e.attrs["made_in"]))
                elif "friend" in owner.attrs:
                    related.append(self.w.get(owner.attrs["friend"]))
            for r in related:
                self.facts(doc, r, 1, 2, prefer=("job", "home", "hobby"), skip=("pet",))
            self.para(doc)
            self.facts(doc, e, 1, 3)
            self.say(doc, T["ency_close"][e.kind], slots)

    def guide(self, doc: Doc, town: Entity) -> None:
        T = self.T
        slots = self.slots({"T": town, "N": self.get_attr_entity(town, "neighbour")})
        self.say(doc, T["guide_intro"], slots)
        doc.mentioned.add(town.id)
        self.facts(doc, town, 2, 3)
        self.para(doc)
        venues = self.venues_in[town.id][:]
        self.rng.shuffle(venues)
        for v in venues[:3]:
            self.say(doc, T["guide_venue"], {**slots, **self.slots({"V": v})}, v)
            self.facts(doc, v, 1, 2)
            workers = self.workers[v.id]
            if workers:
                self.facts(doc, self.rng.choice(workers), 1, 1, prefer=("workplace",))
        if venues:
            self.para(doc)
        res = self.residents[town.id][:]
        self.rng.shuffle(res)
        if res:
            self.say(doc, T["guide_people"], slots)
            for p in res[:3]:
                self.facts(doc, p, 1, 2, prefer=("job", "hobby", "home"))
            self.para(doc)
        if slots.get("@N"):
            self.say(doc, T["guide_neigh"], slots)
            self.facts(doc, self.w.get(slots["@N"]), 1, 2)
        self.say(doc, T["guide_advice"], slots)

    def dialogue(self, doc: Doc, focus: Entity) -> None:
        T = self.T
        if focus.kind == "person":
            a = focus
            roles = self.roles_for(a)
        else:  # people talk about things that are not their own
            cands = [p for p in self.people if not self.attached(focus, p)] or self.people
            owner = self.w.get(focus.attrs["owner"]) if "owner" in focus.attrs else None
            first = self.get_attr_entity(owner, "friend") if owner is not None else None
            for i in range(8):
                a = first if i == 0 and first is not None else self.rng.choice(cands)
                roles = self.roles_for(a)
                if not self.attached(focus, roles["F"]):
                    break
        b, rel = roles["F"], roles["_rel"]
        slots = self.slots({k: v for k, v in roles.items() if not k.startswith("_")})
        slots.update(self.rel_slots(rel, b, a))
        self.say(doc, T["d_setting"], slots)
        doc.mentioned.update((a.id, b.id))
        self.para(doc)
        topics: list[Entity] = [] if focus.kind == "person" else [focus]
        pool = [roles[k] for k in ("S", "R", "N", "T") if roles.get(k) is not None]
        pool += [self.get_attr_entity(b, k) for k in ("pet", "object", "workplace", "sibling")]
        pool += self.rng.sample(list(self.w.entities.values()), 3)
        pool = [
            x
            for x in pool
            if x is not None
            and x.id not in (focus.id, a.id, b.id)
            and not self.attached(x, a)
            and not self.attached(x, b)
        ]
        self.rng.shuffle(pool)
        for x in pool:
            if len(topics) < 3 and all(x.id != t.id for t in topics):
                topics.append(x)
        turns: list[tuple[str, Entity | None]] = [("self", a)] + [("topic", t) for t in topics]
        if self.rng.random() < 0.7:
            turns.insert(self.rng.randint(0, len(turns)), ("small", None))
        if self.rng.random() < 0.5:
            turns.insert(self.rng.randint(1, len(turns)), ("selfb", b))
        for kind, x in turns:
            asker, answerer = (b, a) if kind != "selfb" else (a, b)
            sl = {**slots, **self.slots({"Q": asker, "Y": answerer})}
            if kind == "small":
                q, ans = self.pick(doc, T["d_small"])
                self.say(doc, T["d_ask_fmt"], {**sl, "q": q.format_map(sl)})
                if self.DIALOGUE_LINES:
                    self.para(doc)
                self.say(
                    doc, T["d_ans_fmt"], {**sl, "ans": ans.format_map(sl), "interj": self.pick(doc, T["d_interj"])}
                )
            else:
                if kind == "topic":
                    sl.update(self.slots({"X": x}))
                    q = self.pick(doc, T["d_ask"][x.kind]).format_map(sl)
                    doc.mentioned.add(x.id)
                    doc.last = x.id
                    n = self.rng.randint(3, 4)
                    sents = []
                    for f in self._some_facts(doc, x, n):
                        sents.append(self.fact_sentence(doc, f))
                else:
                    q = self.pick(doc, T["d_ask_self"]).format_map(sl)
                    sents = [
                        self.fact_sentence(doc, f, first_person=True)
                        for f in self._some_facts(doc, answerer, self.rng.randint(3, 4), first_person=True)
                        if f.value != asker.id
                    ]
                if not sents:
                    continue
                self.say(doc, T["d_ask_fmt"], {**sl, "q": q})
                if self.DIALOGUE_LINES:
                    self.para(doc)
                self.say(
                    doc, T["d_ans_fmt"], {**sl, "ans": self.join_speech(sents), "interj": self.pick(doc, T["d_interj"])}
                )
            self.para(doc)
            if self.rng.random() < 0.3:
                self.say(doc, T["d_narr"], sl)
                self.para(doc)
        self.say(doc, T["d_end"], slots)

    def join_speech(self, sents: list[str]) -> str:
        return self.SEP.join(sents)

    @staticmethod
    def attached(x: Entity, p: Entity) -> bool:
        """Whether x is p, or p's own pet, object, workplace or home town."""
        if x.id == p.id:
            return True
        if x.kind in ("animal", "object"):
            return x.attrs["owner"] == p.id
        if x.kind == "venue":
            return p.attrs.get("workplace") == x.id
        if x.kind == "town":
            return p.attrs["home"] == x.id
        return False

    def _some_facts(self, doc: Doc, e: Entity, n: int, first_person: bool = False) -> list[Fact]:
        cand = [f for f in self.w.facts_of(e.id) if f.fid not in doc.stated]
        if first_person:
            cand = [f for f in cand if f.attr in self.FP_T]
        self.rng.shuffle(cand)
        return cand[:n]

    def letter(self, doc: Doc, focus: Entity) -> None:
        T = self.T
        w = self.protagonist(focus)
        roles = self.roles_for(w)
        r, rel = roles["F"], roles["_rel"]
        slots = self.slots({k: v for k, v in roles.items() if not k.startswith("_")})
        slots.update(self.rel_slots(rel, r, w))
        rw = self.slots({"W": w, "R": r, "H": self.w.get(r.attrs["home"])})
        slots.update(rw)
        doc.mentioned.update((w.id, r.id))
        self.say(doc, T["l_greet"], slots)
        self.say(doc, T["l_weather"], slots)
        self.para(doc)
        for f in self._some_facts(doc, w, self.rng.randint(2, 4), first_person=True):
            if f.value != r.id:
                self.fact(doc, f, first_person=True)
        self.say(doc, T["l_news"], slots)
        self.para(doc)
        others = [] if focus.kind == "person" else [focus]
        others += [
            x
            for x in (roles["A"], roles["S"], roles["V"], roles["T"])
            if x is not None and x.id != focus.id and x.id != r.id
        ]
        for x in others[:3]:
            self.facts(doc, x, 2 if x is focus else 1, 3 if x is focus else 2, back=(w.id, r.id))
        self.pad(doc, [focus] + [roles[k] for k in "ASVOCRTN"], "l_more", reserve=170, exclude=(w.id, r.id))
        self.say(doc, T["l_ask"], slots)
        self.say(doc, T["l_close"], slots)
        self.para(doc)
        self.say(doc, T["l_sign"], slots)
        doc.closed = True

    def diary(self, doc: Doc, focus: Entity) -> None:
        T = self.T
        w = self.protagonist(focus)
        roles = self.roles_for(w)
        slots = self.slots({k: v for k, v in roles.items() if not k.startswith("_")})
        slots.update(self.rel_slots(roles["_rel"], roles["F"], w))
        slots.update(self.slots({"W": w}))
        doc.mentioned.add(w.id)
        self.say(doc, T["di_date"], slots)
        self.say(doc, T["di_weather"], slots)
        self.para(doc)
        for need, opts in T["di_events"]:
            if all(roles.get(x) is not None for x in need) and self.rng.random() < 0.8:
                self.say(doc, opts, slots)
        self.facts(doc, w, 1, 2, first_person=True, skip=("friend",))
        self.para(doc)
        if focus.kind != "person":
            self.facts(doc, focus, 2, 3, back=(w.id,))
        else:
            x = self.rng.choice([v for v in (roles["F"], roles["A"], roles["V"], roles["T"]) if v is not None])
            self.facts(doc, x, 1, 2, back=(w.id,))
        self.pad(doc, [focus] + [roles[k] for k in "FAVTSO"], "di_more", reserve=50, exclude=(w.id,))
        self.say(doc, T["di_end"], slots)
        doc.closed = True


# =============================================================================================
# English


class EnglishRenderer(Renderer):
    # Script-style turns: quoted speech puts so many quote tokens in a text that Gopher's
    # "80 % of words contain a letter" rule rejects it.
    DIALOGUE_LINES = True

    def cap(self, s: str) -> str:
        if not s:
            return s
        if s[0] in "\"'" and len(s) > 1:
            return s[0] + s[1].upper() + s[2:]
        return s[0].upper() + s[1:]

    # --- names and references
    _LOWER_OK = frozenset(
        "It He She His Her Its The Every By Since Of On For When If In At Nothing Nobody Everyone "
        "Anything Anyone Someone A An You Right Next Just People Give More There As Born Meet "
        "Being Work Life Here Things My Everyone Anyone".split()
    )

    def join_speech(self, sents: list[str]) -> str:
        """Spoken answers run some statements together with 'and', as people do."""
        out = sents[0]
        for s in sents[1:]:
            first = s.split(" ", 1)[0]
            if out.endswith(".") and self.rng.random() < 0.5 and (first in self._LOWER_OK or first == "I"):
                if first != "I":
                    s = s[0].lower() + s[1:]
                out = out[:-1] + " and " + s
            else:
                out += " " + s
        return out

    def _pron(self, e: Entity) -> tuple[str, str, str, str]:
        if e.kind in ("person", "animal"):
            return ("he", "his", "him", "himself") if e.gender == "m" else ("she", "her", "her", "herself")
        return ("it", "its", "it", "itself")

    def full(self, e: Entity) -> str:
        if e.kind == "venue":
            return "the " + e.name
        if e.kind == "object":
            return f"{self.w.get(e.attrs['owner']).name}'s {e.attrs['okind']}"
        return e.name

    def short(self, e: Entity) -> str:
        if e.kind == "person":
            return e.first
        if e.kind == "venue":
            return "the " + e.attrs["type"]
        if e.kind == "object":
            return f"{self.w.get(e.attrs['owner']).first}'s {e.attrs['okind']}"
        return e.name

    def name_ref(self, doc: Doc, e: Entity, force_full: bool = False) -> str:
        if force_full or e.id not in doc.mentioned:
            doc.mentioned.add(e.id)
            if e.kind == "object":
                doc.mentioned.add(e.attrs["owner"])
            return self.full(e)
        return self.short(e) if self.rng.random() < 0.8 else self.full(e)

    def subject_ref(self, doc: Doc, e: Entity, force_full: bool = False) -> dict[str, str]:
        he, his, him, _ = self._pron(e)
        if not force_full and doc.last == e.id and self.rng.random() < 0.55:
            s, sp, so = he, his, him
        else:
            s = so = self.name_ref(doc, e, force_full)
            sp = s + "'s"
        return {"S": s, "Sp": sp, "So": so, "he": he, "his": his, "him": him}

    def role_slots(self, e: Entity) -> dict[str, str]:
        w = self.w
        he, his, him, self_ = self._pron(e)
        d = {
            "": self.full(e),
            "f": self.short(e),
            "he": he,
            "His": his.capitalize(),
            "He": he.capitalize(),
            "his": his,
            "him": him,
            "self": self_,
        }
        a = e.attrs
        if e.kind == "person":
            d.update(
                age=str(a["age"]),
                ageord=ordinal(a["age"]),
                job=a["job"],
                ajob=art(a["job"]),
                home=w.get(a["home"]).name,
                food=a["food"],
                colour=a["colour"],
                hobby=a["hobby"],
                hometown=w.get(a["home"]).name,
            )
            if "workplace" in a:
                v = w.get(a["workplace"])
                d.update(work=self.full(v), workshort=self.short(v))
            if "pet" in a:
                d.update(pet=w.get(a["pet"]).name, petsp=w.get(a["pet"]).attrs["species"])
        elif e.kind == "town":
            d.update(kind=a["kind"], akind=art(a["kind"]), known=a["known_for"], river=a["river"])
        elif e.kind == "venue":
            d.update(
                type=a["type"],
                atype=art(a["type"]),
                town=w.get(a["town"]).name,
                lm="the " + a["next_to"],
                door=a["door"],
                opened=str(a["opened"]),
                job=VENUE_TYPES[a["type"]][2],
            )
        elif e.kind == "animal":
            sp = a["species"]
            owner = w.get(a["owner"])
            d.update(
                sp=sp,
                colour=a["colour"],
                food=a["food"],
                age=str(a["age"]),
                years="year" if a["age"] == 1 else "years",
                owner=owner.name,
                ownerf=owner.first,
                coat=SPECIES[sp][2],
            )
        elif e.kind == "object":
            owner = w.get(a["owner"])
            k = a["okind"]
            d.update(
                k=k,
                colour=a["colour"],
                acol=art(a["colour"]),
                mat=a["material"],
                madj=_MADJ.get(a["material"], a["material"]),
                made=w.get(a["made_in"]).name,
                owner=owner.name,
                ownerf=owner.first,
                amadj=art(_MADJ.get(a["material"], a["material"])),
            )
        return d

    def rel_slots(self, rel: str, comp: Entity, p: Entity) -> dict[str, str]:
        if rel == "friend":
            word = "best friend"
        elif rel == "sibling":
            word = "brother" if comp.gender == "m" else "sister"
        else:
            word = "old friend"
        return {"Frel": word}

    def value_slots(self, doc: Doc, e: Entity, f: Fact) -> dict[str, str]:
        w = self.w
        v = f.value
        a = f.attr
        k = e.kind
        if k == "person":
            if a == "age":
                return {"v": str(v), "vord": ordinal(v)}
            if a == "job":
                return {"v": v, "a_v": art(v)}
            if a == "home":
                t = w.get(v)
                return {"v": self.name_ref(doc, t), "a_tkind": art(t.attrs["kind"])}
            if a in ("friend", "sibling"):
                o = w.get(v)
                d = {"v": self.name_ref(doc, o)}
                if a == "sibling":
                    older = o.attrs["age"] > e.attrs["age"]
                    rel = "brother" if o.gender == "m" else "sister"
                    if o.gender == e.gender:
                        sibs = "brothers" if o.gender == "m" else "sisters"
                    else:
                        sibs = "brother and sister"
                    d.update(
                        rel=rel,
                        sibs=sibs,
                        older="older" if older else "younger",
                        a_older="an older" if older else "a younger",
                    )
                return d
            if a == "workplace":
                return {"v": self.name_ref(doc, w.get(v))}
            if a == "pet":
                an = w.get(v)
                doc.mentioned.add(an.id)
                return {"v": an.name, "sp": an.attrs["species"], "acol": an.attrs["colour"]}
            return {"v": v}
        if k == "animal":
            sp = e.attrs["species"]
            if a == "species":
                return {"v": v, "a_v": art(v)}
            if a == "colour":
                coat = SPECIES[sp][2]
                vcoat = f"a {v} {coat}" if coat in ("shell", "coat") else f"{v} {coat}"
                return {"v": v, "coat": coat, "vcoat": vcoat, "cis": "are" if coat == "feathers" else "is", "sp": sp}
            if a == "owner":
                o = w.get(v)
                name = self.name_ref(doc, o)
                return {"v": name, "vp": name + "'s", "sp": sp}
            if a == "age":
                return {"v": str(v), "years": "year" if v == 1 else "years"}
            return {"v": v, "sp": sp}
        if k == "town":
            if a == "kind":
                return {"v": v, "a_v": art(v)}
            if a == "neighbour":
                return {"v": self.name_ref(doc, w.get(v))}
            return {"v": v}
        if k == "venue":
            if a == "town":
                return {"v": self.name_ref(doc, w.get(v))}
            if a == "next_to":
                return {"v": "the " + v}
            return {"v": str(v)}
        # object
        kind = e.attrs["okind"]
        if a == "made_in":
            return {"v": self.name_ref(doc, w.get(v)), "k": kind}
        if a == "material":
            return {"v": v, "madj": _MADJ.get(v, v), "k": kind}
        return {"v": v, "k": kind}

    FACT_T = {
        "person.age": [
            "{S} is {v} years old.",
            "{S} turned {v} this year.",
            "{S} is now {v} years of age.",
            "{S} recently celebrated {his} {vord} birthday.",
            "At {v} years old, {S} is still full of energy.",
            "{S} was born {v} years ago.",
            "{S} has just had {his} {vord} birthday.",
            "{S} is {v}, though many people guess {he} is younger.",
        ],
        "person.job": [
            "{S} works as {a_v}.",
            "{S} is {a_v} by trade.",
            "{S} earns {his} living as {a_v}.",
            "{S} has worked as {a_v} for years.",
            "By profession, {S} is {a_v}.",
            "Everyone knows {So} as {a_v}.",
            "{S} makes a living as {a_v}.",
            "{S} is {a_v}, and a good one at that.",
            "For work, {S} is {a_v}.",
        ],
        "person.home": [
            "{S} lives in {v}.",
            "{Sp} home is in {v}.",
            "{S} has a small house in {v}.",
            "{S} makes {his} home in {v}.",
            "{S} lives in {v}, {a_tkind}.",
            "{v} is where {S} lives.",
            "For many years now, {S} has lived in {v}.",
            "{S} lives on a quiet street in {v}.",
        ],
        "person.food": [
            "{Sp} favourite food is {v}.",
            "{S} loves {v} more than any other food.",
            "Nothing makes {So} happier than {v}.",
            "{S} could eat {v} every day of the week.",
            "Of all foods, {S} likes {v} best.",
            "When {S} cooks for friends, {he} usually makes {v}, {his} favourite dish.",
            "If you ask {So} about food, {he} will always say {v}.",
            "{S} never says no to {v}, {his} favourite food.",
        ],
        "person.colour": [
            "{Sp} favourite colour is {v}.",
            "{S} likes the colour {v} best.",
            "Of all the colours, {S} prefers {v}.",
            "{S} often wears {v}, because it is {his} favourite colour.",
            "{S} painted {his} front door {v}, {his} favourite colour.",
            "{S} has always loved the colour {v}.",
            "Anything {v} catches {Sp} eye, since {v} is {his} favourite colour.",
        ],
        "person.hobby": [
            "In {his} free time, {S} enjoys {v}.",
            "{Sp} favourite pastime is {v}.",
            "{S} spends most weekends {v}.",
            "{S} loves {v}.",
            "{S} has always enjoyed {v}.",
            "On quiet evenings {S} can usually be found {v}.",
            "When work is done, {S} likes nothing better than {v}.",
            "{Sp} great hobby is {v}.",
        ],
        "person.friend": [
            "{Sp} best friend is {v}.",
            "{S} and {v} are best friends.",
            "{S} has been best friends with {v} for a long time.",
            "{v} is {Sp} best friend.",
            "{S} often visits {his} best friend, {v}.",
            "Nobody knows {So} better than {v}, {his} best friend.",
            "{S} shares all {his} secrets with {v}, {his} best friend.",
        ],
        "person.sibling": [
            "{Sp} {rel} is {v}.",
            "{S} has {a_older} {rel} named {v}.",
            "{S} and {v} are {sibs}.",
            "{v} is {Sp} {older} {rel}.",
            "{S} grew up with {his} {rel}, {v}.",
            "{S} often calls {his} {rel}, {v}.",
        ],
        "person.workplace": [
            "{S} works at {v}.",
            "Every morning {S} goes to work at {v}.",
            "{S} has a job at {v}.",
            "{v} is where {S} works.",
            "On most days you can find {So} at {v}, where {he} works.",
            "{S} is employed at {v}.",
            "{S} has worked at {v} for a long time.",
        ],
        "person.pet": [
            "{S} owns a {sp} called {v}.",
            "{S} has a {acol} {sp} named {v}.",
            "{Sp} {sp}, {v}, follows {him} everywhere.",
            "{v} is {Sp} {sp}.",
            "{S} takes care of a {sp} named {v}.",
            "At home, {S} keeps a {sp} called {v}.",
        ],
        "animal.species": [
            "{S} is {a_v}.",
            "{S} is {a_v}, and a clever one.",
            "{S} is a friendly {v}.",
            "{S} is {a_v} with a big personality.",
            "{S} is a lively {v}.",
        ],
        "animal.colour": [
            "{S} has {vcoat}.",
            "{Sp} {coat} {cis} {v}.",
            "{S} is a {v} {sp}.",
            "You can recognise {So} by {his} {v} {coat}.",
            "{S} is {v} from head to tail.",
        ],
        "animal.owner": [
            "{S} belongs to {v}.",
            "{v} owns {So}.",
            "{S} lives with {v}.",
            "{S} is {vp} {sp}.",
            "{v} looks after {So}.",
            "{S} is the much-loved {sp} of {v}.",
        ],
        "animal.age": [
            "{S} is {v} {years} old.",
            "{S} turned {v} not long ago.",
            "{S} is {v} {years} old and still full of mischief.",
            "{Sp} age is {v}.",
        ],
        "animal.food": [
            "{S} loves to eat {v}.",
            "{Sp} favourite food is {v}.",
            "{S} will do almost anything for {v}.",
            "Give {So} some {v} and {he} will be happy all day.",
            "{S} gets excited at the sight of {v}.",
            "More than anything, {S} likes {v}.",
        ],
        "town.kind": [
            "{S} is {a_v}.",
            "{S} is a quiet {v}.",
            "People describe {S} as {a_v}.",
            "{S} is a pretty {v}.",
            "{S} has always been {a_v}.",
        ],
        "town.known_for": [
            "{S} is known for its {v}.",
            "{S} is famous for its {v}.",
            "People come from far away because of {Sp} {v}.",
            "Everyone in the region knows {So} for its {v}.",
            "The pride of {S} is its {v}.",
            "When people talk about {So}, they usually mention its {v}.",
        ],
        "town.river": [
            "The river {v} flows through {So}.",
            "{S} lies on the river {v}.",
            "{S} was built on the banks of the river {v}.",
            "The {v} runs right through the middle of {So}.",
            "A river called the {v} winds through {So}.",
        ],
        "town.neighbour": [
            "{S} lies next to {v}.",
            "{S} is right next to {v}.",
            "{Sp} nearest neighbour is {v}.",
            "{S} and {v} lie side by side.",
            "Next to {So} lies {v}.",
            "Just next door to {So} is {v}.",
        ],
        "venue.town": [
            "{S} is in {v}.",
            "{S} is located in {v}.",
            "{S} can be found in {v}.",
            "{v} is home to {So}.",
            "You will find {So} in {v}.",
            "{S} is one of the best-known places in {v}.",
        ],
        "venue.next_to": [
            "{S} stands next to {v}.",
            "{S} is right beside {v}.",
            "You will find {So} next to {v}.",
            "Right next to {So} is {v}.",
            "{S} sits next to {v}.",
        ],
        "venue.door": [
            "{S} has a {v} door.",
            "{Sp} door is painted {v}.",
            "{Sp} front door is {v}.",
            "You cannot miss {Sp} {v} door.",
        ],
        "venue.opened": [
            "{S} opened in {v}.",
            "{S} first opened its doors in {v}.",
            "{S} has been open since {v}.",
            "{S} was founded in {v}.",
            "Since {v}, {S} has served the people of the town.",
        ],
        "object.colour": [
            "{S} is {v}.",
            "{S} is {v} in colour.",
            "{S} is a lovely shade of {v}.",
            "Anyone would notice that {S} is {v}.",
        ],
        "object.material": [
            "{S} is made of {v}.",
            "{S} is made from {v}.",
            "{S} is made entirely of {v}.",
            "Someone made {So} out of {v}.",
        ],
        "object.made_in": [
            "{S} was made in {v}.",
            "{S} comes from a workshop in {v}.",
            "A craftsman in {v} made {So}.",
            "{S} was made by hand in {v}.",
        ],
    }

    FP_T = {
        "age": ["I am {v} years old now.", "I turned {v} this year.", "I have just had my {vord} birthday."],
        "job": [
            "I still work as {a_v}.",
            "As you know, I am {a_v}.",
            "I earn my living as {a_v}, as always.",
            "Being {a_v} keeps me busy.",
        ],
        "home": [
            "I still live in {v}.",
            "Life in {v} suits me well.",
            "I have lived in {v} for years now.",
            "Here in {v} everything is calm.",
        ],
        "food": [
            "I had {v} for dinner again, because it is still my favourite food.",
            "You know how much I love {v}.",
            "My favourite food is still {v}.",
        ],
        "colour": [
            "I bought a new scarf in {v}, my favourite colour.",
            "My favourite colour is still {v}.",
            "I painted my kitchen {v}, since {v} is my favourite colour.",
        ],
        "hobby": [
            "In the evenings I enjoy {v}.",
            "I spend my free time {v}.",
            "I have been {v} a lot lately, as you can imagine.",
        ],
        "friend": [
            "My best friend {v} came to see me.",
            "{v}, my best friend, sends greetings.",
            "I spent the afternoon with my best friend, {v}.",
        ],
        "sibling": [
            "My {rel} {v} is doing well.",
            "I had a long talk with my {rel}, {v}.",
            "{v}, my {rel}, came for dinner.",
        ],
        "workplace": ["I still work at {v}.", "Work at {v} keeps me busy.", "Things are busy at {v}, where I work."],
        "pet": [
            "My {sp} {v} is sleeping at my feet.",
            "{v}, my {sp}, is as lively as ever.",
            "I took my {sp}, {v}, for a long walk.",
        ],
    }

    INTRO_T = {
        "person": [
            (("age", "job", "home"), "{X} is a {Xage}-year-old {Xjob} who lives in {Xhome}."),
            (("job", "home"), "{X} is {Xajob} living in {Xhome}."),
            (("job", "home", "age"), "{X}, {Xajob} from {Xhome}, is {Xage} years old."),
            (("home", "job"), "Born and raised in {Xhome}, {X} now works as {Xajob}."),
            (("age", "job"), "{X} is {Xage} and works as {Xajob}."),
            (("job", "home"), "Meet {X}, {Xajob} from {Xhome}."),
            (("home", "job"), "{X} lives in {Xhome} and works as {Xajob}."),
            (("job", "workplace"), "{X} works as {Xajob} at {Xwork}."),
        ],
        "animal": [
            (("colour", "species", "owner"), "{X} is a {Xcolour} {Xsp} who belongs to {Xowner}."),
            (("owner", "colour", "species"), "{Xowner} has a {Xcolour} {Xsp} called {X}."),
            (("species", "age"), "{X} the {Xsp} is {Xage} {Xyears} old."),
            (("species", "owner"), "{X} is a {Xsp} owned by {Xowner}."),
        ],
        "town": [
            (("kind", "river"), "{X} is {Xakind} on the river {Xriver}."),
            (("kind", "known_for"), "{X} is {Xakind} known for its {Xknown}."),
            (("kind",), "{X} is {Xakind} with friendly people and narrow streets."),
            (("river", "known_for"), "On the banks of the river {Xriver} lies {X}, famous for its {Xknown}."),
        ],
        "venue": [
            (("town",), "{X} is {Xatype} in {Xtown}."),
            (("town", "next_to"), "In {Xtown}, next to {Xlm}, stands {X}."),
            (("opened", "town"), "{X} has served the people of {Xtown} since {Xopened}."),
            (("town", "door"), "{X} is {Xatype} in {Xtown} with a {Xdoor} door."),
        ],
        "object": [
            (("colour", "material"), "{Xowner} owns {Xacol} {Xk} made of {Xmat}."),
            (("material", "colour"), "{Xowner} has {Xamadj} {Xk}, and it is {Xcolour}."),
            (("made_in", "colour"), "{Xowner} owns {Xacol} {Xk} that was made in {Xmade}."),
        ],
    }

    T = {
        "open_fmt": ["{time}, {scene}."],
        "open_time": [
            "One {day} morning",
            "Early one {season} morning",
            "Late on a {day} afternoon",
            "On the first warm day of {season}",
            "One evening in {month}",
            "On a grey {day} in {month}",
            "Just after sunrise one {day}",
            "On a quiet {day} in late {season}",
            "A few days before the end of {month}",
            "On a windy afternoon in {month}",
            "Not long ago, on a {day}",
            "Halfway through {month}",
        ],
        "open_scene": [
            "the streets of {T} were still quiet",
            "a light rain was falling over {T}",
            "the sun was shining on the rooftops of {T}",
            "a cold wind was blowing through {T}",
            "fog lay thick over {T}",
            "the market in {T} was just opening",
            "the bells of {T} had only just stopped ringing",
            "the air in {T} smelled of wood smoke",
            "the river {Triver} was running high after the rain",
            "the swallows were back over {T}",
            "the whole of {T} seemed to be asleep",
            "a pale moon still hung over {T}",
        ],
        "l_more": [
            "I should also tell you about {X}.",
            "You asked about {X}, so here is the news.",
            "Some news of {X} may interest you.",
            "I must write a few lines about {X}.",
        ],
        "di_more": [
            "I keep thinking about {X}.",
            "A few notes about {X}, so that I do not forget.",
            "Something about {X} before I forget.",
            "Today I also thought a lot about {X}.",
        ],
        "more": [
            "There is more to tell about {X}.",
            "A few more words about {X}.",
            "Then there is {X}.",
            "And what about {X}?",
            "As for {X}, there is a little more to say.",
        ],
        "epilogue": [
            "A few more words about {X} are in order.",
            "Those who know this story often add a little more about {X}.",
            "It is worth saying a little more about {X}.",
            "For anyone who has never met {X}, here is a little more.",
        ],
        "asides": [
            "The wind picked up a little.",
            "Somewhere a dog barked twice and then fell silent.",
            "{Pf} took a deep breath.",
            "A cart rattled past on the cobbles.",
            "It was colder than {Phe} had expected.",
            "The church clock struck the hour.",
            "Nobody said anything for a while.",
            "A few drops of rain began to fall.",
            "{Pf} could not help smiling.",
            "Time seemed to pass very slowly.",
            "A gull cried somewhere over the roofs.",
            "The light was already beginning to change.",
            "{Pf} pulled {Phis} coat a little tighter.",
            "Somewhere nearby, children were laughing.",
            "Everything smelled of rain and wet earth.",
            "A cat watched from a windowsill with great interest.",
            "{Pf} remembered something {Phis} mother used to say about patience.",
            "The smell of fresh bread drifted along the street.",
        ],
        "closers": [
            "It was a day that nobody involved would forget for a long time.",
            "Sometimes the simplest days turn out to be the best ones.",
            "And that, as people in {T} still say, was that.",
            "Later, when people asked about that day, they always smiled.",
            "By nightfall everything was quiet again, and all the lights went out one by one.",
            "Nobody could have planned a better ending.",
            "It is still one of the favourite stories told in {T}.",
            "The next morning life went on as usual, but something had changed for the better.",
        ],
        "ency_lead": {
            "person": [
                "Among the people of {H}, few are as well liked as {X}.",
                "This short profile describes {X} and the people around {Xhim}.",
                "There is a lot to say about {X}, one of the familiar faces of {H}.",
            ],
            "town": [
                "This entry gives a short description of {X} and the people who live there.",
                "Travellers in the region often pass through {X}.",
            ],
            "venue": ["This is a short description of {X} and the people who work there."],
            "animal": ["Many people in town know {X} by sight."],
            "object": ["Some objects have a story of their own, and this is one of them."],
        },
        "ency_residents": [
            "Several well-known people live in {X}.",
            "The people of {X} are friendly and hard-working.",
            "Among the residents of {X} are a few familiar faces.",
        ],
        "ency_close": {
            "person": [
                "People who know {X} describe {Xhim} as kind and reliable.",
                "All in all, {X} is one of the best-known figures in the area.",
                "Those who meet {X} rarely forget {Xhim}, and many of them become friends.",
                "There is much more that could be said about {X}, but that is the heart of it.",
            ],
            "town": [
                "It is a good place to live and an even better place to visit.",
                "Whoever visits {X} once usually comes back.",
                "Life in {X} moves slowly, and most people like it that way.",
            ],
            "venue": [
                "It is one of the places that give the town its character.",
                "Regular visitors say it has not changed in years, and they like it that way.",
                "If you are ever nearby, it is worth stopping by.",
            ],
            "animal": [
                "Everyone who meets {X} seems to like {Xhim}.",
                "The neighbours all know {X} well.",
                "It is hard to imagine the street without {X}.",
            ],
            "object": [
                "It is the kind of thing that is kept for a lifetime.",
                "Its owner would not sell it for any money.",
                "Old things like this one often carry the best memories.",
            ],
        },
        "guide_intro": [
            "If you ever find yourself travelling through the region, {T} is well worth a visit.",
            "Visitors to {T} often say that they wish they had stayed longer.",
            "{T} is not a large place, but it has plenty to offer the curious traveller.",
            "Here is a short guide for anyone planning a trip to {T}.",
        ],
        "guide_venue": [
            "One of the best-known places in town is {V}.",
            "Be sure to stop at {V}.",
            "Many visitors make their way to {V}.",
            "Another place worth a visit is {V}.",
        ],
        "guide_people": [
            "The people of {T} are friendly, and you will soon get to know a few of them.",
            "You are likely to meet some of the locals during your stay.",
            "A town is really its people, and {T} has some memorable ones.",
        ],
        "guide_neigh": [
            "If you have an extra day, walk over to {N}, which lies just next to {T}.",
            "From {T} it is only a short walk to the neighbouring {N}.",
        ],
        "guide_advice": [
            "Bring good walking shoes, because the best way to see everything is on foot.",
            "The best time to visit is in late spring, when the days are long and mild.",
            "Most shops close early, so plan your day with that in mind.",
            "Whatever you do, do not leave without talking to the locals.",
        ],
        "d_setting": [
            "{P} and {F} met by the river {Triver} one {day} afternoon.",
            "{F} was walking through {T} when {Fhe} ran into {P}.",
            "On a {day} evening, {P} and {F} sat down together for a cup of tea.",
            "{P} met {Phis} {Frel}, {F}, at the market in {T}.",
            "It was raining, so {P} and {F} waited together under the roof of the old bus shelter in {T}.",
            "{F} knocked on {P}'s door just before dinner on a {day} in {month}.",
        ],
        "d_ask": {
            "person": [
                "Have you heard from {X} lately?",
                "Do you know {X} well?",
                "What can you tell me about {X}?",
                "I keep hearing about {X}. Who is that?",
                "How is {Xf} getting on these days?",
            ],
            "animal": [
                "Is that {X} I saw in the lane this morning?",
                "Tell me, what is the story with {X}?",
                "What is {X} like?",
                "Is {X} behaving these days?",
            ],
            "town": [
                "Have you ever been to {X}?",
                "What is {X} like these days?",
                "Is it true what they say about {X}?",
                "Would you recommend a trip to {X}?",
            ],
            "venue": [
                "Do you ever go to {X}?",
                "Where exactly is {X}? I always get lost.",
                "What do you think of {X}?",
                "Have you been to {X} recently?",
            ],
            "object": ["Is that {Xf} I saw the other day?", "What is so special about {Xf}?", "Tell me about {Xf}."],
        },
        "d_ask_self": [
            "How have you been keeping?",
            "What have you been up to?",
            "And how is life treating you?",
            "Tell me, how are things with you?",
            "What is new with you?",
        ],
        "d_small": [
            ("Did you see the sky this morning?", "I did, and I have never seen such a red sunrise."),
            ("Is it going to rain again tonight?", "I hope not, because I left my washing outside."),
            ("Would you like another cup of tea?", "Yes, please, and maybe one of those biscuits too."),
            ("Have you heard the news about the new bridge?", "Only rumours, but everybody is talking about it."),
            ("Are you coming to the fair next week?", "I would not miss it for anything."),
            ("Is that a new coat?", "It is, and it was far too expensive, but I love it."),
        ],
        "d_ask_fmt": ["{Qf}: {q}"],
        "d_ans_fmt": ["{Yf}: {interj}. {ans}", "{Yf}: {ans}", "{Yf}: {ans}", "{Yf}: {ans}"],
        "d_interj": [
            "Oh yes",
            "Of course",
            "Let me think",
            "Certainly",
            "That is an easy one",
            "Good question",
            "Funny you should ask",
            "I can tell you that",
            "I know all about that",
        ],
        "d_narr": [
            "{Qf} poured another cup of tea and listened carefully.",
            "For a while neither of them said anything, and they watched the people walking past.",
            "{Yf} laughed and shook {Yhis} head at the memory.",
            "Outside, the wind was rattling the shutters of the old houses.",
            "{Qf} nodded slowly, as if this was exactly what {Qhe} had expected to hear.",
            "A bus went past, and they had to wait until it was quiet again.",
        ],
        "d_end": [
            "They talked for a while longer, and then each of them went home.",
            "When the rain stopped, they said goodbye and went their separate ways.",
            "After that the conversation turned to the weather, as it always does.",
            "They laughed, finished their tea and promised to meet again soon.",
        ],
        "l_greet": [
            "Dear {Rf}, I hope this letter finds you well.",
            "Dear {Rf}, thank you for your kind letter, which arrived on {day}.",
            "Dear {Rf}, it has been far too long since I last wrote to you.",
            "Dear {Rf}, I am sitting by the window as I write this, and I thought of you.",
        ],
        "l_weather": [
            "Here in {Whome} the weather has been grey and wet for days.",
            "The weather in {Whome} has been lovely this week, warm and bright.",
            "It has been windy in {Whome}, and the trees are already losing their leaves.",
            "We had the first frost of the year in {Whome} last night.",
        ],
        "l_news": [
            "Last week I walked all the way along the river, and it reminded me of our old walks.",
            "I have started to tidy the garden at last, although it is slow work.",
            "Not much else has happened, but I am content.",
            "The days are getting shorter, and I spend my evenings by the stove.",
        ],
        "l_ask": [
            "How are things in {H}?",
            "Are you still as fond of {Rhobby} as ever?",
            "Do you still eat {Rfood} every chance you get?",
            "Is life in {H} treating you well?",
        ],
        "l_close": [
            "Please write back soon.",
            "I look forward to hearing all your news.",
            "Give my regards to everyone there.",
            "Take good care of yourself.",
        ],
        "l_sign": [
            "With love, {Wf}.",
            "Your friend always, {Wf}.",
            "Warm wishes from {Whome}, {Wf}.",
            "Until next time, {Wf}.",
        ],
        "di_date": ["{day}, the {nth} of {month}.", "It is {day} evening, the {nth} of {month}."],
        "di_weather": [
            "It rained all day, so I stayed indoors for most of the morning.",
            "The sun came out after lunch and the whole street seemed to wake up.",
            "It was cold and clear, and the frost on the windows did not melt until noon.",
            "A strong wind blew all night and kept me awake.",
        ],
        "di_events": [
            (
                "V",
                [
                    "After breakfast I went to work at {Vf} as usual.",
                    "Work at {Vf} was busier than usual today.",
                    "I spent the whole day at {Vf}.",
                ],
            ),
            (
                "A",
                [
                    "{A} woke me up far too early, as always.",
                    "I took {A} for a long walk along the {Triver}.",
                    "{A} was in a funny mood all day.",
                ],
            ),
            (
                "F",
                [
                    "In the afternoon {Ff} came by for a chat.",
                    "I met {Ff} in the street and we talked for an hour.",
                    "I wrote a short note to {Ff}.",
                ],
            ),
            (
                "",
                [
                    "For dinner I made {Wfood}, my favourite.",
                    "In the evening I spent an hour {Whobby}.",
                    "I went to bed early with a good book.",
                ],
            ),
        ],
        "di_end": [
            "Tomorrow I want to get up early and finish what I started.",
            "I am tired, so that is all for today.",
            "I hope tomorrow is as good as today was.",
            "Time to sleep.",
        ],
    }

    PLOTS = {
        "lost_pet": {
            "needs": "PA",
            "focus": ("person", "animal"),
            "steps": [
                OPEN,
                S(
                    [
                        "{P} had planned a slow, quiet day at home.",
                        "{P} woke early and made a pot of tea before anyone else in the street was awake.",
                        "{P} was looking forward to a day without any work at all.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("job", "home", "age")),
                S(
                    [
                        "But when {Phe} went out to the garden, {A} the {Asp} was nowhere to be seen.",
                        "Then {Phe} noticed that the gate was open and that {A}, {Phis} {Acolour} {Asp}, was gone.",
                        "It was only when {Phe} went to fill the bowl that {Phe} realised {A} was missing.",
                    ]
                ),
                F("A", 1, 2, ("age", "colour")),
                PARA,
                S(
                    [
                        "{Pf} searched the garden first, then the lane, then every corner of {T}.",
                        "{Pf} walked up and down the streets of {T}, calling for {A}.",
                        "Worried, {Pf} put on {Phis} coat and went out to look.",
                    ],
                    "P",
                ),
                S(
                    [
                        "The neighbours had seen nothing, and the woman at the corner shop only shrugged.",
                        "A boy on a bicycle thought he had seen something running towards the river.",
                        "An old man on a bench said he would keep an eye out.",
                    ]
                ),
                S(
                    [
                        "At last {Phe} knocked on the door of {F}, {Phis} {Frel}.",
                        "So {Phe} went to find {F}, {Phis} {Frel}, who always knew what to do.",
                        "In the end {Phe} asked {Phis} {Frel}, {F}, for help.",
                    ],
                    None,
                    "F",
                ),
                F("F", 1, 1, ("home", "job")),
                PARA,
                S(
                    [
                        "Together they followed the path down to the water.",
                        "The two of them searched until the light began to fade.",
                        "They split up and agreed to meet again in an hour.",
                    ]
                ),
                S(
                    [
                        "In the end it was a small sound that gave {Ahim} away.",
                        "Just as {Pf} was about to give up, {Phe} heard a familiar noise.",
                        "It was nearly dark when {Pf} finally spotted {Ahim}.",
                    ]
                ),
                S(
                    [
                        "{A} was sitting under a hedge near the edge of {T}, muddy but perfectly happy.",
                        "{A} was hiding behind a stack of crates near the river {Triver}, "
                        "looking rather pleased with {Aself}.",
                        "{A} was curled up in a patch of sunlight by the old wall, fast asleep.",
                    ],
                    "A",
                ),
                PARA,
                S(
                    [
                        "Back at home, {Pf} gave {A} a bowl of {Afood}, which {Ahe} loves more than anything.",
                        "To celebrate, {A} got an extra helping of {Afood}, {Ahis} favourite food.",
                        "That evening {A} ate a whole plate of {Afood} and then fell asleep by the fire.",
                    ],
                    "A",
                ),
                F("A", 1, 1, ("owner", "species")),
                CLOSE,
            ],
        },
        "pet_walk": {
            "needs": "PA",
            "focus": ("animal", "person"),
            "steps": [
                S(
                    [
                        "Every {day} {P} takes {A} for a long walk through {T}.",
                        "{P} and {A} have a little ritual: a walk through {T} before breakfast.",
                        "Nobody in {T} is surprised to see {P} out walking with {A}.",
                    ],
                    "P",
                ),
                F("A", 1, 2, ("species", "colour")),
                F("P", 1, 1, ("home", "age")),
                PARA,
                OPEN,
                S(
                    [
                        "They went past the bakery, along the water and up the little hill.",
                        "{A} stopped at every gate, curious about everything.",
                        "The route was the same as always, but {A} seemed to find it new every time.",
                    ],
                    "A",
                ),
                S(
                    [
                        "Halfway round they met {R}, who bent down to say hello to {A}.",
                        "Near the bridge they bumped into {R}.",
                        "On the way back, {R} waved at them from across the street.",
                    ],
                    None,
                    "R",
                ),
                F("R", 1, 2, ("job", "hobby", "home")),
                PARA,
                S(
                    [
                        "At home {A} got a little {Afood} as a reward.",
                        "When they came back, {A} went straight to {Ahis} bowl, hoping for {Afood}.",
                        "{Pf} gave {A} some {Afood}, and {Ahe} was content.",
                    ],
                    "A",
                ),
                F("A", 1, 2, ("age", "food")),
                CLOSE,
            ],
        },
        "visit": {
            "needs": "PTN",
            "focus": ("person", "town"),
            "steps": [
                OPEN,
                S(
                    [
                        "{P} had promised to visit {N} for weeks, and at last the day had come.",
                        "{P} packed a small bag, locked the door and set off for {N}.",
                        "For a long time {P} had wanted to spend a day in {N}.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("home", "job", "age")),
                S(
                    [
                        "{N} lies right next to {T}, so the walk took less than an hour.",
                        "The road from {T} to {N} is short, because the two places lie side by side.",
                        "Since {N} is the neighbour of {T}, {Pf} decided to go on foot.",
                    ]
                ),
                PARA,
                S(
                    [
                        "{N} is {Nakind}, and it was busier than {Pf} had expected.",
                        "{N} is known far and wide for its {Nknown}, and {Pf} was curious about it.",
                        "As {Pf} came into {N}, the first thing {Phe} saw was the river {Nriver}.",
                    ]
                ),
                F("N", 1, 2),
                S(
                    [
                        "In the square {Phe} ran into {R}, who was happy to show {Phim} around.",
                        "Outside a little shop {Phe} met {R}.",
                        "By chance {Phe} met {R} on the main street.",
                    ],
                    None,
                    "R",
                ),
                F("R", 1, 2, ("home", "job", "hobby")),
                PARA,
                S(
                    [
                        "At lunchtime {Pf} found a small place that served {Pfood}, {Phis} favourite food.",
                        "{Pf} bought some {Pfood} from a stall and sat down to eat in the sun.",
                        "For lunch there was {Pfood}, which made {Pf} very happy.",
                    ],
                    "P",
                ),
                S(
                    [
                        "As the sun went down, {Pf} walked back home to {T}.",
                        "In the evening {Pf} took the short road home to {T}, tired but happy.",
                        "It was late when {Pf} finally got back to {T}.",
                    ],
                    "P",
                ),
                CLOSE,
            ],
        },
        "festival": {
            "needs": "PT",
            "focus": ("person", "town"),
            "steps": [
                OPEN,
                S(
                    [
                        "Every year {T} holds a fair, and this year {P} had decided to take part.",
                        "The whole of {T} had been preparing for the summer fair for weeks, and {P} was no exception.",
                        "{P} had never missed the yearly fair in {T}, and this year {Phe} "
                        "wanted to do something special.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("job", "age", "home")),
                PARA,
                S(
                    [
                        "{Pf} spent the evening before making a big batch of {Pfood}, {Phis} favourite dish.",
                        "{Pf} decorated a little stall in {Pcolour}, because {Pcolour} is {Phis} favourite colour.",
                        "{Pf} decided to show the visitors how much fun {Phobby} could be.",
                    ],
                    "P",
                ),
                S(
                    [
                        "{F}, {Phis} {Frel}, came over early to help.",
                        "{Phis} {Frel} {F} carried the heavy boxes without being asked.",
                        "Luckily {F} had offered to help, as {Fhe} always does.",
                    ],
                    None,
                    "F",
                ),
                F("F", 1, 1, ("job", "hobby")),
                PARA,
                S(
                    [
                        "By noon the square was full of music and laughter.",
                        "Children ran between the stalls while a band played on the steps.",
                        "People came from all over the valley to see the fair.",
                    ]
                ),
                F("T", 1, 2, ("known_for", "kind")),
                S(
                    [
                        "In the afternoon the judges walked from stall to stall, and to "
                        "everyone's surprise {Pf} won first prize.",
                        "{Pf} did not win a prize, but {Phe} had never laughed so much in {Phis} life.",
                        "By the end of the day everything {Pf} had brought was gone.",
                    ],
                    "P",
                ),
                CLOSE,
            ],
        },
        "broken_object": {
            "needs": "PO",
            "focus": ("person", "object"),
            "steps": [
                OPEN,
                S(
                    [
                        "{P} has owned {Of} for many years and uses it almost every day.",
                        "Of all the things {P} owns, {Phis} {Ok} is the one {Phe} treasures most.",
                        "{P} still remembers the day {Phe} first saw {Phis} {Ok}.",
                    ],
                    "P",
                ),
                F("O", 1, 2, ("colour", "material")),
                S(
                    [
                        "But that morning {Pf} dropped it, and something inside gave a terrible crack.",
                        "Then, in one careless moment, the {Ok} fell from the shelf and broke.",
                        "That day {Pf} found that the {Ok} was badly broken.",
                    ]
                ),
                PARA,
                S(
                    [
                        "There was only one place to take it: {Omade}, where the {Ok} had been made.",
                        "{Pf} remembered that the {Ok} came from {Omade}, so {Phe} set off to find the workshop.",
                        "An old friend told {Pf} to go to {Omade}, where it had been made.",
                    ],
                    "P",
                ),
                F("O", 1, 1, ("made_in",)),
                S(
                    [
                        "The workshop smelled of glue and varnish, and an old craftsman looked up from his bench.",
                        "The craftsman turned the {Ok} over in his hands for a long time and then nodded.",
                        "A young apprentice said it could be repaired, but that it would take a week.",
                    ]
                ),
                PARA,
                S(
                    [
                        "A week later the {Ok} was as good as new.",
                        "When {Pf} came back to collect it, {Phe} could hardly see where it had been broken.",
                        "The repair cost more than {Pf} had hoped, but it was worth every coin.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("hobby", "home", "job")),
                CLOSE,
            ],
        },
        "keepsake": {
            "needs": "PO",
            "focus": ("object",),
            "steps": [
                S(
                    [
                        "Whenever visitors come to the house of {P}, they ask about {Of}.",
                        "{P} likes to tell the story of {Phis} {Ok} to anyone who will listen.",
                        "There is a {Ok} in the home of {P} that everybody notices.",
                    ],
                    "P",
                ),
                F("O", 2, 3),
                PARA,
                S(
                    [
                        "{F}, {Phis} {Frel}, once asked why {Phe} never replaced it with a new one.",
                        "Even {F}, {Phis} {Frel}, admits that it is beautiful.",
                        "{F} says the {Ok} is the most beautiful thing in the house.",
                    ],
                    None,
                    "F",
                ),
                S(
                    [
                        "{Pf} only laughed and said that new things have no stories.",
                        "{Pf} said that some things are worth keeping for a lifetime.",
                        "To {Pf}, the {Ok} is part of the family.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("home", "age", "hobby")),
                CLOSE,
            ],
        },
        "workday": {
            "needs": "PV",
            "focus": ("person", "venue"),
            "steps": [
                OPEN,
                S(
                    [
                        "For {P}, the day starts early at {V}.",
                        "{P} arrived at {V} before anyone else, as {Phe} does every morning.",
                        "As usual, {P} was the first to unlock the {Vdoor} door of {V}.",
                    ],
                    "P",
                ),
                F("P", 1, 1, ("job",)),
                F("V", 1, 2, ("next_to", "town", "opened")),
                PARA,
                S(
                    [
                        "The first visitor that morning was {R}.",
                        "Soon after opening, {R} came in and said good morning.",
                        "By nine o'clock {R} was already waiting at the door.",
                    ],
                    None,
                    "R",
                ),
                F("R", 1, 1, ("home", "hobby")),
                S(
                    [
                        "Around noon the sky turned dark, and heavy rain began to fall.",
                        "The afternoon was long and busy, and there was hardly time for a cup of tea.",
                        "In the afternoon a delivery arrived, and everything had to be unpacked at once.",
                    ]
                ),
                S(
                    [
                        "{C} also works at {V}, and the two of them managed everything together.",
                        "Luckily {C}, who also works there, came in early to help.",
                        "{C} arrived after lunch and took over the counter.",
                    ],
                    None,
                    "C",
                ),
                F("C", 1, 1, ("job", "age")),
                PARA,
                S(
                    [
                        "When the day was over, {Pf} locked up and walked home to {T}.",
                        "In the evening {Pf} turned off the lights and went home.",
                        "At last the day was done, and {Pf} went home to rest.",
                    ],
                    "P",
                ),
                CLOSE,
            ],
        },
        "stranger": {
            "needs": "PV",
            "focus": ("venue",),
            "steps": [
                OPEN,
                S(
                    [
                        "A traveller with a heavy bag stopped {P} in the street and asked the way to {V}.",
                        "A young woman who was new to the area asked {P} how to find {V}.",
                        "An old man with a map in his hands asked {P} for directions to {V}.",
                    ],
                    "P",
                ),
                S(
                    [
                        "{Pf} smiled, because {Phe} knew the place well.",
                        "{Pf} was glad to help.",
                        "{Pf} put down {Phis} shopping and pointed down the road.",
                    ],
                    "P",
                ),
                PARA,
                F("V", 2, 3, ("next_to", "town", "door")),
                S(
                    [
                        "{Pf} even walked part of the way with the visitor.",
                        "The visitor thanked {Pf} twice and hurried off.",
                        "The visitor wrote everything down in a little notebook.",
                    ]
                ),
                PARA,
                F("P", 1, 2, ("job", "home", "workplace")),
                CLOSE,
            ],
        },
        "birthday": {
            "needs": "PF",
            "focus": ("person",),
            "steps": [
                OPEN,
                S(
                    [
                        "It was the birthday of {P}, and {Phe} was turning {Page}.",
                        "{P} had almost forgotten that it was {Phis} birthday, and that {Phe} was now {Page}.",
                        "On {Phis} {Pageord} birthday, {P} expected a quiet day.",
                    ],
                    "P",
                ),
                F("P", 1, 1, ("home", "job")),
                PARA,
                S(
                    [
                        "But {F}, {Phis} {Frel}, had other plans.",
                        "{F}, {Phis} {Frel}, had been planning a surprise for weeks.",
                        "What {Pf} did not know was that {F}, {Phis} {Frel}, had invited half the street.",
                    ]
                ),
                F("F", 1, 2, ("home", "job", "hobby")),
                S(
                    [
                        "The table was covered with {Pfood}, because everyone knows it is {Phis} favourite.",
                        "There were balloons in {Pcolour}, {Phis} favourite colour, all over the room.",
                        "Someone had even baked a cake in the shape of a little house.",
                    ]
                ),
                PARA,
                S(
                    [
                        "{Pf} laughed so much that {Phe} nearly cried.",
                        "When {Pf} opened the door and everybody shouted, {Phe} did not know what to say.",
                        "{Pf} said it was the best birthday {Phe} had ever had.",
                    ],
                    "P",
                ),
                CLOSE,
            ],
        },
        "lesson": {
            "needs": "PF",
            "focus": ("person",),
            "steps": [
                S(
                    [
                        "{P} has always loved {Phobby}.",
                        "Few things make {P} as happy as {Phobby}.",
                        "For as long as anyone can remember, {P} has been fond of {Phobby}.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("age", "home", "job")),
                S(
                    [
                        "For a long time {Phe} had wanted to share it with {F}, {Phis} {Frel}.",
                        "One day {F}, {Phis} {Frel}, finally asked to learn.",
                        "{F}, {Phis} {Frel}, had always been curious about it.",
                    ]
                ),
                PARA,
                OPEN,
                S(
                    [
                        "The first lesson did not go well, and they both ended up laughing.",
                        "At first {Ff} was slow and clumsy, but {Fhe} did not give up.",
                        "{Pf} explained everything twice, very patiently.",
                    ]
                ),
                F("F", 1, 2, ("job", "hobby", "food")),
                S(
                    [
                        "By the third lesson {Ff} was doing much better.",
                        "After a few weeks {Ff} was almost as good as {Pf}.",
                        "Soon they were spending every {day} together.",
                    ]
                ),
                PARA,
                S(
                    [
                        "Afterwards they shared a plate of {Pfood}, {Pf}'s favourite food.",
                        "To celebrate, they went out for dinner.",
                        "They agreed to keep going until the end of the year.",
                    ]
                ),
                CLOSE,
            ],
        },
        "market": {
            "needs": "PT",
            "focus": ("person", "town"),
            "steps": [
                S(
                    [
                        "On market day, the square in {T} fills up with stalls and noise.",
                        "Market day is the busiest day of the week in {T}.",
                        "Every {day} the farmers bring their goods to the market in {T}.",
                    ]
                ),
                F("T", 1, 2, ("known_for", "river", "kind")),
                PARA,
                S(
                    [
                        "{P} went early to find the freshest bread.",
                        "{P} walked down to the market with an empty basket and a long list.",
                        "{P} always goes to the market, even when {Phe} does not need anything.",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("job", "age", "food")),
                S(
                    [
                        "At one stall {Phe} met {F}, {Phis} {Frel}.",
                        "Between the stalls {Phe} spotted {F}, {Phis} {Frel}.",
                        "{F}, {Phis} {Frel}, was there too, carrying two heavy bags.",
                    ],
                    None,
                    "F",
                ),
                F("F", 1, 1, ("home", "hobby")),
                PARA,
                S(
                    [
                        "They bought apples, cheese and a bunch of flowers, and then sat down on a bench.",
                        "After an hour the basket was full, and they walked home together.",
                        "They drank a coffee in the sun and watched the crowd.",
                    ]
                ),
                CLOSE,
            ],
        },
    }


_MADJ = {"wool": "woollen", "gold": "gold"}
