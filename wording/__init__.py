"""Texts that chat handlers and jobs both send: campaign and automation messages, offer titles,
coupon cards, referral notices. It words the shop's plain results; it holds no rule, runs no SQL.
"""
