"""Use cases. A handler takes a :class:`handlers.context.Context` and returns replies."""
