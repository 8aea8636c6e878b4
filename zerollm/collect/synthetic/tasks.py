"""Held-out eval QA, SFT chats and preference pairs about the same world as the pretraining text.

Eval questions use phrasings that the documents never contain, so a correct answer shows the model
learned the fact from prose rather than memorised the question; SFT/preference use yet other
phrasings. Answers are rendered with the document templates, so they agree with the world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from zerollm.collect.synthetic.render_en import Doc, Renderer
from zerollm.collect.synthetic.world import (
    FAV_COLOURS,
    FOODS,
    FREE_JOBS,
    HOBBIES,
    KNOWN_FOR,
    LANDMARKS,
    MATERIALS,
    OBJECT_COLOURS,
    PET_FOODS,
    RIVERS_EN,
    RIVERS_ZH,
    SPECIES,
    TOWN_KINDS,
    VENUE_TYPES,
    Fact,
    World,
    surface,
)

# {N}: the subject's name; {rel}/{sp}/{coat}: see _qslots. Two held-out phrasings per fact type.
EVAL_Q = {
    "en": {
        "person.age": ["How old is {N}?", "What age is {N}?"],
        "person.job": ["What kind of work does {N} do?", "What job does {N} have?"],
        "person.home": ["In which town does {N} live?", "Which town is home to {N}?"],
        "person.food": ["What is the favourite food of {N}?", "Which food does {N} like best?"],
        "person.colour": ["What is the favourite colour of {N}?", "Which colour does {N} like best?"],
        "person.hobby": ["What is the favourite pastime of {N}?", "What does {N} enjoy doing in free time?"],
        "person.friend": ["Who is the best friend of {N}?", "Who is {N}'s best friend?"],
        "person.sibling": ["Who is the {rel} of {N}?", "What is the name of {N}'s {rel}?"],
        "person.workplace": ["Where does {N} work?", "At which place does {N} work?"],
        "person.pet": ["What is the name of {N}'s pet?", "What is {N}'s {sp} called?"],
        "animal.species": ["What kind of animal is {N}?", "Which animal is {N}?"],
        "animal.colour": ["What colour is {N}?", "What is the colour of {N}'s {coat}?"],
        "animal.owner": ["Who owns {N}?", "Who is the owner of {N}?"],
        "animal.age": ["How old is {N}?", "What age is {N}?"],
        "animal.food": ["What does {N} like to eat?", "What is the favourite food of {N}?"],
        "town.kind": ["What kind of place is {N}?", "What kind of town is {N}?"],
        "town.known_for": ["What is {N} known for?", "What is {N} famous for?"],
        "town.river": ["Which river flows through {N}?", "On which river does {N} lie?"],
        "town.neighbour": ["Which town lies next to {N}?", "What is the neighbouring town of {N}?"],
        "venue.town": ["In which town is {N}?", "Which town has {N}?"],
        "venue.next_to": ["What is next to {N}?", "What can you find next to {N}?"],
        "venue.door": ["What colour is the door of {N}?", "What colour is {N}'s front door?"],
        "venue.opened": ["When did {N} open?", "In what year did {N} open?"],
        "object.colour": ["What colour is {N}?", "What is the colour of {N}?"],
        "object.material": ["What is {N} made of?", "What material is {N} made from?"],
        "object.made_in": ["Where was {N} made?", "In which town was {N} made?"],
    },
    "zh": {
        "person.age": ["{N}多大了？", "{N}今年几岁？"],
        "person.job": ["{N}的职业是什么？", "{N}是做什么工作的？"],
        "person.home": ["{N}住在哪个地方？", "{N}的家在哪里？"],
        "person.food": ["{N}最喜欢吃什么？", "{N}最爱的食物是什么？"],
        "person.colour": ["{N}最喜欢什么颜色？", "{N}最喜欢的颜色是什么？"],
        "person.hobby": ["{N}有什么爱好？", "{N}的爱好是什么？"],
        "person.friend": ["{N}最好的朋友是谁？", "谁是{N}最好的朋友？"],
        "person.sibling": ["{N}的{rel}叫什么名字？", "谁是{N}的{rel}？"],
        "person.workplace": ["{N}在哪里工作？", "{N}在什么地方上班？"],
        "person.pet": ["{N}养的宠物叫什么名字？", "{N}的{sp}叫什么？"],
        "animal.species": ["{N}是什么动物？", "{N}属于哪种动物？"],
        "animal.colour": ["{N}是什么颜色的？", "{N}的{coat}是什么颜色？"],
        "animal.owner": ["{N}的主人是谁？", "谁养了{N}？"],
        "animal.age": ["{N}几岁了？", "{N}今年多大？"],
        "animal.food": ["{N}最爱吃什么？", "{N}喜欢吃什么东西？"],
        "town.kind": ["{N}是一个什么样的地方？", "{N}属于哪一类地方？"],
        "town.known_for": ["{N}以什么闻名？", "{N}最有名的是什么？"],
        "town.river": ["哪条河流经{N}？", "{N}坐落在哪条河边？"],
        "town.neighbour": ["{N}旁边是哪个地方？", "和{N}相邻的是哪里？"],
        "venue.town": ["{N}在哪个地方？", "{N}位于哪里？"],
        "venue.next_to": ["{N}旁边是什么？", "{N}紧挨着什么？"],
        "venue.door": ["{N}的大门是什么颜色？", "{N}的门是什么颜色的？"],
        "venue.opened": ["{N}是哪一年开业的？", "{N}创办于哪一年？"],
        "object.colour": ["{N}是什么颜色的？", "{N}的颜色是什么？"],
        "object.material": ["{N}是用什么做的？", "{N}是什么材料做的？"],
        "object.made_in": ["{N}是在哪里做的？", "{N}产自哪里？"],
    },
}

SFT_Q = {
    "en": {
        "person.age": ["Can you tell me how old {N} is?", "What is {N}'s age?", "Do you know the age of {N}?"],
        "person.job": [
            "What does {N} do for work?",
            "What is {N}'s job?",
            "Could you tell me what {N} does for a living?",
        ],
        "person.home": ["Where does {N} live?", "What town is {N} from?", "Do you know where {N} lives?"],
        "person.food": [
            "What does {N} like to eat most?",
            "What is {N}'s favourite food?",
            "Which dish does {N} love the most?",
        ],
        "person.colour": [
            "What colour does {N} like most?",
            "What is {N}'s favourite colour?",
            "Do you know {N}'s favourite colour?",
        ],
        "person.hobby": ["What is {N}'s hobby?", "How does {N} like to spend free time?", "What does {N} do for fun?"],
        "person.friend": [
            "Do you know who {N}'s best friend is?",
            "Who does {N} call a best friend?",
            "Which person is {N} closest to?",
        ],
        "person.sibling": ["Who is {N}'s {rel}?", "Can you name {N}'s {rel}?", "Does {N} have a {rel}? Who is it?"],
        "person.workplace": ["Where is {N}'s workplace?", "Which place employs {N}?", "Do you know where {N} works?"],
        "person.pet": [
            "What pet does {N} have, and what is its name?",
            "Does {N} own an animal? What is it called?",
            "What is the name of the {sp} that belongs to {N}?",
        ],
        "animal.species": [
            "Is {N} a cat, a dog or something else?",
            "What sort of animal is {N}?",
            "Tell me what animal {N} is.",
        ],
        "animal.colour": [
            "What colour {coat} does {N} have?",
            "Can you describe the colour of {N}?",
            "Which colour is {N}'s {coat}?",
        ],
        "animal.owner": ["Whose pet is {N}?", "Who does {N} belong to?", "Who takes care of {N}?"],
        "animal.age": ["How many years old is {N}?", "What is {N}'s age?", "Do you know how old {N} is?"],
        "animal.food": [
            "What is {N}'s favourite food?",
            "What food makes {N} happy?",
            "What treat does {N} love most?",
        ],
        "town.kind": ["Is {N} a village or a town?", "How would you describe {N}?", "What sort of place is {N}?"],
        "town.known_for": ["Why do people visit {N}?", "What is special about {N}?", "What makes {N} famous?"],
        "town.river": [
            "What is the name of the river in {N}?",
            "Is there a river in {N}? What is it called?",
            "Which river runs through {N}?",
        ],
        "town.neighbour": [
            "What place is right next to {N}?",
            "Which town is closest to {N}?",
            "What is next door to {N}?",
        ],
        "venue.town": ["Where is {N} located?", "What town can I find {N} in?", "Where can I find {N}?"],
        "venue.next_to": ["What is beside {N}?", "What landmark is near {N}?", "What can I see right next to {N}?"],
        "venue.door": [
            "What colour door does {N} have?",
            "How is the door of {N} painted?",
            "Which colour is the front door of {N}?",
        ],
        "venue.opened": ["How long has {N} been open?", "What year was {N} founded?", "Since when has {N} been open?"],
        "object.colour": ["Which colour is {N}?", "Can you tell me the colour of {N}?", "What colour did {N} come in?"],
        "object.material": ["What was used to make {N}?", "Which material is {N}?", "What is {N} built from?"],
        "object.made_in": ["Which town does {N} come from?", "Where does {N} come from?", "Where did {N} get made?"],
        "describe": [
            "Tell me about {N}.",
            "What do you know about {N}?",
            "Can you describe {N}?",
            "Give me a short description of {N}.",
        ],
    },
    "zh": {
        "person.age": ["你知道{N}的年龄吗？", "{N}今年多少岁？", "请问{N}几岁了？"],
        "person.job": ["{N}靠什么谋生？", "你知道{N}干哪一行吗？", "{N}从事什么职业？"],
        "person.home": ["{N}住在哪儿？", "你知道{N}家在什么地方吗？", "{N}现在住在哪个村镇？"],
        "person.food": ["你知道{N}最爱吃什么吗？", "{N}平时最爱吃哪样东西？", "什么食物是{N}的最爱？"],
        "person.colour": ["你知道{N}喜欢哪种颜色吗？", "{N}偏爱什么颜色？", "哪种颜色是{N}的最爱？"],
        "person.hobby": ["{N}空闲时喜欢做什么？", "{N}平时怎么打发时间？", "你知道{N}喜欢干什么吗？"],
        "person.friend": ["{N}和谁最要好？", "你知道{N}最好的朋友叫什么吗？", "{N}最要好的朋友是哪位？"],
        "person.sibling": ["{N}的{rel}是谁？", "你知道{N}的{rel}叫什么吗？", "{N}有{rel}吗？叫什么名字？"],
        "person.workplace": ["{N}的工作单位是哪里？", "你知道{N}在哪儿上班吗？", "{N}每天去哪里上班？"],
        "person.pet": ["{N}养了什么宠物？叫什么名字？", "你知道{N}家的{sp}叫什么吗？", "{N}的宠物叫什么？"],
        "animal.species": ["{N}是猫还是狗，还是别的动物？", "你知道{N}是什么动物吗？", "{N}是哪一种动物？"],
        "animal.colour": ["你知道{N}是什么颜色吗？", "{N}身上是什么颜色？", "{N}长着什么颜色的{coat}？"],
        "animal.owner": ["{N}是谁家的？", "谁在照顾{N}？", "你知道{N}是谁养的吗？"],
        "animal.age": ["你知道{N}多大了吗？", "{N}今年几岁了？", "{N}的年龄是多少？"],
        "animal.food": ["什么东西最能让{N}高兴？", "{N}最喜欢的食物是什么？", "你知道{N}爱吃什么吗？"],
        "town.kind": ["{N}是村子还是镇子？", "你能说说{N}是个什么地方吗？", "{N}是怎样的一个地方？"],
        "town.known_for": ["人们为什么去{N}？", "{N}有什么特别之处？", "说起{N}，大家会想到什么？"],
        "town.river": ["{N}的那条河叫什么名字？", "流过{N}的河叫什么？", "{N}边上有什么河？"],
        "town.neighbour": ["{N}的邻居是哪个村镇？", "离{N}最近的地方是哪里？", "紧挨着{N}的是哪里？"],
        "venue.town": ["去{N}要到哪个镇？", "{N}开在什么地方？", "你知道{N}在哪儿吗？"],
        "venue.next_to": ["{N}边上有什么？", "{N}附近有什么显眼的地方？", "站在{N}门口，旁边能看到什么？"],
        "venue.door": ["{N}的门漆成了什么颜色？", "你知道{N}大门的颜色吗？", "{N}有一扇什么颜色的门？"],
        "venue.opened": ["{N}是从哪年开始营业的？", "{N}成立于哪一年？", "{N}从哪年起开在这里？"],
        "object.colour": ["你知道{N}是什么颜色吗？", "{N}是哪种颜色？", "{N}什么颜色？"],
        "object.material": ["{N}是由什么材料制成的？", "做{N}用的是什么材料？", "你知道{N}是拿什么做的吗？"],
        "object.made_in": ["{N}是从哪儿来的？", "{N}出自哪个地方？", "你知道{N}是在哪儿做的吗？"],
        "describe": ["给我介绍一下{N}。", "你了解{N}吗？", "说说{N}吧。", "请简单描述一下{N}。"],
    },
}

UNHELPFUL = {
    "en": [
        "I'm sorry, but I don't have any information about that.",
        "That is not something I can help with.",
        "I am not sure. Maybe you could ask someone else.",
        "Why do you want to know? It does not matter.",
        "I would rather talk about something else.",
    ],
    "zh": [
        "对不起，我不了解这方面的情况。",
        "这个问题我帮不了你。",
        "我不太清楚，你去问问别人吧。",
        "你问这个干什么？这不重要。",
        "我们还是聊点别的吧。",
    ],
}
LEAD = {
    "en": ["", "", "", "Sure. ", "Of course. ", "Good question. "],
    "zh": ["", "", "", "好的。", "当然知道。", "这个问题问得好。"],
}


def _subject_name(r: Renderer, f: Fact) -> str:
    e = r.w.get(f.subject)
    return r.full(e)


def _qslots(r: Renderer, f: Fact) -> dict[str, str]:
    w = r.w
    e = w.get(f.subject)
    zh = w.language == "zh"
    d = {"N": _subject_name(r, f)}
    if f.attr == "sibling":
        o = w.get(f.value)
        if zh:
            from zerollm.collect.synthetic.render_zh import _sib_word

            d["rel"] = _sib_word(o, e)
        else:
            d["rel"] = "brother" if o.gender == "m" else "sister"
    if f.attr == "pet":
        sp = w.get(f.value).attrs["species"]
        d["sp"] = SPECIES[sp][0] if zh else sp
    if e.kind == "animal":
        sp = SPECIES[e.attrs["species"]]
        d["coat"] = sp[3] if zh else sp[2]
    return d


def _q(r: Renderer, tpl: str, f: Fact) -> str:
    return r.cap(tpl.format_map(_qslots(r, f)))


def answer_sentence(r: Renderer, f: Fact, tpl_i: int, value_last: bool = False) -> str:
    """A full-name statement of `f` using document template number `tpl_i` (works for wrong values too).

    `value_last`: only templates that name the subject before the value ("Nora's favourite food is
    pie", not "Pie is what Nora likes"), the shape of an answer that restates the question and then
    recalls the fact; a small model extracts knowledge it learned in prose far better that way.
    """
    e = r.w.get(f.subject)
    doc = Doc()
    slots = r.subject_ref(doc, e, force_full=True)
    slots.update(r.value_slots(doc, e, f))
    opts = [t.format_map(slots) for t in r.FACT_T[f"{e.kind}.{f.attr}"]]
    if value_last:
        name, value = r.full(e), surface(r.w, f.attr, f.value, e.kind)
        late = [t for t in opts if name in t and value in t and t.index(name) < t.rindex(value)]
        opts = late or opts
    return r.cap(opts[tpl_i % len(opts)])


def _wrong_value(w: World, f: Fact, rng: random.Random):
    e = w.get(f.subject)
    v = f.value
    if isinstance(v, int):
        lo = 1 if f.attr == "age" else 1850
        while True:
            x = v + rng.choice([-1, 1]) * rng.randint(2, 12 if f.attr == "age" else 40)
            if x >= lo and x != v:
                return x
    if isinstance(v, str) and v in w.entities:
        pool = [x.id for x in w.kind(w.get(v).kind) if x.id != v and x.id != e.id]
        return rng.choice(pool) if pool else None
    if f.attr == "river":
        rivers = RIVERS_ZH if w.language == "zh" else RIVERS_EN
        pool = [x for x in rivers if x != v]
    else:
        table = {
            "job": list(FREE_JOBS) + [t[2] for t in VENUE_TYPES.values()],
            "food": list(PET_FOODS) if e.kind == "animal" else list(FOODS),
            "colour": {"person": FAV_COLOURS, "object": OBJECT_COLOURS}.get(
                e.kind, sorted({c for sp in SPECIES.values() for c in sp[5]})
            ),
            "door": FAV_COLOURS,
            "hobby": list(HOBBIES),
            "kind": list(TOWN_KINDS),
            "known_for": list(KNOWN_FOR),
            "next_to": list(LANDMARKS),
            "species": list(SPECIES),
            "material": list(MATERIALS),
        }[f.attr]
        pool = [x for x in table if x != v]
    return rng.choice(pool) if pool else None


_KIND = {"p": "person", "t": "town", "v": "venue", "a": "animal", "o": "object"}
N_CHOICES = 4  # multiple-choice options per eval item: the answer and three same-type distractors


def _key(f: Fact) -> str:
    return f"{_KIND[f.subject[0]]}.{f.attr}"


@dataclass
class Tasks:
    eval: list[dict]
    sft: list[dict]
    preference: list[dict]
    prompts: list[dict]
    heldout: set[str]  # fact ids that no sft, preference or prompt item states
    train: set[str]  # fact ids those items are about


_SYMMETRIC = {"friend", "sibling", "neighbour"}
_INVERSE = {"pet": "owner", "owner": "pet"}


def inverse(world: World, f: Fact) -> Fact | None:
    """The same relation stated from the other side ("A's best friend is B" / "B's best friend is A")."""
    attr = f.attr if f.attr in _SYMMETRIC else _INVERSE.get(f.attr)
    if attr is None or not isinstance(f.value, str) or f.value not in world.entities:
        return None
    return next((g for g in world.facts_of(f.value) if g.attr == attr and g.value == f.subject), None)


def split_facts(world: World, frac: float, seed: int) -> tuple[set[str], set[str]]:
    """(held-out fact ids, training fact ids).

    Whole entities are held out (`frac` of each kind): when SFT answers other questions about the
    same person, a small model learns to repeat those answers for any question naming that person,
    so a per-fact split would measure memorised SFT answers rather than knowledge from pretraining.
    A training fact whose reverse statement is held out ("B's best friend is A") is used nowhere.
    """
    rng = random.Random(f"zerollm-synthetic:split:{seed}:{len(world.entities)}")
    held_entities: set[str] = set()
    for kind in sorted(world.by_kind):
        ids = sorted(e.id for e in world.kind(kind))
        rng.shuffle(ids)
        n = min(int(round(frac * len(ids))), len(ids) - 1)
        held_entities.update(ids[:n])
    held = {f.fid for f in world.facts if f.subject in held_entities}
    train = set()
    for f in world.facts:
        inv = inverse(world, f)
        if f.fid not in held and (inv is None or inv.fid not in held):
            train.add(f.fid)
    return held, train


def choices(world: World, f: Fact, rng: random.Random) -> list[str]:
    """The answer and up to N_CHOICES-1 distinct wrong values of the same type, shuffled.

    Distractors are first the values other entities of the world hold for the same attribute, so
    that every option is as frequent in the corpus as an answer can be (a value the corpus never
    uses would be easy to rule out without knowing the fact); then other values of the type.
    """
    kind = world.get(f.subject).kind
    right = world.answer(f)
    held = sorted({world.answer(g) for g in world.facts if _key(g) == _key(f)} - {right})
    rng.shuffle(held)
    out = [right] + held[: N_CHOICES - 1]
    for _ in range(50):
        if len(out) >= N_CHOICES:
            break
        v = _wrong_value(world, f, rng)
        s = surface(world, f.attr, v, kind) if v is not None else None
        if s and s not in out:
            out.append(s)
    rng.shuffle(out)
    return out


def _phrasings(facts: list[Fact], table: dict, rng: random.Random) -> list[tuple[Fact, str]]:
    """(fact, template) pairs: every fact once in the first round, then its other phrasings."""
    rounds: list[list[tuple[Fact, str]]] = []
    for f in facts:
        for i, tpl in enumerate(table[_key(f)]):
            while len(rounds) <= i:
                rounds.append([])
            rounds[i].append((f, tpl))
    out = []
    for rd in rounds:
        rng.shuffle(rd)
        out.extend(rd)
    return out


def build_tasks(world: World, r: Renderer, cfg) -> Tasks:
    """Held-out eval QA, SFT chats, preference pairs and RL prompts about the world.

    Facts are split: eval items are mostly about held-out facts, which no SFT answer, preference
    pair or RL prompt states, so a right answer there shows knowledge from pretraining; a few eval
    items (`n_eval_seen`) ask about facts SFT did state, reported separately.
    """
    lang = world.language
    rng = random.Random(f"zerollm-synthetic:tasks:{cfg.seed}:{lang}:{cfg.n_entities}")
    heldout, train = split_facts(world, cfg.heldout_frac, cfg.seed)
    held_facts = [f for f in world.facts if f.fid in heldout]
    train_facts = [f for f in world.facts if f.fid in train]

    # --- eval: held-out phrasings; held-out facts (distinct facts first), then some seen facts
    eval_items: list[dict] = []
    seen_q: set[str] = set()

    def add_eval(pairs: list[tuple[Fact, str]], limit: int) -> None:
        n = 0
        for f, tpl in pairs:
            if n >= limit:
                break
            q = _q(r, tpl, f)
            if q in seen_q:
                continue
            seen_q.add(q)
            n += 1
            eval_items.append({"id": f"{cfg.name}-eval-{len(eval_items):05d}", "question": q,
                               "answer": world.answer(f), "choices": choices(world, f, rng), "fact": f.fid,
                               "category": _key(f)})

    add_eval(_phrasings(held_facts, EVAL_Q[lang], rng), cfg.n_eval)
    seen_pairs = _phrasings(train_facts, EVAL_Q[lang], rng)
    add_eval(seen_pairs[: len(train_facts)], cfg.n_eval_seen)  # one phrasing per seen fact

    # --- sft: other phrasings about training facts; also short descriptions from training facts only
    # SFT teaches every question template, the eval ones too: what eval holds out is the facts
    # (whole entities), not the way of asking
    sft_q = {k: v + EVAL_Q[lang].get(k, []) for k, v in SFT_Q[lang].items()}
    qa = _phrasings(train_facts, sft_q, rng)
    ents = [e for e in world.entities.values() if any(g.fid in train for g in world.facts_of(e.id))]
    desc = [(None, f"{e.id}|{tpl}") for e in ents for tpl in SFT_Q[lang]["describe"]]
    rng.shuffle(desc)
    first = len(train_facts)
    sft_cands = qa[:first] + desc[: len(ents)] + qa[first:] + desc[len(ents):]
    sft: list[dict] = []
    i = 0
    while len(sft) < cfg.n_sft and sft_cands:
        f, tpl = sft_cands[i % len(sft_cands)]
        i += 1
        if f is None:
            eid, tpl = tpl.split("|", 1)
            e = world.get(eid)
            q = r.cap(tpl.format_map({"N": r.full(e)}))
            doc = Doc()  # one running text: the name first, then short names and pronouns
            known = [g for g in world.facts_of(eid) if g.fid in train]
            picked = rng.sample(known, min(4, len(known)))
            ans = r.SEP.join(r.fact_sentence(doc, g) for g in picked)
            facts = [g.fid for g in picked]
        else:
            q = _q(r, tpl, f)
            ans = rng.choice(LEAD[lang]) + answer_sentence(r, f, rng.randrange(8), value_last=True)
            facts = [f.fid]
        sft.append({"id": f"{cfg.name}-sft-{len(sft):05d}", "facts": facts,
                    "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": ans}]})

    # --- preference: chosen = correct statement, rejected = same sentence with a wrong value, or unhelpful
    pref_cands = qa[first:] + qa[:first]
    pref: list[dict] = []
    i = 0
    while len(pref) < cfg.n_preference and pref_cands:
        f, tpl = pref_cands[i % len(pref_cands)]
        i += 1
        q = _q(r, tpl, f)
        ti = rng.randrange(8)
        chosen = answer_sentence(r, f, ti, value_last=True)
        wrong = _wrong_value(world, f, rng) if rng.random() < 0.75 else None
        if wrong is not None:
            rejected = answer_sentence(r, Fact(f.fid, f.subject, f.attr, wrong), ti, value_last=True)
        else:
            rejected = rng.choice(UNHELPFUL[lang])
        if rejected == chosen:
            rejected = rng.choice(UNHELPFUL[lang])
        pref.append({"id": f"{cfg.name}-pref-{len(pref):05d}", "facts": [f.fid],
                     "prompt": [{"role": "user", "content": q}],
                     "chosen": [{"role": "assistant", "content": chosen}],
                     "rejected": [{"role": "assistant", "content": rejected}]})

    # --- RL prompts with a verifiable answer: training facts only, phrasings spread over all of SFT's
    prompts: list[dict] = []
    rl = qa[:]
    rng.shuffle(rl)
    for f, tpl in rl[: cfg.n_prompts]:
        prompts.append({"id": f"{cfg.name}-prompt-{len(prompts):05d}", "facts": [f.fid],
                        "prompt": [{"role": "user", "content": _q(r, tpl, f)}], "answer": world.answer(f)})
    # a seen item must be about a fact some training row states; one about a training fact no row
    # happened to use would count as neither
    used = {fid for rows in (sft, pref, prompts) for r in rows for fid in r["facts"]}
    eval_items = [it for it in eval_items if it["fact"] in heldout or it["fact"] in used]
    return Tasks(eval_items, sft, pref, prompts, heldout, train)
