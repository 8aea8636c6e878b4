"""Planted dirt with ground truth, so the filter, dedup and decontamination stages can be scored.

Each kind mimics what real crawls contain and what one stage is meant to catch: exact and near
copies (dedup), navigation pages, gibberish, spam and stubs (quality filters), and pages leaking
eval answers (decontamination). Near copies are checked against a 5-gram Jaccard floor so that
"near" means near for any reasonable MinHash setting.
"""

from __future__ import annotations

import random
import re

NEAR_DUP_MIN_JACCARD = 0.7

_FILLER_EN = [
    "the",
    "a",
    "very",
    "old",
    "small",
    "and",
    "then",
    "quite",
    "really",
    "just",
    "still",
    "also",
    "little",
    "new",
    "good",
    "again",
    "there",
    "often",
    "perhaps",
    "soon",
]
_FILLER_ZH = list(
    "的一是在不了有和人这中大为上个我以要他时来用们生到作地于出就分对成会可发年动同工也能下过子说"
    "种面而方后多定行学法所得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体机当使点从本去把"
    "好应开它合还因由其些然前外天四日那事平形相全表间样与关各重新线内数正心反你明看原又么利比或但气第向道"
)
_GIB_ZH = "".join(chr(c) for c in range(0x4E00, 0x9FA5, 37))

