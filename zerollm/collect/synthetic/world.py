"""The fictional world: entities, attributes and relations, fully determined by a seed.

The structure (who lives where, who owns what) comes from a language-independent random stream, so
the English and Chinese worlds of one seed are the same world under different names. Attribute
values are English keys into bilingual tables; renderers and tasks turn them into surface strings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


def rng_for(*parts: Any) -> random.Random:
    """An independent, reproducible stream (str seeds go through sha512, not the salted hash())."""
    return random.Random("zerollm-synthetic:" + ":".join(str(p) for p in parts))


# ---------------------------------------------------------------------------------------------
# Bilingual vocabulary: english key -> chinese surface (+ extras where grammar needs them).
# fmt: off

FREE_JOBS = {
    "farmer": "农民", "painter": "画家", "writer": "作家", "gardener": "园丁", "musician": "音乐家",
    "shepherd": "牧羊人", "tailor": "裁缝", "beekeeper": "养蜂人", "photographer": "摄影师", "sailor": "水手",
    "carpenter": "木匠", "mail carrier": "邮递员", "bus driver": "公交车司机", "potter": "陶艺师",
    "translator": "翻译", "electrician": "电工",
}
# venue type -> (zh type, zh classifier, en job, zh job)
VENUE_TYPES = {
    "bakery": ("面包店", "家", "baker", "面包师"),
    "library": ("图书馆", "座", "librarian", "图书管理员"),
    "school": ("小学", "所", "teacher", "老师"),
    "clinic": ("诊所", "家", "doctor", "医生"),
    "bookshop": ("书店", "家", "bookseller", "书店店员"),
    "inn": ("旅馆", "家", "innkeeper", "旅馆老板"),
    "cafe": ("咖啡馆", "家", "barista", "咖啡师"),
    "restaurant": ("饭馆", "家", "cook", "厨师"),
    "pharmacy": ("药店", "家", "pharmacist", "药剂师"),
    "museum": ("博物馆", "座", "museum guide", "讲解员"),
    "post office": ("邮局", "家", "postal clerk", "邮局职员"),
    "garage": ("修车铺", "家", "mechanic", "修车师傅"),
    "flower shop": ("花店", "家", "florist", "花艺师"),
    "boatyard": ("造船厂", "家", "boat builder", "造船师傅"),
    "tea house": ("茶馆", "家", "tea master", "茶艺师"),
    "toy shop": ("玩具店", "家", "toymaker", "玩具师傅"),
}
JOBS = {**FREE_JOBS, **{v[2]: v[3] for v in VENUE_TYPES.values()}}

VENUE_PREFIX_EN = [
    "Golden Oak", "Blue Lantern", "Red Fox", "Silver Anchor", "Old Willow", "Green Gate", "Little Sparrow",
    "Sunny Hill", "Apple Tree", "Morning Star", "Copper Kettle", "White Swan", "Three Bells", "Maple Leaf",
    "Harbour Light", "Quiet Meadow", "Black Cat", "Rose Garden", "North Wind", "Lucky Horseshoe",
]
VENUE_PREFIX_ZH = [
    "金橡树", "蓝灯笼", "红狐狸", "银锚", "老柳树", "绿门", "小麻雀", "向阳", "苹果树", "晨星", "铜壶", "白天鹅",
    "三口钟", "枫叶", "港湾", "静草", "黑猫", "玫瑰园", "北风", "好运",
]

# town kind -> (zh, zh name suffixes)
TOWN_KINDS = {
    "fishing village": ("渔村", "湾村"),
    "market town": ("集镇", "镇"),
    "mountain village": ("山村", "村坪"),
    "river town": ("水乡", "镇"),
    "harbour town": ("港口小镇", "湾镇"),
    "tea village": ("茶乡", "村"),
    "forest village": ("林间小村", "村坪"),
    "hill town": ("山城", "镇"),
}
KNOWN_FOR = {
    "apple orchards": "苹果园", "old stone bridge": "古石桥", "lantern festival": "灯会", "cheese": "奶酪",
    "lighthouse": "灯塔", "windmills": "风车", "pottery": "陶器", "honey": "蜂蜜", "tea fields": "茶园",
    "horse races": "赛马会", "clock tower": "钟楼", "hot springs": "温泉", "wooden boats": "木船",
    "flower market": "花市", "cherry trees": "樱桃树", "summer fair": "夏日集市",
}
TOWN_PREFIX_EN = [
    "Ash", "Mill", "Stone", "Oak", "Elm", "Fox", "Red", "Bright", "Clay", "Hazel", "North", "West", "Raven", "Salt",
    "Amber", "Lark", "Birch", "Cold", "Green", "Kings", "Long", "Rook", "Sand", "Wolf",
]
TOWN_SUFFIX_EN = [
    "ford", "brook", "field", "wick", "ton", "bury", "dale", "haven", "moor", "wood", "stead", "cliff", "well", "by",
    "mouth", "combe",
]
TOWN_PREFIX_ZH = [
    "青石", "柳河", "白云", "桃源", "松岭", "清水", "枫林", "梅溪", "龙泉", "金沙", "石桥", "芦花", "凤鸣", "碧湖",
    "南山", "东坡", "西岭", "竹溪", "杏花", "云雾", "长岗", "银杏", "卧牛", "黄莺",
]
RIVERS_EN = [
    "Wend", "Alder", "Silverrun", "Tamble", "Brisk", "Fennick", "Halloway", "Dunmere", "Orrin", "Sable", "Kestle",
    "Merrow", "Tessel", "Caddle", "Linnet", "Wrenna", "Pell", "Gorran", "Isel", "Carrow",
]
RIVERS_ZH = [
    "清河", "白沙河", "柳溪", "青龙江", "玉带河", "桃花溪", "月牙河", "金水河", "碧波河", "石门溪", "长乐河",
    "双龙河", "鸣泉溪", "黑水河", "落雁河", "凉溪", "望江", "明珠河", "芦苇河", "燕子河",
]
LANDMARKS = {
    "old mill": "老磨坊", "town fountain": "喷泉", "harbour": "码头", "train station": "火车站",
    "market square": "集市广场", "bus stop": "公交车站", "park": "公园", "big oak tree": "大橡树",
    "town hall": "镇政府", "fire station": "消防站", "duck pond": "鸭塘", "football field": "足球场",
    "police station": "派出所", "old church": "老教堂",
}
FOODS = {
    "apple pie": "苹果派", "fish soup": "鱼汤", "noodles": "面条", "dumplings": "饺子", "roast chicken": "烤鸡",
    "cheese sandwiches": "奶酪三明治", "pancakes": "煎饼", "tomato soup": "番茄汤", "fried rice": "炒饭",
    "honey cake": "蜂蜜蛋糕", "potato salad": "土豆沙拉", "mushroom pie": "蘑菇馅饼",
    "chocolate biscuits": "巧克力饼干", "lamb stew": "炖羊肉", "steamed buns": "包子", "grilled fish": "烤鱼",
    "pumpkin soup": "南瓜汤",
}
COLOURS = {
    "red": "红色", "blue": "蓝色", "green": "绿色", "yellow": "黄色", "purple": "紫色", "orange": "橙色",
    "white": "白色", "black": "黑色", "grey": "灰色", "brown": "棕色", "pink": "粉色", "golden": "金黄色",
    "ginger": "橘黄色", "cream": "奶白色",
}
FAV_COLOURS = [
    "red", "blue", "green", "yellow", "purple", "orange", "white", "black", "grey", "brown", "pink",
]
HOBBIES = {
    "playing chess": "下棋", "fishing": "钓鱼", "painting": "画画", "gardening": "种花", "reading": "看书",
    "singing": "唱歌", "dancing": "跳舞", "cycling": "骑自行车", "knitting": "织毛衣", "baking bread": "烤面包",
    "bird watching": "观鸟", "playing the flute": "吹笛子", "swimming": "游泳", "hiking": "爬山",
    "collecting stamps": "集邮", "writing poems": "写诗",
}
# species -> zh, zh classifier, en coat, zh coat, foods, colours
SPECIES = {
    "dog": ("狗", "只", "fur", "毛", ["bones", "sausages"], ["black", "white", "brown", "grey", "golden", "cream"]),
    "cat": ("猫", "只", "fur", "毛", ["fish", "milk"], ["black", "white", "grey", "ginger", "cream"]),
    "parrot": ("鹦鹉", "只", "feathers", "羽毛", ["sunflower seeds", "grapes"], ["green", "blue", "red", "yellow"]),
    "horse": ("马", "匹", "coat", "毛", ["apples", "oats"], ["black", "white", "brown", "grey"]),
    "goat": ("山羊", "只", "coat", "毛", ["cabbage", "hay"], ["white", "brown", "black", "cream"]),
    "rabbit": ("兔子", "只", "fur", "毛", ["carrots", "lettuce"], ["white", "brown", "grey", "black"]),
    "tortoise": ("乌龟", "只", "shell", "壳", ["strawberries", "lettuce"], ["brown", "green"]),
    "duck": ("鸭子", "只", "feathers", "羽毛", ["bread crumbs", "corn"], ["white", "brown"]),
    "hamster": ("仓鼠", "只", "fur", "毛", ["peanuts", "sunflower seeds"], ["golden", "white", "brown"]),
    "donkey": ("驴", "头", "coat", "毛", ["carrots", "apples"], ["grey", "brown"]),
}
PET_FOODS = {
    "bones": "骨头", "sausages": "香肠", "fish": "小鱼干", "milk": "牛奶", "sunflower seeds": "葵花籽",
    "grapes": "葡萄", "apples": "苹果", "oats": "燕麦", "cabbage": "白菜", "hay": "干草", "carrots": "胡萝卜",
    "lettuce": "生菜", "strawberries": "草莓", "bread crumbs": "面包屑", "corn": "玉米", "peanuts": "花生",
}
# object kind -> zh, zh classifier, materials
OBJECTS = {
    "bicycle": ("自行车", "辆", ["steel", "aluminium"]),
    "clock": ("座钟", "座", ["brass", "oak"]),
    "violin": ("小提琴", "把", ["maple", "spruce"]),
    "lamp": ("台灯", "盏", ["brass", "glass"]),
    "rowing boat": ("划艇", "条", ["pine", "oak"]),
    "kite": ("风筝", "只", ["silk", "paper"]),
    "teapot": ("茶壶", "把", ["porcelain", "clay"]),
    "umbrella": ("雨伞", "把", ["canvas", "nylon"]),
    "armchair": ("扶手椅", "把", ["oak", "leather"]),
    "travel trunk": ("旅行箱", "只", ["leather", "pine"]),
    "guitar": ("吉他", "把", ["maple", "cedar"]),
    "vase": ("花瓶", "只", ["glass", "porcelain"]),
    "hat": ("帽子", "顶", ["straw", "wool"]),
    "scarf": ("围巾", "条", ["wool", "silk"]),
    "music box": ("八音盒", "个", ["silver", "walnut"]),
    "watch": ("手表", "块", ["silver", "gold"]),
    "desk": ("书桌", "张", ["oak", "walnut"]),
}
MATERIALS = {
    "steel": "钢", "aluminium": "铝", "brass": "黄铜", "oak": "橡木", "maple": "枫木", "spruce": "云杉木",
    "glass": "玻璃", "pine": "松木", "silk": "丝绸", "paper": "纸", "porcelain": "瓷", "clay": "陶土",
    "canvas": "帆布", "nylon": "尼龙", "leather": "皮革", "cedar": "雪松木", "straw": "草", "wool": "羊毛",
    "silver": "银", "walnut": "胡桃木", "gold": "金",
}
OBJECT_COLOURS = [
    "red", "blue", "green", "yellow", "white", "black", "brown", "grey", "orange", "purple",
]

EN_FIRST_M = [
    "James", "Thomas", "Oliver", "Henry", "Samuel", "Daniel", "Peter", "George", "Arthur", "Leo", "Hugo", "Felix",
    "Jack", "Harry", "Edward", "Martin", "Simon", "Victor", "Owen", "Isaac", "Noah", "Caleb", "Elliot", "Julian",
    "Theo", "Rupert", "Walter", "Frank", "Louis", "Adam", "Ben", "Colin", "Dennis", "Gavin", "Ivan", "Karl", "Luke",
    "Miles", "Neil", "Patrick", "Ralph", "Stefan", "Tobias", "Wesley", "Alfred", "Bruno", "Conrad", "Dominic",
    "Ernest", "Gregory",
]
EN_FIRST_F = [
    "Anna", "Mia", "Emma", "Clara", "Rose", "Alice", "Lucy", "Grace", "Hannah", "Ella", "Sophie", "Laura", "Julia",
    "Nora", "Eva", "Iris", "Ruby", "Holly", "Freya", "Maria", "Helen", "Martha", "Olivia", "Sarah", "Beth", "Carol",
    "Diana", "Edith", "Fiona", "Gemma", "Ingrid", "Jane", "Kate", "Lena", "Molly", "Nina", "Paula", "Rachel",
    "Stella", "Tessa", "Una", "Vera", "Wendy", "Agnes", "Bianca", "Cecily", "Daphne", "Esther", "Flora", "Greta",
]
EN_LAST = [
    "Berg", "Reed", "Hale", "Moss", "Lane", "Ward", "Price", "Hart", "Blake", "Dixon", "Ellis", "Grant", "Hughes",
    "Irving", "Jensen", "Keller", "Lowe", "Nash", "Olsen", "Pike", "Quinn", "Rowe", "Shaw", "Tate", "Vance", "Webb",
    "Young", "Abbott", "Barlow", "Cole", "Doyle", "Eaton", "Finch", "Gale", "Holt", "Knox", "Lindqvist", "Mercer",
    "Norris", "Osborne", "Pratt", "Rhodes", "Sutton", "Upton", "Voss", "Wilde", "Yates", "Fenwick", "Garner", "Hobbs",
]
ZH_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
ZH_GIVEN_M = [
    "小明", "建国", "志刚", "海涛", "俊杰", "浩然", "子轩", "宇航", "明辉", "文博", "国栋", "立新", "家豪", "天佑",
    "晨阳", "振华", "思远", "一鸣", "鹏飞", "大山", "永强", "德明", "少华", "春生", "嘉文", "伟", "强", "磊", "军",
    "斌", "勇", "杰", "涛", "超", "刚", "平", "辉", "鑫", "凯", "健",
]
ZH_GIVEN_F = [
    "小红", "秀英", "美玲", "雨桐", "欣怡", "佳慧", "晓燕", "婷婷", "诗涵", "梦琪", "静怡", "春梅", "玉兰", "雅琴",
    "思琪", "慧敏", "晓雪", "紫薇", "丽华", "月娥", "小芳", "海燕", "雪梅", "淑珍", "彩霞", "丽", "娜", "敏", "静",
    "燕", "芳", "霞", "琳", "颖", "洁", "萍", "倩", "蕾", "莉", "楠",
]
PET_NAMES_EN = [
    "Biscuit", "Pepper", "Max", "Luna", "Bella", "Milo", "Daisy", "Rocky", "Toffee", "Pickles", "Muffin", "Shadow",
    "Clover", "Pebble", "Maple", "Socks", "Button", "Noodle", "Bramble", "Ziggy", "Olive", "Poppy", "Rusty", "Sunny",
    "Juniper", "Waffle", "Nutmeg", "Captain", "Duke", "Mango", "Peanut", "Sprout", "Thistle", "Fudge", "Comet",
    "Acorn", "Cricket", "Dot", "Bean", "Jasper", "Rosie", "Barley", "Marble", "Smudge", "Tango", "Pip", "Bonnie",
    "Scout", "Domino", "Pumpkin",
]
PET_NAMES_ZH = [
    "豆豆", "花花", "小黑", "旺财", "咪咪", "球球", "点点", "毛毛", "乐乐", "雪球", "元宝", "大黄", "糖糖", "阿福",
    "小灰", "布丁", "芝麻", "年糕", "可乐", "米粒", "虎子", "团子", "橘子", "栗子", "小白", "黑豆", "闪电", "贝贝",
    "妞妞", "壮壮", "跳跳", "蛋黄", "果冻", "花卷", "汤圆", "奶糖", "皮皮", "丁丁", "灰灰", "胖虎",
]
# fmt: on


# ---------------------------------------------------------------------------------------------


@dataclass
class Entity:
    id: str
    kind: str  # person | town | venue | animal | object
    name: str  # display name; objects have none (they are named through their owner)
    gender: str = "n"  # m / f for people and animals
    first: str = ""  # person: a shorter reference when unambiguous, else the full name
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fact:
    fid: str  # "<entity id>.<attr>", the canonical short fact id
    subject: str
    attr: str
    value: Any  # a vocabulary key, an int, or an entity id


# attrs that are facts (in this order), per entity kind; relations are optional per entity
FACT_ATTRS = {
    "person": ["age", "job", "home", "food", "colour", "hobby", "friend", "sibling", "workplace", "pet"],
    "town": ["kind", "known_for", "river", "neighbour"],
    "venue": ["town", "next_to", "door", "opened"],
    "animal": ["species", "colour", "owner", "age", "food"],
    "object": ["colour", "material", "made_in"],
}


@dataclass
class World:
    language: str
    seed: int
    entities: dict[str, Entity]
    facts: list[Fact]
    by_kind: dict[str, list[Entity]] = field(default_factory=dict)
    facts_by_subject: dict[str, list[Fact]] = field(default_factory=dict)

    def __post_init__(self):
        for e in self.entities.values():
            self.by_kind.setdefault(e.kind, []).append(e)
        for f in self.facts:
            self.facts_by_subject.setdefault(f.subject, []).append(f)

    def get(self, eid: str) -> Entity:
        return self.entities[eid]

    def kind(self, kind: str) -> list[Entity]:
        return self.by_kind.get(kind, [])

    def facts_of(self, eid: str) -> list[Fact]:
        return self.facts_by_subject.get(eid, [])

    def answer(self, fact: Fact) -> str:
        """The short canonical answer string of a fact in this world's language."""
        return surface(self, fact.attr, fact.value, self.get(fact.subject).kind)

    def anchor(self, fact: Fact) -> str:
        """The name that must accompany a statement of the fact (objects go by their owner)."""
        e = self.get(fact.subject)
        return self.get(e.attrs["owner"]).name if e.kind == "object" else e.name


