"""Reply → LINE message JSON: limits and degradations (no network, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.channels.line.render import LineRenderer, split_text
from bot.core.messages import Attachment, Button, ButtonKind, MemberCardView, Reply


class Publisher:
    """Collects published media; ``base=None`` behaves as a server without a public URL."""

    def __init__(self, base: str | None = "https://shop.example") -> None:
        self.base = base
        self.stored: list[tuple[str, str, bytes, timedelta]] = []
        self.lives: list[tuple[datetime | None, int | None]] = []

    async def __call__(
        self,
        filename: str,
        mime_type: str,
        content: bytes,
        ttl: timedelta,
        *,
        until: datetime | None = None,
        coupon_id: int | None = None,
    ) -> str | None:
        if self.base is None:
            return None
        self.stored.append((filename, mime_type, content, ttl))
        self.lives.append((until, coupon_id))
        return f"{self.base}/media/tok{len(self.stored)}/{filename}"


async def render(*replies: Reply, publisher: Publisher | None = None) -> list[dict[str, Any]]:
    return await LineRenderer(publisher or Publisher(), "Cha Yen").render(replies, "th")


CARD = MemberCardView(
    name="Ploy", member_code="M1234", tier="Silver", points=1250, qr_payload="x", qr_png=b"png"
)


async def test_plain_text_is_one_text_message() -> None:
    assert await render(Reply(text="สวัสดีค่ะ")) == [{"type": "text", "text": "สวัสดีค่ะ"}]


async def test_text_over_5000_characters_is_split_into_messages_within_the_limit() -> None:
    text = ("ก" * 99 + "\n") * 120  # 12,000 characters
    messages = await render(Reply(text=text))
    assert len(messages) == 3
    assert all(len(m["text"]) <= 5000 for m in messages)
    assert "".join(m["text"] for m in messages).replace("\n", "") == text.replace("\n", "")


def test_split_without_any_break_cuts_hard_at_the_limit() -> None:
    assert [len(p) for p in split_text("x" * 12000)] == [5000, 5000, 2000]


async def test_buttons_of_the_last_reply_become_postback_quick_replies() -> None:
    buttons = (Button("ยอมรับ", "signup:accept"), Button("ไม่ยอมรับ", "signup:decline"))
    [message] = await render(Reply(text="ยินยอมไหมคะ", buttons=buttons))
    items = message["quickReply"]["items"]
    assert [i["action"] for i in items] == [
        {"type": "postback", "label": "ยอมรับ", "data": "signup:accept", "displayText": "ยอมรับ"},
        {
            "type": "postback",
            "label": "ไม่ยอมรับ",
            "data": "signup:decline",
            "displayText": "ไม่ยอมรับ",
        },
    ]


async def test_quick_reply_label_is_cut_to_20_characters_but_echo_keeps_the_full_label() -> None:
    label = "ยอมรับเงื่อนไขและสมัครสมาชิกเลยค่ะ"
    [message] = await render(Reply(text="?", buttons=(Button(label, "signup:accept"),)))
    action = message["quickReply"]["items"][0]["action"]
    # 19 characters, not 20: the 20th would split "มั" (a consonant and its vowel mark)
    assert action["label"] == "ยอมรับเงื่อนไขและส…"
    assert len(action["label"]) <= 20
    assert action["displayText"] == label


async def test_share_contact_buttons_are_dropped_on_line() -> None:
    buttons = (
        Button("แชร์เบอร์", kind=ButtonKind.SHARE_CONTACT),
        Button("ข้าม", "signup:skip"),
    )
    [message] = await render(Reply(text="พิมพ์เบอร์โทรค่ะ", buttons=buttons))
    assert [i["action"]["data"] for i in message["quickReply"]["items"]] == ["signup:skip"]


async def test_only_share_contact_button_leaves_a_plain_text_message() -> None:
    reply = Reply(text="พิมพ์เบอร์", buttons=(Button("แชร์", kind=ButtonKind.SHARE_CONTACT),))
    assert await render(reply) == [{"type": "text", "text": "พิมพ์เบอร์"}]


async def test_url_button_becomes_a_uri_quick_reply() -> None:
    button = Button("เว็บไซต์", kind=ButtonKind.URL, url="https://shop.example/menu")
    [message] = await render(Reply(text="ดูเมนู", buttons=(button,)))
    assert message["quickReply"]["items"][0]["action"] == {
        "type": "uri",
        "label": "เว็บไซต์",
        "uri": "https://shop.example/menu",
    }


async def test_more_than_13_buttons_become_a_flex_bubble_of_postback_buttons() -> None:
    buttons = tuple(Button(f"สาขา {i}", f"signup:branch:{i}") for i in range(15))
    messages = await render(Reply(text="เลือกสาขา", buttons=buttons))
    assert messages[0] == {"type": "text", "text": "เลือกสาขา"}
    flex = messages[1]
    assert flex["type"] == "flex"
    assert flex["altText"] == "เลือกสาขา"
    actions = [c["action"] for c in flex["contents"]["body"]["contents"]]
    assert [a["data"] for a in actions] == [f"signup:branch:{i}" for i in range(15)]
    assert all(a["type"] == "postback" for a in actions)


async def test_buttons_of_an_earlier_reply_become_a_flex_bubble_so_they_stay_visible() -> None:
    first = Reply(text="เลือก", buttons=(Button("A", "x:a"),))
    messages = await render(first, Reply(text="ต่อไป"))
    assert [m["type"] for m in messages] == ["text", "flex", "text"]
    assert "quickReply" not in messages[-1]


async def test_card_is_a_flex_bubble_with_the_qr_image_when_there_is_a_public_url() -> None:
    publisher = Publisher()
    [flex] = await render(Reply(card=CARD), publisher=publisher)
    assert flex["type"] == "flex"
    assert "Ploy" in flex["altText"]
    assert "1,250" in flex["altText"]
    bubble = flex["contents"]
    assert bubble["hero"]["url"].startswith("https://shop.example/media/")
    texts = [c.get("text") for c in bubble["body"]["contents"]]
    texts += [c.get("text") for b in bubble["body"]["contents"] for c in b.get("contents", [])]
    assert {"Ploy", "Silver", "1,250", "M1234"} <= set(texts)
    assert publisher.stored[0][1:3] == ("image/png", b"png")


async def test_card_header_is_the_shop_name_the_card_carries() -> None:
    """The name set in /settings (carried by the card) wins over the configured one."""
    [flex] = await render(Reply(card=replace(CARD, shop="ชาไทย ป้าแดง")))
    header = flex["contents"]["header"]["contents"][0]["text"]
    assert header == "ชาไทย ป้าแดง"
    [plain] = await render(Reply(card=CARD))
    assert plain["contents"]["header"]["contents"][0]["text"] == "Cha Yen"


async def test_card_without_public_url_shows_the_member_code_large_and_no_image() -> None:
    [flex] = await render(Reply(card=CARD), publisher=Publisher(base=None))
    bubble = flex["contents"]
    assert "hero" not in bubble
    code = next(c for c in bubble["body"]["contents"] if c.get("text") == "M1234")
    assert code["size"] == "xxl"


async def test_card_text_comes_first_and_carries_no_quick_reply_when_card_is_last() -> None:
    reply = Reply(text="ยินดีต้อนรับค่ะ", card=CARD, buttons=(Button("แต้ม", "cmd:points"),))
    messages = await render(reply)
    assert [m["type"] for m in messages] == ["text", "flex"]
    assert messages[1]["quickReply"]["items"][0]["action"]["data"] == "cmd:points"


async def test_document_becomes_a_download_link_valid_for_24_hours() -> None:
    publisher = Publisher()
    export = Attachment("mydata.json", b'{"name": "Ploy"}', "application/json")
    [message] = await render(Reply(attachment=export), publisher=publisher)
    assert message["type"] == "text"
    assert "https://shop.example/media/tok1/mydata.json" in message["text"]
    assert "24" in message["text"]
    assert publisher.stored[0][3] == timedelta(hours=24)


async def test_document_without_public_url_is_sent_as_its_own_text() -> None:
    export = Attachment("mydata.json", b'{"name": "Ploy"}', "application/json")
    messages = await render(Reply(attachment=export), publisher=Publisher(base=None))
    assert messages == [{"type": "text", "text": '{"name": "Ploy"}'}]


async def test_image_becomes_an_image_message_by_url() -> None:
    chart = Attachment("chart.png", b"\x89PNG", "image/png")
    [message] = await render(Reply(attachment=chart))
    assert message["type"] == "image"
    assert message["originalContentUrl"] == message["previewImageUrl"]
    assert message["originalContentUrl"].endswith("/chart.png")


async def test_image_without_public_url_becomes_a_line_of_text() -> None:
    chart = Attachment("chart.png", b"\x89PNG", "image/png")
    [message] = await render(Reply(attachment=chart), publisher=Publisher(base=None))
    assert message["type"] == "text"
