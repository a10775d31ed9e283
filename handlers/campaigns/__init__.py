"""Campaigns: templates, offers, starting a campaign (audience snapshot + outbox), tracking."""
