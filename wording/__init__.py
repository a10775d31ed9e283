"""Texts that chat handlers and jobs both send: campaign and automation messages, offer titles, coupon cards, referral notices. Words the shop's plain results; holds no rules and runs no SQL."""
