"""The simulated shop.

``simulator.fakes`` holds local fakes of the Telegram Bot API and the LINE Messaging API that
enforce the platforms' limits; tests, benchmarks and ``chatcrm simulate`` talk to them instead
of the real services.
"""
