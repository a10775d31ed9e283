"""Visit feedback: the member's 1–5 stars (``fb:<feedback>:<stars>``), then an optional comment.

Service recovery: a rating of :data:`LOW_RATING` or less alerts the owners and the managers of
the sale's branch at once (outbox, one alert per feedback) with a [reply to customer] button
that opens the staff answer flow on the customer's inbox thread (opened for the purpose when
they have none). The comment step (flow ``fbc``) takes free text as the comment, not as an
inbox message; [skip] or /cancel ends it. A rating is given once; a button for someone else's
feedback is refused.
"""

from __future__ import annotations

from typing import Final

from bot.core.ids import row_id
from bot.core.keys import FeedbackRating
from bot.core.messages import Reply
from bot.i18n import t
from handlers.context import Context
from handlers.customer.common import audit
from handlers.inbox.threads import CLOSE_ACTION, REPLY_ACTION, STAFF_ROLES, store_in_thread
from handlers.notify import notify_staff
from handlers.router import Audience, Router, action_button
from shop.feedback import ACTIONS, LOW_RATING
from storage.models import Feedback, Member

FLOW: Final = "fbc"
MAX_COMMENT_CHARS: Final = 1000


async def _own_feedback(ctx: Context, raw_id: str) -> Feedback | None:
    feedback_id = row_id(raw_id)
    if feedback_id is None or ctx.member is None:
        return None
    feedback = await ctx.uow.feedback.get(feedback_id)
    return feedback if feedback is not None and feedback.member_id == ctx.member.id else None


async def rate(ctx: Context) -> list[Reply]:
    """A star button: record the rating once, alert on a low one, offer the comment step."""
    rating = FeedbackRating.parse(ctx.inbound.action or "")
    feedback = None if rating is None else await _own_feedback(ctx, str(rating.feedback_id))
    if rating is None or feedback is None:
        return [ctx.reply("error.button_expired")]
    if feedback.rating is not None:
        return [ctx.reply("feedback.already")]
    feedback.rating = rating.stars
    feedback.answered_at = ctx.now
    # as the customer's role, never their chat id: the audit log outlives an erasure
    await audit(ctx, "feedback.rated", feedback.member_id, rating=feedback.rating)
    if feedback.rating <= LOW_RATING:
        await alert_low_rating(ctx, feedback)
    ctx.begin(FLOW, "comment", {"id": feedback.id})
    skip = action_button(ctx.t("feedback.skip"), FLOW, "skip")
    return [ctx.reply("feedback.thanks_ask_comment", skip)]


async def alert_low_rating(ctx: Context, feedback: Feedback) -> int:
    """Owners and the branch's managers hear of it now, with a button to answer the customer."""
    assert ctx.member is not None
    stars = "★" * (feedback.rating or 0)
    stored = await store_in_thread(ctx, stars, ctx.member.id, feedback.branch_id, None)
    if stored is None:  # erased meanwhile: nobody to answer
        return 0
    thread = stored.thread
    branch = await ctx.uow.branches.get(feedback.branch_id)
    name = ctx.member.name or ctx.identity.display_name or "?"

    def render(locale: str) -> list[Reply]:
        where = "" if branch is None else (branch.name_th if locale == "th" else branch.name_en)
        text = t(locale, "feedback.low_alert", name=name, stars=stars, branch=where)
        answer = action_button(t(locale, "feedback.reply_button"), REPLY_ACTION, str(thread.id))
        close = action_button(t(locale, "inbox2.close_button"), CLOSE_ACTION, str(thread.id))
        return [Reply(text=text, buttons=(answer, close))]

    return await notify_staff(
        ctx,
        render,
        f"feedback:{feedback.id}:low",
        roles=STAFF_ROLES,
        branch_id=feedback.branch_id,
    )


async def comment_step(ctx: Context) -> list[Reply]:
    """The ``fbc`` step: free text is the comment; [skip] ends without one."""
    assert ctx.state is not None
    feedback = await _own_feedback(ctx, str(ctx.state.data.get("id", "")))
    ctx.finish()
    if ctx.inbound.action == f"{FLOW}:skip" or feedback is None:
        return [ctx.reply("feedback.done")]
    text = ctx.inbound.text.strip()[:MAX_COMMENT_CHARS]
    if not text:
        return [ctx.reply("feedback.done")]
    feedback.comment = text
    if (feedback.rating or 0) <= LOW_RATING and isinstance(ctx.member, Member):
        # the staff answering the low rating see the comment in the customer's thread
        await store_in_thread(ctx, text, ctx.member.id, feedback.branch_id, None)
    return [ctx.reply("feedback.done")]


def register(router: Router) -> None:
    """The star buttons (members) and the comment flow."""
    router.action(ACTIONS, rate, Audience.MEMBER)
    # anyone: the step checks the feedback is the writer's own, and ends quietly otherwise
    router.flow(FLOW, comment_step, Audience.ANYONE)
