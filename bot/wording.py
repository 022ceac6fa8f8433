"""Every word NewsQuote says to a person, in one place.

The search side's words (an answer's ``reason``: small talk, refusals, partial answers) are
in :mod:`index.wording` and re-exported here, so the bot (``bot.render``, ``bot.handlers``),
the terminal chat and the command-line scripts read all their text from this module. Plain
strings and small format functions only: no markup, no Telegram types. Where a layout puts
formatting inside a sentence (a question in italics, a user id in bold), the sentence holds a
``{}`` for the formatted part and the layout fills it in.
"""

from __future__ import annotations

from index.wording import (  # noqa: F401 (re-exported: the bot reads all its text here)
    CLOSEST,
    COMPARE_NONE,
    EMPTY,
    GOODBYE,
    GREETING,
    HELP_INTRO,
    NOT_FOUND_UNQUOTED,
    NOT_IN_COVERAGE,
    SEARCH_UNAVAILABLE,
    THANKS,
    UNAVAILABLE,
    partial_lead,
    partial_reason,
    refusal_reason,
)

PRODUCT = "NewsQuote"
NOT_FOUND = "I couldn't find an answer to {} in the articles I have."
SEE_SOURCES = "See /sources for what is covered."
YOU_COULD_ASK = "You could ask:"
FOR_EXAMPLE = "For example:"

# --------------------------------------------------------------------------- quotes and citations

ALSO_IN_COVERAGE = "Also in the coverage"
ALSO_REPORTED_BY = "Also reported by"
"""Before the independent articles that report the same fact."""
ALSO_PUBLISHED_BY = "Also published by"
RAN_WITHOUT = "ran this story without this passage."
FIGURES_DIFFER = "Figures differ: {}."
"""The line for articles that give different figures, each with its outlet and day."""


def figures_differ(figures: str) -> str:
    """ "Figures differ: 19 (Harbour Herald, 6 Mar), 17 (Northern Courier, 4 Mar)."."""
    return FIGURES_DIFFER.format(figures)


"""After the copies of the quoted story that cut the quoted passage ("Northern Courier ran
this story without this passage.")."""
"""Before the other outlets that ran the same story (wire copy, reprints)."""
AND_REPORTED_BY = "also reported by"
"""After the copies, on the same line: the independent articles that report the same fact."""


def and_more(count: int) -> str:
    """After the articles named on a line of corroboration: how many more there are."""
    return f"and {count:,} more"


def byline(author: str) -> str:
    """An article's byline in a citation."""
    return f"by {author}"


def attributed(speaker: str, said: str | None) -> str:
    """Who a quote reports, in a citation: "Shoigu said", "according to NK News"."""
    if said is None:
        return f"{speaker} said"
    if said.lower().startswith("according"):
        return f"{said} {speaker}"
    return f"{speaker} {said}"


SOURCES = "Sources"
UNTITLED = "untitled"
CONTEXT = "Context"
PARAGRAPH_MISSING = "(the paragraph is not available)"
NOTHING_MORE = "There is nothing more to show."
INLINE_QUESTION = "Q:"
"""Before the question in a quote shared through inline mode."""
READ_AS = "Read as: {}"
"""Before a follow-up answer: the question as it was understood ("Read as: What did Shoigu
give Kim Jong Un?")."""
SAME_IN_OTHER_ARTICLES = "The same in other articles"
"""The "More" view's section with each corroborating article's own sentence."""
READ_ARTICLE = "/article {}"
"""The hint after a source that opens the article in the chat."""

# --------------------------------------------------------------------------- comparisons

COMPARE_TITLE = "What each article says about {}"
COMPARE_NOT_MENTIONED = "Not mentioned in"


def compare_others_not_mentioned(count: int) -> str:
    """The line for the articles that do not address the topic, when they are many."""
    return f"{count:,} other articles do not mention it."


COMPARE_USAGE = "Usage: /compare {}"
COMPARE_USAGE_PLACEHOLDER = "a topic"
COMPARE_USAGE_EXAMPLE = "For example: /compare {}"
DEFAULT_COMPARE_EXAMPLE = "the Covid restrictions"

# --------------------------------------------------------------------------- reading an article

