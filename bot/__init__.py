"""The Telegram side of NewsQuote: settings, rendering, handlers, wiring, terminal chat.

``python -m bot`` runs it; ``bot.app.build_application`` builds the python-telegram-bot
application; ``bot.render`` turns answers into Telegram HTML or plain text.
"""
