"""Lead phrases of UN General Assembly resolutions, English and Chinese.

Every preambular paragraph opens with a participle or adjective ("Recalling also",
"Deeply concerned", "又注意到") and every operative paragraph with a verb ("Calls upon",
"促请"). The printed resolution sets them in italics; many conversions lose that mark
(seeds 000 and 002 for the preamble, most of 003's), so the extractor recognises them
from these lists, and uses the same lists to find where a converter ran paragraphs
together on one line. The lists follow the GA Editorial Manual's usual phrases.
"""

from __future__ import annotations

import re

# fmt: off
# Preambular phrases (participles, adjectives, "Having ..." forms).
EN_PREAMBULAR = (
    "Acknowledging", "Affirming", "Alarmed", "Appreciating", "Aware", "Bearing in mind",
    "Believing", "Cognizant", "Commending", "Concerned", "Condemning", "Confident",
    "Confirming", "Conscious", "Considering", "Convinced", "Declaring", "Deploring",
    "Desiring", "Desirous", "Determined", "Emphasizing", "Emphasising", "Encouraged",
    "Encouraging", "Expressing", "Expressing appreciation", "Expressing concern",
    "Expressing deep concern", "Expressing grave concern", "Expressing serious concern",
    "Expressing its appreciation", "Expressing its deep appreciation",
    "Expressing its concern", "Expressing its deep concern", "Expressing its gratitude",
    "Expressing its support", "Expressing satisfaction", "Expressing regret",
    "Guided by", "Having adopted", "Having considered", "Having examined",
    "Having heard", "Having received", "Having reviewed", "Having studied", "Highlighting",
    "Inspired by", "Keeping in mind", "Looking forward", "Mindful", "Noting", "Observing",
    "Paying tribute", "Persuaded", "Pointing out", "Reaffirming", "Realizing", "Recalling",
    "Recognizing", "Recognising", "Regretting", "Reiterating", "Reminding", "Resolved",
    "Seeking", "Stressing", "Taking into account", "Taking into consideration",
    "Taking note", "Underlining", "Underscoring", "Viewing with appreciation", "Welcoming",
    "Wishing",
)

# Operative verbs (third person singular: "The General Assembly ... Decides").
EN_OPERATIVE = (
    "Accepts", "Acknowledges", "Adopts", "Affirms", "Agrees", "Appeals", "Appoints",
    "Appreciates", "Approves", "Authorizes", "Calls for", "Calls on", "Calls upon",
    "Commends", "Condemns", "Confirms", "Congratulates", "Considers", "Decides",
    "Declares", "Deplores", "Designates", "Demands", "Directs", "Elects", "Emphasizes",
    "Emphasises", "Encourages", "Endorses", "Establishes", "Expresses",
    "Expresses its appreciation", "Expresses its concern", "Expresses its deep concern",
    "Expresses its gratitude", "Expresses its support", "Expresses concern",
    "Expresses deep concern", "Expresses appreciation", "Extends", "Highlights", "Invites",
    "Is convinced", "Looks forward", "Notes", "Proclaims", "Reaffirms", "Recalls",
    "Recognizes", "Recognises", "Recommends", "Regrets", "Reiterates", "Reminds", "Renews",
    "Requests", "Resolves", "Stresses", "Supports", "Takes note", "Underlines",
    "Underscores", "Urges", "Welcomes",
)

# Adverbs that may precede a phrase ("Deeply concerned", "Further requests").
EN_PREFIXES = (
    "Also", "Again", "Deeply", "Firmly", "Fully", "Further", "Gravely", "Most",
    "Once again", "Profoundly", "Seriously", "Solemnly", "Strongly", "Further strongly",
)

# What may follow a phrase ("Recalling also", "Notes with appreciation").
EN_MODIFIERS = (
    "also", "further", "again", "once again", "furthermore", "moreover",
    r"with (?:deep |great |grave |serious |profound |particular )?"
    r"(?:appreciation|satisfaction|concern|regret|gratitude|interest|alarm)",
)

ZH_PREAMBULAR = (
    "回顾", "忆及", "重申", "确认", "认识到", "承认", "注意到", "表示注意到", "满意地注意到",
    "赞赏地注意到", "关切地注意到", "欢迎", "欣见", "强调", "着重指出", "指出", "深为关切",
    "深表关切", "严重关切", "关切", "表示关切", "震惊", "深感震惊", "意识到", "铭记", "念及",
    "深信", "坚信", "确信", "相信", "认为", "考虑到", "决心", "希望", "期望", "申明", "感谢",
    "赞赏", "表示赞赏", "赞扬", "称赞", "谴责", "强烈谴责", "遗憾", "深感遗憾", "遵循",
    "本着", "重视", "认可", "支持",
)