ARTICLE_USAGE = "Usage: /article {} — the number from /sources."
ARTICLE_USAGE_PLACEHOLDER = "N"


def article_page_header(number: int, page: int, pages: int) -> str:
    """Above each page of /article N."""
    return f"Article {number}" + (f", page {page} of {pages}" if pages > 1 else "")


def no_such_article(number: int, total: int) -> str:
    """The reply to /article N past the end of the list."""
    if total == 0:
        return "No articles are indexed yet."
    return (
        f"There is no article {number}: /sources lists {total:,} (/article 1 … /article {total})."
    )


# --------------------------------------------------------------------------- commands

COMMAND_MENU: tuple[tuple[str, str], ...] = (
    ("ask", "Ask a question about the news"),
    ("compare", "What each article says about a topic"),
    ("sources", "List the indexed articles"),
    ("article", "Read an article (the number from /sources)"),
    ("about", "Index size, build time and model"),
    ("help", "How to use this bot"),
    ("start", "What this bot does"),
)
"""The bot's command menu: command and description."""

START_INTRO = (
    "answers questions about the news articles it has read, with verbatim quotes and "
    "links to the sources. If the coverage doesn't say, it tells you so."
)
"""Follows :data:`PRODUCT` on /start."""
TRY_ASKING = "Try asking:"
START_COMMANDS = (
    "/help how to use · /sources the articles · /article N to read one · "
    "/compare a topic across articles · /about the index"
)


def start_inline_hint(bot_username: str) -> str:
    """The last line of /start."""
    return f"In any chat, type @{bot_username} and a question."


HELP_TITLE = "How to use"


def help_commands(minutes: float) -> str:
    """The commands and how follow-ups and groups work, for /help."""
    return HELP_COMMANDS.format(minutes=f"{minutes:g}")


HELP_COMMANDS = (
    "/ask question — ask (works in groups too)"
    "\n/compare topic — what each article says about it, and which say nothing"
    "\n/sources — the articles I know (/sources 2 for the next page)"
    "\n/article N — read article N of /sources, a page at a time"
    "\n/about — the size and age of the index"
    "\n\nFollow-up questions work: after “Who led the Russian delegation?” ask “And what did "
    "he give him?”. I remember the last question for {minutes} minutes; /start forgets it."
    "\n\nIn groups I answer /ask, messages that mention me, and replies to my messages "
    "(a reply to my answer is a follow-up)."
)


def help_inline_hint(bot_username: str) -> str:
    """The last line of /help."""
    return f"In any chat, type @{bot_username} and a question to share a quote."


NO_ARTICLES = "No articles are indexed yet."


def sources_header(total: int, page: int, pages: int) -> str:
    """The title of a /sources page."""
    header = f"Indexed articles ({total:,})"
    return header + (f", page {page} of {pages:,}" if pages > 1 else "")


def sources_other_pages(pages: int) -> str:
    """The last line of a /sources page when there are several."""
    return f"Other pages: /sources 1 … /sources {pages}"


def sources_no_such_page(page: int, pages: int) -> str:
    """The reply to /sources N past the last page."""
    plural = "page" if pages == 1 else "pages"
    return f"There is no page {page:,}: the list of sources has {pages:,} {plural}."


ABOUT_TITLE = "About this index"
ABOUT_ARTICLES = "Articles"
ABOUT_SENTENCES = "Sentences"
ABOUT_BUILT_AT = "Index built"
ABOUT_MODEL = "Model"
ABOUT_BACKEND = "Search backend"
ABOUT_BUILD_ID = "Build"

ASK_USAGE = "Usage: /ask {}"
ASK_USAGE_PLACEHOLDER = "your question"
ASK_USAGE_EXAMPLE = "For example: /ask {}"
DEFAULT_EXAMPLE = "What happened to the bridge?"
"""The example in the /ask usage when the index offers none."""

# --------------------------------------------------------------------------- admins: coverage

