"""Numbers, digits, money and dates spoken from recorded fragments.

Every function returns a list of *fragment names*; ``PromptLibrary.files`` turns names
into WAV paths (``ivr/prompts/<lang>/<name>.wav``). Playing the files back to back speaks
the value. Names are ASCII: English fragments are the words themselves (``twenty``,
``dollars``), Mandarin fragments are pinyin with tone numbers (``bai3`` = 百,
``liang3`` = 两). ``FRAGMENTS[lang][name]`` is the text each fragment was generated from
(see scripts/make_prompts.py), and ``ivr.prompt_catalog.spoken_text`` joins a sequence
back into readable text for tests and logs.

English follows US usage: "one hundred twenty three dollars and forty five cents",
"March fifth", years as "twenty twenty five".

Mandarin rules (documented because they are choices):

* digits group by 万 (10^4) and 亿 (10^8); one 零 stands for any run of zeros between
  spoken digits, also across groups (10050 一万零五十, 100500 十万零五百);
* a number that starts with 10..19 drops the leading 一 (十五, 十万), inside a number it
  is kept (一百一十);
* 两 replaces 二 where speech customarily does: for a 2 in the 千 place, for a 2 in the
  百 place that starts its group (两百, but 两千二百), for a whole group of 2 before
  万/亿 (两万, 两亿), and for an amount of 2 before a currency unit (两元, 两角, 两美分);
  elsewhere 二 (二十二, 十二, 一万零二);
* money: 一百二十三元四角五分; 零 fills a missing 角 before 分 (一百元零五分); a whole
  amount of 元 ends with 整 (十二元整);
* dates: 二零二五年三月五日 (the year digit by digit).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

LANGS = ("en", "zh")

# ------------------------------------------------------------------ English words

_EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy",
            8: "eighty", 9: "ninety"}
_EN_ORD = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
_EN_ORD_TENS = {2: "twentieth", 3: "thirtieth"}
_EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))

# currency -> (major singular, major plural, minor singular, minor plural)
_EN_MONEY = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "CNY": ("yuan", "yuan", "fen", "fen"),
}

# ------------------------------------------------------------------ Mandarin pinyin

_ZH_DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
_ZH_TEXT = {
    "ling2": "零", "yi1": "一", "er4": "二", "liang3": "两", "san1": "三", "si4": "四",
    "wu3": "五", "liu4": "六", "qi1": "七", "ba1": "八", "jiu3": "九", "shi2": "十",
    "bai3": "百", "qian1": "千", "wan4": "万", "yi4": "亿", "fu4": "负", "dian3": "点",
    "yuan2": "元", "jiao3": "角", "fen1": "分", "zheng3": "整", "mei3yuan2": "美元",
    "mei3fen1": "美分", "ou1yuan2": "欧元", "ou1fen1": "欧分", "ying1bang4": "英镑",
    "bian4shi4": "便士", "nian2": "年", "yue4": "月", "ri4": "日", "xing1hao4": "星号",
    "jing3hao4": "井号", "fen1zhong1": "分钟",
}
# currency -> (major unit, minor unit); CNY uses 元/角/分 instead
_ZH_MONEY = {"USD": ("mei3yuan2", "mei3fen1"), "EUR": ("ou1yuan2", "ou1fen1"),
             "GBP": ("ying1bang4", "bian4shi4")}

CURRENCIES = tuple(sorted(_EN_MONEY))
MAX_NUMBER = 10**12 - 1


def _en_words() -> dict[str, str]:
    words = set(_EN_ONES) | set(_EN_TENS.values()) | set(_EN_ORD[1:]) | set(_EN_ORD_TENS.values())
    words |= set(_EN_MONTHS) | {s for _, s in _EN_SCALES} | {"hundred", "minus", "point", "and",
                                                               "oh", "star", "pound"}
    for names in _EN_MONEY.values():
        words |= set(names)
    words |= {"minute", "minutes"}
    return {w: w for w in sorted(words)}


FRAGMENTS: dict[str, dict[str, str]] = {"en": _en_words(), "zh": dict(_ZH_TEXT)}


class SpeechError(ValueError):
    pass


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise SpeechError(f"unsupported language {lang!r} (have {', '.join(LANGS)})")
    return lang


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise SpeechError(f"not a number: {value!r}")
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise SpeechError(f"not a number: {value!r}") from None


# ------------------------------------------------------------------ English numbers


def _en_below_1000(n: int) -> list[str]:
    out: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        out += [_EN_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        out.append(_EN_TENS[tens])
        if ones:
            out.append(_EN_ONES[ones])
    elif rest or not out:
        out.append(_EN_ONES[rest])
    return out


def _en_int(n: int) -> list[str]:
    if n == 0:
        return ["zero"]
    out: list[str] = []
    for size, name in _EN_SCALES:
        if n >= size:
            out += _en_below_1000(n // size) + [name]
            n %= size
    if n:
        out += _en_below_1000(n)
    return out


def _en_ordinal(n: int) -> list[str]:
    if 1 <= n < 20:
        return [_EN_ORD[n]]
    tens, ones = divmod(n, 10)
    if 2 <= tens <= 3:
        return [_EN_ORD_TENS[tens]] if ones == 0 else [_EN_TENS[tens], _EN_ORD[ones]]
    raise SpeechError(f"ordinal {n} not supported (1..39)")


def _en_year(y: int) -> list[str]:
    if 2000 <= y < 2010:
        return ["two", "thousand"] + ([_EN_ONES[y - 2000]] if y > 2000 else [])
    hi, lo = divmod(y, 100)
    if not 10 <= hi <= 99:
        return _en_int(y)
    out = _en_below_1000(hi)
    if lo == 0:
        return out + ["hundred"]
    if lo < 10:
        return out + ["oh", _EN_ONES[lo]]
    return out + _en_below_1000(lo)


# ------------------------------------------------------------------ Mandarin numbers


def _zh_group(g: int, first_group: bool, unit: str | None) -> list[str]:
    """Say 1..9999 within one 万-group. Leading zeros of the group are the caller's."""
    digits = [g // 1000, g // 100 % 10, g // 10 % 10, g % 10]
    places = ["qian1", "bai3", "shi2", None]
    out: list[str] = []
    pending_zero = False
    for pos, d in enumerate(digits):
        if d == 0:
            if out:
                pending_zero = True
            continue
        if pending_zero:
            out.append("ling2")
            pending_zero = False
        place = places[pos]
        leading = not out
        if d == 2 and (place == "qian1" or (place == "bai3" and leading)):
            out.append("liang3")
        elif d == 2 and place is None and leading and unit in ("wan4", "yi4"):
            out.append("liang3")  # 两万, 两亿
        elif d == 1 and place == "shi2" and leading and first_group:
            pass  # 十五, not 一十五, at the very start of the number
        else:
            out.append(_ZH_DIGITS[d])
        if place:
            out.append(place)
    return out


def _zh_int(n: int) -> list[str]:
    if n == 0:
        return ["ling2"]
    groups = [(n // 10**8, "yi4"), (n // 10**4 % 10**4, "wan4"), (n % 10**4, None)]
    out: list[str] = []
    zero_gap = False
    for g, unit in groups:
        if g == 0:
            if out:
                zero_gap = True
            continue
        if out and (zero_gap or g < 1000):
            out.append("ling2")  # 一万零五百, 一亿零五万
        zero_gap = False
        out += _zh_group(g, first_group=not out, unit=unit)
        if unit:
            out.append(unit)
    return out


def _zh_measure(n: int) -> list[str]:
    """A count before a measure word (元, 角, 分, 美分): 2 is 两."""
    return ["liang3"] if n == 2 else _zh_int(n)


# ------------------------------------------------------------------ public API


def say_number(n: Any, lang: str) -> list[str]:
    """Fragments for an integer or decimal number (``12.5`` -> twelve point five)."""
    _check_lang(lang)
    value = _to_decimal(n)
    if not value.is_finite():
        raise SpeechError(f"not a finite number: {n!r}")
    out: list[str] = []
    if value < 0:
        out.append("minus" if lang == "en" else "fu4")
        value = -value
    whole = int(value)
    if whole > MAX_NUMBER:
        raise SpeechError(f"{n!r} is too large to speak (max {MAX_NUMBER})")
    out += _en_int(whole) if lang == "en" else _zh_int(whole)
    frac = format(value, "f").partition(".")[2].rstrip("0")
    if frac:
        out.append("point" if lang == "en" else "dian3")
        out += say_digits(frac, lang)
    return out


def say_digits(text: Any, lang: str) -> list[str]:
    """Digit by digit (account numbers, phone numbers); ``*`` and ``#`` are named,
    anything else (spaces, dashes) is skipped."""
    _check_lang(lang)
    out: list[str] = []
    for ch in str(text):
        if ch.isdigit() and ch.isascii():
            out.append(_EN_ONES[int(ch)] if lang == "en" else _ZH_DIGITS[int(ch)])
        elif ch == "*":
            out.append("star" if lang == "en" else "xing1hao4")
        elif ch == "#":
            out.append("pound" if lang == "en" else "jing3hao4")
    return out


def say_currency(amount: Any, currency: str, lang: str) -> list[str]:
    """Fragments for a money amount, rounded half-up to hundredths."""
    _check_lang(lang)
    code = str(currency).upper()
    if code not in _EN_MONEY:
        raise SpeechError(f"unsupported currency {currency!r} (have {', '.join(CURRENCIES)})")
    value = _to_decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    out: list[str] = []
    if value < 0:
        out.append("minus" if lang == "en" else "fu4")
        value = -value
    major = int(value)
    minor = int((value - major) * 100)
    if major > MAX_NUMBER:
        raise SpeechError(f"{amount!r} is too large to speak")
    if lang == "en":
        one, many, sub_one, sub_many = _EN_MONEY[code]
        if major or not minor:
            out += _en_int(major) + [one if major == 1 else many]
        if minor:
            if major:
                out.append("and")
            out += _en_int(minor) + [sub_one if minor == 1 else sub_many]
        return out
    if code == "CNY":
        jiao, fen = divmod(minor, 10)
        if major:
            out += _zh_measure(major) + ["yuan2"]
        if jiao:
            out += _zh_measure(jiao) + ["jiao3"]
        elif fen and major:
            out.append("ling2")
        if fen:
            out += _zh_measure(fen) + ["fen1"]
        if not minor:
            out += ["zheng3"] if major else ["ling2", "yuan2"]
        return out
    major_unit, minor_unit = _ZH_MONEY[code]
    if major or not minor:
        out += _zh_measure(major) + [major_unit]
    if minor:
        out += _zh_measure(minor) + [minor_unit]
    return out


def to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise SpeechError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def say_date(date: Any, lang: str, year: bool = False) -> list[str]:
    """"March fifth" / 三月五日; with ``year``: "March fifth twenty twenty five" /
    二零二五年三月五日."""
    _check_lang(lang)
    d = to_date(date)
    if lang == "en":
        out = [_EN_MONTHS[d.month - 1]] + _en_ordinal(d.day)
        return out + _en_year(d.year) if year else out
    out = say_digits(f"{d.year:04d}", "zh") + ["nian2"] if year else []
    return out + _zh_int(d.month) + ["yue4"] + _zh_int(d.day) + ["ri4"]


def say_queue_position(position: int, lang: str) -> list[str]:
    """"You are number 3 in the queue" / 您在队列中排第三位 (prompts + number)."""
    _check_lang(lang)
    if position < 1:
        raise SpeechError(f"queue position must be >= 1, got {position}")
    number = _en_int(position) if lang == "en" else _zh_int(position)
    return ["queue_position_pre", *number, "queue_position_post"]


def say_estimated_wait(seconds: float, lang: str) -> list[str]:
    """"Your estimated wait is 4 minutes" (rounded up); under a minute has its own prompt."""
    _check_lang(lang)
    if seconds < 60:
        return ["wait_under_minute"]
    minutes = math.ceil(seconds / 60)
    if lang == "en":
        return ["wait_pre", *_en_int(minutes), "minute" if minutes == 1 else "minutes"]
    return ["wait_pre", *_zh_int(minutes), "fen1zhong1"]