ZH_OPERATIVE = (
    "促请", "呼吁", "吁请", "敦促", "强烈敦促", "鼓励", "请", "决定", "邀请", "欢迎", "注意到",
    "表示注意到", "重申", "强调", "着重指出", "确认", "承认", "赞赏", "表示赞赏", "感谢",
    "表示感谢", "赞扬", "称赞", "谴责", "强烈谴责", "要求", "建议", "授权", "核可", "核准",
    "通过", "宣布", "宣告", "支持", "同意", "认为", "深信", "回顾", "表示关切", "深表关切",
    "关切", "遗憾", "深感遗憾", "提醒", "敦请", "请求", "期待", "赞同", "申明", "认可",
)

ZH_PREFIXES = ("又", "还", "并", "也", "再次", "进一步", "同时", "亦")
# fmt: on


def _alternation(phrases: tuple[str, ...] | list[str]) -> str:
    """Regex alternation, longest first, so "Taking note" wins over "Taking"."""
    unique = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in unique)


_EN_BASE = _alternation(EN_PREAMBULAR + EN_OPERATIVE)
_EN_PREFIX = _alternation(EN_PREFIXES)
_EN_MODIFIER = "|".join(EN_MODIFIERS)
EN_LEAD_RE = re.compile(
    rf"(?:(?:{_EN_PREFIX})\s+)?(?:{_EN_BASE})(?:\s+(?:{_EN_MODIFIER}))*(?=$|[\s,.;:*])",
    re.IGNORECASE,
)
EN_PREAMBULAR_LEAD_RE = re.compile(
    rf"(?:(?:{_EN_PREFIX})\s+)?(?:{_alternation(EN_PREAMBULAR)})(?:\s+(?:{_EN_MODIFIER}))*"
    r"(?=$|[\s,.;:*])",
    re.IGNORECASE,
)
_ZH_BASE = _alternation(ZH_PREAMBULAR + ZH_OPERATIVE)
ZH_LEAD_RE = re.compile(rf"(?:{_alternation(ZH_PREFIXES)})?(?:{_ZH_BASE})")


EN_OPERATIVE_LEAD_RE = re.compile(
    rf"(?:(?:{_EN_PREFIX})\s+)?(?:{_alternation(EN_OPERATIVE)})(?=$|[\s,.;:*])"
)
#: Chinese operative verbs that never open a preambular paragraph ("促请", "决定"; not
#: "欢迎" or "注意到", which open both).
_ZH_OPERATIVE_ONLY = sorted(set(ZH_OPERATIVE) - set(ZH_PREAMBULAR))
ZH_OPERATIVE_ONLY_RE = re.compile(
    rf"(?:{_alternation(ZH_PREFIXES)})?(?:{_alternation(_ZH_OPERATIVE_ONLY)})"
)


def opens_operative(text: str, lang: str) -> bool:
    """True when clean ``text`` opens with an operative verb only: "Calls upon",
    "Further requests", "促请", "又决定" (a third-person verb in English; in Chinese a verb
    no preambular paragraph opens with)."""
    if lang == "zh":
        return bool(ZH_OPERATIVE_ONLY_RE.match(text))
    return bool(text[:1].isupper() and EN_OPERATIVE_LEAD_RE.match(text))


def is_preambular_lead(lead: str) -> bool:
    """True for an English preambular phrase ("Recalling also"), False for a verb ("Notes")."""
    match = EN_PREAMBULAR_LEAD_RE.match(lead)
    return bool(match) and match.group(0) == lead


def match_lead(text: str, lang: str) -> str | None:
    """The lead phrase at the very start of clean ``text``, or None.

    English phrases must start with a capital letter (a paragraph's first word);
    a lower-case "recalling" is inside a sentence, not a lead.
    """
    if not text:
        return None
    if lang == "zh":
        match = ZH_LEAD_RE.match(text)
        return match.group(0) if match else None
    if not text[0].isupper():
        return None
    match = EN_LEAD_RE.match(text)
    return re.sub(r"\s+", " ", match.group(0)) if match else None