ADMIN_ONLY = "Sorry, only the bot's admins can add or remove articles."
ADD_USAGE = "Usage: /add {} — or send me a .md, .txt or .html file (up to 5 MB)."
ADD_USAGE_PLACEHOLDER = "URL of an article"
REMOVE_USAGE = "Usage: /remove {} (the id /add gave, or the article's URL)."
REMOVE_USAGE_PLACEHOLDER = "article id"
NOT_ADDED = "Not added: {}"
NOT_REMOVED = "Not removed: {}"
ADDED = "Added {} as {}."
UPDATED = "Updated {} ({})."
UNCHANGED = "Already indexed and unchanged: {} ({})."
REMOVED = "Removed {} ({})."
INDEX_UPDATED = "The index is updated: I answer from it now."
INDEX_NOT_UPDATED = "The index could not be updated ({}); I still answer from the previous version."
DOCUMENT_TOO_LARGE = "the file is larger than 5 MB"
ADD_STARTED = "Fetching {} … I'll reply here when it is done."
REMOVE_STARTED = "Removing {} … I'll reply here when it is done."
DOCUMENT_STARTED = "Reading {} … I'll reply here when it is done."
REPORT = "From {}: {} added, {} updated, {} unchanged, {} skipped."
REPORT_ADDED = "Added {} as {}"
REPORT_UPDATED = "Updated {} ({})"
REPORT_UNCHANGED = "Unchanged: {} ({})"
REPORT_SKIPPED = "Skipped {}: {}"
REPORT_MORE = "… and {} more"


# --------------------------------------------------------------------------- notices

NOT_TEXT = "Please send me a text question — I can only read text messages."
EDITED = "I only read new messages — please send your question again."
APOLOGY = "Sorry, something went wrong while answering. Please try again."
UNKNOWN_COMMAND = "I don't know that command. Try /help."
PRIVATE = "Sorry, this bot is private and only answers invited users."
YOUR_USER_ID = "Your Telegram user id is {}."
SOURCES_FAILED = "Sorry, the list of sources could not be loaded — please try again."
EXPIRED = "This answer is no longer available — please ask again."


def too_long(length: int, limit: int) -> str:
    """The reply to a question over the length limit."""
    return (
        f"That message is {length:,} characters long. "
        f"Please ask a shorter question (up to {limit} characters)."
    )


def slow_down(seconds: int) -> str:
    """The reply to a user over the rate limit."""
    return f"You're asking faster than I can read — please slow down and try again in {seconds} s."


# --------------------------------------------------------------------------- buttons and alerts

MORE_BUTTON = "More"
PREVIOUS_PAGE_BUTTON = "‹ Previous"
NEXT_PAGE_BUTTON = "Next ›"
PRIVATE_ALERT = "Sorry, this bot is private."
INLINE_PRIVATE = "Sorry, this bot is private"
INLINE_EMPTY = "Type a question about the news"
INLINE_ERROR = "Sorry, something went wrong"
INLINE_UNAVAILABLE = "Search is unavailable, try again soon"
INLINE_NOT_FOUND = "Not in the coverage — open the bot"


def inline_slow_down(seconds: int) -> str:
    """The inline-mode button shown to a user over the rate limit."""
    return f"Slow down — try again in {seconds} s"


ADMIN_ERROR = "Error"


def admin_error(update_id: int | None, summary: str) -> str:
    """What follows :data:`ADMIN_ERROR` in the message to the admins about a failed update."""
    return f"in update {update_id}: {summary}"


# --------------------------------------------------------------------------- terminal

TELEGRAM_NOTE = (
    "NewsQuote terminal chat. To connect Telegram, set TELEGRAM_BOT_TOKEN "
    "(from @BotFather) and run `python -m bot` again."
)
LOADING_INDEX = "Loading the index…"
PROMPT = "ask> "


def transcript_question(question: str) -> str:
    """The question above its answer when the terminal chat reads from a pipe."""
    return f"{INLINE_QUESTION} {question}"


# --------------------------------------------------------------------------- batches of questions
# ``scripts/ask.py --batch`` answers every line; a line it cannot ask gets one of these reasons.

BATCH_INVALID_JSON = "line {}: invalid JSON ({})"
BATCH_NO_QUESTION = "line {}: a JSON line needs a 'question' string"
BATCH_BAD_CONVERSATION = "line {}: 'conversation' must be a string or a number"
QUESTION_FAILED = "could not answer this question ({})"


__all__ = [name for name in dir() if not name.startswith("_") and name != "annotations"]