def surface(world: World, attr: str, value: Any, kind: str) -> str:
    zh = world.language == "zh"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value in world.entities:
        return world.entities[value].name
    table = {
        "job": JOBS,
        "food": PET_FOODS if kind == "animal" else FOODS,
        "colour": COLOURS,
        "door": COLOURS,
        "hobby": HOBBIES,
        "kind": {k: v[0] for k, v in TOWN_KINDS.items()},
        "known_for": KNOWN_FOR,
        "next_to": LANDMARKS,
        "species": {k: v[0] for k, v in SPECIES.items()},
        "material": MATERIALS,
    }.get(attr)
    if table is None:  # river names are already in the world's language
        return value
    return table[value] if zh else value


def _counts(n: int) -> dict[str, int]:
    towns = max(2, round(n * 0.12))
    venues = max(1, min(len(VENUE_TYPES), round(n * 0.12)))
    animals = max(1, round(n * 0.18))
    objects = max(1, round(n * 0.12))
    people = max(3, n - towns - venues - animals - objects)
    return {"person": people, "town": towns, "venue": venues, "animal": animals, "object": objects}


def _pairs(items: list, rng: random.Random) -> list[tuple]:
    items = items[:]
    rng.shuffle(items)
    return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]


def build_world(seed: int, n_entities: int, language: str) -> World:
    rng = rng_for("world", seed, n_entities)  # structure: shared by both languages
    c = _counts(n_entities)
    people = [Entity(f"p{i:03d}", "person", "") for i in range(c["person"])]
    towns = [Entity(f"t{i:03d}", "town", "") for i in range(c["town"])]
    venues = [Entity(f"v{i:03d}", "venue", "") for i in range(c["venue"])]
    animals = [Entity(f"a{i:03d}", "animal", "") for i in range(c["animal"])]
    objects = [Entity(f"o{i:03d}", "object", "") for i in range(c["object"])]

    town_kinds = list(TOWN_KINDS)
    known = rng.sample(list(KNOWN_FOR), len(KNOWN_FOR))
    river_idx = rng.sample(range(len(RIVERS_EN)), len(RIVERS_EN))
    for i, t in enumerate(towns):
        t.attrs["kind"] = rng.choice(town_kinds)
        t.attrs["known_for"] = known[i % len(known)]
        t.attrs["river_i"] = river_idx[i % len(river_idx)]
    for a, b in _pairs(towns, rng):
        a.attrs["neighbour"], b.attrs["neighbour"] = b.id, a.id

    vtypes = rng.sample(list(VENUE_TYPES), len(VENUE_TYPES))
    vpref = rng.sample(range(len(VENUE_PREFIX_EN)), len(VENUE_PREFIX_EN))
    for i, v in enumerate(venues):
        v.attrs["type"] = vtypes[i]
        v.attrs["prefix_i"] = vpref[i % len(vpref)]
        v.attrs["town"] = rng.choice(towns).id
        v.attrs["next_to"] = rng.choice(list(LANDMARKS))
        v.attrs["door"] = rng.choice(FAV_COLOURS)
        v.attrs["opened"] = rng.randint(1890, 2015)

    for p in people:
        p.gender = rng.choice("mf")
        p.attrs["age"] = rng.randint(19, 79)
        p.attrs["home"] = rng.choice(towns).id
        p.attrs["food"] = rng.choice(list(FOODS))
        p.attrs["colour"] = rng.choice(FAV_COLOURS)
        p.attrs["hobby"] = rng.choice(list(HOBBIES))
        p.attrs["job"] = rng.choice(list(FREE_JOBS))
    # sibling pairs share a surname (family index); ages differ so older/younger is defined
    n_sib = max(1, round(len(people) * 0.3)) // 2
    sib_pairs = _pairs(people, rng)[:n_sib]
    family = {}
    for a, b in sib_pairs:
        a.attrs["sibling"], b.attrs["sibling"] = b.id, a.id
        b.attrs["age"] = max(19, min(85, a.attrs["age"] + rng.choice([-1, 1]) * rng.randint(1, 8)))
        if b.attrs["age"] == a.attrs["age"]:
            b.attrs["age"] += 1
        family[a.id] = family[b.id] = a.id
    for _ in range(50):
        friend_pairs = _pairs(people, rng)
        if all(a.attrs.get("sibling") != b.id for a, b in friend_pairs):
            break
    for a, b in friend_pairs:
        if a.attrs.get("sibling") != b.id:
            a.attrs["friend"], b.attrs["friend"] = b.id, a.id
    order = people[:]
    rng.shuffle(order)
    workers = order[: max(len(venues), round(len(people) * 0.6))]
    for i, p in enumerate(workers):
        v = venues[i] if i < len(venues) else rng.choice(venues)
        p.attrs["workplace"] = v.id
        p.attrs["job"] = VENUE_TYPES[v.attrs["type"]][2]

    owners = people[:]
    rng.shuffle(owners)
    for i, a in enumerate(animals):
        sp = rng.choice(list(SPECIES))
        a.gender = rng.choice("mf")
        a.attrs["species"] = sp
        a.attrs["colour"] = rng.choice(SPECIES[sp][5])
        a.attrs["age"] = rng.randint(1, 15)
        a.attrs["food"] = rng.choice(SPECIES[sp][4])
        owner = owners[i % len(owners)]
        a.attrs["owner"] = owner.id
        owner.attrs.setdefault("pet", a.id)
    kinds = rng.sample(list(OBJECTS), len(OBJECTS))
    rng.shuffle(owners)
    for i, o in enumerate(objects):
        k = kinds[i % len(kinds)]
        o.attrs["okind"] = k
        o.attrs["material"] = rng.choice(OBJECTS[k][2])
        o.attrs["colour"] = rng.choice(OBJECT_COLOURS)
        o.attrs["made_in"] = rng.choice(towns).id
        o.attrs["owner"] = owners[i % len(owners)].id
        owners[i % len(owners)].attrs.setdefault("object", o.id)

    _name(language, seed, n_entities, people, towns, venues, animals, family)

    entities = {e.id: e for grp in (people, towns, venues, animals, objects) for e in grp}
    facts = []
    for e in entities.values():
        for attr in FACT_ATTRS[e.kind]:
            if attr in e.attrs:
                facts.append(Fact(f"{e.id}.{attr}", e.id, attr, e.attrs[attr]))
            elif attr == "river":
                facts.append(Fact(f"{e.id}.river", e.id, "river", e.attrs["river"]))
    return World(language, seed, entities, facts)


