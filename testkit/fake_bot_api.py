"""A small fake Telegram Bot API server on 127.0.0.1 for end-to-end bot tests.

It speaks the Bot API over HTTP exactly where python-telegram-bot talks to it
(``TELEGRAM_API_URL`` = ``fake.base_url``), records every call, lets a test push updates into
``getUpdates`` (with offsets and long-poll timeouts), can be told to fail the next calls of a
method (429 with retry_after, 500, a delay), and checks message text like Telegram does:
HTML that Telegram would reject with "can't parse entities", and texts over 4096 UTF-16 code
units after entity parsing, get a 400.

Usage::

    async with FakeBotAPI() as fake:
        fake.push_private_text("hello", user_id=1)
        calls = await fake.wait_for("sendMessage", chat_id=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
"""The fake bot token the fake server accepts: tests assert it never shows up in logs. Never
print it."""

MESSAGE_LIMIT = 4096
CALLBACK_TEXT_LIMIT = 200
BOT_ID = 4242
BOT_USERNAME = "newsquote_bot"

# Fields PTB sends as raw strings (everything else is JSON-encoded in the form body).
_STRING_FIELDS = frozenset(
    {
        "text",
        "message_text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "action",
        "url",
        "secret_token",
        "next_offset",
        "language_code",
        "description",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# --------------------------------------------------------------------------- Telegram HTML


class EntityParseError(ValueError):
    """What Telegram answers as "Bad Request: can't parse entities: ..."."""


_FORMAT_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_ALL_TAGS = {*_FORMAT_TAGS, "span", "a", "code", "pre", "blockquote", "tg-emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7}));")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_RE = re.compile(
    r"\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?"
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(value: str, where: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            ch, i = _entity_at(value, i, where)
            out.append(ch)
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _entity_at(text: str, i: int, where: int) -> tuple[str, int]:
    match = _ENTITY_RE.match(text, i)
    if not match:
        raise EntityParseError(f"Unsupported HTML entity or bare '&' at byte offset {where + i}")
    named, dec, hexa = match.groups()
    if named:
        return _NAMED_ENTITIES[named], match.end()
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(f"Invalid numeric entity at byte offset {where + i}")
    return chr(code), match.end()


@dataclass
class _Open:
    name: str
    kind: str
    start: int  # offset in the output text, in UTF-16 units
    attrs: dict[str, str]


def parse_telegram_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse text as Telegram's ``parse_mode=HTML`` does; raise EntityParseError where it would.

    Stricter than Telegram where that is safer for the bot: a bare ``>`` or ``&`` is an error,
    unknown attributes are errors, and blockquote or pre may not sit inside another entity.
    Returns the plain text and the entities (offsets in UTF-16 code units).
    """
    text: list[str] = []
    length = 0  # UTF-16 length of ``text``
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            decoded, i = _entity_at(source, i, 0)
            text.append(decoded)
            length += utf16_len(decoded)
            continue
        if ch == ">":
            raise EntityParseError(f"Unescaped '>' at byte offset {i}")
        if ch != "<":
            if 0xD800 <= ord(ch) <= 0xDFFF:
                raise EntityParseError("Strings must be encoded in UTF-8")
            text.append(ch)
            length += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        # A tag.
        end = source.find(">", i)
        if end < 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {i}")
        inside = source[i + 1 : end]
        if "<" in inside:
            raise EntityParseError(f"Unexpected '<' inside a tag at byte offset {i}")
        if inside.startswith("/"):
            name = inside[1:].strip().lower()
            if not stack:
                raise EntityParseError(f'Unexpected end tag "{name}" at byte offset {i}')
            top = stack.pop()
            if top.name != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {i}: expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            if length > top.start:
                entity: dict[str, Any] = {
                    "type": top.kind,
                    "offset": top.start,
                    "length": length - top.start,
                }
                if top.kind == "text_link":
                    entity["url"] = top.attrs["href"]
                if top.kind == "pre" and "language" in top.attrs:
                    entity["language"] = top.attrs["language"]
                entities.append(entity)
            i = end + 1
            continue
        match = _TAG_NAME_RE.match(inside)
        if not match:
            raise EntityParseError(f"Empty or invalid tag name at byte offset {i}")
        name = match.group(0).lower()
        if name not in _ALL_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {i}')
        attrs: dict[str, str] = {}
        rest = inside[match.end() :]
        pos = 0
        while pos < len(rest):
            if rest[pos:].strip() in ("", "/"):
                break
            attr = _ATTR_RE.match(rest, pos)
            if not attr:
                raise EntityParseError(f"Invalid attributes of tag {name} at byte offset {i}")
            value = next((v for v in attr.groups()[1:] if v is not None), "")
            attrs[attr.group(1).lower()] = _decode_entities(value, i)
            pos = attr.end()
        kind = _check_tag(name, attrs, stack, i)
        if kind == "pre" and name == "code":
            # <pre><code class="language-x"> sets the language of the enclosing pre.
            stack[-1].attrs["language"] = attrs["class"].removeprefix("language-")
        stack.append(_Open(name, kind, length, attrs))
        i = end + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


