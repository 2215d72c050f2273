"""Numbers, money and dates spoken from fragments, in English and Mandarin."""

from __future__ import annotations

import datetime as dt
import wave
from decimal import Decimal

import pytest

from ivr.prompt_catalog import PROMPTS, catalog, spoken_text
from ivr.prompts import BUILTIN_ROOT, builtin_library
from ivr.speech import (
    FRAGMENTS,
    SpeechError,
    say_currency,
    say_date,
    say_digits,
    say_estimated_wait,
    say_number,
    say_queue_position,
)

EN_NUMBERS = [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (42, "forty two"),
    (100, "one hundred"), (101, "one hundred one"), (123, "one hundred twenty three"),
    (1000, "one thousand"), (1005, "one thousand five"),
    (21_000, "twenty one thousand"), (1_000_001, "one million one"),
    (987_654_321, ("nine hundred eighty seven million six hundred fifty four thousand "
                   "three hundred twenty one")),
    (2_000_000_000, "two billion"), (-15, "minus fifteen"),
    (Decimal("3.25"), "three point two five"), ("12.50", "twelve point five"),
]

ZH_NUMBERS = [
    (0, "零"), (2, "二"), (10, "十"), (12, "十二"), (15, "十五"), (20, "二十"), (22, "二十二"),
    (110, "一百一十"), (200, "两百"), (220, "两百二十"), (1005, "一千零五"), (1050, "一千零五十"),
    (1200, "一千二百"), (2000, "两千"), (2200, "两千二百"), (10_000, "一万"),
    (10_010, "一万零一十"), (10_050, "一万零五十"), (20_000, "两万"), (22_000, "两万两千"),
    (100_000, "十万"), (100_500, "十万零五百"), (120_000, "十二万"), (200_000, "二十万"),
    (1_000_500, "一百万零五百"), (100_000_000, "一亿"), (200_000_000, "两亿"),
    (120_000_000, "一亿两千万"), (100_050_000, "一亿零五万"), (-3, "负三"),
    (Decimal("3.14"), "三点一四"),
]

EN_MONEY = [
    ("123.45", "USD", "one hundred twenty three dollars and forty five cents"),
    ("1.00", "USD", "one dollar"), ("1.01", "USD", "one dollar and one cent"),
    ("0.45", "USD", "forty five cents"), ("0", "USD", "zero dollars"),
    (Decimal("2.5"), "EUR", "two euros and fifty cents"),
    (19.999, "USD", "twenty dollars"),           # rounds half-up to cents
    ("3.02", "GBP", "three pounds and two pence"), ("1.01", "GBP", "one pound and one penny"),
    ("-4.10", "USD", "minus four dollars and ten cents"),
    ("1,250.00", "USD", "one thousand two hundred fifty dollars"),
]

ZH_MONEY = [
    ("123.45", "CNY", "一百二十三元四角五分"), ("100.05", "CNY", "一百元零五分"),
    ("100.50", "CNY", "一百元五角"), ("12", "CNY", "十二元整"), ("2", "CNY", "两元整"),
    ("0.05", "CNY", "五分"), ("0.20", "CNY", "两角"), ("0", "CNY", "零元"),
    ("10.22", "CNY", "十元两角两分"), ("20002", "CNY", "两万零二元整"),
    ("123.45", "USD", "一百二十三美元四十五美分"), ("2.02", "USD", "两美元两美分"),
    ("8", "EUR", "八欧元"), ("-1.5", "CNY", "负一元五角"),
]

DATES = [
    ("2025-03-05", False, "en", "march fifth"),
    ("2025-03-05", True, "en", "march fifth twenty twenty five"),
    (dt.date(2024, 12, 31), False, "en", "december thirty first"),
    (dt.date(2025, 7, 22), False, "en", "july twenty second"),
    (dt.date(2025, 1, 20), False, "en", "january twentieth"),
    (dt.date(2005, 2, 1), True, "en", "february first two thousand five"),
    (dt.date(1999, 11, 11), True, "en", "november eleventh nineteen ninety nine"),
    (dt.date(1905, 6, 30), True, "en", "june thirtieth nineteen oh five"),
    (dt.datetime(2025, 3, 5, 14, 0), False, "zh", "三月五日"),
    ("2025-03-05", True, "zh", "二零二五年三月五日"),
    ("2025-12-22", False, "zh", "十二月二十二日"),
    ("2025-02-02", False, "zh", "二月二日"),
]


@pytest.mark.parametrize("n,text", EN_NUMBERS)
def test_english_numbers(n, text):
    assert spoken_text(say_number(n, "en"), "en") == text


