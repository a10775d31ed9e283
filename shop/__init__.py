"""The shop's rules: loyalty and tiers, the points ledger, rewards and coupons, referral,
campaigns (launch, offers, templates, tracking, stats, uplift) and the contact policy.

Plain values and the unit of work in, plain results out: nothing here knows a chat, a channel,
HTTP or the wording of a reply. Chat handlers, jobs and the web console call these rules; they
never call each other for them.
"""