def _check_tag(name: str, attrs: dict[str, str], stack: list[_Open], at: int) -> str:
    """Validate one start tag in its context; return the entity type it opens."""
    names = [o.name for o in stack]
    if any(o in ("code", "pre") for o in names) and not (name == "code" and names[-1:] == ["pre"]):
        raise EntityParseError(f'Tag "{name}" can\'t be inside code or pre (byte offset {at})')

    def only(*allowed: str) -> None:
        extra = set(attrs) - set(allowed)
        if extra:
            raise EntityParseError(f'Unsupported attribute "{sorted(extra)[0]}" of tag "{name}"')

    if name in _FORMAT_TAGS:
        only()
        return _FORMAT_TAGS[name]
    if name == "span":
        only("class")
        if attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        return "spoiler"
    if name == "a":
        only("href")
        href = attrs.get("href", "")
        if "a" in names:
            raise EntityParseError("Nested links are not allowed")
        if not re.match(r"^(https?|tg)://\S+$", href):
            raise EntityParseError(f"Wrong or missing href of a link at byte offset {at}")
        return "text_link"
    if name == "tg-emoji":
        only("emoji-id")
        if not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError("Tag tg-emoji needs a numeric emoji-id")
        return "custom_emoji"
    if name == "code":
        if names[-1:] == ["pre"]:
            only("class")
            if "class" in attrs and not attrs["class"].startswith("language-"):
                raise EntityParseError("The class of code inside pre must be language-...")
            return "pre"
        only()
        return "code"
    if name == "pre":
        only()
        if names:
            raise EntityParseError("pre can't be inside another entity (stricter than Telegram)")
        return "pre"
    # blockquote
    only("expandable")
    if attrs.get("expandable", "") not in ("", "expandable", "true"):
        raise EntityParseError("Invalid value of the expandable attribute")
    if names:
        raise EntityParseError("blockquote can't be nested or inside another entity")
    return "expandable_blockquote" if "expandable" in attrs else "blockquote"


