"""The texts behind the shipped prompt files.

``scripts/make_prompts.py`` speaks each entry with espeak-ng (voice ``en-us`` for
``en``, ``cmn`` for ``zh``) into ``ivr/prompts/<lang>/<name>.wav``. The WAVs are committed,
so the product never needs espeak at run time; this table is what to edit (then rerun
the script) to change or add a prompt.

Two kinds of entries share one namespace per language:

* fragments (``ivr.speech.FRAGMENTS``): single words from which numbers, money and
  dates are put together;
* prompts (``PROMPTS`` below): whole sentences for the demo trees and for the queue
  announcements the voice side plays ("you are number ... in the queue").

A prompt's text is either a string or a list of ``(voice_lang, text)`` segments, used
for the bilingual language-choice prompt.
"""

from __future__ import annotations

from collections.abc import Iterable

from .speech import FRAGMENTS, LANGS

Text = str | list[tuple[str, str]]

_LANG_CHOICE_EN = [("en", "For English, press 1."), ("zh", "中文服务请按2。")]

PROMPTS: dict[str, dict[str, Text]] = {
    # ---- shared
    "lang_choice": {"en": _LANG_CHOICE_EN, "zh": list(reversed(_LANG_CHOICE_EN))},
    "invalid_option": {"en": "Sorry, that is not a valid option.",
                       "zh": "对不起，您的选择无效。"},
    "no_input": {"en": "Sorry, we did not receive your choice.",
                 "zh": "对不起，我们没有收到您的选择。"},
    "please_hold": {"en": "Please hold while we connect your call.",
                    "zh": "正在为您转接，请稍候。"},
    "goodbye": {"en": "Thank you for calling. Goodbye.", "zh": "感谢您的来电，再见。"},
    "operator": {"en": "Transferring you to the operator.", "zh": "正在为您转接总机。"},
    "leave_message": {"en": "Please leave your message after the tone. Press the pound key "
                            "when you are done.",
                      "zh": "请在提示音后留言，留言完毕请按井号键。"},
    "message_thanks": {"en": "Thank you. Your message has been recorded.",
                       "zh": "谢谢，您的留言已经录下。"},
    "callback_offer": {"en": "To get a call back at the number you are calling from, press 1. "
                             "To leave a message instead, press 2.",
                       "zh": "如需我们按您的来电号码回电，请按1。如需留言，请按2。"},
    "callback_confirmed": {"en": "Thank you. We will call you back, and you keep your place "
                                 "in line.",
                           "zh": "谢谢，我们会给您回电，并为您保留排队位置。"},
    # ---- queue announcements (played by the voice side while a caller waits)
    "queue_position_pre": {"en": "You are number", "zh": "您在队列中排第"},
    "queue_position_post": {"en": "in the queue.", "zh": "位。"},
    "wait_pre": {"en": "Your estimated wait is", "zh": "预计等待时间为"},
    "wait_under_minute": {"en": "Your estimated wait is less than one minute.",
                          "zh": "预计等待时间不到一分钟。"},
    # ---- demo tenant
    "demo_welcome": {"en": "Welcome to Demo Telecom.", "zh": "欢迎致电演示电信。"},
    "demo_welcome_back": {"en": "Welcome back to Demo Telecom. Thank you for being our "
                                "customer.",
                          "zh": "欢迎您再次致电演示电信，感谢您的支持。"},
    "demo_welcome_premium": {"en": "Welcome back. As a premium customer, you will be served "
                                   "with priority.",
                             "zh": "欢迎回来。作为尊贵客户，您将获得优先服务。"},
    "demo_welcome_business": {"en": "Welcome to the Demo Telecom business line.",
                              "zh": "欢迎致电演示电信企业客户专线。"},
    "demo_main_menu": {"en": "For sales, press 1. For technical support, press 2. "
                             "For your bill, press 3. For the operator, press 0.",
                       "zh": "销售请按1。技术支持请按2。账单查询请按3。总机请按0。"},
    "demo_main_menu_internet": {"en": "For sales, press 1. For technical support, press 2. "
                                      "For your bill, press 3. For help with your internet "
                                      "service, press 4. For the operator, press 0.",
                                "zh": "销售请按1。技术支持请按2。账单查询请按3。"
                                      "宽带服务请按4。总机请按0。"},
    "demo_support_menu": {"en": "For internet, press 1. For mobile, press 2. To report a "
                                "network outage, press 3. To go back, press star.",
                          "zh": "宽带问题请按1。手机问题请按2。报告网络故障请按3。"
                                "返回上一级请按星号键。"},
    "demo_enter_account": {"en": "Please enter your account number, followed by the pound key.",
                           "zh": "请输入您的账号，以井号键结束。"},
    "demo_invalid_account": {"en": "That account number is not valid.",
                             "zh": "您输入的账号无效。"},
    "demo_account_not_found": {"en": "We could not find that account.",
                               "zh": "我们没有找到该账号。"},
    "demo_bill_unavailable": {"en": "Your bill is not available right now.",
                              "zh": "暂时无法查询您的账单。"},
    "bill_balance_is": {"en": "Your current balance is", "zh": "您当前的账单余额为"},
    "bill_due_on": {"en": "The payment is due on", "zh": "付款截止日期为"},
    "bill_last_payment": {"en": "Your last payment of", "zh": "您最近一次付款金额为"},
    "bill_received_on": {"en": "was received on", "zh": "付款日期为"},
    "demo_bill_menu": {"en": "To speak to an agent, press 1. To hear this again, press 2. "
                             "To end this call, press 9.",
                       "zh": "人工服务请按1。重听请按2。结束通话请按9。"},
    "demo_closed": {"en": "Our office is closed now. Our hours are Monday to Friday, eight "
                          "in the morning to six in the evening.",
                    "zh": "现在是非工作时间。我们的工作时间是周一至周五，上午八点至下午六点。"},
    "demo_holiday": {"en": "Our office is closed today for a public holiday.",
                     "zh": "今天是公共假日，我们暂停服务。"},
    # ---- acme tenant
    "acme_welcome": {"en": "Thank you for calling Acme Supplies.",
                     "zh": "感谢您致电艾克美用品公司。"},
    "acme_main_menu": {"en": "For orders, press 1. For returns, press 2. For the operator, "
                             "press 0.",
                       "zh": "订单请按1。退货请按2。总机请按0。"},
    "acme_closed": {"en": "Acme Supplies is closed now.", "zh": "艾克美用品公司现在已下班。"},
}


def catalog(lang: str) -> dict[str, Text]:
    """Every name -> text for one language (fragments and prompts)."""
    out: dict[str, Text] = dict(FRAGMENTS[lang])
    for name, texts in PROMPTS.items():
        if lang in texts:
            if name in out:
                raise ValueError(f"prompt name {name!r} collides with a fragment")
            out[name] = texts[lang]
    return out


def spoken_text(names: Iterable[str], lang: str) -> str:
    """What a sequence of fragments/prompts says, as text (for tests and logs).

    English words are joined with spaces, Mandarin characters without.
    """
    table = catalog(lang)
    parts = []
    for name in names:
        text = table.get(name, f"<{name}>")
        parts.append(text if isinstance(text, str) else " ".join(t for _, t in text))
    return (" " if lang == "en" else "").join(parts)


def all_languages() -> tuple[str, ...]:
    return LANGS