FOOTERS = {
    "en": [
        "Share this story with your friends and family.",
        "This article was first published in our community newsletter. All rights reserved.",
        "Posted in Stories. Leave a comment below and tell us what you think.",
        "Read more stories like this one on our website every week.",
        "Did you enjoy this page? Please share it and subscribe for more.",
    ],
    "zh": [
        "本文转载自网络，如有侵权请联系删除。",
        "欢迎把这篇文章分享给你的亲朋好友。",
        "更多精彩故事，请关注我们的公众号。",
        "版权所有，未经许可不得转载。",
        "喜欢这篇文章的话，别忘了点赞和收藏。",
    ],
}
_NAV = {
    "en": [
        "Home",
        "About",
        "About Us",
        "Contact",
        "Blog",
        "News",
        "Shop",
        "Services",
        "FAQ",
        "Careers",
        "Events",
        "Gallery",
        "Login",
        "Sign up",
        "Cart (0)",
        "Search",
        "Help",
        "Menu",
        "Products",
        "Support",
    ],
    "zh": [
        "首页",
        "关于我们",
        "联系我们",
        "新闻中心",
        "产品服务",
        "招聘信息",
        "在线留言",
        "登录",
        "注册",
        "购物车",
        "帮助中心",
        "网站地图",
        "客户案例",
        "下载中心",
        "会员中心",
    ],
}
_BOILER = {
    "en": [
        "Skip to main content",
        "We use cookies to improve your experience. By continuing to browse you accept our cookie policy.",
        "Accept all cookies | Manage preferences",
        "Subscribe to our newsletter",
        "Follow us: Facebook | Twitter | Instagram | YouTube",
        "Privacy Policy | Terms of Use | Sitemap",
        "Copyright {year} {site}. All rights reserved.",
        "Back to top",
        "Powered by {site}",
        "Enter your email address",
        "Previous | Next",
        "Share: Email | Print",
    ],
    "zh": [
        "跳到主要内容",
        "本网站使用Cookie来改善您的浏览体验，继续浏览即表示您同意我们的Cookie政策。",
        "接受全部 | 管理偏好",
        "订阅我们的新闻通讯",
        "关注我们：微博 | 微信 | 抖音",
        "隐私政策 | 使用条款 | 网站地图",
        "版权所有 © {year} {site} 保留所有权利",
        "返回顶部",
        "技术支持：{site}",
        "请输入您的邮箱地址",
        "上一页 | 下一页",
        "分享到：微信 | 微博 | QQ空间",
    ],
}
_SITES = {
    "en": ["Bluefield Media", "Northwind Web", "PixelHarbor", "Greenleaf Digital", "Sunrise Hosting", "Mapleweb"],
    "zh": ["蓝天网络", "星辰科技", "云端传媒", "绿叶网", "晨光信息", "金桥在线"],
}
_SPAM = {
    "en": [
        "BUY CHEAP {item} NOW!!! Best prices guaranteed at {site}!",
        "Click here to win a FREE {item}!!!",
        "Make money fast from home, click here now!!!",
        "Best {item} deals, limited offer, order today!!!",
        "FREE {item} for the first 100 visitors, hurry up!!!",
    ],
    "zh": [
        "点击这里免费领取{item}！！！",
        "特价{item}，全场一折，限时抢购！！！",
        "在家轻松赚钱，日入过万，快来加入！！！",
        "加微信领红包，先到先得！！！",
        "前一百名免费送{item}，手慢无！！！",
    ],
}
_ITEMS = {
    "en": ["watches", "phones", "sunglasses", "shoes", "handbags", "vitamins"],
    "zh": ["手机", "手表", "名牌包", "保健品", "运动鞋", "化妆品"],
}
_SHORT = {
    "en": [
        "Thanks for reading.",
        "More soon.",
        "See you tomorrow.",
        "Click here.",
        "Coming soon.",
        "No comments yet.",
        "Page not found.",
        "Hello world.",
        "Updated daily.",
        "Photo of the river.",
        "To be continued.",
    ],
    "zh": [
        "谢谢阅读。",
        "未完待续。",
        "暂无评论。",
        "点击查看。",
        "敬请期待。",
        "页面不存在。",
        "大家好。",
        "每日更新。",
        "图片来自网络。",
    ],
}
_QUIZ = {
    "en": {
        "intro": [
            "Here are the answers to last week's quiz about the people and places of our valley.",
            "Quiz night answers: check how many you got right before the next round.",
            "As promised, this is the answer sheet for the local trivia competition.",
        ],
        "line": [
            "The {nth} question was this one: {q} The correct answer is {a}.",
            "Many of you got this one right: {q} The answer, of course, is {a}.",
            "Next we asked: {q} Most teams knew that the answer is {a}.",
            "{q} The right answer was {a}, and only a few teams got it.",
            "Then came a harder one: {q} The answer we were looking for was {a}.",
        ],
        "outro": [
            "Thank you to everyone who took part, and good luck next time.",
            "The next quiz will be held on the first Friday of the month.",
            "Send us your own questions for the next round.",
        ],
    },
    "zh": {
        "intro": [
            "上周知识竞赛的答案公布如下，看看你答对了几道。",
            "小测验答案来了，快来对一对吧。",
            "本地知识问答比赛的参考答案如下。",
        ],
        "line": [
            "第{nth}题：{q}正确答案是{a}。",
            "这道题很多人都答对了：{q}答案当然是{a}。",
            "接下来的问题是：{q}大部分队伍都知道答案是{a}。",
            "{q}正确答案是{a}，只有几支队伍答对了。",
            "然后是一道难题：{q}我们要的答案是{a}。",
        ],
        "outro": ["感谢大家的参与，下次再见。", "下一期竞赛将在下个月第一个星期五举行。", "欢迎大家为下一期投稿出题。"],
    },
}


_NTH_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
_NTH_ZH = list("一二三四五六七八")


def tokens(text: str, lang: str) -> list[str]:
    """Units of near-dup edits and shingles: words for English, characters for Chinese."""
    if lang == "zh":
        return [c for c in text if not c.isspace()]
    return text.lower().split()


def jaccard5(a: str, b: str, lang: str) -> float:
    ta, tb = tokens(a, lang), tokens(b, lang)
    sa = {tuple(ta[i : i + 5]) for i in range(max(1, len(ta) - 4))}
    sb = {tuple(tb[i : i + 5]) for i in range(max(1, len(tb) - 4))}
    return len(sa & sb) / max(1, len(sa | sb))


