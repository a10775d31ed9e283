"""``/sale`` and ``/void`` at the counter.

``/sale MEMBER AMOUNT [receipt=NO] [branch=CODE] [cat=a,b]`` (cashier and up). MEMBER is a phone
in any Thai format (spaces allowed: the amount is the last word that is not an option), a
member code or the card-QR payload. AMOUNT is baht: ``120``, ``120.50``, ``1,250``, Thai digits,
an optional ``฿``/``บาท``. Options also work in Thai (``ใบเสร็จ=``, ``สาขา=``, ``หมวด=``).

The branch is the staff member's own when they are scoped to one (naming another is refused);
otherwise ``branch=`` picks it, and it may be left out only when the shop has one branch. A
receipt number not given is generated. A cashier's sale that would pass the daily cap waits for
an owner (:mod:`handlers.staff.approvals`).

A receipt number is its branch's: the same number at the same branch is one sale (typed again,
it changes nothing), at another branch another sale.

``/void RECEIPT [branch=CODE]`` (cashier and up; who may void what is decided by
:func:`shop.ledger.check_may_void`); ``branch=`` picks the sale when two branches printed the
number (a scoped staff member's own branch is picked without it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.core.messages import Reply
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.approvals import over_daily_cap, pending_by_receipt, request_approval
from handlers.staff.lookup import member_code_in, nobody_found, phone_in, refuse_own_membership
from handlers.staff.options import branch_code_named, split_options
from handlers.staff.sale_notices import announce_void, finish_sale
from shop.inputs import baht_as_typed
from shop.ledger import (
    check_amount,
    check_receipt,
    new_receipt_no,
    record_sale,
    sale_by_receipt,
    tier_window_start,
    void_sale,
)
from shop.loyalty import LoyaltyRules, load_rules
from storage.models import Branch, Member
from storage.repositories.sales import BeforeSale

CURRENCY_WORDS: Final = frozenset({"บาท", "฿", "thb", "baht"})
MAX_CATEGORIES: Final = 10
_CATEGORY: Final = re.compile(r"[^\s,]{1,30}")


def register(router: Router) -> None:
    router.command(Command("sale", sale_command, Audience.CASHIER, describe="sale.cmd_sale"))
    router.command(Command("void", void_command, Audience.CASHIER, describe="sale.cmd_void"))


def split_sale_args(text: str) -> tuple[str, str, dict[str, str]]:
    """(member text, amount text, options) of ``/sale`` arguments; InvalidInput if unusable."""
    words, options = split_options(text, ("receipt", "branch", "cat"), "sale.usage")
    if words and words[-1].casefold() in CURRENCY_WORDS:
        words.pop()
    if len(words) < 2:
        raise InvalidInput("sale.usage")
    return " ".join(words[:-1]), words[-1], options


def parse_amount(text: str, rules: LoyaltyRules) -> Decimal:
    """A sale amount as typed (see the module docstring), checked against the shop's rules."""
    amount = baht_as_typed(text)
    if amount is None:
        raise InvalidInput("sale.amount_invalid", amount=text[:20])
    return check_amount(amount, rules)


def parse_categories(text: str | None) -> list[str]:
    if not text:
        return []
    found = [part.strip().casefold() for part in text.split(",") if part.strip()]
    if len(found) > MAX_CATEGORIES or not all(_CATEGORY.fullmatch(part) for part in found):
        raise InvalidInput("sale.categories_invalid")
    return list(dict.fromkeys(found))


def chosen_branch(own_id: int | None, code: str | None, found: Sequence[Branch]) -> Branch:
    """Where the sale happens, from the branches read for it: the staff member's own branch
    (``own_id``) if scoped (naming another is refused), else the branch ``code`` names, else
    the shop's only open branch."""
    if own_id is not None:
        if not found:
            raise NotFound("sale.unknown_branch", branch="-")
        [own] = found
        if not own.active:
            raise NotAllowed("branches.closed_sale", branch=own.code)
        if code is not None and code.casefold() != own.code.casefold():
            raise NotAllowed("sale.other_branch", branch=own.code)
        return own
    if code is not None:
        if not found:
            raise NotFound("sale.unknown_branch", branch=code[:32])
        [branch] = found
        if not branch.active:
            raise NotAllowed("branches.closed_sale", branch=branch.code)
        return branch
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound("sale.no_branches")
    raise InvalidInput("sale.branch_required", branches=", ".join(b.code for b in found))


