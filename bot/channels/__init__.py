"""Channel adapters: the only modules that import aiogram or linebot."""
