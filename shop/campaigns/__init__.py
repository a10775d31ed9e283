"""Campaign rules: launch and enrolment, offers, templates, tracking, stats and uplift."""