async def _member_and_branch(
    ctx: Context, member_text: str, code: str | None, rules: LoyaltyRules
) -> tuple[Member, Branch, BeforeSale]:
    """The member ``member_text`` names (as :func:`find_member` finds them), the sale's branch
    (:func:`chosen_branch`) and the member's figures before the sale, in one read;
    the same errors, in the same order."""
    staff = ctx.staff_view
    assert staff is not None
    text = member_text.strip()
    member_code, phone = member_code_in(text), phone_in(text)
    if member_code is None and phone is None:
        raise NotFound("error.member_not_found", query=text[:40])
    read = await ctx.uow.sales.at_counter(
        code=member_code,
        phone=phone,
        since=tier_window_start(ctx.now, rules),
        branch_id=staff.branch_id,
        branch_code=code.lower() if code is not None and staff.branch_id is None else None,
    )
    member, before = read.member, read.before
    if member is None or member.erased_at is not None or before is None:
        raise nobody_found(text, phone is not None)
    # the author's own membership came with the arrival's read: no statement more
    refuse_own_membership(staff.role, ctx.identity_view.member_id, member.id, "sale.own_membership")
    if not read.branches and staff.branch_id is None and code is None:
        # no open branch: a shop whose branches are all closed is told so, not to add one
        closed = [branch.code for branch in await ctx.uow.branches.every()]
        if closed:
            raise NotAllowed("sale.branches_closed", branches=", ".join(closed))
    return member, chosen_branch(staff.branch_id, code, read.branches), before


async def sale_command(ctx: Context) -> list[Reply]:
    """``/sale``: record a sale for a member (or ask an owner when over the daily cap)."""
    staff = ctx.staff_view
    assert staff is not None
    if not ctx.args.strip():
        return [ctx.reply("sale.usage")]
    member_text, amount_text, options = split_sale_args(ctx.args)
    rules = await load_rules(ctx.uow)
    amount = parse_amount(amount_text, rules)
    categories = parse_categories(options.get("cat"))
    code = await branch_code_named(ctx.uow, options.get("branch"))
    member, branch, before = await _member_and_branch(ctx, member_text, code, rules)
    if "receipt" in options:
        receipt = check_receipt(options["receipt"])
        known = await sale_by_receipt(ctx.uow, receipt, branch.id) is not None
        waiting = None if known else await pending_by_receipt(ctx.uow, receipt, branch.id)
        if waiting is not None:
            if waiting.status == "pending":
                return [ctx.reply("sale.awaiting_approval", receipt=receipt)]
            raise Conflict("sale.receipt_declined", receipt=receipt)
    else:
        receipt = new_receipt_no(branch, ctx.now, ctx.settings.tz)
        known = False
    if not known:
        today = await over_daily_cap(
            ctx.uow, staff=staff, amount=amount, now=ctx.now, rules=rules, tz=ctx.settings.tz
        )
        if today is not None:
            return await request_approval(
                ctx,
                member=member,
                amount=amount,
                branch=branch,
                receipt_no=receipt,
                categories=categories,
                today=today,
                rules=rules,
            )
    result = await record_sale(
        ctx.uow,
        member=member,
        amount=amount,
        branch=branch,
        receipt_no=receipt,
        categories=categories,
        staff=staff,
        now=ctx.now,
        rules=rules,
        before=before,
    )
    return [await finish_sale(ctx, result, member, branch)]


async def void_command(ctx: Context) -> list[Reply]:
    """``/void RECEIPT``: cancel a sale and take its points back."""
    staff = ctx.staff_view
    assert staff is not None
    words, options = split_options(ctx.args, ("branch",), "sale.void_usage")
    if len(words) != 1:
        return [ctx.reply("sale.void_usage")]
    code = await branch_code_named(ctx.uow, options.get("branch"))
    result = await void_sale(
        ctx.uow, receipt_no=words[0], staff=staff, now=ctx.now, branch_code=code
    )
    member_id = result.sale.member_id
    member = await ctx.uow.members.get(member_id) if member_id is not None else None
    return [await announce_void(ctx, result, member)]