@pytest.mark.parametrize("n,text", ZH_NUMBERS)
def test_mandarin_numbers(n, text):
    assert spoken_text(say_number(n, "zh"), "zh") == text


@pytest.mark.parametrize("amount,code,text", EN_MONEY)
def test_english_currency(amount, code, text):
    assert spoken_text(say_currency(amount, code, "en"), "en") == text


@pytest.mark.parametrize("amount,code,text", ZH_MONEY)
def test_mandarin_currency(amount, code, text):
    assert spoken_text(say_currency(amount, code, "zh"), "zh") == text


@pytest.mark.parametrize("date,year,lang,text", DATES)
def test_dates(date, year, lang, text):
    assert spoken_text(say_date(date, lang, year=year), lang) == text


def test_fragment_names_are_exact_sequences():
    # The sequence itself (what the media plane plays), not just its text.
    assert say_currency("123.45", "USD", "en") == [
        "one", "hundred", "twenty", "three", "dollars", "and", "forty", "five", "cents"]
    assert say_currency("123.45", "CNY", "zh") == [
        "yi1", "bai3", "er4", "shi2", "san1", "yuan2", "si4", "jiao3", "wu3", "fen1"]


def test_digits_both_languages():
    assert spoken_text(say_digits("40-1*#", "en"), "en") == "four zero one star pound"
    assert spoken_text(say_digits("2019", "zh"), "zh") == "二零一九"


@pytest.mark.parametrize("position,lang,text", [
    (1, "en", "You are number one in the queue."), (12, "en", "You are number twelve in the queue."),
    (3, "zh", "您在队列中排第三位。"), (2, "zh", "您在队列中排第二位。"),
])
def test_queue_position(position, lang, text):
    assert spoken_text(say_queue_position(position, lang), lang) == text


@pytest.mark.parametrize("seconds,lang,text", [
    (30, "en", "Your estimated wait is less than one minute."),
    (60, "en", "Your estimated wait is one minute"),
    (181, "en", "Your estimated wait is four minutes"),
    (600, "zh", "预计等待时间为十分钟"),
])
def test_estimated_wait(seconds, lang, text):
    assert spoken_text(say_estimated_wait(seconds, lang), lang) == text


@pytest.mark.parametrize("call", [
    lambda: say_number("abc", "en"), lambda: say_number(10**12, "en"),
    lambda: say_number(1, "fr"), lambda: say_currency("1", "JPY", "en"),
    lambda: say_date("yesterday", "en"), lambda: say_queue_position(0, "en"),
    lambda: say_number(True, "en"),
])
def test_bad_input_raises_speech_error(call):
    with pytest.raises(SpeechError):
        call()


def test_every_spoken_fragment_is_in_the_catalog():
    produced = set()
    for n in list(range(1200)) + [10**k for k in range(12)] + [123_456_789_012 // 10]:
        produced.update(say_number(n, "en"))
    for d in range(1, 32):
        produced.update(say_date(dt.date(2024, 1, d), "en", year=True))
    for m in range(1, 13):
        produced.update(say_date(dt.date(2024, m, 1), "en"))
    for code in ("USD", "EUR", "GBP", "CNY"):
        produced.update(say_currency("1.01", code, "en"))
        produced.update(say_currency("2.02", code, "en"))
    produced.update(say_digits("0123456789*#", "en"))
    assert produced <= set(FRAGMENTS["en"])
    zh = set()
    for n in list(range(1200)) + [10**k for k in range(12)] + [2 * 10**k for k in range(12)]:
        zh.update(say_number(n, "zh"))
    for code in ("USD", "EUR", "GBP", "CNY"):
        for amount in ("0", "1.01", "2.20", "0.02"):
            zh.update(say_currency(amount, code, "zh"))
    zh.update(say_date("2025-12-31", "zh", year=True))
    zh.update(say_digits("0123456789*#", "zh"))
    zh.update(say_number("-1.5", "zh"))
    zh.update(say_estimated_wait(300, "zh"))
    assert zh - {"wait_pre"} <= set(FRAGMENTS["zh"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_catalog_entry_has_a_16k_mono_wav(lang):
    lib = builtin_library()
    for name in catalog(lang):
        assert lib.has(name, lang), f"{lang}/{name}.wav missing: run scripts/make_prompts.py"
    # format check on a sample of fragments and prompts (reading all is needlessly slow)
    for name in list(FRAGMENTS[lang])[:5] + list(PROMPTS)[:5]:
        with wave.open(lib.path(name, lang), "rb") as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            assert w.getnframes() > 1600      # more than 0.1 s: not an empty file


def test_prompt_files_stay_small():
    total = sum(p.stat().st_size for p in BUILTIN_ROOT.glob("*/*.wav"))
    assert 0 < total < 15_000_000