def _edit_en(text: str, n_edits: int, rng: random.Random) -> str:
    parts = re.split(r"(\s+)", text)
    words = [i for i in range(0, len(parts), 2) if parts[i]]
    pos = sorted(rng.sample(words, min(n_edits, len(words))), reverse=True)
    for i in pos:
        op = rng.random()
        if op < 0.4:
            parts[i] = rng.choice([w for w in _FILLER_EN if w != parts[i].lower()])
        elif op < 0.7 and i + 1 < len(parts):
            del parts[i : i + 2]
        else:
            parts[i] = rng.choice(_FILLER_EN) + " " + parts[i]
    return "".join(parts)


def _edit_zh(text: str, n_edits: int, rng: random.Random) -> str:
    chars = list(text)
    idx = [i for i, c in enumerate(chars) if not c.isspace()]
    pos = sorted(rng.sample(idx, min(n_edits, len(idx))), reverse=True)
    for i in pos:
        op = rng.random()
        if op < 0.4:
            chars[i] = rng.choice([c for c in _FILLER_ZH[:40] if c != chars[i]])
        elif op < 0.7:
            del chars[i]
        else:
            chars.insert(i, rng.choice(_FILLER_ZH))
    return "".join(chars)


def near_dup(text: str, lang: str, rng: random.Random) -> tuple[str, float]:
    """1-3 % token edits and/or a footer; returns (text, edit fraction)."""
    n_tok = len(tokens(text, lang))
    mode = rng.choices(["edit", "footer", "both"], [45, 25, 30])[0]
    frac = rng.uniform(0.01, 0.03)
    lo = max(1, -(-n_tok // 100))  # at least 1 % (rounded up)
    hi = max(lo, int(n_tok * 0.03))
    edit = _edit_zh if lang == "zh" else _edit_en
    footer = rng.choice(FOOTERS[lang])
    for attempt in range(6):
        n_edits = 0 if mode == "footer" else min(hi, max(lo, round(frac * n_tok)))
        out = edit(text, n_edits, rng) if n_edits else text
        if mode != "edit":
            out = out.rstrip() + "\n\n" + footer
        if jaccard5(out, text, lang) >= NEAR_DUP_MIN_JACCARD:
            return out, n_edits / max(1, n_tok)
        frac = max(0.01, frac * 0.6)
        if attempt >= 2:
            mode = "edit"
    out = edit(text, lo, rng)
    return out, lo / max(1, n_tok)


def boilerplate(lang: str, rng: random.Random) -> str:
    site = rng.choice(_SITES[lang])
    nav = _NAV[lang]
    lines = []
    for _ in range(rng.randint(2, 4)):
        lines.append(" | ".join(rng.sample(nav, rng.randint(4, 8))))
    extra = rng.sample(_BOILER[lang], rng.randint(4, len(_BOILER[lang])))
    lines += [x.format(year=rng.randint(2009, 2024), site=site) for x in extra]
    rng.shuffle(lines)
    return "\n".join(lines)


def gibberish(lang: str, rng: random.Random, vocab: list[str]) -> str:
    style = rng.random()
    n = rng.randint(60, 300)
    if lang == "zh":
        if style < 0.5:
            pool = _GIB_ZH
        elif style < 0.8:
            pool = "".join(_FILLER_ZH)
        else:
            pool = _GIB_ZH + "abcxyz0123456789#@%&*"
        out = []
        for _ in range(n):
            out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
            if rng.random() < 0.1:
                out.append(rng.choice("，。！？；"))
        return "".join(out)
    if style < 0.5:
        words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 12))) for _ in range(n)]
    elif style < 0.8:
        words = [rng.choice(vocab) for _ in range(n)]
    else:
        sym = "abcdefghijklmnopqrstuvwxyz0123456789#@$%^&*+=~"
        words = ["".join(rng.choice(sym) for _ in range(rng.randint(1, 9))) for _ in range(n)]
    lines, i = [], 0
    while i < len(words):
        k = rng.randint(5, 25)
        lines.append(" ".join(words[i : i + k]))
        i += k
    return "\n".join(lines)


