"""The simulated shop.

``simulator.fakes`` holds local fakes of the Telegram Bot API and the LINE Messaging API that
enforce the platforms' limits; tests, benchmarks and ``chatcrm simulate`` talk to them instead
of the real services. ``population`` gives the synthetic shop's members hidden, known
behaviour and a true offer effect; ``run`` moves the clock hour by hour while they act through
the product (over HTTP with ``world``, or in-process with ``inprocess``); ``ledger`` keeps what
truly happened and the counts ``/stats`` must show; ``cli`` is ``chatcrm simulate``.
"""