def _name(language, seed, n, people, towns, venues, animals, family):
    rng = rng_for("names", seed, n, language)
    zh = language == "zh"
    # people: unique surnames per family, unique first names while the pools last
    surnames = ZH_SURNAMES if zh else EN_LAST
    fam_order = []
    for p in people:
        key = family.get(p.id, p.id)
        if key not in fam_order:
            fam_order.append(key)
    sur = rng.sample(surnames, len(surnames))
    fam_name = {k: sur[i % len(sur)] for i, k in enumerate(fam_order)}
    pools = {
        g: rng.sample(pool, len(pool))
        for g, pool in (("m", ZH_GIVEN_M if zh else EN_FIRST_M), ("f", ZH_GIVEN_F if zh else EN_FIRST_F))
    }
    used = {"m": 0, "f": 0}
    full_seen: set[str] = set()
    for p in people:
        for _ in range(1000):
            pool = pools[p.gender]
            given = pool[used[p.gender] % len(pool)]
            used[p.gender] += 1
            s = fam_name[family.get(p.id, p.id)]
            if used[p.gender] > len(pool):  # pools exhausted: vary the surname too
                s = rng.choice(surnames)
            full = f"{s}{given}" if zh else f"{given} {s}"
            if full not in full_seen:
                break
        full_seen.add(full)
        p.name = full
        p.attrs["given"] = given
    given_count: dict[str, int] = {}
    for p in people:
        given_count[p.attrs["given"]] = given_count.get(p.attrs["given"], 0) + 1
    for p in people:
        g = p.attrs["given"]
        short_ok = given_count[g] == 1 and (not zh or len(g) == 2)
        p.first = g if short_ok else p.name

    suffixes = TOWN_SUFFIX_EN
    taken: set[str] = set()
    prefixes = rng.sample(TOWN_PREFIX_ZH if zh else TOWN_PREFIX_EN, len(TOWN_PREFIX_ZH if zh else TOWN_PREFIX_EN))
    for i, t in enumerate(towns):
        for j in range(1000):
            pre = prefixes[(i + j) % len(prefixes)]
            if zh:
                suf = rng.choice(TOWN_KINDS[t.attrs["kind"]][1])
            else:
                suf = rng.choice(suffixes)
            name = pre + suf if j < len(prefixes) else f"{pre}{suf}{j}"
            if name not in taken:
                break
        taken.add(name)
        t.name = name
        rivers = RIVERS_ZH if zh else RIVERS_EN
        t.attrs["river"] = rivers[t.attrs["river_i"] % len(rivers)]
        if len(towns) > len(rivers):
            t.attrs["river"] += "" if i < len(rivers) else str(i)

    for i, v in enumerate(venues):
        vt = v.attrs["type"]
        if zh:
            v.name = VENUE_PREFIX_ZH[v.attrs["prefix_i"]] + VENUE_TYPES[vt][0]
        else:
            v.name = f"{VENUE_PREFIX_EN[v.attrs['prefix_i']]} {vt.title()}"

    pet_pool = rng.sample(PET_NAMES_ZH if zh else PET_NAMES_EN, len(PET_NAMES_ZH if zh else PET_NAMES_EN))
    person_given = {p.attrs["given"] for p in people}
    pet_pool = [x for x in pet_pool if x not in person_given]
    for i, a in enumerate(animals):
        a.name = pet_pool[i % len(pet_pool)] + ("" if i < len(pet_pool) else str(i // len(pet_pool) + 1))