def check_message_text(text: Any, parse_mode: Any) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities as Telegram would store them, or a Bad Request description."""
    if not isinstance(text, str):
        raise EntityParseError("message text is empty")
    if parse_mode is not None and str(parse_mode).upper() == "HTML":
        try:
            plain, entities = parse_telegram_html(text)
        except EntityParseError as exc:
            raise EntityParseError(f"can't parse entities: {exc}") from None
    elif parse_mode in (None, ""):
        plain, entities = text, []
    else:
        raise EntityParseError(f"unsupported parse_mode {parse_mode!r} in this fake")
    if not plain.strip():
        raise EntityParseError("message text is empty")
    if utf16_len(plain) > MESSAGE_LIMIT:
        raise EntityParseError("message is too long")
    return plain, entities


# --------------------------------------------------------------------------- the server


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    status: int = 200
    result: Any = None
    error: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """True when the fake answered with success."""
        return self.status == 200

    @property
    def text(self) -> str:
        """The message text of sendMessage/editMessageText calls (as sent, HTML)."""
        return str(self.params.get("text", ""))

    def plain(self) -> str:
        """The text after entity parsing (what a user would read)."""
        return parse_telegram_html(self.text)[0] if self.text else ""


@dataclass
class _Fault:
    status: int | None
    retry_after: int | None
    delay: float
    description: str | None


class BadRequest(Exception):
    """Raised inside method handlers: turned into a 400 response."""


class FakeBotAPI:
    """The fake Bot API server; use as ``async with FakeBotAPI() as fake``."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "NewsQuote",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.calls: list[Call] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._known_queries: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile and downloads
        self._new_update = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle

    async def __aenter__(self) -> FakeBotAPI:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What ``TELEGRAM_API_URL`` should be: the token is appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test controls

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (status) and/or wait (delay)."""
        if retry_after is not None and status is None:
            status = 429
        fault = _Fault(status, retry_after, delay, description)
        self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; assigns its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        self._pending.append(update)
        self._new_update.set()
        return update

    def calls_of(self, method: str, ok: bool | None = None, **match: Any) -> list[Call]:
        """Recorded calls of ``method`` whose params match (``ok`` filters on success)."""
        out = []
        for call in self.calls:
            if call.method.lower() != method.lower():
                continue
            if ok is not None and call.ok != ok:
                continue
            if all(call.params.get(k) == v for k, v in match.items()):
                out.append(call)
        return out

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        ok: bool | None = True,
        **match: Any,
    ) -> list[Call]:
        """Wait until ``count`` matching calls were made; return them (fails on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_of(method, ok=ok, **match)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [
                    (c.method, c.status, c.error) for c in self.calls if c.method != "getUpdates"
                ]
                raise AssertionError(
                    f"expected {count} {method} call(s) matching {match}, got {len(found)}; "
                    f"calls so far: {seen}"
                )
            await asyncio.sleep(0.01)

    async def settle(self, seconds: float = 0.3) -> None:
        """Give the bot a moment to (not) react."""
        await asyncio.sleep(seconds)

    def sent_texts(self, chat_id: int) -> list[str]:
        """Plain texts of the successful sendMessage calls to a chat, in order."""
        return [c.plain() for c in self.calls_of("sendMessage", ok=True, chat_id=chat_id)]

    # -- update builders

    def user(self, user_id: int, first_name: str = "Alice") -> dict[str, Any]:
        """A user object."""
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def private_chat(self, user_id: int) -> dict[str, Any]:
        """The private chat with a user."""
        return {"id": user_id, "type": "private", "first_name": "Alice"}

    def group_chat(self, chat_id: int = -1001234567890, kind: str = "supergroup") -> dict[str, Any]:
        """A group or supergroup."""
        return {"id": chat_id, "type": kind, "title": "Newsroom"}

    def make_message(
        self,
        chat: dict[str, Any],
        text: str | None = None,
        user_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A message object as Telegram would deliver it (entities computed for text)."""
        self._chats[chat["id"]] = chat
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
        }
        if user_id is not None:
            message["from"] = self.user(user_id)
        if text is not None:
            message["text"] = text
            entities = _auto_entities(text)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(extra)
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def push_private_text(self, text: str, user_id: int = 1001) -> dict[str, Any]:
        """A user writes ``text`` to the bot in private."""
        message = self.make_message(self.private_chat(user_id), text, user_id)
        return self.push_update({"message": message})

    def push_group_text(
        self,
        text: str,
        user_id: int = 1001,
        chat_id: int = -1001234567890,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` in a group, maybe replying to a message."""
        message = self.make_message(self.group_chat(chat_id), text, user_id, reply_to=reply_to)
        return self.push_update({"message": message})

    def push_private_document(
        self,
        file_name: str,
        content: bytes,
        user_id: int = 1001,
        mime_type: str = "application/octet-stream",
        size: int | None = None,
    ) -> dict[str, Any]:
        """A user sends the bot a file (``size``: what Telegram reports, if not its length)."""
        file_id = f"doc-{len(self.files) + 1}"
        self.files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content) if size is None else size,
        }
        message = self.make_message(self.private_chat(user_id), None, user_id, document=document)
        return self.push_update({"message": message})

    def push_inline_query(self, query: str, user_id: int = 1001) -> dict[str, Any]:
        """A user types ``@bot query`` somewhere."""
        query_id = str(next(self._query_ids) + 10_000)
        self._known_queries.add(query_id)
        inline = {"id": query_id, "from": self.user(user_id), "query": query, "offset": ""}
        return self.push_update({"inline_query": inline})

    def push_callback(
        self, message: dict[str, Any], data: str, user_id: int = 1001
    ) -> dict[str, Any]:
        """A user presses an inline button with ``data`` under ``message`` (a sent message)."""
        query_id = str(next(self._query_ids) + 20_000)
        self._known_queries.add(query_id)
        callback = {
            "id": query_id,
            "from": self.user(user_id),
            "chat_instance": "42",
            "message": message,
            "data": data,
        }
        return self.push_update({"callback_query": callback})

    # -- HTTP

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        try:
            params = await _read_params(request)
        except ConnectionResetError:
            # The bot hung up before its request was whole (it cancelled a "typing…" it no
            # longer needed): the request never arrived, as at Telegram, and it is no error.
            return _error(499, "client closed the request")
        call = Call(method, params)
        self.calls.append(call)
        faults = self._faults.get(method.lower())
        fault = faults.pop(0) if faults else None
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            call.status = fault.status
            description = fault.description or _default_description(fault.status, fault.retry_after)
            call.error = description
            return _error(fault.status, description, fault.retry_after)
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            call.status, call.error = 404, "Not Found: method not found"
            return _error(404, call.error)
        try:
            result = await handler(params)
        except (BadRequest, EntityParseError) as exc:
            call.status, call.error = 400, f"Bad Request: {exc}"
            return _error(400, call.error)
        call.result = result
        return web.json_response({"ok": True, "result": result})

    # -- methods

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        if not str(params.get("url", "")).startswith(("https://", "http://")):
            raise BadRequest("bad webhook: HTTPS URL must be provided for webhook")
        self.webhook = dict(params)
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if not self._pending and timeout > 0 and not self._closing.is_set():
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=min(timeout, 5.0))
        if offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        return self._pending[:limit]

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = _chat_id(params)
        plain, entities = check_message_text(params.get("text"), params.get("parse_mode"))
        _check_markup(params.get("reply_markup"))
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id") if isinstance(reply, dict) else None
        if reply_id is None and params.get("reply_to_message_id") is not None:
            reply_id = int(params["reply_to_message_id"])
        if reply_id is not None and (chat_id, int(reply_id)) not in self.messages:
            raise BadRequest("message to be replied not found")
        chat = self._chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "Alice"})
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": plain,
        }
        if entities:
            message["entities"] = entities
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        if reply_id is not None:
            message["reply_to_message"] = self.messages[(chat_id, int(reply_id))]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        plain, entities = check_message_text(params.get("text"), params.get("parse_mode"))
        _check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        message = self._find_message(params)
        markup = params.get("reply_markup") or None
        if (
            message.get("text") == plain
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise BadRequest(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = plain
        message["entities"] = entities
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._find_message(params)
        markup = params.get("reply_markup") or None
        if message.get("reply_markup") == markup:
            raise BadRequest("message is not modified")
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    async def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        _chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise BadRequest("wrong parameter action in request")
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BadRequest("commands must be a list of at most 100 commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise BadRequest("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BadRequest("command description must be 1-256 characters")
        self.commands = commands
        return True

    async def _m_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if str(params.get("callback_query_id")) not in self._known_queries:
            raise BadRequest("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > CALLBACK_TEXT_LIMIT:
            raise BadRequest("MESSAGE_TOO_LONG")
        return True

    async def _m_answerinlinequery(self, params: dict[str, Any]) -> Any:
        if str(params.get("inline_query_id")) not in self._known_queries:
            raise BadRequest("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise BadRequest("RESULTS_TOO_MUCH")
        ids = set()
        for result in results:
            result_id = str(result.get("id", ""))
            if not 1 <= len(result_id.encode()) <= 64 or result_id in ids:
                raise BadRequest("RESULT_ID_INVALID")
            ids.add(result_id)
            if result.get("type") != "article" or not str(result.get("title", "")).strip():
                raise BadRequest("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content") or {}
            check_message_text(content.get("message_text"), content.get("parse_mode"))
            _check_markup(result.get("reply_markup"))
        button = params.get("button")
        if button is not None:
            if not 1 <= len(str(button.get("text", ""))) <= 64:
                raise BadRequest("BUTTON_TEXT_INVALID")
            start = button.get("start_parameter")
            if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
                raise BadRequest("START_PARAM_INVALID")
        return True

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise BadRequest("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.Response:
        """``GET /file/bot<token>/documents/<file_id>``: a file's content, as Telegram serves it."""
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return _error(404, "Not Found")
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_logout(self, params: dict[str, Any]) -> Any:
        return True

    def _find_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        key = (chat_id, int(params.get("message_id") or 0))
        if key not in self.messages:
            raise BadRequest("message to edit not found")
        message = self.messages[key]
        if message.get("from", {}).get("id") != BOT_ID:
            raise BadRequest("message can't be edited")
        return message


def _chat_id(params: dict[str, Any]) -> int:
    value = params.get("chat_id")
    if value is None:
        raise BadRequest("chat_id is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest("chat not found") from None


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                raise BadRequest("BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise BadRequest("BUTTON_DATA_INVALID")


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """bot_command at the start and @mentions, with UTF-16 offsets, as Telegram adds them."""
    entities = []
    command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for match in re.finditer(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}", text):
        if command and match.start() < command.end():
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        return dict(body or {})
    form = await request.post() if request.can_read_body else {}
    params: dict[str, Any] = dict(request.query)
    for key, value in form.items():
        if not isinstance(value, str):
            continue
        if key in _STRING_FIELDS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _default_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    if status == 500:
        return "Internal Server Error"
    if status == 502:
        return "Bad Gateway"
    return f"Error {status}"


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if status == 429:
        body["parameters"] = {"retry_after": retry_after or 1}
    return web.json_response(body, status=status)