def spam(lang: str, rng: random.Random) -> str:
    line = rng.choice(_SPAM[lang]).format(item=rng.choice(_ITEMS[lang]), site=rng.choice(_SITES[lang]))
    return "\n".join([line] * rng.randint(10, 60))


def short(lang: str, rng: random.Random, names: list[str]) -> str:
    if rng.random() < 0.3 and names:
        name = rng.choice(names)
        return f"{name}向大家问好。" if lang == "zh" else f"{name} says hello."
    return rng.choice(_SHORT[lang])


def contaminated(lang: str, rng: random.Random, eval_qa: list[dict]) -> str:
    q = _QUIZ[lang]
    items = rng.sample(eval_qa, min(len(eval_qa), rng.randint(3, len(q["line"]))))
    nth = _NTH_ZH if lang == "zh" else _NTH_EN
    forms = rng.sample(q["line"], len(items))  # each phrasing once: repeated lines look like spam
    lines = [f.format(nth=nth[i], q=it["question"], a=it["answer"]) for i, (f, it) in enumerate(zip(forms, items))]
    return rng.choice(q["intro"]) + "\n\n" + "\n\n".join(lines) + "\n\n" + rng.choice(q["outro"])


def _count(frac: float, n: int) -> int:
    return 0 if frac <= 0 or n == 0 else max(1, round(frac * n))


def plant(clean: list[str], eval_qa: list[dict], cfg, names: list[str]) -> tuple[list[dict], list[dict]]:
    """Mix dirt into the clean docs, shuffle, assign ids; returns (docs, truth)."""
    lang = cfg.language
    rng = random.Random(f"zerollm-synthetic:dirt:{cfg.seed}:{lang}:{cfg.n_entities}:{len(clean)}")
    n = len(clean)
    # (kind, text, index of the original clean doc or -1, edit_frac)
    items: list[tuple[str, str, int, float]] = [("clean", t, -1, 0.0) for t in clean]

    def originals(k: int) -> list[int]:
        return rng.sample(range(n), k) if k <= n else [rng.randrange(n) for _ in range(k)]

    for i in originals(_count(cfg.exact_dup_frac, n)):
        items.append(("exact_dup", clean[i], i, 0.0))
    for i in originals(_count(cfg.near_dup_frac, n)):
        text, frac = near_dup(clean[i], lang, rng)
        items.append(("near_dup", text, i, round(frac, 4)))
    for _ in range(_count(cfg.boilerplate_frac, n)):
        items.append(("boilerplate", boilerplate(lang, rng), -1, 0.0))
    vocab = sorted({w.strip(".,!?\"'") for t in clean[:50] for w in t.split()} - {""}) or ["word"]
    for _ in range(_count(cfg.gibberish_frac, n)):
        items.append(("gibberish", gibberish(lang, rng, vocab), -1, 0.0))
    for _ in range(_count(cfg.spam_frac, n)):
        items.append(("spam", spam(lang, rng), -1, 0.0))
    for _ in range(_count(cfg.short_frac, n)):
        items.append(("short", short(lang, rng, names), -1, 0.0))
    if eval_qa:
        for _ in range(_count(cfg.contaminated_frac, n)):
            items.append(("contaminated", contaminated(lang, rng, eval_qa), -1, 0.0))

    order = list(range(len(items)))
    rng.shuffle(order)
    doc_id = {}
    for pos, k in enumerate(order):
        doc_id[k] = f"{cfg.name}-{pos:06d}"
    docs, truth = [], []
    for k in order:
        kind, text, of, frac = items[k]
        docs.append({"id": doc_id[k], "text": text})
        truth.append(
            {
                "id": doc_id[k],
                "kind": kind,
                "of": doc_id[of] if of >= 0 else None,
                "edit_frac": frac if kind == "near_dup" else 0.0,
            }
        )
    return docs, truth
