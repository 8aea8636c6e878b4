"""Chinese prose for the synthetic world: same engine and genres as English, Chinese tables.

Chinese has no spaces, no capitals and no articles, but needs measure words (一只猫, 一家店) and
distinguishes older from younger siblings, so the slots differ while the plots mirror the English.
"""

from __future__ import annotations

from zerollm.collect.synthetic.render_en import CLOSE, OPEN, PARA, Doc, F, Renderer, S
from zerollm.collect.synthetic.world import (
    COLOURS,
    FOODS,
    HOBBIES,
    JOBS,
    KNOWN_FOR,
    LANDMARKS,
    MATERIALS,
    OBJECTS,
    PET_FOODS,
    SPECIES,
    TOWN_KINDS,
    VENUE_TYPES,
    Entity,
    Fact,
)

_DAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期天"]
_MONTHS = ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"]
_SEASONS = ["春天", "夏天", "秋天", "冬天"]


def _sib_word(o: Entity, e: Entity) -> str:
    older = o.attrs["age"] > e.attrs["age"]
    if o.gender == "m":
        return "哥哥" if older else "弟弟"
    return "姐姐" if older else "妹妹"


class ChineseRenderer(Renderer):
    SEP = ""
    MIN_CHARS = 300
    MAX_CHARS = 1400

    def common_slots(self) -> dict[str, str]:
        r = self.rng
        m = r.randrange(12)
        return {
            "day": r.choice(_DAYS),
            "month": _MONTHS[m],
            "mnum": str(m + 1),
            "season": r.choice(_SEASONS),
            "nth": str(r.randint(1, 28)),
        }

    # --- names and references
    def full(self, e: Entity) -> str:
        if e.kind == "object":
            return f"{self.w.get(e.attrs['owner']).name}的{OBJECTS[e.attrs['okind']][0]}"
        return e.name

    def short(self, e: Entity) -> str:
        if e.kind == "person":
            return e.first
        if e.kind == "object":
            return f"{self.w.get(e.attrs['owner']).first}的{OBJECTS[e.attrs['okind']][0]}"
        if e.kind == "venue" and self.rng.random() < 0.3:
            t = VENUE_TYPES[e.attrs["type"]]
            return f"这{t[1]}{t[0]}"
        return e.name

    def _pron(self, e: Entity) -> str:
        if e.kind == "person":
            return "他" if e.gender == "m" else "她"
        return "它"

    def name_ref(self, doc: Doc, e: Entity, force_full: bool = False) -> str:
        if force_full or e.id not in doc.mentioned:
            doc.mentioned.add(e.id)
            if e.kind == "object":
                doc.mentioned.add(e.attrs["owner"])
            return self.full(e)
        return self.short(e) if self.rng.random() < 0.8 else self.full(e)

    def subject_ref(self, doc: Doc, e: Entity, force_full: bool = False) -> dict[str, str]:
        he = self._pron(e)
        if not force_full and e.kind in ("person", "animal") and doc.last == e.id and self.rng.random() < 0.55:
            s = he
        else:
            s = self.name_ref(doc, e, force_full)
        return {"S": s, "Sp": s + "的", "So": s, "he": he}

    def role_slots(self, e: Entity) -> dict[str, str]:
        w = self.w
        he = self._pron(e)
        d = {
            "": self.full(e),
            "f": self.short(e) if e.kind != "venue" else e.name,
            "he": he,
            "his": he + "的",
            "him": he,
        }
        a = e.attrs
        if e.kind == "person":
            d.update(
                age=str(a["age"]),
                job=JOBS[a["job"]],
                home=w.get(a["home"]).name,
                food=FOODS[a["food"]],
                colour=COLOURS[a["colour"]],
                hobby=HOBBIES[a["hobby"]],
            )
            if "workplace" in a:
                d.update(work=w.get(a["workplace"]).name)
        elif e.kind == "town":
            d.update(kind=TOWN_KINDS[a["kind"]][0], known=KNOWN_FOR[a["known_for"]], river=a["river"])
        elif e.kind == "venue":
            t = VENUE_TYPES[a["type"]]
            d.update(
                type=t[0],
                cl=t[1],
                town=w.get(a["town"]).name,
                lm=LANDMARKS[a["next_to"]],
                door=COLOURS[a["door"]],
                opened=str(a["opened"]),
                job=t[3],
            )
        elif e.kind == "animal":
            sp = SPECIES[a["species"]]
            owner = w.get(a["owner"])
            d.update(
                sp=sp[0],
                cl=sp[1],
                colour=COLOURS[a["colour"]],
                food=PET_FOODS[a["food"]],
                age=str(a["age"]),
                owner=owner.name,
                ownerf=owner.first,
                coat=sp[3],
            )
        elif e.kind == "object":
            owner = w.get(a["owner"])
            o = OBJECTS[a["okind"]]
            d.update(
                k=o[0],
                cl=o[1],
                colour=COLOURS[a["colour"]],
                mat=MATERIALS[a["material"]],
                made=w.get(a["made_in"]).name,
                owner=owner.name,
                ownerf=owner.first,
            )
        return d

    def rel_slots(self, rel: str, comp: Entity, p: Entity) -> dict[str, str]:
        if rel == "friend":
            word = "好朋友"
        elif rel == "sibling":
            word = _sib_word(comp, p)
        else:
            word = "老朋友"
        return {"Frel": word}

    def value_slots(self, doc: Doc, e: Entity, f: Fact) -> dict[str, str]:
        w = self.w
        v = f.value
        a = f.attr
        k = e.kind
        if k == "person":
            if a in ("age",):
                return {"v": str(v)}
            if a == "job":
                return {"v": JOBS[v]}
            if a in ("home", "friend", "workplace"):
                return {"v": self.name_ref(doc, w.get(v))}
            if a == "sibling":
                o = w.get(v)
                return {"v": self.name_ref(doc, o), "rel": _sib_word(o, e)}
            if a == "pet":
                an = w.get(v)
                doc.mentioned.add(an.id)
                sp = SPECIES[an.attrs["species"]]
                return {"v": an.name, "sp": sp[0], "cl": sp[1], "acol": COLOURS[an.attrs["colour"]]}
            if a == "food":
                return {"v": FOODS[v]}
            if a == "colour":
                return {"v": COLOURS[v]}
            return {"v": HOBBIES[v]}
        if k == "animal":
            sp = SPECIES[e.attrs["species"]]
            base = {"sp": sp[0], "cl": sp[1], "coat": sp[3]}
            if a == "species":
                return {**base, "v": sp[0]}
            if a == "colour":
                return {**base, "v": COLOURS[v]}
            if a == "owner":
                return {**base, "v": self.name_ref(doc, w.get(v))}
            if a == "age":
                return {**base, "v": str(v)}
            return {**base, "v": PET_FOODS[v]}
        if k == "town":
            if a == "kind":
                return {"v": TOWN_KINDS[v][0]}
            if a == "neighbour":
                return {"v": self.name_ref(doc, w.get(v))}
            if a == "known_for":
                return {"v": KNOWN_FOR[v]}
            return {"v": v}
        if k == "venue":
            cl = VENUE_TYPES[e.attrs["type"]][1]
            if a == "town":
                return {"v": self.name_ref(doc, w.get(v)), "cl": cl}
            if a == "next_to":
                return {"v": LANDMARKS[v]}
            if a == "door":
                return {"v": COLOURS[v]}
            return {"v": str(v)}
        kind = OBJECTS[e.attrs["okind"]][0]
        if a == "made_in":
            return {"v": self.name_ref(doc, w.get(v)), "k": kind}
        if a == "material":
            return {"v": MATERIALS[v], "k": kind}
        return {"v": COLOURS[v], "k": kind}

    FACT_T = {
        "person.age": [
            "{S}今年{v}岁。",
            "{S}已经{v}岁了。",
            "{S}刚刚过完{v}岁生日。",
            "{S}今年{v}岁，看上去却比实际年轻。",
            "算起来，{S}今年正好{v}岁。",
            "{Sp}年龄是{v}岁。",
        ],
        "person.job": [
            "{S}是一名{v}。",
            "{Sp}职业是{v}。",
            "{S}当{v}已经很多年了。",
            "大家都知道{S}是个{v}。",
            "{S}靠当{v}养活自己。",
            "说起{Sp}工作，{he}是一名{v}。",
            "{S}是个能干的{v}。",
        ],
        "person.home": [
            "{S}住在{v}。",
            "{S}家在{v}。",
            "{S}一直住在{v}。",
            "{S}在{v}有一座小房子。",
            "{v}是{S}生活的地方。",
            "{S}住在{v}一条安静的小街上。",
            "这些年来，{S}一直把家安在{v}。",
        ],
        "person.food": [
            "{S}最喜欢吃{v}。",
            "{S}最爱的食物是{v}。",
            "要说{S}最爱吃什么，那一定是{v}。",
            "对{S}来说，世界上最好吃的东西就是{v}。",
            "{S}天天吃{v}也不会腻。",
            "只要有{v}，{S}就心满意足了。",
            "{S}请朋友吃饭时，总会做{he}最爱的{v}。",
        ],
        "person.colour": [
            "{S}最喜欢的颜色是{v}。",
            "在所有颜色里，{S}最偏爱{v}。",
            "{S}常常穿{v}的衣服，因为那是{he}最喜欢的颜色。",
            "{S}把自家的大门漆成了{v}，那是{he}最喜欢的颜色。",
            "{S}一直很喜欢{v}。",
            "{Sp}东西大多是{v}的，因为{he}最喜欢这个颜色。",
        ],
        "person.hobby": [
            "{Sp}爱好是{v}。",
            "{S}空闲的时候喜欢{v}。",
            "一到周末，{S}就喜欢{v}。",
            "{S}最大的爱好就是{v}。",
            "{S}从小就喜欢{v}。",
            "忙完一天的工作，{S}最喜欢做的事就是{v}。",
            "晚上没事的时候，{S}总爱{v}。",
        ],
        "person.friend": [
            "{S}最好的朋友是{v}。",
            "{S}和{v}是最好的朋友。",
            "{S}最要好的朋友叫{v}。",
            "{v}是{S}最好的朋友。",
            "{S}常常去找{he}最好的朋友{v}。",
            "最了解{S}的人，就是{he}最好的朋友{v}。",
            "{S}和{v}很多年来一直是最好的朋友。",
        ],
        "person.sibling": [
            "{Sp}{rel}是{v}。",
            "{S}有一个{rel}，叫{v}。",
            "{v}是{S}的{rel}。",
            "{S}和{rel}{v}从小一起长大。",
            "{S}常常给{he}的{rel}{v}打电话。",
        ],
        "person.workplace": [
            "{S}在{v}工作。",
            "{S}每天早上都去{v}上班。",
            "{v}是{S}工作的地方。",
            "{S}在{v}上班已经好几年了。",
            "在{v}，经常能看到{S}忙碌的身影。",
            "{S}是{v}的员工。",
        ],
        "person.pet": [
            "{S}养了一{cl}{sp}，名叫{v}。",
            "{Sp}{sp}叫{v}。",
            "{v}是{S}养的{sp}。",
            "{S}家里有一{cl}{acol}的{sp}，叫{v}。",
            "{S}走到哪里，{he}的{sp}{v}就跟到哪里。",
            "{S}每天都要照顾{he}的{sp}{v}。",
        ],
        "animal.species": [
            "{S}是一{cl}{v}，大家都很喜欢{he}。",
            "{S}是一{cl}聪明的{v}。",
            "{S}是一{cl}活泼的{v}。",
            "{S}是一{cl}很有个性的{v}。",
        ],
        "animal.colour": [
            "{Sp}{coat}是{v}的。",
            "{S}是一{cl}{v}的{sp}。",
            "{S}全身的{coat}都是{v}的。",
            "一眼就能认出{S}，因为{he}的{coat}是{v}的。",
        ],
        "animal.owner": [
            "{Sp}主人是{v}。",
            "{S}是{v}养的。",
            "{v}是{S}的主人。",
            "{S}和{v}住在一起。",
            "{S}是{v}家的{sp}。",
            "{v}把{S}照顾得很好。",
        ],
        "animal.age": ["{S}今年{v}岁了。", "{S}已经{v}岁了。", "{S}今年{v}岁，还是一样调皮。"],
        "animal.food": [
            "{S}最爱吃{v}。",
            "{S}最喜欢的食物是{v}。",
            "只要有{v}，{S}就特别高兴。",
            "一看到{v}，{S}就兴奋得不得了。",
            "给{S}一点{v}，{he}能开心一整天。",
        ],
        "town.kind": ["{S}是一个{v}。", "{S}是个安静的{v}。", "人们都说{S}是个美丽的{v}。", "{S}一直是一个{v}。"],
        "town.known_for": [
            "{S}以{v}闻名。",
            "{S}最有名的是{v}。",
            "说起{S}，人们首先想到的就是那里的{v}。",
            "{Sp}{v}远近闻名。",
            "很多人知道{S}，都是因为那里的{v}。",
        ],
        "town.river": [
            "{v}从{S}流过。",
            "{S}坐落在{v}边上。",
            "{v}从{S}中间穿过。",
            "{S}建在{v}的岸边。",
            "一条名叫{v}的河流经{S}。",
        ],
        "town.neighbour": [
            "{S}紧挨着{v}。",
            "{S}旁边就是{v}。",
            "{S}和{v}是邻居。",
            "从{S}出发，走一会儿就能到隔壁的{v}。",
            "和{S}相邻的是{v}。",
        ],
        "venue.town": ["{S}在{v}。", "{S}位于{v}。", "{S}开在{v}。", "{v}有一{cl}{S}。", "在{v}，人人都知道{S}。"],
        "venue.next_to": ["{S}就在{v}旁边。", "{S}紧挨着{v}。", "{Sp}旁边是{v}。", "从{v}往旁边一看，就是{S}。"],
        "venue.door": [
            "{Sp}大门是{v}的。",
            "{S}有一扇{v}的门。",
            "{Sp}门被漆成了{v}。",
            "远远就能看见{S}那扇{v}的大门。",
        ],
        "venue.opened": ["{S}是{v}年开业的。", "{S}创办于{v}年。", "从{v}年起，{S}就一直在这里。", "{S}成立于{v}年。"],
        "object.colour": ["{S}是{v}的。", "{S}通体都是{v}。", "谁都能注意到{S}是{v}的。"],
        "object.material": ["{S}是用{v}做的。", "{S}是由{v}制成的。", "有人用{v}做成了{S}。", "{S}全是用{v}做的。"],
        "object.made_in": [
            "{S}是在{v}做的。",
            "{S}产自{v}。",
            "{S}出自{v}的一家作坊。",
            "{v}的一位老工匠亲手做了{S}。",
        ],
    }

    FP_T = {
        "age": ["我今年{v}岁了。", "我刚过完{v}岁生日。", "转眼我已经{v}岁了。"],
        "job": ["我还是在当{v}。", "你知道的，我是一名{v}。", "当{v}让我每天都很忙。"],
        "home": ["我还住在{v}。", "在{v}的日子过得很舒服。", "我在{v}已经住了好多年了。"],
        "food": ["我晚饭又吃了{v}，它还是我最爱的食物。", "你知道我有多爱吃{v}。", "我最喜欢吃的还是{v}。"],
        "colour": [
            "我买了一条{v}的新围巾，那是我最喜欢的颜色。",
            "我最喜欢的颜色还是{v}。",
            "我把厨房刷成了{v}，因为我最喜欢这个颜色。",
        ],
        "hobby": ["晚上我喜欢{v}。", "空闲的时候我就{v}。", "最近我常常{v}。"],
        "friend": ["我最好的朋友{v}来看我了。", "我最好的朋友{v}也向你问好。", "下午我和最好的朋友{v}待在一起。"],
        "sibling": ["我{rel}{v}一切都好。", "我和{rel}{v}聊了很久。", "我{rel}{v}来家里吃了晚饭。"],
        "workplace": ["我还在{v}工作。", "{v}的工作让我很忙。", "我工作的{v}最近特别忙。"],
        "pet": ["我的{sp}{v}正趴在我脚边睡觉。", "我的{sp}{v}还是那么活泼。", "我带着我的{sp}{v}散了很久的步。"],
    }

    INTRO_T = {
        "person": [
            (("age", "job", "home"), "{X}今年{Xage}岁，是住在{Xhome}的一名{Xjob}。"),
            (("job", "home"), "{X}是{Xhome}的一名{Xjob}。"),
            (("home", "job"), "{X}住在{Xhome}，职业是{Xjob}。"),
            (("age", "job"), "{X}今年{Xage}岁，是一名{Xjob}。"),
            (("job", "workplace"), "{X}是{Xwork}的一名{Xjob}。"),
            (("home",), "{X}是土生土长的{Xhome}人。"),
        ],
        "animal": [
            (("colour", "species", "owner"), "{X}是一{Xcl}{Xcolour}的{Xsp}，主人是{Xowner}。"),
            (("owner", "species"), "{Xowner}养了一{Xcl}{Xsp}，名叫{X}。"),
            (("species", "age"), "{X}是一{Xcl}{Xsp}，今年{Xage}岁。"),
        ],
        "town": [
            (("kind", "river"), "{X}是{Xriver}边上的一个{Xkind}。"),
            (("kind", "known_for"), "{X}是一个以{Xknown}闻名的{Xkind}。"),
            (("kind",), "{X}是一个{Xkind}，街道窄窄的，人们都很热情。"),
        ],
        "venue": [
            (("town",), "{X}是{Xtown}的一{Xcl}{Xtype}。"),
            (("town", "next_to"), "在{Xtown}的{Xlm}旁边，有一{Xcl}{Xtype}，叫{X}。"),
            (("opened", "town"), "{X}从{Xopened}年起就开在{Xtown}。"),
            (("town", "door"), "{X}位于{Xtown}，有一扇{Xdoor}的大门。"),
        ],
        "object": [
            (("colour", "material"), "{Xowner}有一{Xcl}用{Xmat}做的{Xk}，颜色是{Xcolour}。"),
            (("made_in", "colour"), "{Xowner}有一{Xcl}{Xcolour}的{Xk}，是在{Xmade}做的。"),
        ],
    }

    T = {
        "open_fmt": ["{time}，{scene}。"],
        "open_time": [
            "一个{day}的早晨",
            "{season}的一个清晨",
            "一个{day}的傍晚",
            "{month}的一个下午",
            "{season}里的一个晴天",
            "一个下着小雨的{day}",
            "天刚蒙蒙亮的时候",
            "{month}快结束的时候",
            "一个刮着大风的下午",
            "前不久的一个{day}",
            "{month}中旬的一天",
        ],
        "open_scene": [
            "{T}的街道还很安静",
            "{T}下着蒙蒙细雨",
            "阳光洒在{T}的屋顶上",
            "一阵冷风吹过{T}",
            "浓雾笼罩着{T}",
            "{T}的集市刚刚开张",
            "{Triver}的水因为下雨涨了不少",
            "{T}的空气里飘着炊烟的味道",
            "燕子又飞回了{T}",
            "整个{T}好像还在睡觉",
            "月亮还挂在{T}的上空",
        ],
        "l_more": [
            "还要跟你说说{X}。",
            "你上次问起{X}，我就多写几句。",
            "{X}的近况你也许想知道。",
            "我得写几句{X}的事。",
        ],
        "di_more": [
            "我一直在想{X}的事。",
            "记几句{X}的事，免得忘了。",
            "趁还没忘，写写{X}。",
            "今天我还想了很多关于{X}的事。",
        ],
        "more": ["关于{X}，还有一些可说的。", "再说说{X}。", "还有{X}。", "那么{X}呢？", "至于{X}，也值得多说几句。"],
        "epilogue": [
            "再多说几句{X}吧。",
            "知道这个故事的人，常常还会讲起{X}。",
            "关于{X}，还有几件事值得一提。",
            "没见过{X}的人，不妨再多了解一点。",
        ],
        "asides": [
            "风稍稍大了一些。",
            "远处传来两声狗叫，接着又安静了下来。",
            "{Pf}深深地吸了一口气。",
            "一辆板车从石板路上咕噜噜地驶过。",
            "天比{Phe}想的要冷。",
            "钟楼上的大钟敲响了。",
            "大家一时都没有说话。",
            "天上落下了几滴雨。",
            "{Pf}忍不住笑了。",
            "时间好像过得特别慢。",
            "屋顶上有几只鸟在叫。",
            "天色已经开始变了。",
            "{Pf}把外套裹得更紧了些。",
            "附近传来孩子们的笑声。",
            "空气里满是泥土和雨水的味道。",
            "一只猫趴在窗台上，好奇地看着。",
            "{Pf}想起了妈妈常说的一句话：做事要有耐心。",
            "街上飘来新出炉的面包的香味。",
        ],
        "closers": [
            "那一天，大家很久都不会忘记。",
            "有时候，最平常的日子反而最美好。",
            "直到今天，{T}的人们还常常讲起这件事。",
            "天黑以后，一切又恢复了平静。",
            "谁也想不到会有这么好的结局。",
            "第二天，生活照常继续，但有些东西变得更好了。",
            "后来每当有人问起那天的事，大家都会笑起来。",
        ],
        "ency_lead": {
            "person": [
                "在{H}，很少有人像{X}这样受大家喜爱。",
                "下面简单介绍一下{X}和{Xhis}身边的人。",
                "说起{H}的熟面孔，{X}一定算一个。",
            ],
            "town": ["本条目简要介绍{X}和住在那里的人们。", "到这一带旅行的人，常常会经过{X}。"],
            "venue": ["下面简单介绍一下{X}和在那里工作的人。"],
            "animal": ["镇上很多人都认识{X}。"],
            "object": ["有些东西有自己的故事，下面说的就是其中一件。"],
        },
        "ency_residents": ["{X}住着不少大家熟悉的人。", "{X}的人们热情又勤劳。", "在{X}的居民中，有几位很有名。"],
        "ency_close": {
            "person": [
                "认识{X}的人都说{Xhe}善良可靠。",
                "总的来说，{X}是这一带很有名的人物。",
                "见过{X}的人，很少会忘记{Xhim}。",
                "关于{X}还有很多可说的，不过大致就是这些。",
            ],
            "town": [
                "这是一个适合生活、更适合游玩的地方。",
                "来过{X}一次的人，往往还会再来。",
                "{X}的生活节奏很慢，大多数人都喜欢这样。",
            ],
            "venue": [
                "正是这样的地方，让小镇有了自己的味道。",
                "老顾客们说，这里多年来一点都没变，他们就喜欢这样。",
                "如果你正好路过，一定要进去看看。",
            ],
            "animal": ["见过{X}的人都很喜欢它。", "邻居们都很熟悉{X}。", "很难想象这条街上要是没有{X}会是什么样子。"],
            "object": [
                "这种东西，往往会被珍藏一辈子。",
                "给再多的钱，主人也不会把它卖掉。",
                "像这样的老物件，常常承载着最美好的回忆。",
            ],
        },
        "guide_intro": [
            "如果你到这一带旅行，{T}很值得一去。",
            "来过{T}的游客常说，真希望能多住几天。",
            "{T}虽然不大，却有很多值得一看的地方。",
            "下面是一份写给想去{T}游玩的人的小指南。",
        ],
        "guide_venue": [
            "镇上最有名的地方之一是{V}。",
            "一定要去{V}看看。",
            "很多游客都会去{V}。",
            "另一个值得一去的地方是{V}。",
        ],
        "guide_people": [
            "{T}的人都很友好，你很快就会认识其中几位。",
            "在这里你很可能会遇到几位当地人。",
            "一个地方的灵魂在于人，{T}就有不少让人难忘的人。",
        ],
        "guide_neigh": [
            "如果还有一天时间，可以走到{N}去看看，它就在{T}旁边。",
            "从{T}出发，走一小段路就能到相邻的{N}。",
        ],
        "guide_advice": [
            "记得穿一双舒服的鞋，因为走路是游览这里最好的方式。",
            "最好的游览季节是晚春，那时白天长，天气也暖和。",
            "这里的商店关门很早，安排行程时要注意。",
            "无论如何，别忘了和当地人聊聊天。",
        ],
        "d_setting": [
            "一个{day}的下午，{P}和{F}在{Triver}边上碰见了。",
            "{F}正在{T}的街上走着，忽然遇到了{P}。",
            "一个{day}的晚上，{P}和{F}坐下来一起喝茶。",
            "{P}在{T}的集市上遇见了{Phis}{Frel}{F}。",
            "外面下着雨，{P}和{F}一起在{T}的老车站下躲雨。",
            "{month}的一个{day}，快到晚饭的时候，{F}敲响了{P}家的门。",
        ],
        "d_ask": {
            "person": [
                "你最近有{X}的消息吗？",
                "你跟{X}熟吗？",
                "你能跟我讲讲{X}吗？",
                "我老听人说起{X}，那是谁呀？",
                "{Xf}最近怎么样？",
            ],
            "animal": [
                "今天早上我在巷子里看到的是{X}吗？",
                "{X}是怎么回事呀？",
                "{X}是个什么样的小家伙？",
                "{X}最近乖不乖？",
            ],
            "town": ["你去过{X}吗？", "{X}现在怎么样了？", "听说{X}很不错，是真的吗？", "你觉得值得去一趟{X}吗？"],
            "venue": ["你常去{X}吗？", "{X}到底在哪儿？我老是找不到。", "你觉得{X}怎么样？", "你最近去过{X}吗？"],
            "object": ["我前几天看到的是{Xf}吗？", "{Xf}有什么特别的？", "给我讲讲{Xf}吧。"],
        },
        "d_ask_self": ["你最近过得怎么样？", "最近在忙些什么呀？", "你那边有什么新鲜事吗？", "最近一切都好吗？"],
        "d_small": [
            ("你今天早上看到天空了吗？", "看到了，我从没见过那么红的朝霞。"),
            ("今晚还会下雨吗？", "但愿别下，我的衣服还晾在外面呢。"),
            ("再来一杯茶吧？", "好啊，再来一块饼干就更好了。"),
            ("你听说新桥的事了吗？", "只听到一些传言，不过大家都在议论。"),
            ("下周的集市你去吗？", "当然去，我怎么会错过呢。"),
            ("这是新买的外套吗？", "是啊，贵得要命，可我实在太喜欢了。"),
        ],
        "d_ask_fmt": ["{Qf}问：“{q}”", "“{q}”{Qf}问道。", "{Qf}好奇地问：“{q}”"],
        "d_ans_fmt": [
            "{Yf}说：“{ans}”",
            "{Yf}点点头：“{ans}”",
            "“{interj}，”{Yf}说，“{ans}”",
            "{Yf}想了想，说：“{ans}”",
        ],
        "d_interj": ["当然", "这个嘛", "让我想想", "那还用说", "哦"],
        "d_narr": [
            "{Qf}又倒了一杯茶，认真地听着。",
            "有一会儿，两个人谁也没说话，只是看着街上来来往往的行人。",
            "{Yf}想起往事，笑着摇了摇头。",
            "外面的风把老房子的窗板吹得咔咔作响。",
            "{Qf}慢慢地点了点头，好像早就料到会是这样。",
            "一辆公交车开了过去，他们等四周安静下来才接着说。",
        ],
        "d_end": [
            "他们又聊了一会儿，然后各自回家了。",
            "雨停了，他们道了别，各自走了。",
            "后来话题又转到了天气上，每次都是这样。",
            "他们笑着喝完了茶，约好过几天再见。",
        ],
        "l_greet": [
            "亲爱的{Rf}，见信好！",
            "亲爱的{Rf}，你的来信我{day}就收到了，谢谢你。",
            "亲爱的{Rf}，好久没有给你写信了。",
            "亲爱的{Rf}，我坐在窗前给你写这封信，心里一直想着你。",
        ],
        "l_weather": [
            "{Whome}这几天一直阴雨绵绵。",
            "这个星期{Whome}的天气好极了，又暖和又晴朗。",
            "{Whome}最近风很大，树叶已经开始落了。",
            "昨晚{Whome}下了今年第一场霜。",
        ],
        "l_news": [
            "上个星期我沿着河走了很远，让我想起了我们以前一起散步的日子。",
            "我终于开始收拾院子了，不过进展很慢。",
            "别的也没发生什么事，不过我过得很知足。",
            "白天越来越短了，晚上我总是坐在炉子旁边。",
        ],
        "l_ask": [
            "{H}那边一切都好吗？",
            "你还像以前那样喜欢{Rhobby}吗？",
            "你是不是还一有机会就吃{Rfood}？",
            "在{H}的生活还顺心吗？",
        ],
        "l_close": ["盼你早日回信。", "很想听听你的近况。", "代我向大家问好。", "请多保重身体。"],
        "l_sign": [
            "祝你一切都好。{Wf}敬上。",
            "你永远的朋友{Wf}。",
            "从{Whome}寄去我的问候，{Wf}。",
            "下次再聊，{Wf}。",
        ],
        "di_date": ["{mnum}月{nth}日，{day}。", "{mnum}月{nth}日，{day}晚上。"],
        "di_weather": [
            "今天下了一整天的雨，上午我几乎都待在家里。",
            "午饭后太阳出来了，整条街好像都醒了过来。",
            "天气又冷又晴，窗户上的霜到中午才化。",
            "大风刮了一整夜，吵得我睡不着。",
        ],
        "di_events": [
            ("V", ["吃过早饭，我照常去{V}上班。", "今天{V}比平时忙多了。", "我在{V}忙了一整天。"]),
            ("A", ["{A}又一大早把我吵醒了。", "我带{A}沿着{Triver}走了很久。", "{A}今天一整天都怪怪的。"]),
            ("F", ["下午{Ff}过来找我聊天。", "我在街上碰到{Ff}，我们聊了一个钟头。", "我给{Ff}写了一张小纸条。"]),
            ("", ["晚饭我做了{Wfood}，那是我最爱吃的。", "晚上我花了一个钟头{Whobby}。", "我早早就上床看书了。"]),
        ],
        "di_end": [
            "明天我想早点起床，把没做完的事做完。",
            "我累了，今天就写到这里。",
            "希望明天也像今天一样好。",
            "该睡觉了。",
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
                        "{P}本来打算在家安安静静地过一天。",
                        "{P}一早就起来泡了一壶茶，那时街上的人都还没醒。",
                        "{P}盼着能过一个什么活都不用干的日子。",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("job", "home", "age")),
                S(
                    [
                        "可是{Phe}走到院子里，却怎么也找不到{A}。",
                        "这时{Phe}发现院门开着，{Phis}那{Acl}{Acolour}的{Asp}{A}不见了。",
                        "直到{Phe}去添食的时候，才发现{A}不见了。",
                    ]
                ),
                F("A", 1, 2, ("age", "colour")),
                PARA,
                S(
                    [
                        "{Pf}先找了院子，又找了巷子，最后把{T}的每个角落都找遍了。",
                        "{Pf}在{T}的大街小巷里走来走去，一边走一边喊{A}的名字。",
                        "{Pf}急坏了，披上外套就出门去找。",
                    ],
                    "P",
                ),
                S(
                    [
                        "邻居们谁也没看见，街角小店的阿姨也只是摇摇头。",
                        "一个骑自行车的男孩说，好像看见有什么东西往河边跑去了。",
                        "一位坐在长椅上的老大爷说，他会帮忙留意的。",
                    ]
                ),
                S(
                    [
                        "最后{Phe}敲开了{Phis}{Frel}{F}的门。",
                        "于是{Phe}去找{Phis}{Frel}{F}，{F}总是有办法。",
                        "最后{Phe}请{Phis}{Frel}{F}来帮忙。",
                    ],
                    None,
                    "F",
                ),
                F("F", 1, 1, ("home", "job")),
                PARA,
                S(
                    [
                        "他们一起顺着小路往河边走去。",
                        "两个人一直找到天色渐渐暗了下来。",
                        "他们分头去找，约好一个钟头后再碰头。",
                    ]
                ),
                S(
                    [
                        "最后是一个小小的声音暴露了{A}。",
                        "就在{Pf}快要放弃的时候，{Phe}听到了一个熟悉的声音。",
                        "天快黑的时候，{Pf}终于看见了{A}。",
                    ]
                ),
                S(
                    [
                        "{A}正蹲在{T}边上的一排篱笆下面，浑身是泥，却一脸开心。",
                        "{A}躲在{Triver}边的一堆木箱后面，看上去很得意。",
                        "{A}蜷在老墙边的一片阳光里，睡得正香。",
                    ],
                    "A",
                ),
                PARA,
                S(
                    [
                        "回到家，{Pf}给{A}准备了一大碗{Afood}，那是{A}最爱吃的。",
                        "为了庆祝，{A}多吃了一份{Afood}。",
                        "那天晚上，{A}吃了满满一盘{Afood}，然后在炉火边睡着了。",
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
                        "每个{day}，{P}都会带着{A}在{T}走上一大圈。",
                        "{P}和{A}有个小习惯：吃早饭前先在{T}散散步。",
                        "在{T}，看到{P}带着{A}散步，谁都不会觉得奇怪。",
                    ],
                    "P",
                ),
                F("A", 1, 2, ("species", "colour")),
                F("P", 1, 1, ("home", "age")),
                PARA,
                OPEN,
                S(
                    [
                        "他们经过面包店，沿着河边，又爬上了小山坡。",
                        "{A}在每个门口都要停一停，对什么都很好奇。",
                        "路线和往常一样，可{A}每次都像第一次走一样新鲜。",
                    ],
                    "A",
                ),
                S(
                    [
                        "走到一半，他们遇到了{R}，{R}弯下腰和{A}打招呼。",
                        "在桥边，他们碰见了{R}。",
                        "回来的路上，{R}在街对面向他们招手。",
                    ],
                    None,
                    "R",
                ),
                F("R", 1, 2, ("job", "hobby", "home")),
                PARA,
                S(
                    [
                        "回到家，{A}得到了一点{Afood}作为奖励。",
                        "一进门，{A}就直奔自己的碗，盼着里面有{Afood}。",
                        "{Pf}给了{A}一些{Afood}，{A}心满意足。",
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
                        "{P}答应去{N}看看已经好几个星期了，这一天终于到了。",
                        "{P}收拾好一个小包，锁上门，出发去{N}。",
                        "{P}一直想去{N}待上一天。",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("home", "job", "age")),
                S(
                    [
                        "{N}就在{T}旁边，走路不到一个钟头就到了。",
                        "从{T}到{N}的路很短，因为两个地方紧挨着。",
                        "{N}和{T}是邻居，所以{Pf}决定走着去。",
                    ]
                ),
                PARA,
                S(
                    [
                        "{N}是一个{Nkind}，比{Pf}想象的还要热闹。",
                        "{N}的{Nknown}远近闻名，{Pf}早就想去看看了。",
                        "一走进{N}，{Pf}最先看到的就是{Nriver}。",
                    ]
                ),
                F("N", 1, 2),
                S(
                    [
                        "在广场上，{Phe}碰到了{R}，{R}很乐意带{Phim}四处转转。",
                        "在一家小店门口，{Phe}遇到了{R}。",
                        "在大街上，{Phe}碰巧遇见了{R}。",
                    ],
                    None,
                    "R",
                ),
                F("R", 1, 2, ("home", "job", "hobby")),
                PARA,
                S(
                    [
                        "中午，{Pf}找到一家卖{Pfood}的小馆子，那正是{Phis}最爱吃的。",
                        "{Pf}在小摊上买了些{Pfood}，坐在太阳底下吃了起来。",
                        "午饭吃的是{Pfood}，这让{Pf}高兴极了。",
                    ],
                    "P",
                ),
                S(
                    [
                        "太阳落山的时候，{Pf}走回了{T}。",
                        "傍晚，{Pf}沿着那条近路回到{T}，虽然累，心里却很高兴。",
                        "{Pf}回到{T}的时候，天已经很晚了。",
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
                        "{T}每年都要办一次集会，今年{P}也决定参加。",
                        "整个{T}为夏天的集会准备了好几个星期，{P}也不例外。",
                        "{P}从来没有错过{T}一年一度的集会，今年{Phe}想做点特别的事。",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("job", "age", "home")),
                PARA,
                S(
                    [
                        "前一天晚上，{Pf}做了一大锅{Pfood}，那是{Phis}最拿手也最爱吃的。",
                        "{Pf}用{Pcolour}的彩带装饰了自己的小摊，因为{Pcolour}是{Phis}最喜欢的颜色。",
                        "{Pf}打算让大家看看{Phobby}有多有趣。",
                    ],
                    "P",
                ),
                S(
                    [
                        "{Phis}{Frel}{F}一大早就来帮忙了。",
                        "{Phis}{Frel}{F}没等人开口，就把重箱子都搬了过来。",
                        "幸好{F}说好要来帮忙，{Fhe}向来如此。",
                    ],
                    None,
                    "F",
                ),
                F("F", 1, 1, ("job", "hobby")),
                PARA,
                S(
                    [
                        "到了中午，广场上满是音乐和笑声。",
                        "孩子们在摊位间跑来跑去，乐队在台阶上演奏。",
                        "附近的人都赶来看热闹。",
                    ]
                ),
                F("T", 1, 2, ("known_for", "kind")),
                S(
                    [
                        "下午评委们一个摊位一个摊位地看，没想到{Pf}得了第一名。",
                        "{Pf}虽然没有得奖，却从来没有笑得这么开心过。",
                        "到了傍晚，{Pf}带来的东西全都被一抢而空。",
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
                        "{P}用{Of}已经很多年了，几乎每天都离不开它。",
                        "在{P}所有的东西里，{Phis}最珍惜的就是那{Ocl}{Ok}。",
                        "{P}至今还记得第一次见到那{Ocl}{Ok}的情景。",
                    ],
                    "P",
                ),
                F("O", 1, 2, ("colour", "material")),
                S(
                    [
                        "可是那天早上，{Pf}不小心把它摔了，里面发出可怕的一声响。",
                        "就在一不留神的工夫，{Ok}从架子上掉下来摔坏了。",
                        "那天{Pf}发现{Ok}坏得很厉害。",
                    ]
                ),
                PARA,
                S(
                    [
                        "只有一个地方能修：{Omade}，那{Ocl}{Ok}就是在那里做的。",
                        "{Pf}记得{Ok}是从{Omade}来的，于是出发去找那家作坊。",
                        "一位老朋友告诉{Pf}，应该去{Omade}看看，东西就是在那里做的。",
                    ],
                    "P",
                ),
                F("O", 1, 1, ("made_in",)),
                S(
                    [
                        "作坊里满是胶水和油漆的味道，一位老师傅从工作台前抬起头来。",
                        "老师傅把{Ok}拿在手里翻来覆去看了很久，然后点了点头。",
                        "一个年轻的学徒说能修好，不过要等一个星期。",
                    ]
                ),
                PARA,
                S(
                    [
                        "一个星期后，{Ok}修得跟新的一样。",
                        "{Pf}回去取的时候，几乎看不出哪里坏过。",
                        "修理费比{Pf}想的要贵，但花得很值。",
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
                        "每次有客人来{P}家，都会问起{Of}。",
                        "{P}很爱给别人讲{Phis}那{Ocl}{Ok}的故事。",
                        "{P}家里有一{Ocl}{Ok}，谁来了都会注意到。",
                    ],
                    "P",
                ),
                F("O", 2, 3),
                PARA,
                S(
                    [
                        "{Phis}{Frel}{F}有一次问{Phim}，为什么不换个新的。",
                        "就连{Phis}{Frel}{F}也承认它很漂亮。",
                        "{F}说这{Ocl}{Ok}是屋里最漂亮的东西。",
                    ],
                    None,
                    "F",
                ),
                S(
                    [
                        "{Pf}只是笑着说，新东西没有故事。",
                        "{Pf}说，有些东西值得留一辈子。",
                        "对{Pf}来说，这{Ocl}{Ok}就像家里的一员。",
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
                        "对{P}来说，{V}的一天开始得很早。",
                        "{P}像往常一样，第一个来到{V}。",
                        "和平时一样，{P}第一个打开了{V}那扇{Vdoor}的门。",
                    ],
                    "P",
                ),
                F("P", 1, 1, ("job",)),
                F("V", 1, 2, ("next_to", "town", "opened")),
                PARA,
                S(
                    [
                        "那天早上第一个来的是{R}。",
                        "刚开门不久，{R}就进来道了声早。",
                        "九点钟不到，{R}已经在门口等着了。",
                    ],
                    None,
                    "R",
                ),
                F("R", 1, 1, ("home", "hobby")),
                S(
                    [
                        "中午时分天突然暗了下来，下起了大雨。",
                        "下午又长又忙，连喝口茶的工夫都没有。",
                        "下午来了一批货，所有东西都得马上拆开整理。",
                    ]
                ),
                S(
                    [
                        "{C}也在{V}工作，两个人一起把事情都办妥了。",
                        "幸好同样在这里工作的{C}早早赶来帮忙。",
                        "{C}午饭后来了，接过了柜台的活儿。",
                    ],
                    None,
                    "C",
                ),
                F("C", 1, 1, ("job", "age")),
                PARA,
                S(
                    [
                        "一天的工作结束了，{Pf}锁好门，走回{T}的家。",
                        "晚上，{Pf}关了灯回家去了。",
                        "一天终于忙完了，{Pf}回家休息。",
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
                        "一位背着大包的旅人在街上拦住{P}，问去{V}怎么走。",
                        "一个刚到这一带的年轻姑娘问{P}，{V}在哪里。",
                        "一位拿着地图的老先生向{P}打听去{V}的路。",
                    ],
                    "P",
                ),
                S(
                    [
                        "{Pf}笑了，因为{Phe}对那里再熟悉不过了。",
                        "{Pf}很乐意帮忙。",
                        "{Pf}放下手里的东西，指了指前面的路。",
                    ],
                    "P",
                ),
                PARA,
                F("V", 2, 3, ("next_to", "town", "door")),
                S(["{Pf}甚至陪着客人走了一段路。", "客人连声道谢，匆匆走了。", "客人把这些都记在了一个小本子上。"]),
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
                        "这一天是{P}的生日，{Phe}满{Page}岁了。",
                        "{P}差点忘了今天是自己的生日，{Phe}已经{Page}岁了。",
                        "{P}{Page}岁生日这天，本以为会过得很平静。",
                    ],
                    "P",
                ),
                F("P", 1, 1, ("home", "job")),
                PARA,
                S(
                    [
                        "可是{Phis}{Frel}{F}另有打算。",
                        "{Phis}{Frel}{F}为这个惊喜已经准备了好几个星期。",
                        "{Pf}不知道的是，{Phis}{Frel}{F}把半条街的人都请来了。",
                    ]
                ),
                F("F", 1, 2, ("home", "job", "hobby")),
                S(
                    [
                        "桌上摆满了{Pfood}，因为大家都知道那是{Phis}的最爱。",
                        "屋子里挂满了{Pcolour}的气球，那是{Phis}最喜欢的颜色。",
                        "还有人烤了一个小房子形状的蛋糕。",
                    ]
                ),
                PARA,
                S(
                    [
                        "{Pf}笑得眼泪都快出来了。",
                        "{Pf}一开门，大家一起欢呼起来，{Phe}高兴得说不出话。",
                        "{Pf}说，这是{Phe}过得最开心的一个生日。",
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
                        "{P}一直很喜欢{Phobby}。",
                        "没有什么事比{Phobby}更能让{P}开心了。",
                        "大家都记得，{P}从很久以前就喜欢{Phobby}。",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("age", "home", "job")),
                S(
                    [
                        "{Phe}早就想让{Phis}{Frel}{F}也试一试。",
                        "有一天，{Phis}{Frel}{F}终于说想学。",
                        "{Phis}{Frel}{F}一直对这件事很好奇。",
                    ]
                ),
                PARA,
                OPEN,
                S(
                    [
                        "第一次学得并不顺利，两个人最后都笑了起来。",
                        "一开始{Ff}又慢又笨，但{Fhe}没有放弃。",
                        "{Pf}很有耐心，每件事都讲了两遍。",
                    ]
                ),
                F("F", 1, 2, ("job", "hobby", "food")),
                S(
                    [
                        "到第三次的时候，{Ff}已经进步了很多。",
                        "几个星期以后，{Ff}几乎和{Pf}一样好了。",
                        "没过多久，他们每个{day}都待在一起。",
                    ]
                ),
                PARA,
                S(
                    [
                        "学完以后，他们一起吃了一盘{Pfood}，那是{Pf}最爱吃的。",
                        "为了庆祝，他们一起出去吃了晚饭。",
                        "他们约好一直学到年底。",
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
                        "每逢集日，{T}的广场上就摆满了摊位，热闹非凡。",
                        "集日是{T}一个星期里最热闹的一天。",
                        "每个{day}，农民们都会把货物运到{T}的集市上。",
                    ]
                ),
                F("T", 1, 2, ("known_for", "river", "kind")),
                PARA,
                S(
                    [
                        "{P}一早就去了，想买最新鲜的面包。",
                        "{P}提着空篮子，带着一张长长的单子去赶集。",
                        "就算什么都不缺，{P}也总爱去集市逛逛。",
                    ],
                    "P",
                ),
                F("P", 1, 2, ("job", "age", "food")),
                S(
                    [
                        "在一个摊位前，{Phe}遇到了{Phis}{Frel}{F}。",
                        "在摊位之间，{Phe}看见了{Phis}{Frel}{F}。",
                        "{Phis}{Frel}{F}也在，手里提着两个沉甸甸的袋子。",
                    ],
                    None,
                    "F",
                ),
                F("F", 1, 1, ("home", "hobby")),
                PARA,
                S(
                    [
                        "他们买了苹果、奶酪和一束花，然后在长椅上坐了下来。",
                        "一个钟头后篮子就满了，他们一起走回家。",
                        "他们在太阳底下喝着咖啡，看着来来往往的人群。",
                    ]
                ),
                CLOSE,
            ],
        },
    }
